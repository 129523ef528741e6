"""Turning a CSV, JSON or JSONL dataset into the training format a model takes.

The format comes from the catalog when a model is named (``resolve_target``),
or is given. Each row becomes one record:

- ``prompt-completion``: ``prompt`` = a template filled from the row (``{field}``
  placeholders), ``completion`` = one field.
- ``continued-pretraining``: ``input`` = one field, long texts cut into chunks
  that fit the model's token limit (at paragraph, then sentence, then word
  boundaries).
- ``conversation`` (bedrock-conversation-2024) and ``claude-messages``: the same
  prompt and completion as one user and one assistant turn, or a whole
  multi-turn chat from a ``messages`` field (OpenAI style: ``role`` and
  ``content`` strings, an optional ``system`` message first). A conversation's
  user turn can carry an image or video stored under an S3 prefix.

Sampling and the training/validation split are deterministic for a given seed.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
import string
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Final, Literal, get_args

from customization_core.bounded import MAX_LISTED, clip, depth_problem, quote, too_deep
from customization_core.catalog import (
    Catalog,
    Customization,
    CustomizationType,
    DataFormat,
    Model,
    load_catalog,
)
from customization_core.formats import CONVERSATION_SCHEMA, NOVA_RESERVED_WORDS
from customization_core.regions import region_problem
from customization_core.tokens import CHARS_PER_TOKEN, RECORD_OVERHEAD_TOKENS, estimate_tokens

InputFormat = Literal["csv", "json", "jsonl"]
MediaKind = Literal["image", "video"]
Record = dict[str, Any]

DATA_FORMATS: Final[tuple[DataFormat, ...]] = get_args(DataFormat)
CHAT_FORMATS: Final[tuple[DataFormat, ...]] = ("conversation", "claude-messages")
# The suffixes a file's input format is read from when none is given.
_SUFFIXES: Final[dict[str, InputFormat]] = {
    ".csv": "csv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
# File extensions that name a media format by another spelling.
_MEDIA_ALIASES: Final = {"jpg": "jpeg"}
_ACCOUNT: Final = re.compile(r"^[0-9]{12}$")


class PrepareError(ValueError):
    """A row the conversion cannot use; the message says where and how to fix it."""


class OptionError(PrepareError):
    """Options that cannot work together or for the model (a usage error, before any row is read)."""


class Row(dict[str, Any]):
    """One input record, and where it was read: ``Line 3`` (JSONL), ``Row 2`` (CSV), ``Record 2`` (JSON)."""

    place: str = "A row"


@dataclass(frozen=True)
class Prepared:
    training: list[Record]
    validation: list[Record]
    skipped: int  # rows with an empty prompt, completion or input


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
        return NOVA_RESERVED_WORDS if nova and self.data_format == "conversation" else ()

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


# --- reading -----------------------------------------------------------------


def input_format_of(name: str) -> InputFormat | None:
    """The input format a file name's extension says (None: it says none)."""
    return _SUFFIXES.get(PurePosixPath(name.lower()).suffix)


def _row(fields: Mapping[str, Any], place: str) -> Row:
    row = Row(fields)
    row.place = place
    return row


def read_rows(text: str, input_format: InputFormat) -> list[Row]:
    """The rows of a dataset, each a mapping of field names to values that knows its place."""
    if input_format == "csv":
        return [_row(r, f"Row {n}") for n, r in enumerate(csv.DictReader(io.StringIO(text)), 1)]
    if input_format == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as problem:
            raise PrepareError(
                f"The file is not valid JSON ({problem}); give --input-format jsonl for one object per line."
            ) from None
        except RecursionError:  # the json module's parser recurses: about 1,000 levels stop it
            raise PrepareError(_too_deep("The file", None)) from None
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise PrepareError("A JSON dataset must be one array of objects.")
        rows = [_row(r, f"Record {n}") for n, r in enumerate(data, 1)]
    else:
        rows = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as problem:
                raise PrepareError(f"Line {number} is not valid JSON ({problem.msg}).") from None
            except RecursionError:
                raise PrepareError(_too_deep(f"Line {number}", None)) from None
            if not isinstance(row, dict):
                raise PrepareError(f"Line {number} is not a JSON object.")
            rows.append(_row(row, f"Line {number}"))
    for row in rows:
        deep = too_deep(row)
        if deep is not None:
            raise PrepareError(_too_deep(row.place, deep))
    return rows


