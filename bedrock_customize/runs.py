"""Commands that read runs of a deployed stack: list, show, status, logs.

They read the run registry (customization_core/registry.py, through run_items) and the
workflow (Step Functions) through the stack's outputs. Exit codes: 0 ok, 1 the run
ended without succeeding (status) or has no execution yet (logs), 2 usage, 3 AWS access
(see stack.describe).
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

import click

from bedrock_customize import stack as stacks
from bedrock_customize.console import emit_json, say, status_text, table
from bedrock_customize.run_items import by_status, every_run, item, plain
from bedrock_customize.stack import EXIT_FAILED, aws, stack_options
from customization_core.contract import Status

# Statuses a run does not end in; `status` without a run id lists the runs in them.
IN_PROGRESS = tuple(s.value for s in Status if not s.terminal)


def money(value: Any) -> str | None:
    from customization_core.estimate import money as estimate_money

    return estimate_money(float(value)) if value is not None else None


@click.command(name="list")
@stack_options
@click.option(
    "--status",
    "status",
    type=click.Choice([s.value for s in Status]),
    help="Only runs in this status.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="At most this many runs, newest first.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the runs as JSON.")
def list_runs(
    where: stacks.Where,
    status: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """The newest runs, or those in one status."""
    stack = where.open()
    if status:
        items = by_status(stack, status, limit)
    else:
        items = sorted(every_run(stack), key=lambda i: str(i.get("updated_at", "")), reverse=True)[
            :limit
        ]
    if as_json:
        emit_json([plain(i) for i in items])
        return
    if not items:
        say("No runs yet: `bedrock-customize submit` starts one.")
        return
    table(
        ("RUN", "STATUS", "UPDATED", "MODEL", "COST"),
        (
            (
                i["run_id"],
                status_text(i["status"]),
                i.get("updated_at"),
                i.get("model_id"),
                money(i.get("cost_usd")),
            )
            for i in items
        ),
    )


@click.command()
@stack_options
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True, help="Print the registry item as JSON.")
def show(
    where: stacks.Where,
    run_id: str,
    as_json: bool,
) -> None:
    """Everything the registry knows about RUN_ID: request, data, report, cost, job, model, history."""
    found = plain(item(where.open(), run_id))
    if as_json:
        emit_json(found)
        return
    found.update(_views(found))
    rows = [
        (key, found[key])
        for key in (
            "run_id",
            "status",
            "reason",
            "model_id",
            "customization_type",
            "hyperparameters",
            "report",
            "report_summary",
            "tokens",
            "cost_usd",
            "job_arn",
            "model_arn",
            "training_eta",
            "metrics",
            "diagnosis",
            "dataset_card",
            "risk_summary",
            "verdict",
            "evaluation",
            "deployment",
            # The links of `bedrock-customize deploy`: the run that trained this run's model,
            # and the runs that deploy this run's model.
            "model_of_run",
            "deployment_runs",
            "execution_arn",
            "submitted_by",
            "answered_by",
            "answered_at",
            "answer",
            "answer_reason",
            "approval_refused",
        )
        if found.get(key) not in (None, "", {})
    ]
    table(("FIELD", "VALUE"), ((k, _readable(v)) for k, v in rows))
    if found.get("estimate"):
        from customization_core.estimate import Estimate

        say("")
        say("estimate (before anything was spent):")
        for line in Estimate.from_dict(found["estimate"]).lines():
            say(f"  {line}")
    say("")
    table(
        ("AT", "STATUS", "REASON"),
        ((e["at"], status_text(e["status"]), e.get("reason")) for e in found.get("history", [])),
        title="history",
    )


def _views(found: dict[str, Any]) -> dict[str, Any]:
    """What a person reads beside the record: the training ETA now, the loss diagnosis."""
    from datetime import UTC, datetime

    from customization_core.training_eta import eta_of

    eta = eta_of(found, now=datetime.now(UTC))
    return {
        "training_eta": eta.label if eta else None,
        "diagnosis": (found.get("metrics") or {}).get("diagnosis"),
    }


def _readable(value: Any) -> Any:
    """Nested values (metrics, the deployment, the evaluation) as compact JSON, not Python repr."""
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, default=str)
    return value


def current_state(stack: stacks.Stack, execution_arn: str) -> str | None:
    """The state the execution entered last."""
    events = aws(
        "states:GetExecutionHistory",
        lambda: stack.client("stepfunctions").get_execution_history(
            executionArn=execution_arn, reverseOrder=True, maxResults=50
        ),
    )["events"]
    for event in events:
        if "stateEnteredEventDetails" in event:
            return str(event["stateEnteredEventDetails"]["name"])
    return None


@click.command()
@stack_options
@click.argument("run_id", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status(
    where: stacks.Where,
    run_id: str | None,
    as_json: bool,
) -> None:
    """Where RUN_ID is now; without RUN_ID, every run that has not ended.

    Exits 1 when RUN_ID ended without succeeding (FAILED, REJECTED, CANCELLED).
    """
    stack = where.open()
    if run_id is None:
        items = [i for s in IN_PROGRESS for i in by_status(stack, s)]
        items.sort(key=lambda i: str(i.get("updated_at", "")), reverse=True)
        rows = [
            {
                "run_id": i["run_id"],
                "status": i["status"],
                "state": current_state(stack, i["execution_arn"])
                if i.get("execution_arn")
                else None,
                "updated_at": i.get("updated_at"),
            }
            for i in items
        ]
        if as_json:
            emit_json(rows)
        elif not rows:
            say("No run is in progress; `bedrock-customize list` shows the ended ones.")
        else:
            table(
                ("RUN", "STATUS", "STATE", "UPDATED"),
                (
                    (r["run_id"], status_text(str(r["status"])), r["state"], r["updated_at"])
                    for r in rows
                ),
            )
        return
    found = item(stack, run_id)
    ended = Status(found["status"]).terminal
    state = (
        None
        if ended or not found.get("execution_arn")
        else current_state(stack, found["execution_arn"])
    )
    deployment = found.get("deployment") or {}
    document = {
        "run_id": run_id,
        "status": found["status"],
        "state": state,
        "reason": found.get("reason"),
        "model_arn": found.get("model_arn"),
        "verdict": found.get("verdict"),
        "deployment_arn": deployment.get("arn"),
        "deployment_status": deployment.get("status"),
        "deployment_ends_at": deployment.get("expires_at"),
        **_views(found),
        "submitted_by": found.get("submitted_by"),
        "answered_by": found.get("answered_by"),
        "answer": found.get("answer"),
        "approval_refused": (found.get("approval_refused") or {}).get("reason"),
        "updated_at": found.get("updated_at"),
    }
    if as_json:
        emit_json(document)
    else:
        table(
            ("FIELD", "VALUE"),
            ((k, status_text(v) if k == "status" else v) for k, v in document.items() if v),
        )
    if ended and found["status"] != Status.SUCCEEDED.value:
        sys.exit(EXIT_FAILED)


# A task token in an event's input or parameters (RequestApproval's, JSON in a string).
_TOKEN = re.compile(r'("taskToken"\s*:\s*)"[^"]*"')


def redacted(value: Any) -> Any:
    """An execution history event with every task token replaced: `logs` never prints one.

    Whoever may call states:GetExecutionHistory can still read it (README, Approval).
    """
    if isinstance(value, str):
        return _TOKEN.sub(r'\1"<redacted>"', value)
    if isinstance(value, dict):
        return {k: "<redacted>" if k == "taskToken" else redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redacted(v) for v in value]
    return value


def _event_detail(event: dict[str, Any]) -> str:
    """The part of a history event a person reads: an error and cause, or nothing."""
    for key, details in event.items():
        if key.endswith("EventDetails") and isinstance(details, dict):
            error, cause = details.get("error"), details.get("cause")
            if error or cause:
                return f"{error or ''}: {str(cause or '')[:300]}".strip(": ")
    return ""


@click.command()
@stack_options
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True, help="Print the execution's events as JSON.")
def logs(
    where: stacks.Where,
    run_id: str,
    as_json: bool,
) -> None:
    """The state history of RUN_ID's execution: each state entered, each failure with its cause."""
    stack = where.open()
    found = item(stack, run_id)
    arn = found.get("execution_arn")
    if not arn:
        click.echo(f"Run {run_id} has no execution recorded yet.", err=True)
        sys.exit(EXIT_FAILED)
    sfn = stack.client("stepfunctions")
    pages = aws(
        "states:GetExecutionHistory",
        lambda: list(sfn.get_paginator("get_execution_history").paginate(executionArn=arn)),
    )
    events = [redacted(e) for page in pages for e in page["events"]]
    if as_json:
        emit_json(events)
        return
    table(
        ("TIME", "EVENT", "STATE", "DETAIL"),
        (
            (
                e["timestamp"].isoformat(timespec="seconds")
                if hasattr(e["timestamp"], "isoformat")
                else e["timestamp"],
                e["type"],
                e.get("stateEnteredEventDetails", {}).get("name")
                or e.get("stateExitedEventDetails", {}).get("name"),
                _event_detail(e),
            )
            for e in events
        ),
    )


COMMANDS = (list_runs, status, show, logs)
