"""``approve`` and ``reject``: answer a run waiting for approval, as the caller.

They upload the caller's answer to the datasets bucket, tagged with the caller's
identity, and wait for AnswerApproval's verdict (customization_core/approval.py);
nobody outside the workflow sees a task token. Exit codes: 0 ok, 1 the run is not
waiting or the answer was refused (or no verdict came in time), 2 usage, 3 AWS access.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import click

from bedrock_customize import stack as stacks
from bedrock_customize.console import say
from bedrock_customize.run_items import find_item, item
from bedrock_customize.stack import EXIT_FAILED, aws, stack_options
from bedrock_customize.uploads import upload_encryption
from customization_core import layout
from customization_core.contract import Status

# How long approve and reject wait for AnswerApproval's verdict, and how often they look
# (seconds): EventBridge delivers the answer's Object Created event within seconds.
ANSWER_WAIT_SECONDS = {True: 30.0, False: 120.0}  # local emulator, AWS
ANSWER_POLL_SECONDS = {True: 0.2, False: 2.0}


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
    from customization_core.approval import APPROVE

    _answer(where, run_id, APPROVE, reason)


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
    from customization_core.approval import REJECT

    _answer(where, run_id, REJECT, reason)


def _answer(where: stacks.Where, run_id: str, decision: str, reason: str | None) -> None:
    """Upload approvals/RUN_ID/answer.json as the caller, then wait for AnswerApproval's verdict."""
    from pydantic import ValidationError

    from customization_core import approval
    from customization_core.faults import error_code

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
    encryption = upload_encryption(stack)
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


COMMANDS = (approve, reject)
