"""The terms of ``check``: what it judges (Job), by what (Rules, Live), what it finds (Outcome).

Plain data and the outcome's text; bedrock_customize/check.py and its steps
(check_live.py, check_data.py) fill an Outcome, check_cmd.py prints it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

Step = Literal["names", "manifest", "settings", "request", "deploy", "live", "data", "cost"]
Severity = Literal["error", "warning"]
Verdict = Literal["accept", "approval", "reject"]

# The pipeline's order (README, The workflow), each with the heading the output gives it.
STEPS: Final[tuple[tuple[Step, str], ...]] = (
    ("names", "Job folder and data keys (Bedrock's S3 URI rule)"),
    ("manifest", "The manifest (job.json)"),
    ("settings", "The stage's settings (cdk.json)"),
    ("request", "The request against the catalog"),
    ("deploy", "The deploy block"),
    ("live", "The live model check (Bedrock)"),
    ("data", "The data"),
    ("cost", "The cost"),
)
VERDICTS: Final[dict[Verdict, str]] = {
    "accept": "The pipeline would accept this run.",
    "approval": "The pipeline would hold it for approval: a person approves it before training.",
    "reject": "The pipeline would REJECT it.",
}


@dataclass(frozen=True)
class Problem:
    """One reason the pipeline would refuse (error) or remark on (warning) the run."""

    step: Step
    severity: Severity
    where: str
    code: str
    message: str
    field: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "severity": self.severity,
            "where": self.where,
            "code": self.code,
            "field": self.field,
            "message": self.message,
        }


@dataclass(frozen=True)
class Note:
    """What was judged how (a skipped live check, the cost): not a problem, but said."""

    step: Step
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step, "message": self.message}


@dataclass(frozen=True)
class Rules:
    """The stage's settings the pipeline judges a run by (its PipelineConfig's share)."""

    stage: str
    allowed_models: tuple[str, ...] | None = None
    default_hyperparameters: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    approval_threshold_usd: float | None = None
    max_deployment_ttl_hours: float = 72
    max_unapproved_model_units: int = 1
    training_prices_usd: Mapping[str, float] = field(default_factory=dict)
    unknown_models: str = "reject"  # the stage's unknownModels: "reject" or "warn"
    data_risk: Mapping[str, str] = field(default_factory=dict)  # the stage's dataRisk

    @property
    def unknown_ok(self) -> bool:
        return self.unknown_models == "warn"


@dataclass(frozen=True)
class Live:
    """How to ask Bedrock: a client in ``region``, or why there is none (``skipped``).

    ``explicit``: the user named the Region or stack, so a denied check stops
    ``check`` (LiveDeniedError) instead of falling back to the catalog.
    """

    bedrock: Any | None
    region: str | None
    skipped: str | None = None
    explicit: bool = False


class LiveDeniedError(Exception):
    """AWS refused the live check the user asked for; the message says why and what to do."""


@dataclass(frozen=True)
class Job:
    """A job folder: its name under jobs/, job.json's bytes, and where each data key is locally."""

    name: str
    manifest: bytes | None  # None: there is no job.json
    locate: Callable[[str], Path | None]  # a key under the folder -> its local file (None: none)


@dataclass
class Outcome:
    """Every problem, what was noted, and whether the run would wait for a person."""

    folder: str
    problems: list[Problem] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    needs_approval: bool = False
    cost: dict[str, Any] | None = None
    # The whole run's estimate in parts (customization_core/estimate.py), as EstimateCost has it.
    estimate: dict[str, Any] | None = None
    report: dict[str, Any] | None = None
    live_region: str | None = None  # the Region Bedrock answered for (None: no live check)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def verdict(self) -> Verdict:
        if self.errors:
            return "reject"
        return "approval" if self.needs_approval else "accept"

    def add(
        self,
        step: Step,
        severity: Severity,
        where: str,
        code: str,
        message: str,
        field: str | None = None,
    ) -> None:
        self.problems.append(Problem(step, severity, where, code, message, field))

    def note(self, step: Step, message: str) -> None:
        self.notes.append(Note(step, message))

    def to_dict(self) -> dict[str, Any]:
        return {
            "folder": self.folder,
            "verdict": self.verdict,
            "message": VERDICTS[self.verdict],
            "error_count": len(self.errors),
            "warning_count": len(self.warnings),
            "problems": [p.to_dict() for p in self.problems],
            "notes": [n.to_dict() for n in self.notes],
            "needs_approval": self.needs_approval,
            "cost": self.cost,
            "estimate": self.estimate,
            "live_region": self.live_region,
            "report": self.report,
        }


def severity_of(value: str) -> Severity:
    return "error" if value == "error" else "warning"


def by_step(outcome: Outcome) -> list[tuple[Step, str, list[Problem], list[Note]]]:
    """The problems and notes of each step that has any, in the pipeline's order."""
    grouped = []
    for step, title in STEPS:
        problems = [p for p in outcome.problems if p.step == step]
        notes = [n for n in outcome.notes if n.step == step]
        if problems or notes:
            grouped.append((step, title, problems, notes))
    return grouped


def verdict_line(outcome: Outcome) -> str:
    counts = f"{len(outcome.errors)} error(s), {len(outcome.warnings)} warning(s)"
    return f"{VERDICTS[outcome.verdict]} ({counts})"


def render_text(outcome: Outcome) -> list[str]:
    """The outcome for a person: each step's problems and notes, then the verdict."""
    lines = [f"Checked {outcome.folder} as the pipeline would:"]
    for _step, title, problems, notes in by_step(outcome):
        lines.append(f"{title}:")
        for p in problems:
            field_part = f" [{p.field}]" if p.field else ""
            lines.append(f"  {p.severity.upper():7} {p.where}: {p.code}{field_part}: {p.message}")
        lines.extend(f"  note    {n.message}" for n in notes)
    lines.append(verdict_line(outcome))
    return lines
