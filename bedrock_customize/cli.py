"""``bedrock-customize``: prepare and validate datasets, submit and follow runs, compare models.

Exit codes: 0 ok, 1 the thing asked about failed (invalid data, a failed run),
2 usage error, 3 AWS access error (credentials, permissions, a missing stack).
"""

from __future__ import annotations

import json
import math
import sys
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import cast

import click

from bedrock_customize import deploy, models, runs, spend, submit
from bedrock_customize.catalog_cmd import catalog_command
from bedrock_customize.check_cmd import check_command
from bedrock_customize.options import (
    EPOCHS_OPTION,
    HYPERPARAMETER_OPTION,
    PRICE_OPTION,
    TYPES,
    with_epochs,
)
from customization_core import prepare as preparing
from customization_core.catalog import CustomizationType, load_catalog
from customization_core.estimate import estimate_of
from customization_core.regions import region_problem
from customization_core.validator import validate_dataset

EXIT_OK = 0
EXIT_FAILED = 1
REGION_OPTION = click.option(
    "--region",
    help="Refuse unless the model can be customized with --type in this Region.",
)


def _check_region(model_id: str, kind: str, region: str | None) -> None:
    """A usage error when ``model_id`` cannot run ``kind`` in ``region`` (the catalog's list).

    An unknown model or type is left to the validator, which reports it as a finding.
    """
    model = load_catalog().find(model_id) if region else None
    customization = CustomizationType.parse(kind)
    if region and model and customization in model.customizations:
        problem = region_problem(model, customization, region)
        if problem:
            raise click.UsageError(problem)


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
@REGION_OPTION
@click.option(
    "--media-root",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A local copy of the bucket: s3://bucket/KEY is read as DIR/KEY to check media objects.",
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
    region: str | None,
    media_root: Path | None,
    as_json: bool,
) -> None:
    """Check TRAIN (and --validation) for MODEL before any money is spent.

    Reports every problem with its line number, the token statistics and the
    cost estimate. Exits 0 when the data is valid, 1 when it is not.
    """
    from customization_core.media import LocalMediaResolver  # only this command reads media

    hyperparameters = with_epochs(hyperparameters, epochs)
    _check_region(model_id, kind, region)
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
            media=LocalMediaResolver(media_root) if media_root else None,
        )
    if as_json:
        sys.stdout.buffer.write(report.to_json() + b"\n")
    else:
        click.echo(report.render_text())
    sys.exit(EXIT_OK if report.valid else EXIT_FAILED)


