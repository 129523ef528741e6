"""What ``prepare`` does with its options: the recipe, the media column, the files written.

bedrock_customize/prepare_cmd.py declares the command and imports this module when it
runs (customization_core/prepare.py is heavy: the catalog).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import cast

import click

from customization_core.media_block import MediaKind
from customization_core.prepare import Record, to_jsonl
from customization_core.prepare_rows import InputFormat, input_format_of
from customization_core.prepare_target import (
    CHAT_FORMATS,
    PROMPT_FORMATS,
    MediaColumn,
    OptionError,
    Recipe,
    Target,
)
from customization_core.prepare_types import DEFAULT_PROMPT_TEMPLATE


def input_format(source: Path, given: str | None) -> InputFormat:
    if given is not None:
        return cast("InputFormat", given)  # click.Choice holds it to INPUT_FORMATS
    found = input_format_of(source.name)
    if found is None:
        raise click.UsageError(
            f"Cannot tell how {source.name} is written from its extension; give --input-format csv, json or jsonl."
        )
    return found


def recipe(
    target: Target,
    *,
    prompt_template: str | None,
    completion_field: str | None,
    input_field: str | None,
    messages_field: str | None,
    system: str | None,
    media: MediaColumn | None,
    reference_field: str | None = None,
) -> Recipe:
    # A chat model with no single-turn fields reads multi-turn chats from "messages".
    chat = target.data_format in CHAT_FORMATS
    if chat and messages_field is None and not (prompt_template or completion_field):
        messages_field = "messages"
    # Distillation and RFT rows are prompts: by default, a column named "prompt".
    if target.data_format in PROMPT_FORMATS and prompt_template is None and not messages_field:
        prompt_template = DEFAULT_PROMPT_TEMPLATE
    # Typed in a shell, "\n" arrives as backslash-n; the template means a newline.
    template = (
        prompt_template.replace("\\n", "\n").replace("\\t", "\t") if prompt_template else None
    )
    return Recipe(
        prompt_template=template,
        completion_field=completion_field,
        input_field=input_field,
        messages_field=messages_field,
        system=system,
        media=media,
        reference_field=reference_field,
    )


def media_column(
    image_column: str | None,
    video_column: str | None,
    uri_prefix: str | None,
    bucket_owner: str | None,
) -> MediaColumn | None:
    if image_column and video_column:
        raise OptionError(
            "Give --image-column or --video-column, not both: a dataset holds one kind of media."
        )
    column = image_column or video_column
    if column is None:
        if uri_prefix or bucket_owner:
            raise OptionError(
                "--media-uri-prefix and --bucket-owner need --image-column or --video-column."
            )
        return None
    kind: MediaKind = "image" if image_column else "video"
    if not uri_prefix:
        raise OptionError(
            f"--{kind}-column needs --media-uri-prefix s3://BUCKET/jobs/NAME/, the S3 folder its keys are under."
        )
    return MediaColumn(kind, column, uri_prefix, bucket_owner)


def warn_if_retired(target: Target) -> None:
    # The records are right for the model, but Bedrock no longer runs jobs on it.
    life = target.model.lifecycle if target.model else None
    if target.model and life and life.ended(date.today()):
        click.echo(
            f"Warning: {target.model.name} is past its end of life ({life.source}); Bedrock "
            "refuses new customization jobs on it. Pick a current model from `bedrock-customize catalog`.",
            err=True,
        )


def write_prepared(
    output: Path,
    training: list[Record],
    validation: list[Record],
    target: Target,
) -> Path | None:
    """Write the files; the validation file's path, when one was written."""
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(to_jsonl(training), encoding="utf-8")
    click.echo(
        f"Wrote {len(training):,} training records to {output} ({target.data_format} format)."
    )
    if validation:
        validation_path = output.with_name(
            "validation.jsonl"
            if output.name == "train.jsonl"
            else f"{output.stem}.validation.jsonl"
        )
        validation_path.write_text(to_jsonl(validation), encoding="utf-8")
        click.echo(f"Wrote {len(validation):,} validation records to {validation_path}.")
        return validation_path
    return None
