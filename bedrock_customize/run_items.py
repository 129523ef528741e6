"""The stack's registry as the commands read it: one run (or exit 1), runs by status, all runs.

Every read goes through the core's Registry (Stack.registry); an AWS refusal is one
sentence and exit code 3 (stack.aws). Values come back as DynamoDB has them (Decimals):
``plain`` makes them JSON-ready, without what the CLI never prints.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from bedrock_customize import stack as stacks
from bedrock_customize.stack import EXIT_FAILED, aws
from customization_core.contract import Status


def plain(value: Any) -> Any:
    """DynamoDB values as JSON-ready ones (Decimal to int or float), never a task token."""
    from customization_core.registry import SECRET_ATTRIBUTES
    from customization_core.registry import plain as json_ready

    return json_ready(value, hide=SECRET_ATTRIBUTES)


def find_item(stack: stacks.Stack, run_id: str) -> dict[str, Any] | None:
    """The registry item of ``run_id``, or None."""
    found: dict[str, Any] | None = aws("dynamodb:GetItem", lambda: stack.registry().get(run_id))
    return found


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
    found: list[dict[str, Any]] = aws(
        "dynamodb:Query",
        lambda: stack.registry().by_status(Status(status), newest_first=True, limit=limit),
    )
    return found


def every_run(stack: stacks.Stack) -> list[dict[str, Any]]:
    """Every registry item, in no order (a Scan)."""
    found: list[dict[str, Any]] = aws("dynamodb:Scan", lambda: stack.registry().scan())
    return found
