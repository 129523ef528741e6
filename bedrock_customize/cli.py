"""``bedrock-customize``: prepare and validate datasets, submit and follow runs, compare models.

Exit codes: 0 ok, 1 the thing asked about failed (invalid data, a failed run),
2 usage error, 3 AWS access error (credentials, permissions, a missing stack).
"""

from __future__ import annotations

import json
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import click

from bedrock_customize import models, runs, submit
from bedrock_customize.console import emit_json, table
from bedrock_customize.options import (
    EPOCHS_OPTION,
    HYPERPARAMETER_OPTION,
    PRICE_OPTION,
    TYPES,
    with_epochs,
)
from customization_core import prepare as preparing
from customization_core.catalog import CustomizationType, load_catalog
from customization_core.tokens import CHARS_PER_TOKEN
from customization_core.validator import validate_dataset

EXIT_OK = 0
EXIT_FAILED = 1


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
def main() -> None:
    """Customize Amazon Bedrock foundation models with private data."""


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
@HYPERPARAMETER_OPTION
@EPOCHS_OPTION
@PRICE_OPTION
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
    hyperparameters = with_epochs(hyperparameters, epochs)
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


@main.command()
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "input_format",
    required=True,
    type=click.Choice(["csv", "json", "jsonl"]),
    help="How SOURCE is written.",
)
@click.option("--type", "kind", required=True, type=click.Choice(TYPES), help="Customization type.")
@click.option(
    "--prompt-template",
    help="Fine-tuning: the prompt, with {field} placeholders, e.g. 'Summarize the following conversation.\\n\\n{dialogue}\\n\\nSummary:'.",
)
@click.option("--completion-field", help="Fine-tuning: the field that holds the completion.")
@click.option("--input-field", help="Continued pre-training: the field that holds the text.")
@click.option(
    "--model",
    "model_id",
    help="Continued pre-training: cut long texts to this model's token limit.",
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The training JSONL to write.",
)
@click.option(
    "--split",
    type=click.FloatRange(0, 1, max_open=True),
    default=0.0,
    show_default=True,
    help="Share of records written to a validation file next to OUTPUT.",
)
@click.option(
    "--max-records",
    type=click.IntRange(min=1),
    help="Keep at most this many records (a seeded sample).",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Seed of the sample and split: the same seed, the same files.",
)
def prepare(
    source: Path,
    input_format: str,
    kind: str,
    prompt_template: str | None,
    completion_field: str | None,
    input_field: str | None,
    model_id: str | None,
    output: Path,
    split: float,
    max_records: int | None,
    seed: int,
) -> None:
    """Turn SOURCE (CSV, JSON or JSONL) into Bedrock's training format."""
    customization = CustomizationType.parse(kind)
    if customization is CustomizationType.FINE_TUNING and not (
        prompt_template and completion_field
    ):
        raise click.UsageError("Fine-tuning needs --prompt-template and --completion-field.")
    if customization is CustomizationType.CONTINUED_PRE_TRAINING and not input_field:
        raise click.UsageError("Continued pre-training needs --input-field.")
    max_tokens, chars_per_token = None, 3
    if model_id:
        model = load_catalog().find(model_id)
        custom = model.customizations.get(customization) if model else None
        if model is None or custom is None:
            raise click.UsageError(f"{model_id!r} is not a catalog model that supports {kind}.")
        max_tokens, chars_per_token = custom.token_limit(None), CHARS_PER_TOKEN[model.family]
    try:
        rows = preparing.read_rows(source.read_text(encoding="utf-8-sig"), input_format)  # type: ignore[arg-type]
        if customization is CustomizationType.FINE_TUNING:
            # Typed in a shell, "\n" arrives as backslash-n; the template means a newline.
            template = (prompt_template or "").replace("\\n", "\n").replace("\\t", "\t")
            made = list(
                preparing.fine_tuning_records(
                    rows,
                    prompt_template=template,
                    completion_field=completion_field or "",
                )
            )
        else:
            made = list(
                preparing.pretraining_records(
                    rows,
                    input_field=input_field or "",
                    max_tokens=max_tokens,
                    chars_per_token=chars_per_token,
                )
            )
        records = [r for r in made if r is not None]
        training, validation = preparing.sample_and_split(
            records, split=split, max_records=max_records, seed=seed
        )
    except (preparing.PrepareError, UnicodeDecodeError) as problem:
        click.echo(f"Cannot prepare {source}: {problem}", err=True)
        sys.exit(EXIT_FAILED)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(preparing.to_jsonl(training), encoding="utf-8")
    click.echo(f"Wrote {len(training):,} training records to {output}.")
    if validation:
        validation_path = output.with_name(
            "validation.jsonl"
            if output.name == "train.jsonl"
            else f"{output.stem}.validation.jsonl"
        )
        validation_path.write_text(preparing.to_jsonl(validation), encoding="utf-8")
        click.echo(f"Wrote {len(validation):,} validation records to {validation_path}.")
    skipped = sum(1 for r in made if r is None)
    if skipped:
        click.echo(f"Skipped {skipped:,} rows with an empty completion or text.")
    click.echo(f"Next: bedrock-customize validate {output} --model MODEL_ID --type {kind}")


