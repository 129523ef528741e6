"""Options more than one command takes: customization type, hyperparameters, price."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from customization_core.catalog import CustomizationType

TYPES = [member.cli_name for member in CustomizationType]
PRICE_OPTION = click.option(
    "--price-per-1k-tokens",
    type=click.FloatRange(min=0),
    help="Override the catalog's training price (USD per 1,000 tokens).",
)


def key_values(
    _ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]
) -> dict[str, str]:
    """Repeated KEY=VALUE options as a dict."""
    parsed: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{item!r} is not KEY=VALUE (for example epochCount=2).")
        parsed[key.strip()] = value.strip()
    return parsed


HYPERPARAMETER_OPTION = click.option(
    "--hyperparameter",
    "hyperparameters",
    multiple=True,
    callback=key_values,
    metavar="KEY=VALUE",
    help="A hyperparameter as the API names it (repeatable), e.g. learningRate=0.00001.",
)
EPOCHS_OPTION = click.option(
    "--epochs", type=click.IntRange(min=1), help="Shorthand for --hyperparameter epochCount=N."
)


def with_epochs(hyperparameters: dict[str, str], epochs: int | None) -> dict[str, str]:
    """``hyperparameters`` with --epochs folded in; a usage error when the two disagree."""
    if epochs is None:
        return hyperparameters
    given = hyperparameters.get("epochCount")
    if given is not None and given != str(epochs):
        raise click.UsageError(
            f"--epochs {epochs} and --hyperparameter epochCount={given} disagree; give one."
        )
    return {**hyperparameters, "epochCount": str(epochs)}


# The deployment's options, the same for `submit` (after training) and `deploy` (later).
_DEPLOYMENT_OPTIONS = (
    click.option(
        "--model-units",
        type=click.IntRange(1, 10),
        help="Provisioned Throughput model units (default 1).",
    ),
    click.option(
        "--ttl-hours",
        type=click.FloatRange(min=0, min_open=True),
        help="Delete the deployment this many hours after it is ready (default 24).",
    ),
    click.option(
        "--idle-hours",
        type=click.FloatRange(min=0, min_open=True),
        help="Delete the deployment early after this many hours with no invocation "
        "(default: the stage's deploymentIdleHours).",
    ),
    click.option(
        "--keep-deployment",
        is_flag=True,
        help="No end time (ttlHours: null): the deployment stays until someone deletes it "
        "(needs approval).",
    ),
    click.option(
        "--evaluate-samples",
        type=click.IntRange(1, 1000),
        help="Compare custom and base model on this many held-out records.",
    ),
    click.option(
        "--min-improvement",
        type=click.FloatRange(0, 1),
        help="ROUGE-L points the custom model must gain over its base, or it is torn down.",
    ),
    click.option(
        "--budget-usd",
        type=click.FloatRange(min=0, min_open=True),
        help="Refuse the run when its cost estimate is above this many dollars.",
    ),
)


def deployment_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the deployment's options (model units, end time, idle time, evaluation, budget)."""
    for option in reversed(_DEPLOYMENT_OPTIONS):
        command = option(command)
    return command
