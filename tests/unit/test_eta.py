"""The estimated finish of a training job: past runs' median throughput, or the default."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from customization_core.eta import PastRun, estimate_finish, eta_at, past_runs_from_items

MODEL = "amazon.nova-lite-v1:0:300k"
START = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
HOUR = 3600


def _item(**overrides: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "status": "SUCCEEDED",
        "model_id": MODEL,
        "tokens": 500_000,
        "effective_hyperparameters": {"epochCount": "2"},
        "metrics": {"duration_seconds": 3600},
    }
    item.update(overrides)
    return item


def test_history_gives_the_median_throughput() -> None:
    # Given three past runs at 1M, 2M and 4M trained tokens per hour
    history = [
        PastRun(1_000_000, HOUR, MODEL),
        PastRun(4_000_000, HOUR, MODEL),
        PastRun(2_000_000, HOUR, MODEL),
    ]
    # When a job of 1M tokens x 3 epochs is estimated, half an hour after it started
    eta = estimate_finish(
        started_at=START,
        tokens=1_000_000,
        epochs=3,
        history=history,
        default_tokens_per_hour=100.0,
        now=START + timedelta(minutes=30),
    )
    # Then it trains 3M tokens at the median 2M/h: 1.5 h, 1 h of which is left
    assert eta.finish_at == START + timedelta(hours=1.5)
    assert eta.remaining_seconds == pytest.approx(HOUR)
    assert eta.basis == "3 past runs of this model, median 2.0M tokens/h"
    assert not eta.overdue
    assert "estimate" in eta.label.lower()
    assert "1 h 0 min left" in eta.label


def test_without_history_the_default_is_used_and_said() -> None:
    eta = estimate_finish(
        started_at=START,
        tokens=600_000,
        epochs=2,
        history=[],
        default_tokens_per_hour=1_200_000.0,
        now=START,
    )
    assert eta.finish_at == START + timedelta(hours=1)
    assert eta.basis == "catalog default 1.2M tokens/h, no past runs"
    assert "estimate" in eta.label.lower()


def test_past_its_finish_it_is_overdue_not_negative() -> None:
    # Given a job estimated to take an hour, looked at two hours after it started
    eta = estimate_finish(
        started_at=START,
        tokens=1_000_000,
        epochs=1,
        history=[PastRun(1_000_000, HOUR, MODEL)],
        default_tokens_per_hour=1.0,
        now=START + timedelta(hours=2),
    )
    # Then it is overdue by an hour, with no negative time left
    assert eta.overdue
    assert eta.remaining_seconds == 0
    assert eta.label.startswith("Overdue")
    assert "1 h 0 min ago" in eta.label
    assert "-" not in eta.label.split("UTC", 1)[1]
    assert "estimate" in eta.label.lower()


def test_a_recorded_finish_is_said_relative_to_the_viewers_clock() -> None:
    finish = START + timedelta(minutes=90)
    before = eta_at(finish, "1 past run of this model, median 1.0M tokens/h", now=START)
    after = eta_at(finish, "x", now=finish + timedelta(seconds=1))
    assert before.remaining_seconds == 90 * 60
    assert "about 1 h 30 min left" in before.label
    assert after.overdue


def test_a_non_positive_default_is_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        estimate_finish(
            started_at=START, tokens=1, epochs=1, history=[], default_tokens_per_hour=0, now=START
        )


def test_past_runs_are_the_succeeded_runs_of_the_model_with_a_throughput() -> None:
    # Given registry items: one usable, and one each of the wrong status, model, or missing facts
    items = [
        _item(),
        _item(tokens=Decimal("250000"), metrics={"duration_seconds": Decimal("1800")}),
        _item(status="FAILED"),
        _item(model_id="other-model"),
        _item(tokens=None),
        _item(effective_hyperparameters={"epochCount": "two"}),
        _item(effective_hyperparameters={}),
        _item(metrics={"duration_seconds": 0}),
        _item(metrics={}),
    ]
    # When the past runs of MODEL are read
    runs = past_runs_from_items(items, MODEL)
    # Then the two usable items remain, their trained tokens being tokens x epochs
    assert runs == [
        PastRun(1_000_000, 3600.0, MODEL),
        PastRun(500_000, 1800.0, MODEL),
    ]
    assert [run.tokens_per_hour for run in runs] == [1_000_000, 1_000_000]
