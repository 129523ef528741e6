"""Commands about runs of a deployed stack: list, show, status, approve, reject, cancel.

They read the run registry (DynamoDB) and answer the workflow (Step Functions)
through the stack's outputs. Exit codes: 0 ok, 1 the run is not in a state
that allows it, 2 usage, 3 AWS access (see stack.describe).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

import click

from bedrock_customize import stack as stacks
from customization_core.registry import BY_STATUS_INDEX
from customization_core.run import Status

F = TypeVar("F", bound=Callable[..., Any])
EXIT_FAILED = 1


def stack_options(function: F) -> F:
    """--stack, --region, --profile: where the deployed stack is."""
    for option in (
        click.option("--profile", help="AWS profile (default: the environment's)."),
        click.option("--region", help="AWS Region of the stack (default: the profile's)."),
        click.option(
            "--stack",
            "stack_name",
            default=stacks.DEFAULT_STACK,
            show_default=True,
            help="The deployed stack.",
        ),
    ):
        function = option(function)
    return function


def _connect(stack_name: str, region: str | None, profile: str | None) -> stacks.Stack:
    try:
        return stacks.connect(stack_name, region=region, profile=profile)
    except stacks.AccessError as error:
        click.echo(str(error), err=True)
        sys.exit(stacks.EXIT_ACCESS)


def _aws(action: str, call: Callable[[], Any]) -> Any:
    """Run one AWS call; an access problem becomes one sentence and exit code 3."""
    try:
        return call()
    except Exception as error:
        if type(error).__module__.startswith("botocore") or hasattr(error, "response"):
            click.echo(stacks.describe(error, action), err=True)
            sys.exit(stacks.EXIT_ACCESS)
        raise


def _plain(value: Any) -> Any:
    """DynamoDB values as JSON-ready ones (Decimal to int or float)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k != "approval_token"}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _item(stack: stacks.Stack, run_id: str) -> dict[str, Any]:
    table = stack.output("RegistryTableName")
    found = _aws(
        "dynamodb:GetItem",
        lambda: stack.client("dynamodb").get_item(TableName=table, Key={"run_id": {"S": run_id}}),
    ).get("Item")
    if not found:
        click.echo(
            f"There is no run {run_id!r} in {stack.name}: `bedrock-customize list` shows the runs.",
            err=True,
        )
        sys.exit(EXIT_FAILED)
    return _deserialize(found)


def _deserialize(item: dict[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    return {k: deserializer.deserialize(v) for k, v in item.items()}


def _line(item: dict[str, Any]) -> str:
    cost = item.get("cost_usd")
    money = f"${float(cost):,.2f}" if cost is not None else "-"
    return f"{item['run_id']:<48} {item['status']:<18} {item.get('updated_at', ''):<26} {item.get('model_id') or '-':<42} {money}"


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
    stack_name: str,
    region: str | None,
    profile: str | None,
    status: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """The newest runs, or those in one status."""
    stack = _connect(stack_name, region, profile)
    table = stack.output("RegistryTableName")
    dynamodb = stack.client("dynamodb")
    if status:
        response = _aws(
            "dynamodb:Query",
            lambda: dynamodb.query(
                TableName=table,
                IndexName=BY_STATUS_INDEX,
                KeyConditionExpression="#s = :s",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":s": {"S": status}},
                ScanIndexForward=False,
                Limit=limit,
            ),
        )
        items = [_deserialize(i) for i in response.get("Items", [])]
    else:
        pages = _aws(
            "dynamodb:Scan", lambda: list(dynamodb.get_paginator("scan").paginate(TableName=table))
        )
        items = [_deserialize(i) for page in pages for i in page.get("Items", [])]
        items = sorted(items, key=lambda i: str(i.get("updated_at", "")), reverse=True)[:limit]
    if as_json:
        click.echo(json.dumps([_plain(i) for i in items], indent=2, sort_keys=True))
        return
    if not items:
        click.echo("No runs yet: upload jobs/<name>/job.json to the datasets bucket to start one.")
        return
    click.echo(f"{'RUN':<48} {'STATUS':<18} {'UPDATED':<26} {'MODEL':<42} COST")
    for item in items:
        click.echo(_line(item))


@click.command()
@stack_options
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True, help="Print the registry item as JSON.")
def show(
    stack_name: str, region: str | None, profile: str | None, run_id: str, as_json: bool
) -> None:
    """Everything the registry knows about RUN_ID: request, data, report, cost, job, model, history."""
    item = _plain(_item(_connect(stack_name, region, profile), run_id))
    if as_json:
        click.echo(json.dumps(item, indent=2, sort_keys=True))
        return
    for key in (
        "run_id",
        "status",
        "reason",
        "model_id",
        "customization_type",
        "hyperparameters",
        "report",
        "tokens",
        "cost_usd",
        "job_arn",
        "model_arn",
        "metrics",
        "execution_arn",
    ):
        if item.get(key) not in (None, "", {}):
            click.echo(f"{key + ':':<20} {item[key]}")
    click.echo("history:")
    for entry in item.get("history", []):
        reason = f"  ({entry['reason']})" if entry.get("reason") else ""
        click.echo(f"  {entry['at']}  {entry['status']}{reason}")


