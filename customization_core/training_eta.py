"""A training job's estimated finish: made once when StartJob starts it, read by every view.

StartJob records ``training_eta`` (``started_at``, ``finish_at``, ``basis``) on the run;
``status``, ``show`` and the report page say it relative to their own clock (``eta_of``),
labelled as an estimate, and only while the job trains. GetModelCustomizationJob reports
the job's phase (statusDetails: validation, data processing, training, each with its times)
but no percentage or throughput, so the estimate does not move.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from customization_core.catalog import Catalog, load_catalog
from customization_core.contract import Status
from customization_core.eta import Eta, estimate_finish, eta_at, past_runs_from_items
from customization_core.registry import Registry

# The past runs the throughput is read from: the newest 200 SUCCEEDED runs of the stack
# (bounded so that StartJob's query is one page), of which those of the run's base model
# and customization type count.
HISTORY_RUNS: Final = 200
# A past run that trained fewer tokens (tokens x epochs) than this says more about the job's
# fixed start-up than about throughput: a smoke test of 3,000 tokens would make a real run's
# estimate hundreds of times too long.
MIN_HISTORY_TOKENS: Final = 100_000
LOGGER = logging.getLogger(__name__)


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
    customization_type: str | None = None,
    catalog: Catalog | None = None,
) -> dict[str, str] | None:
    """What StartJob records: when the job should finish, and from which throughput.

    None when the run's tokens are unknown, or the estimate cannot be made (it is a view:
    it never stops a job from starting).
    """
    if tokens <= 0:
        return None
    try:
        catalog = catalog or load_catalog()
        finished = [
            item
            for item in registry.by_status(Status.SUCCEEDED, newest_first=True, limit=HISTORY_RUNS)
            if customization_type is None or item.get("customization_type") == customization_type
        ]
        history = [
            run
            for run in past_runs_from_items(finished, model_id)
            if run.trained_tokens >= MIN_HISTORY_TOKENS
        ]
        eta = estimate_finish(
            started_at=started_at,
            tokens=tokens,
            epochs=epochs,
            history=history,
            default_tokens_per_hour=catalog.training_speed.tokens_per_hour,
            now=started_at,
        )
    except Exception:  # a throttled query, a finish past the calendar: no estimate, no failure
        LOGGER.warning("No training ETA for %s tokens x %s epochs", tokens, epochs, exc_info=True)
        return None
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
