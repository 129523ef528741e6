"""Findings: what is wrong with a dataset or a request, where, and how to fix it; and their tally."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

# Findings kept in the report per severity; the counts stay complete.
REPORT_CAP: Final = 100


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


@dataclass
class Findings:
    """Every finding counted; the first REPORT_CAP of each severity kept."""

    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    error_count: int = 0
    warning_count: int = 0

    def add(self, finding: Finding) -> None:
        if finding.severity is Severity.ERROR:
            self.error_count += 1
            if len(self.errors) < REPORT_CAP:
                self.errors.append(finding)
        else:
            self.warning_count += 1
            if len(self.warnings) < REPORT_CAP:
                self.warnings.append(finding)