def _data_format(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """--format names the training format; an input format there is the old spelling."""
    if value is None or value in preparing.DATA_FORMATS:
        return value
    if value in INPUT_FORMATS:
        raise click.BadParameter(
            f"--format now names the training format ({'|'.join(preparing.DATA_FORMATS)}); "
            f"for how SOURCE is written give --input-format {value}, or leave it out "
            "(it is read from the file extension)."
        )
    raise click.BadParameter(
        f"{value!r} is not a training format; give one of {', '.join(preparing.DATA_FORMATS)}."
    )


INPUT_FORMATS = ("csv", "json", "jsonl")


@main.command()
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--model",
    "model_id",
    help="Base model id (see `bedrock-customize catalog`): write the format it takes, and cut "
    "continued pre-training texts to its token limit.",
)
@click.option(
    "--type",
    "kind",
    type=click.Choice(TYPES),
    help="Customization type (default: the model's only one, or the one --format is for).",
)
@click.option(
    "--format",
    "data_format",
    callback=_data_format,
    metavar="|".join(preparing.DATA_FORMATS),
    help="The training format to write; needed without --model, checked against it with one.",
)
@click.option(
    "--input-format",
    type=click.Choice(INPUT_FORMATS),
    help="How SOURCE is written (default: from its extension, .csv .json .jsonl).",
)
@click.option(
    "--prompt-template",
    help="Fine-tuning: the prompt, with {field} placeholders, e.g. 'Summarize the following conversation.\\n\\n{dialogue}\\n\\nSummary:'.",
)
@click.option("--completion-field", help="Fine-tuning: the field that holds the completion.")
@click.option("--input-field", help="Continued pre-training: the field that holds the text.")
@click.option(
    "--messages-field",
    help="Chat formats: the field holding each row's multi-turn chat, a list of "
    '{"role": "user"|"assistant", "content": "..."} (a "system" one may come first); '
    "the default when no --prompt-template is given.",
)
@click.option(
    "--system",
    help="Chat formats: a system prompt for every record (a chat's own system message wins).",
)
@click.option(
    "--image-column",
    help="Conversation format: the field with each row's image key, relative to --media-uri-prefix.",
)
@click.option(
    "--video-column",
    help="Conversation format: the field with each row's video key, relative to --media-uri-prefix.",
)
@click.option(
    "--media-uri-prefix",
    metavar="S3_URI",
    help="The S3 folder media keys are under, e.g. s3://bucket/jobs/NAME/.",
)
@click.option(
    "--bucket-owner",
    metavar="ACCOUNT_ID",
    help="The media bucket's owner account, written into each media block.",
)
@REGION_OPTION
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
    model_id: str | None,
    kind: str | None,
    data_format: str | None,
    input_format: str | None,
    prompt_template: str | None,
    completion_field: str | None,
    input_field: str | None,
    messages_field: str | None,
    system: str | None,
    image_column: str | None,
    video_column: str | None,
    media_uri_prefix: str | None,
    bucket_owner: str | None,
    region: str | None,
    output: Path,
    split: float,
    max_records: int | None,
    seed: int,
) -> None:
    """Turn SOURCE (CSV, JSON or JSONL) into the training format --model (or --format) takes.

    Rows become prompt/completion, continued pre-training {"input"}, Bedrock
    conversation (Nova, Llama 3.2/3.3) or Claude messages records.
    """
    reading = _input_format(source, input_format)
    try:
        target = preparing.resolve_target(
            model_id=model_id,
            data_format=data_format,
            kind=CustomizationType.parse(kind) if kind else None,
            region=region,
        )
        recipe = _recipe(
            target,
            prompt_template=prompt_template,
            completion_field=completion_field,
            input_field=input_field,
            messages_field=messages_field,
            system=system,
            media=_media_column(image_column, video_column, media_uri_prefix, bucket_owner),
        )
        preparing.check_recipe(target, recipe, split=split)
    except preparing.OptionError as problem:
        raise click.UsageError(str(problem)) from None
    try:
        rows = preparing.read_rows(source.read_text(encoding="utf-8-sig"), reading)
        made = list(preparing.make_records(rows, target, recipe))
        records = [r for r in made if r is not None]
        training, validation = preparing.sample_and_split(
            records, split=split, max_records=max_records, seed=seed
        )
    except (preparing.PrepareError, UnicodeDecodeError) as problem:
        click.echo(f"Cannot prepare {source}: {problem}", err=True)
        sys.exit(EXIT_FAILED)
    validation_path = _write_prepared(output, training, validation, target)
    _warn_if_retired(target)
    skipped = sum(1 for r in made if r is None)
    if skipped:
        click.echo(f"Skipped {skipped:,} rows with an empty prompt, completion or text.")
    also = f" --validation {validation_path}" if validation_path else ""
    click.echo(
        f"Next: bedrock-customize validate {output}{also} --model {model_id or 'MODEL_ID'} "
        f"--type {target.kind.cli_name}"
    )


def _input_format(source: Path, given: str | None) -> preparing.InputFormat:
    if given is not None:
        return cast("preparing.InputFormat", given)  # click.Choice holds it to INPUT_FORMATS
    found = preparing.input_format_of(source.name)
    if found is None:
        raise click.UsageError(
            f"Cannot tell how {source.name} is written from its extension; give --input-format csv, json or jsonl."
        )
    return found


def _recipe(
    target: preparing.Target,
    *,
    prompt_template: str | None,
    completion_field: str | None,
    input_field: str | None,
    messages_field: str | None,
    system: str | None,
    media: preparing.MediaColumn | None,
) -> preparing.Recipe:
    # A chat model with no single-turn fields reads multi-turn chats from "messages".
    chat = target.data_format in preparing.CHAT_FORMATS
    if chat and messages_field is None and not (prompt_template or completion_field):
        messages_field = "messages"
    # Typed in a shell, "\n" arrives as backslash-n; the template means a newline.
    template = (
        prompt_template.replace("\\n", "\n").replace("\\t", "\t") if prompt_template else None
    )
    return preparing.Recipe(
        prompt_template=template,
        completion_field=completion_field,
        input_field=input_field,
        messages_field=messages_field,
        system=system,
        media=media,
    )


def _media_column(
    image_column: str | None,
    video_column: str | None,
    uri_prefix: str | None,
    bucket_owner: str | None,
) -> preparing.MediaColumn | None:
    if image_column and video_column:
        raise preparing.OptionError(
            "Give --image-column or --video-column, not both: a dataset holds one kind of media."
        )
    column = image_column or video_column
    if column is None:
        if uri_prefix or bucket_owner:
            raise preparing.OptionError(
                "--media-uri-prefix and --bucket-owner need --image-column or --video-column."
            )
        return None
    kind: preparing.MediaKind = "image" if image_column else "video"
    if not uri_prefix:
        raise preparing.OptionError(
            f"--{kind}-column needs --media-uri-prefix s3://BUCKET/jobs/NAME/, the S3 folder its keys are under."
        )
    return preparing.MediaColumn(kind, column, uri_prefix, bucket_owner)


