"""What ``spend`` reads and prints: deployments, burn, custom models, billed spend per run.

gather reads Bedrock, the registry and Cost Explorer into one document (the joins are
customization_core/spend.py's, custom_models.py's and billed_spend.py's); render prints
it. bedrock_customize/spend.py declares the command and imports this module when it runs.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

import click
from rich.text import Text

from bedrock_customize import stack as stacks
from bedrock_customize.console import say, table
from bedrock_customize.run_items import every_run, plain
from customization_core import billed_spend, custom_models
from customization_core import spend as core
from customization_core.catalog import load_catalog
from customization_core.estimate import money
from customization_core.faults import error_code
from customization_core.naming import OWNER_TAG, RUN_ID_TAG

T = TypeVar("T")
OWNERSHIP_STYLES = {"orphaned": "red", "live": "green", "unknown": "yellow", "foreign": ""}


def _call(service: str, call: Callable[[], T]) -> T:
    """One or more AWS calls; a refusal is one sentence naming the operation, exit code 3."""
    from botocore.exceptions import ClientError

    try:
        return call()
    except ClientError as error:
        click.echo(stacks.describe(error, f"{service}:{error.operation_name}"), err=True)
        sys.exit(stacks.EXIT_ACCESS)
    except Exception as error:
        if type(error).__module__.startswith("botocore"):
            click.echo(stacks.describe(error, service), err=True)
            sys.exit(stacks.EXIT_ACCESS)
        raise


def _base_models(
    bedrock: Any, models: list[dict[str, Any]], listed: list[core.Listed]
) -> dict[str, str | None]:
    """Custom model ARN -> its base model's ARN: from ListCustomModels, else GetCustomModel."""
    found: dict[str, str | None] = {
        str(m["modelArn"]): str(m.get("baseModelArn") or "") or None for m in models
    }
    for item in listed:
        if item.foundation_model_arn or item.model_arn in found:
            continue
        if ":foundation-model/" in item.model_arn:
            continue
        try:
            found[item.model_arn] = bedrock.get_custom_model(modelIdentifier=item.model_arn).get(
                "baseModelArn"
            )
        except Exception as error:
            if not error_code(error):
                raise
            found[item.model_arn] = None  # not ours to read, or gone: the price is unknown
    return found


def gather(
    stack: stacks.Stack, *, owner: str, days: int, now: datetime | None = None
) -> dict[str, Any]:
    """The spend document: deployments, hourly burn, custom models, billed spend per run."""
    now = now or datetime.now(UTC)
    catalog = load_catalog()
    bedrock = stack.client("bedrock")
    listed = _call("bedrock", lambda: core.list_serving(bedrock))
    runs = [plain(item) for item in every_run(stack)]
    tags: dict[str, dict[str, str] | None] = {}
    for item in listed:
        read = _call("bedrock", partial(core.read_tags, bedrock, item.arn))
        if not isinstance(read, core.Gone):  # deleted since it was listed
            tags[item.arn] = read
    listed = [item for item in listed if item.arn in tags]
    models = _call("bedrock", lambda: custom_models.list_models(bedrock))
    serving = core.describe_serving(
        listed,
        tags=tags,
        live=core.live_owners(runs),
        base_models=_base_models(bedrock, models, listed),
        catalog=catalog,
        stack_name=owner,
        now=now,
    )
    stored = custom_models.describe_models(
        models, runs=runs, serving=serving, catalog=catalog, now=now
    )
    billed = billed_spend.billed_by_run(stack.client("ce"), days=days, today=now.date())
    burn = core.burn(serving)
    storage = [m.monthly_storage_usd for m in stored]
    return {
        "stack": owner,
        "region": bedrock.meta.region_name,
        "at": now.isoformat(timespec="seconds"),
        "deployments": [s.to_dict() for s in serving],
        "hourly_burn": {
            "known_usd": burn.known_usd,
            "monthly_usd": burn.monthly_usd,
            "orphaned_usd": burn.orphaned_usd,
            "unpriced": list(burn.unpriced),
            "line": burn.line(),
        },
        "orphaned": [
            {**s.to_dict(), "delete": core.delete_command(s.kind, s.arn)}
            for s in serving
            if s.ownership == "orphaned"
        ],
        "custom_models": [m.to_dict() for m in stored],
        "monthly_storage": {
            "known_usd": round(sum(p for p in storage if p is not None), 6),
            "unpriced": sum(1 for p in storage if p is None),
        },
        "billed": {
            "status": billed.status,
            "days": days,
            "start": billed.start,
            "end": billed.end,
            "tag": RUN_ID_TAG,
            "currency": billed.currency,
            "message": billed.message,
            "runs": [asdict(r) for r in billed_spend.join_spend(billed, runs)],
        },
    }


