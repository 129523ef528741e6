"""Which training format to write, for which model, and which options fit it.

The format comes from the catalog when a model is named (``resolve_target``), or is
given. Options that cannot work together or for the model are refused here, before any
row is read (``check_recipe``), as an ``OptionError``.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import Final, get_args

from customization_core.bounded import clip, quote
from customization_core.catalog import (
    Catalog,
    Customization,
    CustomizationType,
    DataFormat,
    Model,
    load_catalog,
)
from customization_core.conversation_format import NOVA_RESERVED_WORDS
from customization_core.media_block import MediaKind
from customization_core.prepare_rows import PrepareError
from customization_core.regions import region_problem
from customization_core.tokens import CHARS_PER_TOKEN

DATA_FORMATS: Final[tuple[DataFormat, ...]] = get_args(DataFormat)
CHAT_FORMATS: Final[tuple[DataFormat, ...]] = ("conversation", "claude-messages")
# Prompts with no answer to learn (the teacher or the model writes it), from a template and an
# optional system prompt: customization_core/prepare_types.py writes them.
PROMPT_FORMATS: Final[tuple[DataFormat, ...]] = ("distillation-prompts", "rft-messages")
_ACCOUNT: Final = re.compile(r"^[0-9]{12}$")
_ASKED_FOR: Final = (CustomizationType.DISTILLATION, CustomizationType.REINFORCEMENT_FINE_TUNING)


class OptionError(PrepareError):
    """Options that cannot work together or for the model (a usage error, before any row is read)."""


@dataclass(frozen=True)
class Target:
    """The format to write, and the model it is for (None when only the format was given)."""

    data_format: DataFormat
    kind: CustomizationType
    model: Model | None = None
    customization: Customization | None = None

    @property
    def max_tokens(self) -> int | None:
        return self.customization.token_limit(None) if self.customization else None

    @property
    def chars_per_token(self) -> int:
        return CHARS_PER_TOKEN[self.model.family] if self.model else 3

    @property
    def reserved_words(self) -> tuple[str, ...]:
        # Nova fails a training job whose text holds one of its template words.
        nova = self.model is not None and self.model.family == "nova"
        text_turns = self.data_format in ("conversation", "distillation-prompts")
        return NOVA_RESERVED_WORDS if nova and text_turns else ()

    @property
    def label(self) -> str:
        return self.model.name if self.model else f"the {self.data_format} format"


@dataclass(frozen=True)
class MediaColumn:
    """A column of image or video keys, relative to the job folder at ``uri_prefix``."""

    kind: MediaKind
    column: str
    uri_prefix: str
    bucket_owner: str | None = None


@dataclass(frozen=True)
class Recipe:
    """How rows become records: which fields hold what."""

    prompt_template: str | None = None
    completion_field: str | None = None
    input_field: str | None = None
    messages_field: str | None = None
    system: str | None = None
    media: MediaColumn | None = None
    reference_field: str | None = None  # RFT: the field of each row's expected answer


def resolve_target(
    *,
    model_id: str | None,
    data_format: str | None,
    kind: CustomizationType | None,
    region: str | None = None,
    catalog: Catalog | None = None,
) -> Target:
    """The format to write: the named model's (checked against ``data_format``), or ``data_format``."""
    if data_format is not None and data_format not in DATA_FORMATS:
        raise OptionError(
            f"--format {quote(data_format)} is not a training format; give one of {', '.join(DATA_FORMATS)}."
        )
    given = data_format  # a DataFormat now: checked just above
    if model_id is None:
        if region is not None:
            raise OptionError("--region needs --model: Regions are a property of the model.")
        return _format_only(given, kind)
    model = _find_model(catalog or load_catalog(), model_id)
    kind = kind or _only_kind(model, given)
    custom = model.customizations.get(kind)
    if custom is None:
        supported = ", ".join(k.cli_name for k in model.customizations)
        raise OptionError(
            f"{model.name} does not support {kind.cli_name}; it supports: {supported}. Change --type."
        )
    if given is not None and given not in custom.formats:
        raise OptionError(
            f"{model.name} takes {' or '.join(custom.formats)} records for {kind.cli_name}, not "
            f"{given}; leave out --format to write its format."
        )
    if region is not None and (problem := region_problem(model, kind, region)):
        raise OptionError(problem)
    return Target(given or custom.data_format, kind, model, custom)


def _format_only(data_format: DataFormat | None, kind: CustomizationType | None) -> Target:
    if data_format is None:
        raise OptionError(
            f"Give --model MODEL_ID (its format is written; see `bedrock-customize catalog`) or "
            f"--format {'|'.join(DATA_FORMATS)}."
        )
    implied = {
        "continued-pretraining": CustomizationType.CONTINUED_PRE_TRAINING,
        "distillation-prompts": CustomizationType.DISTILLATION,
        "rft-messages": CustomizationType.REINFORCEMENT_FINE_TUNING,
    }.get(data_format, CustomizationType.FINE_TUNING)
    if kind is not None and kind is not implied:
        raise OptionError(
            f"--format {data_format} is for {implied.cli_name}, not {kind.cli_name}; change --type or --format."
        )
    return Target(data_format, implied)


def _find_model(catalog: Catalog, model_id: str) -> Model:
    model = catalog.find(model_id)
    if model is not None:
        return model
    unsupported = catalog.find_unsupported(model_id)
    if unsupported is not None:
        raise OptionError(
            f"This tool does not customize {unsupported.name} ({unsupported.reason}); pick a model "
            "from `bedrock-customize catalog`."
        )
    close = catalog.suggest(model_id)
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    raise OptionError(
        f"{quote(model_id)} is not in the model catalog; {hint}`bedrock-customize catalog` lists the model ids."
    )


