"""A training job's estimated finish: made once when StartJob starts it, read by every view.

StartJob records ``training_eta`` (``started_at``, ``finish_at``, ``basis``) on the run;
``status``, ``show`` and the report page say it relative to their own clock (``eta_of``),
labelled as an estimate, and only while the job trains. Bedrock reports no progress
(GetModelCustomizationJob has no percentage), so the estimate does not move.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from customization_core.catalog import Catalog, load_catalog
from customization_core.contract import Status
from customization_core.eta import Eta, estimate_finish, eta_at, past_runs_from_items
from customization_core.registry import Registry

# The past runs the throughput is read from: the newest finished runs of the stack (any
# model; those of the run's base model are used). Bounded so that StartJob's query is one page.
HISTORY_RUNS: Final = 200


def trained_epochs(hyperparameters: Mapping[str, str]) -> int:
    """The epochs a job trains: the effective ``epochCount`` (1 for a type without one)."""
    try:
        return max(1, int(str(hyperparameters.get("epochCount") or 1)))
    except ValueError:
        return 1


def training_eta(
    *,
    model_id: str,
    tokens: int,
    epochs: int,
    registry: Registry,
    started_at: datetime,
    catalog: Catalog | None = None,
) -> dict[str, str]:
    """What StartJob records: when the job should finish, and from which throughput."""
    catalog = catalog or load_catalog()
    finished = registry.by_status(Status.SUCCEEDED, newest_first=True, limit=HISTORY_RUNS)
    eta = estimate_finish(
        started_at=started_at,
        tokens=tokens,
        epochs=epochs,
        history=past_runs_from_items(finished, model_id),
        default_tokens_per_hour=catalog.training_speed.tokens_per_hour,
        now=started_at,
    )
    return {
        "started_at": _iso(started_at),
        "finish_at": _iso(eta.finish_at),
        "basis": eta.basis,
    }


def eta_of(item: Mapping[str, Any], *, now: datetime) -> Eta | None:
    """The estimated finish of a run whose job trains now (None: not training, or no estimate)."""
    recorded = item.get("training_eta")
    if item.get("status") != Status.TRAINING or not isinstance(recorded, Mapping):
        return None
    try:
        finish_at = datetime.fromisoformat(str(recorded["finish_at"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return None
    return eta_at(finish_at, str(recorded.get("basis") or "no basis recorded"), now=now)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