@main.command()
@click.option(
    "--train",
    "train",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The training JSONL.",
)
@click.option("--model", "model_id", required=True, help="Base model id.")
@click.option(
    "--type",
    "kind",
    default="fine-tuning",
    show_default=True,
    type=click.Choice(TYPES),
    help="Customization type.",
)
@click.option("--epochs", type=click.IntRange(min=1), help="Epochs (default: the model's).")
@PRICE_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the cost document (JSON).")
def cost(
    train: Path,
    model_id: str,
    kind: str,
    epochs: int | None,
    price_per_1k_tokens: float | None,
    as_json: bool,
) -> None:
    """Estimate what training on TRAIN would cost, without submitting anything."""
    hyperparameters = {"epochCount": str(epochs)} if epochs else {}
    with train.open("rb") as stream:
        report = validate_dataset(
            stream,
            model_id=model_id,
            customization_type=kind,
            hyperparameters=hyperparameters,
            price_per_1k_tokens_usd=price_per_1k_tokens,
        )
    estimate = report.document["cost"]
    request_errors = [e for e in report.document["errors"] if e["file"] == "request"]
    if estimate is None or request_errors:
        for finding in request_errors:
            click.echo(f"{finding['code']}: {finding['message']}", err=True)
        sys.exit(EXIT_FAILED)
    if as_json:
        click.echo(json.dumps(estimate, indent=2, sort_keys=True))
        return
    money = (
        f"about ${estimate['estimated_usd']:,.2f}"
        if estimate["estimated_usd"] is not None
        else "unknown (no price for this model; pass --price-per-1k-tokens)"
    )
    click.echo(
        f"{estimate['training_tokens']:,} tokens x {estimate['epochs']} epoch(s) = {estimate['billed_tokens']:,} billed tokens: {money}"
    )
    click.echo(f"Tokens are a deliberate over-estimate; price: {estimate['price_source']}.")
    if not report.valid:
        click.echo(
            f"The data has {report.document['error_count']} error(s): run bedrock-customize validate before submitting."
        )


@main.command(name="catalog")
@click.option("--json", "as_json", is_flag=True, help="Print the catalog's models as JSON.")
def catalog_command(as_json: bool) -> None:
    """The base models this tool can customize: ids, types, formats, prices and retirement."""
    rows: list[dict[str, Any]] = []
    cells: list[tuple[str, ...]] = []
    for model in load_catalog().models:
        prices = {
            kind.cli_name: c.training_price_per_1k_tokens_usd
            for kind, c in model.customizations.items()
        }
        lifecycle = (
            f"{model.lifecycle.status} from {model.lifecycle.date}" if model.lifecycle else None
        )
        for model_id in model.model_ids:
            rows.append(
                {
                    "model_id": model_id,
                    "name": model.name,
                    "family": model.family,
                    "types": list(prices),
                    "price_per_1k_tokens_usd": prices,
                    "lifecycle": lifecycle,
                }
            )
            cells.append(
                (
                    model_id,
                    model.name,
                    ", ".join(prices),
                    ", ".join("unknown" if p is None else f"{p:g}" for p in prices.values()),
                    lifecycle or "-",
                )
            )
    if as_json:
        emit_json(rows)
        return
    table(("MODEL ID", "NAME", "TYPES", "TRAINING USD / 1K TOKENS", "LIFECYCLE"), cells)


for _command in (*runs.COMMANDS, submit.submit, *models.COMMANDS):
    main.add_command(_command)
