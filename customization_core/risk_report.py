"""The data risk report: what the scan found per file, as a document and as findings.

``RiskReport.to_dict()`` is the report document's "risk" key; ``findings(policy)`` are
the report's warnings, or errors for the kinds the policy blocks. Examples are masked
values (customization_core/risk_pii.py), never the data itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from customization_core.findings import Finding, Source, error, warning
from customization_core.risk_policy import RISK_KINDS, RiskKind, RiskPolicy

Role = Literal["training", "validation"]


@dataclass(frozen=True)
class FileScan:
    """How much of one file the scan covered."""

    records: int
    bytes: int  # UTF-8 bytes of the record text looked at
    partial: tuple[str, ...]  # why the scan was not complete (empty: it was)

    @property
    def complete(self) -> bool:
        return not self.partial

    def to_dict(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "bytes": self.bytes,
            "complete": self.complete,
            "partial": list(self.partial),
        }


@dataclass(frozen=True)
class RiskItem:
    """One finding of the scan: a kind of risk in one file, its records counted."""

    kind: RiskKind
    code: str  # risk-<kind>-<what>
    file: Role
    count: int
    lines: tuple[int, ...]  # the first lines, in file order
    example: str | None  # masked
    text: str  # what was found, with the count, lines and example; then how to fix it

    def to_dict(self, policy: RiskPolicy) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "code": self.code,
            "file": self.file,
            "severity": "error" if policy.blocks(self.kind) else "warning",
            "count": self.count,
            "lines": list(self.lines),
            "example": self.example,
            "message": self.text,
        }


@dataclass(frozen=True)
class RiskReport:
    scanned: dict[Role, FileScan]
    summary: dict[str, int]  # kind -> records flagged
    items: tuple[RiskItem, ...]
    policy: RiskPolicy

    def to_dict(self) -> dict[str, Any]:
        return {
            "scanned": {role: scan.to_dict() for role, scan in self.scanned.items()},
            "summary": {kind: self.summary.get(kind, 0) for kind in RISK_KINDS},
            "findings": [item.to_dict(self.policy) for item in self.items],
            "policy": self.policy.to_dict(),
        }

    def findings(self, policy: RiskPolicy | None = None) -> list[Finding]:
        """The report's findings: errors for the kinds ``policy`` blocks, else warnings."""
        policy = policy or self.policy
        made: list[Finding] = []
        for item in self.items:
            make = error if policy.blocks(item.kind) else warning
            source = Source.TRAINING if item.file == "training" else Source.VALIDATION
            made.append(
                make(source, item.code, item.text, line=item.lines[0] if item.lines else None)
            )
        return made


def line_list(lines: tuple[int, ...], count: int) -> str:
    """``lines 3, 7 and 12`` or ``lines 3, 7, ... (20 shown of 45)``."""
    if not lines:
        return "no line kept"
    shown = ", ".join(str(n) for n in lines)
    word = "line" if len(lines) == 1 else "lines"
    more = f" and {count - len(lines):,} more" if count > len(lines) else ""
    return f"{word} {shown}{more}"


def render_lines(risk: dict[str, Any]) -> list[str]:
    """The "Data risks" section of the human report, from ``RiskReport.to_dict()``."""
    out = ["Data risks (examples masked):"]
    for role, scan in risk["scanned"].items():
        covered = "complete" if scan["complete"] else "partial: " + "; ".join(scan["partial"])
        out.append(f"  {role}: {scan['records']:,} records scanned ({covered})")
    by_kind: dict[str, list[dict[str, Any]]] = {kind: [] for kind in RISK_KINDS}
    for item in risk["findings"]:
        by_kind.setdefault(item["kind"], []).append(item)
    for kind in RISK_KINDS:
        count = risk["summary"].get(kind, 0)
        action = risk["policy"].get(kind, "warn")
        noun = "record" if count == 1 else "records"
        out.append(f"  {kind}: {count:,} {noun} flagged ({action})")
        for item in by_kind[kind]:
            out.append(f"    {item['file']}: {item['code']}: {item['message']}")
    return out
