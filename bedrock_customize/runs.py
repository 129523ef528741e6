"""Commands about runs of a deployed stack: list, show, status, approve, reject, cancel.

They read the run registry (DynamoDB) and answer the workflow (Step Functions)
through the stack's outputs. Exit codes: 0 ok, 1 the run is not in a state
that allows it, 2 usage, 3 AWS access (see stack.describe).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import click

from bedrock_customize import stack as stacks
from bedrock_customize.console import emit_json, say, status_text, table
from bedrock_customize.stack import aws, stack_options
from customization_core.deployments import parse_stamp, stamp
from customization_core.registry import BY_STATUS_INDEX
from customization_core.run import Status

EXIT_FAILED = 1
# Statuses a run does not end in; `status` without a run id lists the runs in them.
IN_PROGRESS = tuple(s.value for s in Status if not s.terminal)


def plain(value: Any) -> Any:
    """DynamoDB values as JSON-ready ones (Decimal to int or float)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if k != "approval_token"}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def find_item(stack: stacks.Stack, run_id: str) -> dict[str, Any] | None:
    """The registry item of ``run_id``, or None."""
    name = stack.output("RegistryTableName")
    found = aws(
        "dynamodb:GetItem",
        lambda: stack.client("dynamodb").get_item(TableName=name, Key={"run_id": {"S": run_id}}),
    ).get("Item")
    return _deserialize(found) if found else None


def item(stack: stacks.Stack, run_id: str) -> dict[str, Any]:
    """The registry item of ``run_id``; exit code 1 with a hint when there is none."""
    found = find_item(stack, run_id)
    if found is None:
        click.echo(
            f"There is no run {run_id!r} in {stack.name}: `bedrock-customize list` shows the runs.",
            err=True,
        )
        sys.exit(EXIT_FAILED)
    return found


def by_status(stack: stacks.Stack, status: str, limit: int | None = None) -> list[dict[str, Any]]:
    """Runs in ``status``, newest first (the registry's by-status index)."""
    name = stack.output("RegistryTableName")
    dynamodb = stack.client("dynamodb")
    query: dict[str, Any] = {
        "TableName": name,
        "IndexName": BY_STATUS_INDEX,
        "KeyConditionExpression": "#s = :s",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": {":s": {"S": status}},
        "ScanIndexForward": False,
    }
    if limit:
        query["Limit"] = limit
    pages = aws(
        "dynamodb:Query",
        lambda: (
            list(dynamodb.get_paginator("query").paginate(**query))
            if not limit
            else [dynamodb.query(**query)]
        ),
    )
    return [_deserialize(i) for page in pages for i in page.get("Items", [])]


def _deserialize(item: dict[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    return {k: deserializer.deserialize(v) for k, v in item.items()}


def money(value: Any) -> str | None:
    return f"${float(value):,.2f}" if value is not None else None


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
        name = stack.output("RegistryTableName")
        dynamodb = stack.client("dynamodb")
        pages = aws(
            "dynamodb:Scan", lambda: list(dynamodb.get_paginator("scan").paginate(TableName=name))
        )
        items = [_deserialize(i) for page in pages for i in page.get("Items", [])]
        items = sorted(items, key=lambda i: str(i.get("updated_at", "")), reverse=True)[:limit]
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
            "metrics",
            "verdict",
            "evaluation",
            "deployment",
            "execution_arn",
        )
        if found.get(key) not in (None, "", {})
    ]
    table(("FIELD", "VALUE"), ((k, _readable(v)) for k, v in rows))
    say("")
    table(
        ("AT", "STATUS", "REASON"),
        ((e["at"], status_text(e["status"]), e.get("reason")) for e in found.get("history", [])),
        title="history",
    )


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
    events = [e for page in pages for e in page["events"]]
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


@click.command()
@stack_options
@click.argument("run_id")
def approve(where: stacks.Where, run_id: str) -> None:
    """Let RUN_ID, waiting for approval, go on to train."""
    stack = where.open()
    token = _waiting_token(stack, run_id)
    aws(
        "states:SendTaskSuccess",
        lambda: stack.client("stepfunctions").send_task_success(taskToken=token, output="{}"),
    )
    say(f"Approved {run_id}: it goes on to train.")