def _warn_if_retired(target: preparing.Target) -> None:
    # The records are right for the model, but Bedrock no longer runs jobs on it.
    life = target.model.lifecycle if target.model else None
    if target.model and life and life.ended(date.today()):
        click.echo(
            f"Warning: {target.model.name} is past its end of life ({life.source}); Bedrock "
            "refuses new customization jobs on it. Pick a current model from `bedrock-customize catalog`.",
            err=True,
        )


def _write_prepared(
    output: Path,
    training: list[preparing.Record],
    validation: list[preparing.Record],
    target: preparing.Target,
) -> Path | None:
    """Write the files; the validation file's path, when one was written."""
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(preparing.to_jsonl(training), encoding="utf-8")
    click.echo(
        f"Wrote {len(training):,} training records to {output} ({target.data_format} format)."
    )
    if validation:
        validation_path = output.with_name(
            "validation.jsonl"
            if output.name == "train.jsonl"
            else f"{output.stem}.validation.jsonl"
        )
        validation_path.write_text(preparing.to_jsonl(validation), encoding="utf-8")
        click.echo(f"Wrote {len(validation):,} validation records to {validation_path}.")
        return validation_path
    return None


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
@REGION_OPTION
@click.option(
    "--deploy",
    "deploy_mode",
    type=click.Choice(["none", "provisioned", "on-demand"]),
    default="none",
    show_default=True,
    help="Price a deployment too, as the manifest's deploy.mode.",
)
@click.option(
    "--model-units",
    type=click.IntRange(1, 10),
    default=1,
    show_default=True,
    help="deploy.modelUnits.",
)
@click.option(
    "--ttl-hours",
    type=click.FloatRange(min=0, min_open=True),
    default=24.0,
    show_default=True,
    help="deploy.ttlHours: how long the deployment is priced for.",
)
@click.option(
    "--evaluate-samples",
    type=click.IntRange(1, 1000),
    help="Price an evaluation of this many samples (evaluate.samples).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the cost document (JSON).")
def cost(
    train: Path,
    model_id: str,
    kind: str,
    epochs: int | None,
    price_per_1k_tokens: float | None,
    region: str | None,
    deploy_mode: str,
    model_units: int,
    ttl_hours: float,
    evaluate_samples: int | None,
    as_json: bool,
) -> None:
    """Estimate what a run on TRAIN would cost (training, storage, deployment), submitting nothing."""
    _check_region(model_id, kind, region)
    hyperparameters = {"epochCount": str(epochs)} if epochs else {}
    with train.open("rb") as stream:
        report = validate_dataset(
            stream,
            model_id=model_id,
            customization_type=kind,
            hyperparameters=hyperparameters,
            price_per_1k_tokens_usd=price_per_1k_tokens,
        )
    training = report.document["cost"]
    request_errors = [e for e in report.document["errors"] if e["file"] == "request"]
    if training is None or request_errors:
        for finding in request_errors:
            click.echo(f"{finding['code']}: {finding['message']}", err=True)
        sys.exit(EXIT_FAILED)
    if evaluate_samples and deploy_mode == "none":
        raise click.UsageError("--evaluate-samples needs --deploy provisioned or on-demand.")
    records = int(report.document["records"] or 0)
    tokens = int(report.document["tokens"]["total"] or 0)
    estimate = estimate_of(
        load_catalog(),
        model_id=model_id,
        kind=CustomizationType.parse(kind).value,
        training_cost=training,
        deploy={"mode": deploy_mode, "modelUnits": model_units, "ttlHours": ttl_hours},
        evaluate={"samples": evaluate_samples} if evaluate_samples else None,
        request_tokens=math.ceil(tokens / records) if records and tokens else None,
    )
    if as_json:
        click.echo(
            json.dumps({**estimate.to_dict(), "training": training}, indent=2, sort_keys=True)
        )
        return
    for line in estimate.lines():
        click.echo(line)
    click.echo("Tokens are a deliberate over-estimate. Prices and their sources:")
    for part in estimate.parts:
        click.echo(f"  {part.name}: {part.source}")
    if estimate.total_usd is None:
        hint = (
            " Give the training price with --price-per-1k-tokens."
            if "training" in estimate.unknown
            else ""
        )
        click.echo(
            f"No price is known for: {', '.join(estimate.unknown)}.{hint} "
            "bedrock-customize catalog --check compares the catalog with the AWS Price List."
        )
    if not report.valid:
        click.echo(
            f"The data has {report.document['error_count']} error(s): run bedrock-customize validate before submitting."
        )


for _command in (*runs.COMMANDS, submit.submit, *models.COMMANDS, catalog_command, spend.spend):
    main.add_command(_command)
main.add_command(check_command)
main.add_command(deploy.deploy)
