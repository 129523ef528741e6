"""An RFT record's fields beside its messages: the reference answer, and what the grader reads.

customization_core/prompt_formats.py checks the messages; a grader (customization_core/graders.py)
declares the fields it needs, as keys of the record or dotted paths into it.
Source (read 2026-12-02): https://docs.aws.amazon.com/bedrock/latest/userguide/rft-prepare-data.html
("reference_answer" in any format; other fields are passed to the reward function).
"""

from __future__ import annotations

from typing import Any, Final

from customization_core.bounded import clip, quote
from customization_core.record_fields import MISSING, Emit, type_name

REFERENCE_FIELD: Final = "reference_answer"


def good_reference(value: Any) -> bool:
    """A reference answer with nothing to report: text, a number or a non-empty object."""
    kind = type(value)
    if kind is str:
        return bool(value) and not value.isspace()
    return kind is int or kind is float or (kind is dict and bool(value))


def reference(record: dict[str, Any], emit: Emit) -> bool:
    """Report what is wrong with the record's reference answer; whether it has one to read."""
    value = record.get(REFERENCE_FIELD, MISSING)
    if good_reference(value):
        return True
    hint = "the answer the grader compares the model's response with"
    if value is MISSING:
        emit(
            "error",
            "missing-field",
            REFERENCE_FIELD,
            f'The record has no "{REFERENCE_FIELD}"; give it {hint} (text, a number or an object).',
        )
        return False
    if value is None or value in ("", {}) or (type(value) is str and value.isspace()):
        emit(
            "error",
            "empty-field",
            REFERENCE_FIELD,
            f'"{REFERENCE_FIELD}" is {type_name(value) if value is None else "empty"}; give it {hint}, or remove the record.',
        )
        return False
    # Bedrock passes any JSON value on; a list or a boolean is rarely what a grader compares.
    emit(
        "warning",
        "unexpected-type",
        REFERENCE_FIELD,
        f'"{REFERENCE_FIELD}" is {type_name(value)}; graders compare text, a number or an object\'s fields. Check that yours reads it.',
    )
    return True


def grader_field(record: dict[str, Any], path: str, emit: Emit) -> None:
    """Report ``path`` (a key, or a dotted path into objects) when the record does not hold it."""
    if record.get(path) is not None:
        return
    value: Any = record
    walked: list[str] = []
    for part in path.split("."):
        if not isinstance(value, dict) or value.get(part) is None:
            break
        value = value[part]
        walked.append(part)
    else:
        return
    at = ".".join(walked)
    detail = (
        f", and {quote(at)} is {type_name(value)}, not an object"
        if walked and not isinstance(value, dict)
        else ""
    )
    emit(
        "error",
        "missing-grader-field",
        clip(path),
        f"The grader reads {quote(path)}, which the record does not have{detail}; add it to every record, or choose a grader that does not read it.",
    )
