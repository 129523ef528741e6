"""``prepare``: rows of CSV, JSON or JSONL written as the training records a model takes.

The conversion is customization_core/prepare.py's; this module reads the options
and says what to run next (prepare_files.py turns them into a recipe and writes). Exit codes: 0 ok, 1 SOURCE cannot be
prepared, 2 usage.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from bedrock_customize.options import REGION_OPTION, TYPE_CHOICE
from bedrock_customize.stack import EXIT_FAILED


class DataFormatType(click.ParamType[str]):
    """--format names the training format; an input format there is the old spelling.

    The formats are read from customization_core/prepare_target.py when --format is given or
    shown (`prepare --help`), not when the CLI starts.
    """

    name = "format"

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str:
        from customization_core.prepare_target import DATA_FORMATS

        return "|".join(DATA_FORMATS)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from customization_core.prepare_target import DATA_FORMATS

        if value in DATA_FORMATS:
            return str(value)
        if value in INPUT_FORMATS:
            self.fail(
                f"--format now names the training format ({'|'.join(DATA_FORMATS)}); "
                f"for how SOURCE is written give --input-format {value}, or leave it out "
                "(it is read from the file extension).",
                param,
                ctx,
            )
        self.fail(
            f"{value!r} is not a training format; give one of {', '.join(DATA_FORMATS)}.",
            param,
            ctx,
        )


INPUT_FORMATS = ("csv", "json", "jsonl")


@click.command()
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
    type=TYPE_CHOICE,
    help="Customization type (default: the model's only one, or the one --format is for).",
)
@click.option(
    "--format",
    "data_format",
    type=DataFormatType(),
    help="The training format to write; needed without --model, checked against it with one.",
)
@click.option(
    "--input-format",
    type=click.Choice(INPUT_FORMATS),
    help="How SOURCE is written (default: from its extension, .csv .json .jsonl).",
)
@click.option(
    "--prompt-template",
    help="Fine-tuning, distillation and RFT: the prompt, with {field} placeholders, e.g. 'Summarize the following conversation.\\n\\n{dialogue}\\n\\nSummary:' (distillation and RFT default: '{prompt}').",
)
@click.option(
    "--completion-field",
    help="Fine-tuning: the field that holds the completion. Distillation: an optional "
    "response, written as the prompt's labelled answer when not empty.",
)
@click.option(
    "--reference-field",
    "--reference-column",
    "reference_field",
    help="Reinforcement fine-tuning: the field with each row's expected answer, written as "
    "reference_answer (default: reference_answer, else answer).",
)
@click.option("--input-field", help="Continued pre-training: the field that holds the text.")
@click.option(
    "--messages-field",
    help="Chat formats: the field holding each row's multi-turn chat, a list of "
    '{"role": "user"|"assistant", "content": "..."} (a "system" one may come first); '
    "the default when no --prompt-template is given.",
)
@click.option(
    "--system",
    help="Chat, distillation and RFT formats: a system prompt for every record (a chat's own "
    "system message wins).",
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
    reference_field: str | None,
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
    conversation (Nova, Llama 3.2/3.3), Claude messages, distillation prompt or RFT records.
    """
    from bedrock_customize import prepare_files as files
    from customization_core import prepare as preparing
    from customization_core import prepare_rows, prepare_target
    from customization_core.catalog import CustomizationType

    reading = files.input_format(source, input_format)
    try:
        target = prepare_target.resolve_target(
            model_id=model_id,
            data_format=data_format,
            kind=CustomizationType.parse(kind) if kind else None,
            region=region,
        )
        recipe = files.recipe(
            target,
            prompt_template=prompt_template,
            completion_field=completion_field,
            input_field=input_field,
            messages_field=messages_field,
            system=system,
            media=files.media_column(image_column, video_column, media_uri_prefix, bucket_owner),
            reference_field=reference_field,
        )
        prepare_target.check_recipe(target, recipe, split=split)
    except prepare_target.OptionError as problem:
        raise click.UsageError(str(problem)) from None
    try:
        rows = prepare_rows.read_rows(source.read_text(encoding="utf-8-sig"), reading)
        made = list(preparing.make_records(rows, target, recipe))
        records = [r for r in made if r is not None]
        training, validation = preparing.sample_and_split(
            records, split=split, max_records=max_records, seed=seed
        )
    except (prepare_rows.PrepareError, UnicodeDecodeError) as problem:
        click.echo(f"Cannot prepare {source}: {problem}", err=True)
        sys.exit(EXIT_FAILED)
    validation_path = files.write_prepared(output, training, validation, target)
    files.warn_if_retired(target)
    skipped = sum(1 for r in made if r is None)
    if skipped:
        click.echo(f"Skipped {skipped:,} rows with an empty prompt, completion or text.")
    also = f" --validation {validation_path}" if validation_path else ""
    # The type's own options, without which validate refuses (bedrock_customize/options.py).
    also += {
        "DISTILLATION": " --teacher TEACHER_MODEL_ID",
        "REINFORCEMENT_FINE_TUNING": " --grader numeric",
    }.get(target.kind.value, "")
    click.echo(
        f"Next: bedrock-customize validate {output}{also} --model {model_id or 'MODEL_ID'} "
        f"--type {target.kind.cli_name}"
    )