def _too_deep(what: str, under: str | int | None) -> str:
    return (
        depth_problem(what, under)
        + "; a row is an object of texts (a chat: a list of role/content messages). Flatten it."
    )


def _place(row: Mapping[str, Any], number: int) -> str:
    return row.place if isinstance(row, Row) else f"Row {number}"


def _missing(row: Mapping[str, Any], number: int, names: Sequence[str]) -> PrepareError:
    fields = [clip(str(name)) for name in list(row)[:MAX_LISTED]]
    if len(row) > MAX_LISTED:
        fields.append(f"and {len(row) - MAX_LISTED:,} more")
    return PrepareError(
        f"{_place(row, number)} has no field {', '.join(quote(m) for m in names)}; it has: {', '.join(fields)}."
    )


# --- the target format ---------------------------------------------------------


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
    implied = (
        CustomizationType.CONTINUED_PRE_TRAINING
        if data_format == "continued-pretraining"
        else CustomizationType.FINE_TUNING
    )
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
    kinds = [k for k, c in model.customizations.items() if data_format in c.formats] or list(
        model.customizations
    )
    if len(kinds) == 1:
        return kinds[0]
    raise OptionError(
        f"{model.name} supports {' and '.join(k.cli_name for k in model.customizations)}; "
        "give --type to choose."
    )


# --- which options fit the format ----------------------------------------------


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
    if recipe.system is not None and not chat:
        raise OptionError(
            f"--system works with the conversation and claude-messages formats; {target.label} "
            f"takes {target.data_format} records, which have no system prompt. Remove --system."
        )
    if recipe.system is not None and not recipe.system.strip():
        raise OptionError("--system is empty; give the system prompt's text or leave it out.")
    if recipe.messages_field is not None and not chat:
        raise OptionError(_no_chat(target))
    if target.data_format == "continued-pretraining":
        if not recipe.input_field:
            raise OptionError("Continued pre-training needs --input-field.")
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


# --- records -------------------------------------------------------------------


def make_records(
    rows: Sequence[Mapping[str, Any]], target: Target, recipe: Recipe
) -> Iterator[Record | None]:
    """The records of ``rows`` in ``target``'s format (None for a row left out as empty)."""
    check_recipe(target, recipe)
    if target.data_format == "continued-pretraining":
        yield from pretraining_records(
            rows,
            input_field=recipe.input_field or "",
            max_tokens=target.max_tokens,
            chars_per_token=target.chars_per_token,
        )
        return
    if recipe.messages_field is not None:
        yield from chat_records(rows, target, recipe)
        return
    if target.data_format == "prompt-completion":
        yield from fine_tuning_records(
            rows,
            prompt_template=recipe.prompt_template or "",
            completion_field=recipe.completion_field or "",
        )
        return
    yield from single_turn_chat_records(rows, target, recipe)


