"""Commands about runs of a deployed stack: list, show, status, approve, reject, cancel.

They read the run registry (DynamoDB) and the workflow (Step Functions) through the
stack's outputs. approve and reject upload the caller's answer to the datasets bucket,
tagged with the caller's identity, and wait for AnswerApproval's verdict
(customization_core/approval.py); nobody outside the workflow sees a task token. Exit
codes: 0 ok, 1 the run is not in a state that allows it (or the answer was refused),
2 usage, 3 AWS access (see stack.describe).
"""

from __future__ import annotations

import json
import re
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import click
from pydantic import ValidationError

from bedrock_customize import stack as stacks
from bedrock_customize.console import emit_json, say, status_text, table
from bedrock_customize.stack import aws, stack_options
from customization_core import approval, layout
from customization_core.deployments import parse_stamp, stamp
from customization_core.estimate import Estimate
from customization_core.estimate import money as estimate_money
from customization_core.faults import error_code
from customization_core.registry import BY_STATUS_INDEX
from customization_core.run import Status

EXIT_FAILED = 1
# Never printed: a task token (stacks of an earlier version stored it) and its ciphertext.
HIDDEN = frozenset({"approval_token", "approval_token_ciphertext"})
# How long approve and reject wait for AnswerApproval's verdict, and how often they look
# (seconds): EventBridge delivers the answer's Object Created event within seconds.
ANSWER_WAIT_SECONDS = {True: 30.0, False: 120.0}  # local emulator, AWS
ANSWER_POLL_SECONDS = {True: 0.2, False: 2.0}
# Statuses a run does not end in; `status` without a run id lists the runs in them.
IN_PROGRESS = tuple(s.value for s in Status if not s.terminal)


def plain(value: Any) -> Any:
    """DynamoDB values as JSON-ready ones (Decimal to int or float)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if k not in HIDDEN}
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


@click.command()
@stack_options
@click.argument("run_id")
@click.option("--reason", help="Why; it is recorded with the answer.")
def approve(where: stacks.Where, run_id: str, reason: str | None) -> None:
    """Let RUN_ID, waiting for approval, go on to train. Its submitter may not approve it.

    Uploads the answer tagged with your identity (sts:GetCallerIdentity) and waits for the
    pipeline's verdict. Exits 1 when the answer is refused (your own run, already answered,
    not waiting) or no verdict came in time.
    """
    _answer(where, run_id, approval.APPROVE, reason)


@click.command()
@stack_options
@click.argument("run_id")
@click.option("--reason", required=True, help="Why; it is recorded and notified.")
def reject(
    where: stacks.Where,
    run_id: str,
    reason: str,
) -> None:
    """Refuse RUN_ID, waiting for approval: it ends REJECTED with the reason.

    As approve: your answer is uploaded tagged with your identity, and judged by the pipeline.
    """
    _answer(where, run_id, approval.REJECT, reason)


def _answer(where: stacks.Where, run_id: str, decision: str, reason: str | None) -> None:
    """Upload approvals/RUN_ID/answer.json as the caller, then wait for AnswerApproval's verdict."""
    try:
        answer = approval.Answer.model_validate({"answer": decision, "reason": reason})
    except ValidationError as error:
        raise click.UsageError(
            "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in error.errors())
        ) from None
    stack = where.open()
    found = item(stack, run_id)
    if found["status"] != Status.AWAITING_APPROVAL.value:
        click.echo(f"Run {run_id} is not waiting for approval (it is {found['status']}).", err=True)
        sys.exit(EXIT_FAILED)
    if found.get("answered_by"):
        click.echo(
            f"Run {run_id} was already answered ({found.get('answer')}) by "
            f"{found['answered_by']} at {found.get('answered_at')}.",
            err=True,
        )
        sys.exit(EXIT_FAILED)
    me = aws("sts:GetCallerIdentity", lambda: stack.client("sts").get_caller_identity())
    user_id = str(me["UserId"])
    body = answer.model_copy(update={"arn": str(me["Arn"])}).model_dump_json(exclude_none=True)
    bucket, key = stack.output("DatasetsBucketName"), layout.answer_key(run_id)
    encryption = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": stack.output("DataKeyArn")}
    s3 = stack.client("s3")

    def upload() -> Any:
        try:
            return s3.put_object(
                Bucket=bucket,
                Key=key,
                Body=body.encode(),
                ContentType="application/json",
                Tagging=approval.tagging(approval.ANSWERED_BY, user_id),
                **encryption,
            )
        except Exception as error:
            if error_code(error) not in ("AccessDenied", "AccessDeniedException"):
                raise  # the usual sentence (stack.aws)
            click.echo(
                f"You may not answer runs of {stack.name}: the datasets bucket refused your "
                f"answer as {me['Arn']}. The stage's approvers setting names who may; an approver "
                f"also needs s3:PutObject and s3:PutObjectTagging on {layout.APPROVALS_PREFIX}* "
                "and kms:GenerateDataKey on the data key.",
                err=True,
            )
            sys.exit(stacks.EXIT_ACCESS)

    put = aws("s3:PutObject", upload)
    version = str(put.get("VersionId"))
    verdict = _verdict(stack, run_id, version, local=where.local)
    if verdict is None:
        click.echo(
            f"No verdict on your answer to {run_id} within {ANSWER_WAIT_SECONDS[where.local]:g} s; "
            f"it is at s3://{bucket}/{key} (version {version}). Look again with "
            f"`bedrock-customize show {run_id}{where.suffix}`.",
            err=True,
        )
        sys.exit(EXIT_FAILED)
    if "refused" in verdict:
        click.echo(f"Your answer to {run_id} was refused: {verdict['refused']}", err=True)
        sys.exit(EXIT_FAILED)
    taken = verdict["taken"]
    by = f"answered by {user_id} at {taken.get('answered_at')}"
    if decision == approval.APPROVE:
        goes_on = "to deploy" if taken.get("trains") is False else "to train"
        say(f"Approved {run_id}: it goes on {goes_on} ({by}).")
    else:
        say(f"Rejected {run_id}: {reason} ({by}).")


def _verdict(
    stack: stacks.Stack, run_id: str, version: str, *, local: bool
) -> dict[str, Any] | None:
    """What AnswerApproval decided about the answer ``version``; None if nothing in time."""
    deadline = time.monotonic() + ANSWER_WAIT_SECONDS[local]
    while True:
        found = find_item(stack, run_id) or {}
        refused = found.get("approval_refused") or {}
        if refused.get("answer_version") == version:
            return {"refused": refused.get("reason")}
        if found.get("answer_version") == version and found.get("answer_sent_at"):
            return {"taken": found}
        if time.monotonic() > deadline:
            return None
        time.sleep(ANSWER_POLL_SECONDS[local])


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
