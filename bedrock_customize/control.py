"""``cancel`` and ``extend``: stop a run, or keep its deployment longer.

Exit codes: 0 ok, 1 the run is not in a state that allows it (or changed meanwhile),
2 usage, 3 AWS access (see stack.describe).
"""

from __future__ import annotations

import sys
from datetime import timedelta

import click

from bedrock_customize import stack as stacks
from bedrock_customize.console import say
from bedrock_customize.run_items import item
from bedrock_customize.stack import EXIT_FAILED, aws, stack_options
from customization_core.contract import Status, parse_stamp, stamp


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
    changed = not aws(
        "dynamodb:UpdateItem",
        lambda: stack.registry().extend_deployment(
            run_id,
            old=str(deployment["expires_at"]),
            new=stamp(new),
            reason=f"Extended by {hours:g} h to {stamp(new)} with bedrock-customize extend.",
        ),
    )
    if changed:
        click.echo(
            f"Run {run_id} changed meanwhile; look again with `bedrock-customize status`.",
            err=True,
        )
        sys.exit(EXIT_FAILED)
    say(f"Extended {run_id}: its deployment is now deleted at {stamp(new)} (was {stamp(old)}).")


COMMANDS = (cancel, extend)
