"""The validation report: a deterministic JSON document and its human rendering."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from customization_core.estimate import Estimate, estimate_run
from customization_core.risk_report import render_lines
from customization_core.stats import TokenStats

if TYPE_CHECKING:
    from customization_core.cost import CostEstimate
    from customization_core.findings import Findings
    from customization_core.request import CheckedRequest

P95 = 0.95


@dataclass(frozen=True)
class FileSummary:
    records: int
    bytes: int
    data_format: str
    tokens: TokenStats
    token_limit: int | None = None  # the model's per-record limit the file was checked against
    sha256: str | None = None  # of the bytes read, when the pass hashed them (the risk scan)

    def to_dict(self) -> dict[str, Any]:
        summary: dict[str, Any] = {
            "records": self.records,
            "bytes": self.bytes,
            "data_format": self.data_format,
            "tokens": {**_tokens(self.tokens), "histogram": self.tokens.histogram()},
            "limit": self.token_limit,
        }
        if self.sha256 is not None:
            summary["sha256"] = self.sha256
        return summary


@dataclass(frozen=True)
class MediaSummary:
    """The media blocks of a dataset (both files); bytes and objects once they were looked up."""

    images: int
    videos: int
    bytes: int | None  # of the distinct objects found (None: not looked up)
    checked: int | None  # distinct objects looked up (None: not looked up)

    def to_dict(self) -> dict[str, Any]:
        return {
            "images": self.images,
            "videos": self.videos,
            "bytes": self.bytes,
            "checked": self.checked,
        }


def _tokens(stats: TokenStats) -> dict[str, int]:
    return {"total": stats.total, "max": stats.max, "p95": stats.percentile(P95)}


@dataclass(frozen=True)
class Report:
    document: dict[str, Any]

    @classmethod
    def build(
        cls,
        request: CheckedRequest,
        findings: Findings,
        training: FileSummary | None,
        validation: FileSummary | None,
        cost: CostEstimate | None,
        *,
        media: MediaSummary | None = None,
        risk: dict[str, Any] | None = None,
    ) -> Report:
        """The report document; ``media`` adds a "media" key (text-only datasets have none),
        ``risk`` a "risk" key (customization_core/risk_report.py, when the scan ran)."""
        custom = request.customization
        hyperparameters = (
            {
                h.key: request.effective(h.key)
                for h in custom.hyperparameters
                if request.effective(h.key) is not None
            }
            if custom
            else {}
        )
        document = {
            "valid": findings.error_count == 0,
            "request": {
                "model_id": request.model_id,
                "model_name": request.model.name if request.model else None,
                "customization_type": request.customization_type.value
                if request.customization_type
                else None,
                "data_format": training.data_format if training else None,
                "hyperparameters": hyperparameters,
            },
            "records": training.records if training else 0,
            "validation_records": validation.records if validation else None,
            "error_count": findings.error_count,
            "warning_count": findings.warning_count,
            "errors": [f.to_dict() for f in findings.errors],
            "warnings": [f.to_dict() for f in findings.warnings],
            "tokens": _tokens(training.tokens) if training else {"total": 0, "max": 0, "p95": 0},
            "files": {
                "training": training.to_dict() if training else None,
                "validation": validation.to_dict() if validation else None,
            },
            "cost": cost.to_dict() if cost else None,
            # Training and the first month of storage: what the data alone decides. The
            # pipeline's EstimateCost adds the manifest's deployment and evaluation.
            "estimate": (
                estimate_run(
                    model=request.model,
                    kind=request.customization_type.value if request.customization_type else None,
                    training=cost,
                    deploy=None,
                    evaluate=None,
                    request_tokens=None,
                ).to_dict()
                if cost
                else None
            ),
        }
        if media is not None:
            document["media"] = media.to_dict()
        if risk is not None:
            document["risk"] = risk
        return cls(document)

    @property
    def valid(self) -> bool:
        return bool(self.document["valid"])

    def to_json(self) -> bytes:
        """The report document: sorted keys, two-space indent, the same bytes for the same input."""
        return orjson.dumps(self.document, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2)

    def render_text(self) -> str:
        """The same report for a person."""
        d = self.document
        request = d["request"]
        lines = [
            f"{'VALID' if d['valid'] else 'INVALID'}: {request['model_name'] or request['model_id']}, "
            f"{request['customization_type'] or '?'}"
            + (f", format {request['data_format']}" if request["data_format"] else ""),
        ]
        for name in ("training", "validation"):
            summary = d["files"][name]
            if summary:
                t = summary["tokens"]
                lines.append(
                    f"  {name}: {summary['records']:,} records, {summary['bytes']:,} bytes, "
                    f"tokens (estimated, high) total {t['total']:,}, max {t['max']:,}, p95 {t['p95']:,}"
                )
        media = d.get("media")
        if media:
            looked_up = (
                f", {media['checked']:,} objects checked, {media['bytes']:,} bytes"
                if media["checked"] is not None
                else ", objects not checked"
            )
            lines.append(
                f"  media: {media['images']:,} images, {media['videos']:,} videos{looked_up}"
            )
        if d.get("estimate"):
            lines.append("  cost estimate (tokens err high; a deployment adds to it):")
            lines.extend(f"    {line}" for line in Estimate.from_dict(d["estimate"]).lines())
        if d.get("risk"):
            lines.extend(render_lines(d["risk"]))
        for kind in ("errors", "warnings"):
            count = d[f"{kind[:-1]}_count"]
            if not count:
                continue
            shown = len(d[kind])
            more = f" (first {shown} shown)" if shown < count else ""
            noun = kind if count != 1 else kind[:-1]
            lines.append(f"{count:,} {noun}{more}:")
            for f in d[kind]:
                where = f["file"] if f["line"] is None else f"{f['file']}:{f['line']}"
                field = f" [{f['field']}]" if f["field"] else ""
                lines.append(f"  {where}: {f['code']}{field}: {f['message']}")
        return "\n".join(lines)
