"""``bedrock-customize``: validate datasets (and, in later versions, submit and follow runs).

Exit codes: 0 ok, 1 the thing asked about failed (invalid data), 2 usage error.
"""

from __future__ import annotations

import sys
from contextlib import ExitStack
from pathlib import Path

import click

from customization_core.catalog import CustomizationType
from customization_core.validator import validate_dataset

EXIT_OK = 0
EXIT_FAILED = 1

TYPES = [member.cli_name for member in CustomizationType]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
def main() -> None:
    """Customize Amazon Bedrock foundation models with private data."""


def _hyperparameter(
    _ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]
) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{item!r} is not KEY=VALUE (for example epochCount=2).")
        parsed[key.strip()] = value.strip()
    return parsed


@main.command()
@click.argument("train", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--model",
    "model_id",
    required=True,
    help="Base model id, e.g. amazon.titan-text-express-v1:0:8k.",
)
@click.option("--type", "kind", required=True, type=click.Choice(TYPES), help="Customization type.")
@click.option(
    "--validation",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Validation dataset (JSONL), checked against its own limits.",
)
@click.option(
    "--hyperparameter",
    "hyperparameters",
    multiple=True,
    callback=_hyperparameter,
    metavar="KEY=VALUE",
    help="A hyperparameter as the API names it (repeatable), e.g. learningRate=0.00001.",
)
@click.option(
    "--epochs", type=click.IntRange(min=1), help="Shorthand for --hyperparameter epochCount=N."
)
@click.option(
    "--price-per-1k-tokens",
    type=click.FloatRange(min=0),
    help="Override the catalog's training price (USD).",
)
@click.option("--json", "as_json", is_flag=True, help="Print exactly the report document (JSON).")
def validate(
    train: Path,
    model_id: str,
    kind: str,
    validation: Path | None,
    hyperparameters: dict[str, str],
    epochs: int | None,
    price_per_1k_tokens: float | None,
    as_json: bool,
) -> None:
    """Check TRAIN (and --validation) for MODEL before any money is spent.

    Reports every problem with its line number, the token statistics and the
    cost estimate. Exits 0 when the data is valid, 1 when it is not.
    """
    if epochs is not None:
        given = hyperparameters.get("epochCount")
        if given is not None and given != str(epochs):
            raise click.UsageError(
                f"--epochs {epochs} and --hyperparameter epochCount={given} disagree; give one."
            )
        hyperparameters["epochCount"] = str(epochs)
    with ExitStack() as files:
        train_stream = files.enter_context(train.open("rb"))
        validation_stream = files.enter_context(validation.open("rb")) if validation else None
        report = validate_dataset(
            train_stream,
            model_id=model_id,
            customization_type=kind,
            hyperparameters=hyperparameters,
            validation=validation_stream,
            price_per_1k_tokens_usd=price_per_1k_tokens,
        )
    if as_json:
        sys.stdout.buffer.write(report.to_json() + b"\n")
    else:
        click.echo(report.render_text())
    sys.exit(EXIT_OK if report.valid else EXIT_FAILED)
