"""Options more than one command takes: customization type, hyperparameters, price."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click


class LazyChoice(click.Choice[str]):
    """A click.Choice whose choices are read when a command first needs them.

    The catalog (pydantic) is not imported to list the commands: `--help` stays fast.
    """

    def __init__(self, load: Callable[[], Iterable[str]]) -> None:
        self._load: Callable[[], Iterable[str]] = load
        self._loaded: tuple[str, ...] = ()
        super().__init__(())

    @property
    def choices(self) -> tuple[str, ...]:
        if not self._loaded:
            self._loaded = tuple(self._load())
        return self._loaded

    @choices.setter
    def choices(self, value: tuple[str, ...]) -> None:
        self._loaded = value


class LazyDefault:
    """An option's default read from the core when a command runs or shows its help.

    click calls a callable default to get the value, and prints one that is not a
    function with str() (`[default: 30]`), so the group starts without importing it.
    """

    def __init__(self, load: Callable[[], Any]) -> None:
        self._load = load

    def __call__(self) -> Any:
        return self._load()

    def __str__(self) -> str:
        return str(self._load())


def _type_names() -> list[str]:
    from customization_core.catalog import CustomizationType

    return [member.cli_name for member in CustomizationType]


# The customization types as the command line names them (fine-tuning, ...).
TYPE_CHOICE = LazyChoice(_type_names)
# --region of validate, cost and prepare.
REGION_OPTION = click.option(
    "--region",
    help="Refuse unless the model can be customized with --type in this Region.",
)
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
MEDIA_ROOT_OPTION = click.option(
    "--media-root",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A local copy of the bucket: s3://bucket/KEY is read as DIR/KEY to check media objects.",
)


def validation_option(help_text: str) -> Callable[[Any], Any]:
    """``--validation FILE``: an existing validation JSONL."""
    return click.option(
        "--validation", type=click.Path(exists=True, dir_okay=False, path_type=Path), help=help_text
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


def after_training(
    mode: str,
    model_units: int | None,
    ttl_hours: float | None,
    keep: bool,
    samples: int | None,
    min_improvement: float | None,
) -> dict[str, Any]:
    """The manifest's deploy and evaluate blocks from the options; a usage error for a mix-up."""
    deploying = {
        "model_units": model_units,
        "ttl_hours": ttl_hours,
        "keep_deployment": keep or None,
    }
    given = [f"--{k.replace('_', '-')}" for k, v in deploying.items() if v is not None]
    if mode == "none":
        asked = given + (["--evaluate-samples"] if samples else [])
        asked += ["--min-improvement"] if min_improvement is not None else []
        if asked:
            raise click.UsageError(f"{', '.join(asked)} need(s) --deploy provisioned or on-demand.")
        return {}
    if keep and ttl_hours is not None:
        raise click.UsageError("Give --ttl-hours or --keep-deployment, not both.")
    deploy: dict[str, Any] = {"mode": mode}
    if model_units is not None:
        deploy["modelUnits"] = model_units
    if keep:
        deploy["ttlHours"] = None
    elif ttl_hours is not None:
        deploy["ttlHours"] = ttl_hours
    blocks: dict[str, Any] = {"deploy": deploy}
    if samples is not None or min_improvement is not None:
        evaluate: dict[str, Any] = {}
        if samples is not None:
            evaluate["samples"] = samples
        if min_improvement is not None:
            evaluate["minImprovement"] = min_improvement
        blocks["evaluate"] = evaluate
    return blocks