def _age(hours: float) -> str:
    if hours < 1:
        return f"{round(hours * 60)}m"
    if hours < 48:
        return f"{hours:.0f}h"
    return f"{hours // 24:.0f}d {hours % 24:.0f}h"


def _hourly(row: dict[str, Any]) -> str:
    if row["kind"] == "on-demand":
        return "per token"
    return money(row["hourly_usd"])


def _estimate(row: dict[str, Any]) -> str:
    if row["estimate_usd"] is not None:
        return money(row["estimate_usd"])
    if row["estimate_known_usd"] is not None:
        return f"unknown (at least {money(row['estimate_known_usd'])})"
    return "-" if row["in_registry"] else "not this stack's run"


def render(document: dict[str, Any]) -> None:
    """The document as tables and lines a person reads."""
    deployments = document["deployments"]
    say(
        f"Deployments in {document['region']} (Provisioned Throughput and custom model "
        f"deployments), owner tag {OWNER_TAG}, this stack {document['stack']}:"
    )
    if deployments:
        table(
            ("NAME", "KIND", "OWNER", "RUN", "AGE", "UNITS", "BASE MODEL", "HOURLY", "THIS STACK"),
            (
                (
                    d["name"],
                    d["kind"],
                    d["owner"] or "none",
                    d["run_id"],
                    _age(d["age_hours"]),
                    d["model_units"],
                    d["base_model_id"] or core.UNKNOWN,
                    _hourly(d),
                    Text(
                        f"live run {d['live_run']}" if d["live_run"] else d["ownership"],
                        style=OWNERSHIP_STYLES[d["ownership"]],
                    ),
                )
                for d in deployments
            ),
        )
    else:
        say("  none.")
    say(document["hourly_burn"]["line"])
    for orphan in document["orphaned"]:
        say(
            f"Orphaned: {orphan['name']} carries this stack's owner tag (run "
            f"{orphan['run_id'] or 'unknown'}) but no live run of it owns it; "
            f"{_hourly(orphan)} an hour. Look, then delete it: {orphan['delete']}",
            style="red",
        )
    say("")
    models = document["custom_models"]
    say("Custom models (storage is billed monthly while a model exists):")
    if models:
        table(
            ("NAME", "BASE MODEL", "AGE", "TYPE", "RUN", "LAST DEPLOYMENT", "STORAGE / MONTH"),
            (
                (
                    m["name"],
                    m["base_model_id"] or core.UNKNOWN,
                    _age(m["age_hours"]),
                    m["customization_type"],
                    m["run_id"],
                    m["last_deployment"],
                    money(m["monthly_storage_usd"]),
                )
                for m in models
            ),
        )
        storage = document["monthly_storage"]
        unpriced = (
            f", and {storage['unpriced']} with no storage price in the catalog"
            if storage["unpriced"]
            else ""
        )
        say(f"Storage: {money(storage['known_usd'])} a month for {len(models)} model(s){unpriced}.")
    else:
        say("  none.")
    say("")
    billed = document["billed"]
    if billed["message"]:
        say(billed["message"], style="yellow")
    if billed["runs"] and billed["status"] != "ok":
        say("Each run's estimate (no billed spend to set beside it):")
        table(("RUN", "ESTIMATE"), ((r["run_id"], _estimate(r)) for r in billed["runs"]))
    elif billed["runs"]:
        say(
            f"Billed spend per run from {billed['start']} to {billed['end']} (Cost Explorer, "
            f"tag {billed['tag']}), next to each run's estimate:"
        )
        table(
            ("RUN", "BILLED", "ESTIMATE"),
            ((r["run_id"], money(r["billed_usd"]), _estimate(r)) for r in billed["runs"]),
        )