@click.command()
@stack_options
@click.argument("run_id")
@click.option("--reason", required=True, help="Why; it is recorded and notified.")
def reject(
    where: stacks.Where,
    run_id: str,
    reason: str,
) -> None:
    """Refuse RUN_ID, waiting for approval: it ends REJECTED with the reason."""
    stack = where.open()
    token = _waiting_token(stack, run_id)
    aws(
        "states:SendTaskFailure",
        lambda: stack.client("stepfunctions").send_task_failure(
            taskToken=token, error="RunRejectedError", cause=reason
        ),
    )
    say(f"Rejected {run_id}: {reason}")


def _waiting_token(stack: stacks.Stack, run_id: str) -> str:
    found = item(stack, run_id)
    if found["status"] != Status.AWAITING_APPROVAL.value or not found.get("approval_token"):
        click.echo(f"Run {run_id} is not waiting for approval (it is {found['status']}).", err=True)
        sys.exit(EXIT_FAILED)
    return str(found["approval_token"])


@click.command()
@stack_options
@click.argument("run_id")
def cancel(where: stacks.Where, run_id: str) -> None:
    """Stop RUN_ID: its execution stops, its Bedrock job is stopped, it ends CANCELLED. Nothing is deleted."""
    stack = where.open()
    found = item(stack, run_id)
    if Status(found["status"]).terminal:
        click.echo(f"Run {run_id} has already ended ({found['status']}).", err=True)
        sys.exit(EXIT_FAILED)
    arn = found["execution_arn"]
    aws(
        "states:StopExecution",
        lambda: stack.client("stepfunctions").stop_execution(
            executionArn=arn, cause="Cancelled with bedrock-customize cancel"
        ),
    )
    say(
        f"Stopping {run_id}; its Bedrock job is stopped and the run recorded CANCELLED in a moment."
    )


@click.command()
@stack_options
@click.argument("run_id")
@click.option(
    "--hours",
    required=True,
    type=click.FloatRange(min=0, min_open=True),
    help="How much later the deployment is deleted.",
)
def extend(where: stacks.Where, run_id: str, hours: float) -> None:
    """Keep RUN_ID's deployment HOURS longer: the workflow deletes it at the new end time."""
    stack = where.open()
    found = item(stack, run_id)
    deployment = found.get("deployment") or {}
    if found["status"] != Status.DEPLOYED.value or not deployment.get("expires_at"):
        click.echo(
            f"Run {run_id} has no deployment with an end time to extend (it is {found['status']}).",
            err=True,
        )
        sys.exit(EXIT_FAILED)
    old = parse_stamp(str(deployment["expires_at"]))
    new = old + timedelta(hours=hours)
    limit = parse_stamp(str(deployment["max_expires_at"]))
    if new > limit:
        click.echo(
            f"{stamp(new)} is past the latest end time this deployment allows, {stamp(limit)} "
            "(the stack's maxDeploymentTtlHours); extend it by less.",
            err=True,
        )
        sys.exit(EXIT_FAILED)
    name = stack.output("RegistryTableName")
    now = datetime.now(UTC).isoformat(timespec="seconds")
    entry = {
        "M": {
            "status": {"S": Status.DEPLOYED.value},
            "at": {"S": now},
            "reason": {
                "S": f"Extended by {hours:g} h to {stamp(new)} with bedrock-customize extend."
            },
        }
    }
    from botocore.exceptions import ClientError

    try:
        stack.client("dynamodb").update_item(
            TableName=name,
            Key={"run_id": {"S": run_id}},
            # Only while it is still deployed with the end time read above: the workflow may
            # be deleting it, or someone else extending it, at this moment.
            ConditionExpression="#s = :deployed AND deployment.expires_at = :old",
            UpdateExpression="SET deployment.expires_at = :new, updated_at = :now, "
            "history = list_append(history, :entry)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":deployed": {"S": Status.DEPLOYED.value},
                ":old": {"S": str(deployment["expires_at"])},
                ":new": {"S": stamp(new)},
                ":now": {"S": now},
                ":entry": {"L": [entry]},
            },
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            click.echo(
                f"Run {run_id} changed meanwhile; look again with `bedrock-customize status`.",
                err=True,
            )
            sys.exit(EXIT_FAILED)
        click.echo(stacks.describe(error, "dynamodb:UpdateItem"), err=True)
        sys.exit(stacks.EXIT_ACCESS)
    say(f"Extended {run_id}: its deployment is now deleted at {stamp(new)} (was {stamp(old)}).")


COMMANDS = (list_runs, status, show, logs, approve, reject, cancel, extend)
