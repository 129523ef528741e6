"""Turning a CSV, JSON or JSONL dataset into Bedrock's training format.

Fine-tuning: ``prompt`` = a template filled from each row (``{field}``
placeholders), ``completion`` = one field. Continued pre-training: ``input`` =
one field, long texts cut into chunks that fit the model's token limit (at
paragraph, then sentence, then word boundaries). Sampling and the
training/validation split are deterministic for a given seed.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from customization_core.tokens import RECORD_OVERHEAD_TOKENS, estimate_tokens

InputFormat = Literal["csv", "json", "jsonl"]


class PrepareError(ValueError):
    """A row or an option the conversion cannot use; the message says where and how to fix it."""


@dataclass(frozen=True)
class Prepared:
    training: list[dict[str, str]]
    validation: list[dict[str, str]]
    skipped: int  # rows with an empty completion or input


def read_rows(text: str, input_format: InputFormat) -> list[dict[str, Any]]:
    """The rows of a dataset, each a mapping of field names to values."""
    if input_format == "csv":
        return list(csv.DictReader(io.StringIO(text)))
    if input_format == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as problem:
            raise PrepareError(
                f"The file is not valid JSON ({problem}); give --format jsonl for one object per line."
            ) from None
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise PrepareError("A JSON dataset must be one array of objects.")
        return data
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as problem:
            raise PrepareError(f"Line {number} is not valid JSON ({problem.msg}).") from None
        if not isinstance(row, dict):
            raise PrepareError(f"Line {number} is not a JSON object.")
        rows.append(row)
    return rows


def _placeholders(template: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def fine_tuning_records(
    rows: list[dict[str, Any]], *, prompt_template: str, completion_field: str
) -> Iterator[dict[str, str] | None]:
    """One prompt/completion record per row (None for a row whose completion is empty)."""
    fields = _placeholders(prompt_template)
    if not fields:
        raise PrepareError(
            "The prompt template names no field; write one as {field}, e.g. '{dialogue}'."
        )
    for number, row in enumerate(rows, 1):
        missing = [name for name in (*fields, completion_field) if name not in row]
        if missing:
            raise PrepareError(
                f"Row {number} has no field {', '.join(repr(m) for m in missing)}; it has: {', '.join(map(str, row))}."
            )
        completion = str(row[completion_field] or "").strip()
        if not completion:
            yield None
            continue
        prompt = prompt_template.format(**{name: str(row[name] or "") for name in fields})
        yield {"prompt": prompt, "completion": completion}


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
    rows: list[dict[str, Any]], *, input_field: str, max_tokens: int | None, chars_per_token: int
) -> Iterator[dict[str, str] | None]:
    """``{"input"}`` records, long texts chunked to ``max_tokens`` when it is given."""
    for number, row in enumerate(rows, 1):
        if input_field not in row:
            raise PrepareError(
                f"Row {number} has no field {input_field!r}; it has: {', '.join(map(str, row))}."
            )
        text = str(row[input_field] or "").strip()
        if not text:
            yield None
            continue
        pieces = chunk_text(text, max_tokens, chars_per_token) if max_tokens else [text]
        for piece in pieces:
            yield {"input": piece}


def sample_and_split(
    records: list[dict[str, str]], *, split: float, max_records: int | None, seed: int
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
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


def to_jsonl(records: list[dict[str, str]]) -> str:
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