@click.command()
@stack_options
@click.argument("run_id")
def approve(stack_name: str, region: str | None, profile: str | None, run_id: str) -> None:
    """Let RUN_ID, waiting for approval, go on to train."""
    stack = _connect(stack_name, region, profile)
    token = _waiting_token(stack, run_id)
    _aws(
        "states:SendTaskSuccess",
        lambda: stack.client("stepfunctions").send_task_success(taskToken=token, output="{}"),
    )
    click.echo(f"Approved {run_id}: it goes on to train.")


@click.command()
@stack_options
@click.argument("run_id")
@click.option("--reason", required=True, help="Why; it is recorded and notified.")
def reject(
    stack_name: str, region: str | None, profile: str | None, run_id: str, reason: str
) -> None:
    """Refuse RUN_ID, waiting for approval: it ends REJECTED with the reason."""
    stack = _connect(stack_name, region, profile)
    token = _waiting_token(stack, run_id)
    _aws(
        "states:SendTaskFailure",
        lambda: stack.client("stepfunctions").send_task_failure(
            taskToken=token, error="RunRejectedError", cause=reason
        ),
    )
    click.echo(f"Rejected {run_id}: {reason}")


def _waiting_token(stack: stacks.Stack, run_id: str) -> str:
    item = _item(stack, run_id)
    if item["status"] != Status.AWAITING_APPROVAL.value or not item.get("approval_token"):
        click.echo(f"Run {run_id} is not waiting for approval (it is {item['status']}).", err=True)
        sys.exit(EXIT_FAILED)
    return str(item["approval_token"])


@click.command()
@stack_options
@click.argument("run_id")
def cancel(stack_name: str, region: str | None, profile: str | None, run_id: str) -> None:
    """Stop RUN_ID: its execution stops, its Bedrock job is stopped, it ends CANCELLED. Nothing is deleted."""
    stack = _connect(stack_name, region, profile)
    item = _item(stack, run_id)
    if Status(item["status"]).terminal:
        click.echo(f"Run {run_id} has already ended ({item['status']}).", err=True)
        sys.exit(EXIT_FAILED)
    arn = item["execution_arn"]
    _aws(
        "states:StopExecution",
        lambda: stack.client("stepfunctions").stop_execution(
            executionArn=arn, cause="Cancelled with bedrock-customize cancel"
        ),
    )
    click.echo(
        f"Stopping {run_id}; its Bedrock job is stopped and the run recorded CANCELLED in a moment."
    )


COMMANDS = (list_runs, show, approve, reject, cancel)
