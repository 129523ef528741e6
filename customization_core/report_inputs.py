"""Everything one run's report page shows, gathered before rendering (the page reads no clock)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from customization_core.eta import Eta
from customization_core.training_curves import Curves, Diagnosis, curves_from_files, diagnose


@dataclass(frozen=True)
class ReportInputs:
    """One run's registry item and the documents it produced; each may be absent.

    ``run``: the registry item as a dict; ``validation_report``: the validator's document
    (its optional ``risk`` key holds the data-risk scan); ``evaluation``: the evaluation
    document; ``generated_at``: when the page was made, printed in its header.
    """

    run: Mapping[str, Any]
    generated_at: datetime
    validation_report: Mapping[str, Any] | None = None
    evaluation: Mapping[str, Any] | None = None
    curves: Curves | None = None
    eta: Eta | None = None
    diagnosis: Diagnosis | None = None

    @classmethod
    def from_documents(
        cls,
        run: Mapping[str, Any],
        *,
        validation_report: bytes | None,
        evaluation: bytes | None,
        metrics_files: Mapping[str, str],
        eta: Eta | None,
        generated_at: datetime,
    ) -> ReportInputs:
        """The inputs from the stored documents (JSON bytes) and the metrics CSVs' text."""
        curves = curves_from_files(metrics_files) if metrics_files else None
        return cls(
            run=run,
            generated_at=generated_at,
            validation_report=_document(validation_report),
            evaluation=_document(evaluation),
            curves=curves if curves is not None and not curves.empty else None,
            eta=eta,
            diagnosis=diagnose(curves) if curves is not None else None,
        )


def _document(raw: bytes | None) -> Mapping[str, Any] | None:
    """A JSON object, or None when absent.

    A document that is not a JSON object counts as absent: the page is a view of the run and
    must render whatever one of its files holds.
    """
    if not raw:
        return None
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, dict) else None
