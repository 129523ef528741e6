"""Turning a CSV, JSON or JSONL dataset into the training format a model takes.

Rows are read by customization_core/prepare_rows.py; the format comes from the catalog
when a model is named, or is given (customization_core/prepare_target.py, which also
refuses options that do not fit it). Each row becomes one record:

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
- ``distillation-prompts`` and ``rft-messages``: a prompt per row, with its optional
  labelled response or its reference answer (customization_core/prepare_types.py).

Sampling and the training/validation split are deterministic for a given seed.
"""

from __future__ import annotations

import json
import random
import re
import string
from collections.abc import Iterator, Mapping, Sequence
from pathlib import PurePosixPath
from typing import Any, Final

from customization_core.bounded import clip, quote, too_deep
from customization_core.conversation_format import CONVERSATION_SCHEMA
from customization_core.media_block import EXTENSIONS
from customization_core.prepare_rows import PrepareError, missing_field, nesting_problem, place_of
from customization_core.prepare_target import (
    PROMPT_FORMATS,
    MediaColumn,
    Recipe,
    Target,
    check_recipe,
    media_formats,
)
from customization_core.prepare_types import prompt_records
from customization_core.tokens import RECORD_OVERHEAD_TOKENS, estimate_tokens

Record = dict[str, Any]
# The media format each file extension names ("jpg" is "jpeg"), from the one table of them.
_FORMAT_OF_EXTENSION: Final = {ext: fmt for fmt, exts in EXTENSIONS.items() for ext in exts}


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
    if target.data_format in PROMPT_FORMATS:
        yield from prompt_records(rows, target, recipe)
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
                f"{place_of(row, number)} holds a multi-turn chat ('messages'), not the fields "
                f"{', '.join(map(quote, missing))}; chats need a chat format (conversation or "
                "claude-messages) and --messages-field messages."
            )
        if missing:
            raise missing_field(row, number, missing)
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
        yield _chat(target, turns, recipe.system, media, place_of(row, number))


def chat_records(
    rows: Sequence[Mapping[str, Any]], target: Target, recipe: Recipe
) -> Iterator[Record]:
    """A multi-turn chat per row, from its ``recipe.messages_field`` list of role/content messages."""
    name = recipe.messages_field or "messages"
    for number, row in enumerate(rows, 1):
        if name not in row:
            raise missing_field(row, number, [name])
        place = place_of(row, number)
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
            raise PrepareError(nesting_problem(where, None)) from None
        deep = too_deep(value)
        if deep is not None:
            raise PrepareError(nesting_problem(where, deep))
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
        raise missing_field(row, number, [media.column])
    key = str(row[media.column] or "").strip().lstrip("/")
    if not key:
        return None
    place = place_of(row, number)
    while key.startswith("./"):
        key = key[2:]
    if ".." in PurePosixPath(key).parts or "://" in key:
        raise PrepareError(
            f"{place}'s {quote(media.column)} is {quote(key)}; give a key relative to the job folder, e.g. img/a.png."
        )
    suffix = PurePosixPath(key).suffix.lower().lstrip(".")
    kind_format = _FORMAT_OF_EXTENSION.get(suffix, suffix)
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
                f"{place_of(row, number)} holds a multi-turn chat ('messages'); continued "
                f"pre-training takes plain text: give --input-field with a text field."
            )
        if input_field not in row:
            raise missing_field(row, number, [input_field])
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
