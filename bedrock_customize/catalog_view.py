"""What ``bedrock-customize catalog`` prints: the base models, everything the catalog knows of each.

The table has one row per model id (so grep finds an id's whole row); per-type values
sit one per line in their cells. ``--model ID`` shows one model in full (limits,
hyperparameters, sources); ``--check`` compares the catalog with the account's Bedrock
and the AWS Price List in a Region: exit 0 when they agree, 1 when they differ, 3 when
AWS could not be asked.
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from typing import Any

import click

from bedrock_customize import catalog_live, catalog_types
from bedrock_customize.console import emit_json, say, table
from bedrock_customize.stack import EXIT_ACCESS, EXIT_FAILED, EXIT_OK, describe
from customization_core.catalog import (
    Catalog,
    Customization,
    CustomizationType,
    Lifecycle,
    Model,
    RecordLimit,
    load_catalog,
)
from customization_core.catalog_check import Check, check
from customization_core.live import API_REPORTED
from customization_core.price_check import usd


def show(
    region: str | None,
    kind: str | None,
    model_id: str | None,
    live: bool,
    profile: str | None,
    as_json: bool,
) -> None:
    """The catalog as ``catalog`` prints it: every model, one in full, or the --check."""
    customization = CustomizationType.parse(kind) if kind else None
    catalog = load_catalog()
    today = datetime.now(UTC).date()
    if live:
        if model_id:
            raise click.UsageError("--check compares the whole catalog; leave out --model.")
        _check(catalog, region, profile, customization, today, as_json)
        return
    if profile:
        raise click.UsageError("--profile is for --check only.")
    if model_id:
        _detail(catalog, model_id, today, as_json)
        return
    models = [m for m in catalog.models if _selected(m, region, customization)]
    distillation = customization is CustomizationType.DISTILLATION
    if as_json:
        document: dict[str, Any] = {
            "catalog_date": catalog.catalog_date.isoformat(),
            "models": [m.model_dump(mode="json") for m in models],
            "unsupported": [m.model_dump(mode="json") for m in catalog.unsupported],
        }
        if distillation:
            document["teachers"] = catalog_types.teachers_json(catalog, region)
        emit_json(document)
        return
    _table(models, customization, today)
    if distillation:
        catalog_types.show_teachers(catalog, region)
    elif customization is CustomizationType.REINFORCEMENT_FINE_TUNING:
        catalog_types.show_rft(models)
    if catalog.unsupported:
        say("")
        table(
            ("MODEL ID", "NAME", "NOT RUN BY THIS PRODUCT BECAUSE"),
            [(i, m.name, m.reason) for m in catalog.unsupported for i in m.model_ids],
        )
    say("")
    say(
        f"Catalog of {catalog.catalog_date}; prices are USD as AWS published them then. "
        "Compare with your account: bedrock-customize catalog --check --region REGION"
    )


def _selected(model: Model, region: str | None, kind: CustomizationType | None) -> bool:
    return any(
        (kind is None or k is kind) and (region is None or region in c.regions)
        for k, c in model.customizations.items()
    )


def _customs(
    model: Model, kind: CustomizationType | None
) -> list[tuple[CustomizationType, Customization]]:
    return [(k, c) for k, c in model.customizations.items() if kind is None or k is kind]


# ---- the table ---------------------------------------------------------------------------


def _table(models: list[Model], kind: CustomizationType | None, today: date) -> None:
    rows: list[tuple[str, ...]] = []
    for model in models:
        customs = _customs(model, kind)

        def lines(
            cell: Any, customs: list[tuple[CustomizationType, Customization]] = customs
        ) -> str:
            return "\n".join(cell(k, c) for k, c in customs)

        shared = (
            model.name,
            lines(lambda k, c: f"{k.cli_name} ({'/'.join(c.formats)})"),
            lines(lambda _k, c: ", ".join(c.regions)),
            lifecycle_text(model.lifecycle, today),
            _on_demand(model),
            lines(lambda _k, c: _tokens(c)),
            lines(lambda _k, c: _records(c)),
            lines(lambda _k, c: usd(c.training_price_per_1k_tokens_usd)),
            lines(lambda _k, c: usd(c.monthly_storage_price_usd)),
        )
        rows.extend((model_id, *shared) for model_id in model.model_ids)
    table(
        (
            "MODEL ID",
            "NAME",
            "TYPE (FORMAT)",
            "REGIONS",
            "LIFECYCLE",
            "ON-DEMAND DEPLOYMENT",
            "MAX TOKENS/RECORD",
            "TRAINING RECORDS",
            "TRAINING USD/1K TOKENS",
            "STORAGE USD/MONTH",
        ),
        rows,
    )


def lifecycle_text(lifecycle: Lifecycle | None, today: date) -> str:
    """Where the model stands on ``today``, with its dates (the dates decide, not the status)."""
    if lifecycle is None:
        return "active"
    end = lifecycle.end_of_life_date
    if lifecycle.ended(today):
        return f"end of life since {end}" if end else "end of life"
    if lifecycle.legacy(today):
        return f"legacy, end of life {end}" if end else "legacy, end of life not set"
    if lifecycle.legacy_date:
        return f"active, legacy from {lifecycle.legacy_date}"
    return "active"


def _on_demand(model: Model) -> str:
    if not model.on_demand_deployment_regions:
        return "no (Provisioned Throughput)"
    since = f" (customized from {model.on_demand_since})" if model.on_demand_since else ""
    return ", ".join(model.on_demand_deployment_regions) + since


def _tokens(custom: Customization) -> str:
    limits = sorted({limit.tokens for limit in custom.max_tokens_per_record})
    text = f"{limits[0]:,}" if len(limits) == 1 else f"{limits[0]:,}-{limits[-1]:,} by batch size"
    sides = [
        f"{label} {value:,}"
        for label, value in (
            ("prompt", custom.max_prompt_tokens),
            ("completion", custom.max_completion_tokens),
        )
        if value
    ]
    return f"{text} ({', '.join(sides)})" if sides else text


def _records(custom: Customization) -> str:
    return _limit(custom.training_records)


def _limit(limit: RecordLimit) -> str:
    if limit.max:
        return f"{limit.min or 0:,}-{limit.max:,}"
    return f"at least {limit.min:,}" if limit.min else "no limit of its own"


# ---- one model in full -------------------------------------------------------------------


def _detail(catalog: Catalog, model_id: str, today: date, as_json: bool) -> None:
    model = catalog.find(model_id)
    if model is None:
        skipped = catalog.find_unsupported(model_id)
        if skipped is not None:
            if as_json:
                emit_json(skipped.model_dump(mode="json"))
            else:
                say(f"{skipped.name} ({model_id}) is not run by this product: {skipped.reason}.")
            sys.exit(EXIT_FAILED)
        near = catalog.suggest(model_id)
        hint = f" Did you mean {', '.join(near)}?" if near else ""
        raise click.UsageError(f"{model_id!r} is not in the catalog.{hint}")
    if as_json:
        emit_json(model.model_dump(mode="json"))
        return
    say(f"{model.name} ({model.provider}, family {model.family})", style="bold")
    say(f"ids: {', '.join(model.model_ids)} ({model.model_ids_source})")
    life = model.lifecycle
    source = f" ({life.source}, read {life.read})" if life else ""
    say(f"lifecycle: {lifecycle_text(life, today)}{source}")
    if model.docs_note:
        say(f"note: {model.docs_note}")
    where = f" ({model.on_demand_deployment_source})" if model.on_demand_deployment_source else ""
    say(f"on-demand deployment: {_on_demand(model)}{where}")
    invocation = (
        "by its model id"
        if model.base_invocation == "model-id"
        else "through an inference profile only"
    )
    say(f"base model invoked {invocation}")
    for region, profile in sorted(model.inference_profiles.items()):
        say(f"  inference profile in {region}: {profile}")
    for kind, custom in model.customizations.items():
        _customization(kind, custom)


def _customization(kind: CustomizationType, custom: Customization) -> None:
    say("")
    say(f"{kind.cli_name} ({kind.value})", style="bold")
    say(f"format: {', '.join(custom.formats)}")
    say(f"Regions: {', '.join(custom.regions)} ({custom.regions_source})")
    say(f"training records: {_records(custom)} ({custom.training_records.source})")
    validation = custom.validation_records
    if custom.validation_supported:
        say(f"validation records: {_limit(validation)}")
    else:
        say("validation file: not accepted")
    if custom.total_records and custom.total_records.max:
        say(f"training and validation records together: at most {custom.total_records.max:,}")
    for limit in custom.max_tokens_per_record:
        sizes = (
            "any batch size"
            if limit.batch_sizes is None
            else "batch size " + ", ".join(map(str, limit.batch_sizes))
        )
        say(f"max tokens per record: {limit.tokens:,} at {sizes}")
    say(f"  (tokens: {custom.max_tokens_per_record_source})")
    if custom.max_prompt_tokens or custom.max_completion_tokens:
        say(
            f"max prompt / completion tokens: {custom.max_prompt_tokens} / {custom.max_completion_tokens}"
        )
    for label, size in (
        ("training file", custom.max_training_file_bytes),
        ("validation file", custom.max_validation_file_bytes),
    ):
        if size:
            say(f"max {label}: {size:,} bytes")
    if custom.media:
        for medium, media in (("image", custom.media.image), ("video", custom.media.video)):
            if media:
                say(
                    f"{medium}s: {', '.join(media.formats)}, up to {media.max_per_record} per "
                    f"record, {media.max_bytes:,} bytes each"
                )
    price = usd(custom.training_price_per_1k_tokens_usd)
    storage = usd(custom.monthly_storage_price_usd)
    read = f", read {custom.price_read}" if custom.price_read else ""
    where = f" ({custom.price_source}{read})" if custom.price_source else ""
    say(f"price: {price} per 1,000 training tokens, {storage} per month of storage{where}")
    if custom.hyperparameters:
        table(
            ("HYPERPARAMETER", "RANGE", "DEFAULT", "REQUIRED"),
            [
                (h.key, h.describe_range(), h.default, "yes" if h.required else "no")
                for h in custom.hyperparameters
            ],
        )


# ---- --check -----------------------------------------------------------------------------


def _check(
    catalog: Catalog,
    region: str | None,
    profile: str | None,
    kind: CustomizationType | None,
    today: date,
    as_json: bool,
) -> None:
    try:
        clients = catalog_live.clients(region, profile)
        if clients.region is None:
            raise click.UsageError(
                "--check needs a Region: pass --region or set one in the profile."
            )
        snapshot = catalog_live.read_snapshot(
            clients.bedrock, clients.pricing, catalog, clients.region
        )
    except catalog_live.LiveReadError as error:
        click.echo(describe(error.cause, error.action), err=True)
        sys.exit(EXIT_ACCESS)
    result = check(catalog, snapshot, clients.region, today=today)
    if kind is not None:
        unreported = (
            ()
            if kind.value in API_REPORTED
            else (
                f"Bedrock does not report {kind.value} (ListFoundationModels and "
                "customizationsSupported know FINE_TUNING, CONTINUED_PRE_TRAINING and "
                "DISTILLATION only): the catalog decides which models and Regions run it.",
            )
        )
        result = Check(
            result.region,
            tuple(
                d
                for d in result.differences
                if d.customization is None or kind.value in d.customization
            ),
            (*result.notes, *unreported),
        )
    if as_json:
        emit_json({**result.to_dict(), "catalog_date": catalog.catalog_date.isoformat()})
    else:
        _print_check(result, catalog)
    sys.exit(EXIT_FAILED if result.differences else EXIT_OK)


def _print_check(result: Check, catalog: Catalog) -> None:
    for note in result.notes:
        say(f"note: {note}")
    if not result.differences:
        say(
            f"The catalog ({catalog.catalog_date}) matches Bedrock and the Price List in "
            f"{result.region}: no difference."
        )
        return
    if result.notes:
        say("")
    table(
        ("KIND", "MODEL ID", "TYPE", "CATALOG", "AWS", "WHAT DIFFERS"),
        [
            (d.kind, d.model_id, d.customization, d.catalog, d.live, d.message)
            for d in result.differences
        ],
    )
    say("")
    say(
        f"{len(result.differences)} difference(s) between the catalog ({catalog.catalog_date}) "
        f"and {result.region}: update customization_core/data/models.json from the AWS pages."
    )
