"""Findings: what is wrong with a dataset or a request, where, and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Source(StrEnum):
    """Which input a finding is about."""

    REQUEST = "request"
    TRAINING = "training"
    VALIDATION = "validation"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem. ``line`` is 1-based, ``None`` for findings about a whole file or the request."""

    severity: Severity
    source: Source
    code: str
    message: str
    line: int | None = None
    field: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.source.value,
            "line": self.line,
            "code": self.code,
            "field": self.field,
            "message": self.message,
        }


def error(
    source: Source, code: str, message: str, *, line: int | None = None, field: str | None = None
) -> Finding:
    return Finding(Severity.ERROR, source, code, message, line, field)


def warning(
    source: Source, code: str, message: str, *, line: int | None = None, field: str | None = None
) -> Finding:
    return Finding(Severity.WARNING, source, code, message, line, field)
