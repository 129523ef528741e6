"""When a training job should finish: trained tokens over the throughput of past runs.

The throughput is the median, over past SUCCEEDED runs of the same base model, of trained
tokens (dataset tokens x epochs) per hour of job; with no such run it is the caller's
default (the catalog's). Every label says it is an estimate, and a job past its estimated
finish is "overdue", never a negative time left.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from customization_core.contract import Status

SECONDS_PER_HOUR: Final = 3600  # s/h


@dataclass(frozen=True)
class PastRun:
    """One finished run: the tokens it trained (dataset tokens x epochs) and how long it took."""

    trained_tokens: int
    duration_seconds: float
    model_id: str

    @property
    def tokens_per_hour(self) -> float:
        return self.trained_tokens * SECONDS_PER_HOUR / self.duration_seconds


@dataclass(frozen=True)
class Eta:
    """An estimated finish; ``overdue`` once ``now`` is past it (``remaining_seconds`` is then 0)."""

    finish_at: datetime
    remaining_seconds: float
    basis: str
    label: str
    overdue: bool


def estimate_finish(
    *,
    started_at: datetime,
    tokens: int,
    epochs: int,
    history: Sequence[PastRun],
    default_tokens_per_hour: float,
    now: datetime,
) -> Eta:
    """The finish of a job that started at ``started_at`` training ``tokens`` x ``epochs``.

    ``history``: past runs of the same base model (``past_runs_from_items`` selects them).
    """
    if default_tokens_per_hour <= 0:
        raise ValueError(f"default_tokens_per_hour must be positive, not {default_tokens_per_hour}")
    usable = [run for run in history if run.trained_tokens > 0 and run.duration_seconds > 0]
    if usable:
        rate = statistics.median(run.tokens_per_hour for run in usable)
        runs = "1 past run" if len(usable) == 1 else f"{len(usable)} past runs"
        basis = f"{runs} of this model, median {_tokens(rate)} tokens/h"
    else:
        rate = default_tokens_per_hour
        basis = f"catalog default {_tokens(rate)} tokens/h, no past runs"
    seconds = max(tokens, 0) * max(epochs, 0) * SECONDS_PER_HOUR / rate
    return eta_at(started_at + timedelta(seconds=seconds), basis, now=now)


def eta_at(finish_at: datetime, basis: str, *, now: datetime) -> Eta:
    """An estimated finish said relative to ``now``: time left, or overdue once past it.

    Used for a finish recorded earlier (StartJob's), so that each view says it by its own clock.
    """
    remaining = (finish_at - now).total_seconds()
    clock = finish_at.strftime("%Y-%m-%d %H:%M %Z").strip()
    if remaining < 0:
        label = (
            f"Overdue: estimated to finish by {clock}, {duration(-remaining)} ago "
            f"(estimate from {basis})."
        )
    else:
        label = (
            f"Estimated finish {clock}, about {duration(remaining)} left (estimate from {basis})."
        )
    return Eta(
        finish_at=finish_at,
        remaining_seconds=max(remaining, 0.0),
        basis=basis,
        label=label,
        overdue=remaining < 0,
    )


def past_runs_from_items(items: Iterable[Mapping[str, Any]], model_id: str) -> list[PastRun]:
    """The SUCCEEDED registry items of ``model_id`` that say how many tokens they trained, how fast.

    An item lacking tokens, a numeric ``effective_hyperparameters.epochCount`` (a string) or
    a positive ``metrics.duration_seconds`` is skipped: it cannot give a throughput.
    """
    found = []
    for item in items:
        if item.get("status") != Status.SUCCEEDED or item.get("model_id") != model_id:
            continue
        tokens = _integer(item.get("tokens"))
        epochs = _integer((item.get("effective_hyperparameters") or {}).get("epochCount"))
        seconds = _positive((item.get("metrics") or {}).get("duration_seconds"))
        if tokens and epochs and seconds:
            found.append(PastRun(tokens * epochs, seconds, model_id))
    return found


def _integer(value: Any) -> int | None:
    """A positive integer from a registry value (a number, a numeric string or a Decimal)."""
    try:
        exact = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not exact.is_finite() or exact != exact.to_integral_value() or exact <= 0:
        return None
    return int(exact)


def _positive(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _tokens(count: float) -> str:
    """1.2M, 850k, 900: a token count at a glance."""
    if count >= 1_000_000:
        return f"{count / 1_000_000:.1f}M"
    if count >= 1_000:
        return f"{count / 1_000:.0f}k"
    return f"{count:.0f}"


def duration(seconds: float) -> str:
    """2 h 5 min, 12 min, 40 s: a span at a glance."""
    whole = round(seconds)
    hours, rest = divmod(whole, SECONDS_PER_HOUR)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"