def _only_kind(model: Model, data_format: DataFormat | None) -> CustomizationType:
    """The type to use when --type is not given: the model's only one, or the format's."""
    # A format no type of the model takes falls through: the format check then says so.
    # Distillation and RFT are asked for (--type or --format): a model that also takes
    # fine-tuning is prepared for it, as before those types were in the catalog.
    kinds = (
        [k for k, c in model.customizations.items() if data_format in c.formats]
        or [k for k in model.customizations if k not in _ASKED_FOR]
        or list(model.customizations)
    )
    if len(kinds) == 1:
        return kinds[0]
    raise OptionError(
        f"{model.name} supports {' and '.join(k.cli_name for k in model.customizations)}; "
        "give --type to choose."
    )


def check_template(template: str) -> None:
    """Refuse a prompt template ``str.format`` cannot fill from named fields."""
    problem = (
        f"--prompt-template {quote(template)} cannot be filled: write each field as {{name}} "
        "(a column name), and a literal brace as {{ or }}"
    )
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
        positional = any(not name.isidentifier() for name in names)
        if not positional:
            template.format(**dict.fromkeys(names, "x"))
    except (ValueError, IndexError, KeyError, AttributeError) as error:
        raise OptionError(f"{problem} ({clip(str(error))}).") from None
    if positional:
        raise OptionError(f"{problem} (names are letters, digits and _, not positions).")


def check_recipe(target: Target, recipe: Recipe, *, split: float = 0.0) -> None:
    """Refuse options the target format cannot use, before any row is read."""
    if recipe.prompt_template is not None:
        check_template(recipe.prompt_template)
    chat = target.data_format in CHAT_FORMATS
    prompts = target.data_format in PROMPT_FORMATS
    if recipe.system is not None and not (chat or prompts):
        raise OptionError(
            f"--system works with the chat, distillation and RFT formats; {target.label} "
            f"takes {target.data_format} records, which have no system prompt. Remove --system."
        )
    if recipe.reference_field is not None and target.data_format != "rft-messages":
        raise OptionError(
            f"--reference-field is for reinforcement fine-tuning; {target.label} takes "
            f"{target.data_format} records. Remove it."
        )
    if recipe.system is not None and not recipe.system.strip():
        raise OptionError("--system is empty; give the system prompt's text or leave it out.")
    if recipe.messages_field is not None and not chat:
        raise OptionError(_no_chat(target))
    if target.data_format == "continued-pretraining":
        if not recipe.input_field:
            raise OptionError("Continued pre-training needs --input-field.")
    elif prompts:
        _check_prompt_recipe(target, recipe)
    elif recipe.messages_field is None and not (recipe.prompt_template and recipe.completion_field):
        raise OptionError(
            "Fine-tuning needs --prompt-template and --completion-field"
            + (" (or --messages-field for multi-turn chats)." if chat else ".")
        )
    if recipe.media is not None:
        media_formats(target, recipe.media)
        if recipe.messages_field is not None:
            raise OptionError(
                f"--{recipe.media.kind}-column works with --prompt-template and --completion-field "
                "rows, not with multi-turn --messages-field chats."
            )
    custom = target.customization
    if split and custom is not None and not custom.validation_supported:
        raise OptionError(
            f"{target.label} takes no validation file; leave out --split (or give --split 0)."
        )


def _check_prompt_recipe(target: Target, recipe: Recipe) -> None:
    if not recipe.prompt_template:
        raise OptionError(
            f"{target.kind.cli_name.capitalize()} needs --prompt-template, e.g. '{{prompt}}' "
            "(the column of each row's prompt)."
        )
    if target.data_format == "rft-messages" and recipe.completion_field is not None:
        raise OptionError(
            "Reinforcement fine-tuning learns from a grader, not from answers to copy: give the "
            "column of expected answers as --reference-field, not --completion-field."
        )


def _no_chat(target: Target) -> str:
    return (
        f"Multi-turn chats need a chat format (conversation or claude-messages); {target.label} "
        f"takes {target.data_format} records. Give single prompts with --prompt-template and "
        "--completion-field, or pick a chat model from `bedrock-customize catalog`."
    )


def media_formats(target: Target, media: MediaColumn) -> tuple[str, ...]:
    """The formats ``target`` takes for ``media``'s kind; an OptionError when it takes none."""
    option = f"--{media.kind}-column"
    if target.data_format != "conversation":
        raise OptionError(
            f"{option} works with the conversation format only; {target.label} takes "
            f"{target.data_format} records."
        )
    custom = target.customization
    if custom is None:
        raise OptionError(f"{option} needs --model, to know which {media.kind} formats it takes.")
    limit = getattr(custom.media, media.kind) if custom.media else None
    if limit is None:
        kinds = [k for k in ("image", "video") if custom.media and getattr(custom.media, k)]
        takes = f"it takes {' and '.join(kinds)} only" if kinds else "it takes text only"
        raise OptionError(
            f"{target.label} cannot be trained on {media.kind}s ({takes}); remove {option} or "
            "pick a model from `bedrock-customize catalog`."
        )
    if not media.uri_prefix.startswith("s3://") or len(media.uri_prefix) <= len("s3://"):
        raise OptionError(
            f"{option} needs --media-uri-prefix s3://BUCKET/jobs/NAME/, the S3 folder the media keys are under."
        )
    if media.bucket_owner is not None and not _ACCOUNT.fullmatch(media.bucket_owner):
        raise OptionError(
            f"--bucket-owner {quote(media.bucket_owner)} is not an AWS account id; give its 12 digits."
        )
    formats: tuple[str, ...] = limit.formats
    return formats