def _placeholders(template: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def _prompts(
    rows: Sequence[Mapping[str, Any]], *, prompt_template: str, completion_field: str
) -> Iterator[tuple[str, str] | None]:
    """(prompt, completion) per row; None for a row whose prompt or completion is empty."""
    fields = _placeholders(prompt_template)
    if not fields:
        raise PrepareError(
            "The prompt template names no field; write one as {field}, e.g. '{dialogue}'."
        )
    for number, row in enumerate(rows, 1):
        missing = [name for name in (*fields, completion_field) if name not in row]
        if missing and "messages" in row:
            raise PrepareError(
                f"{_place(row, number)} holds a multi-turn chat ('messages'), not the fields "
                f"{', '.join(map(quote, missing))}; chats need a chat format (conversation or "
                "claude-messages) and --messages-field messages."
            )
        if missing:
            raise _missing(row, number, missing)
        completion = str(row[completion_field] or "").strip()
        prompt = prompt_template.format(**{name: str(row[name] or "") for name in fields})
        yield (prompt, completion) if completion and prompt.strip() else None


def fine_tuning_records(
    rows: Sequence[Mapping[str, Any]], *, prompt_template: str, completion_field: str
) -> Iterator[Record | None]:
    """One prompt/completion record per row (None for a row whose completion is empty)."""
    for pair in _prompts(rows, prompt_template=prompt_template, completion_field=completion_field):
        yield {"prompt": pair[0], "completion": pair[1]} if pair else None


def single_turn_chat_records(
    rows: Sequence[Mapping[str, Any]], target: Target, recipe: Recipe
) -> Iterator[Record | None]:
    """One user turn (the filled template, after any media) and one assistant turn per row."""
    pairs = _prompts(
        rows,
        prompt_template=recipe.prompt_template or "",
        completion_field=recipe.completion_field or "",
    )
    for number, (row, pair) in enumerate(zip(rows, pairs, strict=True), 1):
        if pair is None:
            yield None
            continue
        turns = [("user", pair[0]), ("assistant", pair[1])]
        media = _media_block(row, number, target, recipe.media) if recipe.media else None
        yield _chat(target, turns, recipe.system, media, _place(row, number))


def chat_records(
    rows: Sequence[Mapping[str, Any]], target: Target, recipe: Recipe
) -> Iterator[Record]:
    """A multi-turn chat per row, from its ``recipe.messages_field`` list of role/content messages."""
    name = recipe.messages_field or "messages"
    for number, row in enumerate(rows, 1):
        if name not in row:
            raise _missing(row, number, [name])
        place = _place(row, number)
        system, turns = parse_messages(row[name], f"{place}'s {quote(name)}")
        yield _chat(target, turns, system or recipe.system, None, place)


def parse_messages(value: Any, where: str) -> tuple[str | None, list[tuple[str, str]]]:
    """(system, [(role, text)]) of an OpenAI-style message list, checked as Bedrock checks it."""
    if isinstance(value, str):  # a CSV column holds the list as JSON text
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            value = None
        except RecursionError:  # the json module's parser recurses: about 1,000 levels stop it
            raise PrepareError(_too_deep(where, None)) from None
        deep = too_deep(value)
        if deep is not None:
            raise PrepareError(_too_deep(where, deep))
    if not isinstance(value, list) or not value:
        raise PrepareError(
            f'{where} must be a list of {{"role": "user"|"assistant", "content": "text"}} messages.'
        )
    messages = [_message(m, f"{where} message {i}") for i, m in enumerate(value, 1)]
    system = messages[0][1] if messages[0][0] == "system" else None
    turns = messages[1:] if system is not None else messages
    _check_turns(turns, where, offset=2 if system is not None else 1)
    return system, turns


def _message(message: Any, where: str) -> tuple[str, str]:
    if not isinstance(message, dict):
        raise PrepareError(f'{where} must be an object with "role" and "content".')
    role, content = message.get("role"), message.get("content")
    if role not in ("system", "user", "assistant"):
        raise PrepareError(
            f'{where} has role {quote(role)}; use "user", "assistant" or a first "system".'
        )
    if not isinstance(content, str) or not content.strip():
        raise PrepareError(f'{where} needs "content" text; give it the words of the turn.')
    return role, content


def _check_turns(turns: list[tuple[str, str]], where: str, *, offset: int) -> None:
    """User first, then alternating, assistant last (``offset``: the first turn's message number)."""
    if len(turns) < 2:
        raise PrepareError(f"{where} needs at least one user message and the assistant's answer.")
    for i, (role, _) in enumerate(turns):
        expected = "user" if i % 2 == 0 else "assistant"
        if role != expected:
            raise PrepareError(
                f'{where} message {i + offset} has role "{role}" where "{expected}" belongs; '
                "messages go user, assistant, user, ... (a system message only first)."
            )
    if turns[-1][0] != "assistant":
        raise PrepareError(
            f"{where} ends with a user message; end it with the assistant's answer the model learns."
        )


def _chat(
    target: Target,
    turns: list[tuple[str, str]],
    system: str | None,
    media: Record | None,
    place: str,
) -> Record:
    for text in (system or "", *(t for _, t in turns)):
        _check_reserved(text, target, place)
    if target.data_format == "claude-messages":
        return claude_record(turns, system)
    return conversation_record(turns, system, media)


def _check_reserved(text: str, target: Target, place: str) -> None:
    word = next((w for w in target.reserved_words if w in text), None)
    if word is not None:
        raise PrepareError(
            f'{place} contains "{word}", which {target.label} reserves for its prompt template; '
            "reword the row or the --prompt-template."
        )


def conversation_record(
    turns: list[tuple[str, str]], system: str | None, media: Record | None = None
) -> Record:
    """A bedrock-conversation-2024 record; ``media`` goes in the first user turn, before its text."""
    contents: list[list[Record]] = [[{"text": text}] for _, text in turns]
    if media is not None:
        contents[0].insert(0, media)
    messages = [
        {"role": role, "content": content}
        for (role, _), content in zip(turns, contents, strict=True)
    ]
    record: Record = {"schemaVersion": CONVERSATION_SCHEMA}
    if system is not None:
        record["system"] = [{"text": system}]
    record["messages"] = messages
    return record


def claude_record(turns: list[tuple[str, str]], system: str | None) -> Record:
    """A Claude 3 Haiku fine-tuning record."""
    record: Record = {} if system is None else {"system": system}
    record["messages"] = [{"role": role, "content": text} for role, text in turns]
    return record


def _media_block(
    row: Mapping[str, Any], number: int, target: Target, media: MediaColumn
) -> Record | None:
    """The row's image or video content block (None when its cell is empty)."""
    if media.column not in row:
        raise _missing(row, number, [media.column])
    key = str(row[media.column] or "").strip().lstrip("/")
    if not key:
        return None
    place = _place(row, number)
    while key.startswith("./"):
        key = key[2:]
    if ".." in PurePosixPath(key).parts or "://" in key:
        raise PrepareError(
            f"{place}'s {quote(media.column)} is {quote(key)}; give a key relative to the job folder, e.g. img/a.png."
        )
    suffix = PurePosixPath(key).suffix.lower().lstrip(".")
    kind_format = _MEDIA_ALIASES.get(suffix, suffix)
    allowed = media_formats(target, media)
    if kind_format not in allowed:
        raise PrepareError(
            f"{place}'s {media.kind} {quote(key)} is {clip(kind_format) or 'of no known format'}; "
            f"{target.label} takes {', '.join(allowed)} {media.kind}s. Convert it or leave the row out."
        )
    location: Record = {"uri": media.uri_prefix.rstrip("/") + "/" + key}
    if media.bucket_owner is not None:
        location["bucketOwner"] = media.bucket_owner
    return {media.kind: {"format": kind_format, "source": {"s3Location": location}}}


def chunk_text(text: str, max_tokens: int, chars_per_token: int) -> list[str]:
    """``text`` cut into pieces whose token estimate (with record overhead) fits ``max_tokens``."""
    budget = max_tokens - RECORD_OVERHEAD_TOKENS

    def fits(piece: str) -> bool:
        return estimate_tokens(piece, chars_per_token) <= budget

    if fits(text):
        return [text]
    for pattern in (r"\n\s*\n", r"(?<=[.!?])\s+", r"\s+"):
        parts = [p for p in re.split(pattern, text) if p.strip()]
        if len(parts) > 1:
            chunks: list[str] = []
            current = ""
            joiner = "\n\n" if pattern.startswith(r"\n") else " "
            for part in parts:
                candidate = f"{current}{joiner}{part}" if current else part
                if fits(candidate):
                    current = candidate
                    continue
                if current:
                    chunks.append(current)
                current = part
            if current:
                chunks.append(current)
            return [
                piece
                for chunk in chunks
                for piece in chunk_text(chunk, max_tokens, chars_per_token)
            ]
    # One word longer than the budget: cut it by characters.
    size = max(1, budget * chars_per_token)
    return [text[i : i + size] for i in range(0, len(text), size)]


def pretraining_records(
    rows: Sequence[Mapping[str, Any]],
    *,
    input_field: str,
    max_tokens: int | None,
    chars_per_token: int,
) -> Iterator[Record | None]:
    """``{"input"}`` records, long texts chunked to ``max_tokens`` when it is given."""
    for number, row in enumerate(rows, 1):
        if "messages" in row and input_field not in row:
            raise PrepareError(
                f"{_place(row, number)} holds a multi-turn chat ('messages'); continued "
                f"pre-training takes plain text: give --input-field with a text field."
            )
        if input_field not in row:
            raise _missing(row, number, [input_field])
        text = str(row[input_field] or "").strip()
        if not text:
            yield None
            continue
        pieces = chunk_text(text, max_tokens, chars_per_token) if max_tokens else [text]
        for piece in pieces:
            yield {"input": piece}


def sample_and_split(
    records: list[Record], *, split: float, max_records: int | None, seed: int
) -> tuple[list[Record], list[Record]]:
    """A seeded shuffle, at most ``max_records``, then ``split`` of them held out for validation."""
    if not 0 <= split < 1:
        raise PrepareError(f"--split must be from 0 to below 1 (the share held out); got {split}.")
    shuffled = list(records)
    random.Random(seed).shuffle(shuffled)  # noqa: S311 - sampling, not secrecy
    if max_records is not None:
        shuffled = shuffled[:max_records]
    held = round(len(shuffled) * split)
    if split and held == 0 and len(shuffled) > 1:
        held = 1
    return shuffled[held:], shuffled[:held]


def to_jsonl(records: list[Record]) -> str:
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
