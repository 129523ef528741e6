"""Reading a CSV, JSON or JSONL dataset into rows, each knowing where it was read.

A row's ``place`` (``Line 3``, ``Row 2``, ``Record 2``) starts every message about it,
here and in customization_core/prepare.py, which turns rows into records.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath
from typing import Any, Final, Literal

from customization_core.bounded import MAX_LISTED, clip, depth_problem, quote, too_deep

InputFormat = Literal["csv", "json", "jsonl"]
# The suffixes a file's input format is read from when none is given.
_SUFFIXES: Final[dict[str, InputFormat]] = {
    ".csv": "csv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}


class PrepareError(ValueError):
    """A row the conversion cannot use; the message says where and how to fix it."""


class Row(dict[str, Any]):
    """One input record, and where it was read: ``Line 3`` (JSONL), ``Row 2`` (CSV), ``Record 2`` (JSON)."""

    place: str = "A row"


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
            raise PrepareError(nesting_problem("The file", None)) from None
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
                raise PrepareError(nesting_problem(f"Line {number}", None)) from None
            if not isinstance(row, dict):
                raise PrepareError(f"Line {number} is not a JSON object.")
            rows.append(_row(row, f"Line {number}"))
    for row in rows:
        deep = too_deep(row)
        if deep is not None:
            raise PrepareError(nesting_problem(row.place, deep))
    return rows


def nesting_problem(what: str, under: str | int | None) -> str:
    return (
        depth_problem(what, under)
        + "; a row is an object of texts (a chat: a list of role/content messages). Flatten it."
    )


def place_of(row: Mapping[str, Any], number: int) -> str:
    return row.place if isinstance(row, Row) else f"Row {number}"


def missing_field(row: Mapping[str, Any], number: int, names: Sequence[str]) -> PrepareError:
    fields = [clip(str(name)) for name in list(row)[:MAX_LISTED]]
    if len(row) > MAX_LISTED:
        fields.append(f"and {len(row) - MAX_LISTED:,} more")
    return PrepareError(
        f"{place_of(row, number)} has no field {', '.join(quote(m) for m in names)}; it has: {', '.join(fields)}."
    )
