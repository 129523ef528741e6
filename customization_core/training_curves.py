"""The loss and reward curves of a run, read from the metrics CSVs Bedrock writes, and their diagnosis.

Fine-tuning jobs write, under the job's output prefix (page
https://docs.aws.amazon.com/bedrock/latest/userguide/model-customization-analyze.html,
read 2026-12-02), ``training_artifacts/step_wise_training_metrics.csv`` with the columns
``step_number`` (from 0), ``epoch_number``, ``training_loss`` and ``perplexity``, and
``validation_artifacts/post_fine_tuning_validation/validation/validation_metrics.csv`` with
``validation_loss`` in place of ``training_loss``. RFT jobs report rewards by the metric
names of page rft-submit-job ("Monitor your RFT training job", read 2026-12-02) and name no
file, so every CSV is read and every column whose name holds "reward" becomes a reward curve.

Files are read leniently: a missing column drops its curve, a blank or non-numeric cell drops
its point, extra columns are ignored. Per-epoch means are taken from every row before the
points are thinned to at most ``MAX_POINTS`` per curve for the charts.

Epochs: the files may number epochs from 0 or from 1. The training file always has rows of
its first epoch, so its lowest epoch number says which: 0, and file epoch ``e`` is epoch
``e + 1``; otherwise the file counts from 1. (The last epoch cannot say it: a job that
stopped early, earlyStoppingPatience, ends before ``epochCount``.) Every epoch this module reports counts from 1, like
``epochCount``: "after epoch 2" means ``epochCount=2`` would have stopped there.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

Point = tuple[float, float]  # (step, value)

STEP_COLUMNS: Final = ("step_number", "step", "global_step")  # the first present is the x axis
EPOCH_COLUMN: Final = "epoch_number"
TRAINING_LOSS_COLUMN: Final = "training_loss"
VALIDATION_LOSS_COLUMN: Final = "validation_loss"
REWARD_MARK: Final = "reward"  # e.g. critic/rewards/mean, val-score/rewards/mean@1
MAX_POINTS: Final = 500  # per curve: enough for a 600 px wide chart, small enough for the page
RISE_FRACTION: Final = 0.02  # validation's last epoch must exceed its minimum by more than 2 %


@dataclass(frozen=True)
class Curves:
    """The curves of one run: thinned points for the charts, exact per-epoch means for diagnosis.

    ``training_epochs``/``validation_epochs`` map the file's epoch number (as written) to the
    mean loss of that epoch's rows; ``rewards`` maps each reward column to its points.
    """

    training_loss: tuple[Point, ...] = ()
    validation_loss: tuple[Point, ...] = ()
    rewards: Mapping[str, tuple[Point, ...]] = field(default_factory=dict)
    training_epochs: Mapping[int, float] = field(default_factory=dict)
    validation_epochs: Mapping[int, float] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.training_loss or self.validation_loss or self.rewards)


@dataclass(frozen=True)
class Diagnosis:
    """Validation loss turned upward while training loss kept falling (overfitting).

    ``turned_after_epoch`` counts from 1 and equals the ``epoch_count`` that would have
    stopped at the lowest validation loss.
    """

    turned_after_epoch: int
    epoch_count: int
    best_validation_loss: float
    last_validation_loss: float
    sentence: str


def curves_from_files(files: Mapping[str, str]) -> Curves:
    """The curves in ``files`` (key relative to the output prefix -> CSV text), in key order.

    A column found in several files is taken from the first file (by key) that has a value.
    """
    series: dict[str, list[Point]] = {}
    epochs: dict[str, dict[int, float]] = {}
    for key in sorted(files):
        if not key.lower().endswith(".csv"):
            continue
        for column, (points, means) in _read(files[key]).items():
            if column not in series and points:
                series[column] = points
                epochs[column] = means
    rewards = {
        name: downsample(points) for name, points in sorted(series.items()) if REWARD_MARK in name
    }
    return Curves(
        training_loss=downsample(series.get(TRAINING_LOSS_COLUMN, [])),
        validation_loss=downsample(series.get(VALIDATION_LOSS_COLUMN, [])),
        rewards=rewards,
        training_epochs=epochs.get(TRAINING_LOSS_COLUMN, {}),
        validation_epochs=epochs.get(VALIDATION_LOSS_COLUMN, {}),
    )


def _read(text: str) -> dict[str, tuple[list[Point], dict[int, float]]]:
    """Each curve column of one CSV: its points and its per-epoch means (empty without epochs)."""
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in reader.fieldnames or []]
    wanted = [
        name
        for name in header
        if name in (TRAINING_LOSS_COLUMN, VALIDATION_LOSS_COLUMN) or REWARD_MARK in name
    ]
    step_column = next((name for name in STEP_COLUMNS if name in header), None)
    points: dict[str, list[Point]] = defaultdict(list)
    sums: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for index, raw in enumerate(reader):
        row = {(name or "").strip(): value for name, value in raw.items()}
        step = _number(row.get(step_column)) if step_column else float(index)
        if step is None:
            step = float(index)
        epoch = _number(row.get(EPOCH_COLUMN))
        for name in wanted:
            value = _number(row.get(name))
            if value is None:
                continue
            points[name].append((step, value))
            if epoch is not None:
                sums[name][int(epoch)].append(value)
    return {
        name: (points[name], {e: sum(v) / len(v) for e, v in sorted(sums[name].items())})
        for name in wanted
    }


def _number(cell: str | list[str] | None) -> float | None:
    """A cell's finite number, or None (blank, missing, non-numeric, NaN or infinite)."""
    if not isinstance(cell, str) or not cell.strip():
        return None
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def downsample(points: Sequence[Point], limit: int = MAX_POINTS) -> tuple[Point, ...]:
    """At most ``limit`` points, in order: the first, the last, and each bucket's min and max.

    Keeping each bucket's extremes keeps spikes visible that an every-n-th pick would drop.
    """
    if len(points) <= limit:
        return tuple(points)
    buckets = max((limit - 2) // 2, 1)
    size = (len(points) - 2) / buckets
    keep = {0, len(points) - 1}
    for bucket in range(buckets):
        start = 1 + int(bucket * size)
        end = max(1 + int((bucket + 1) * size), start + 1)
        indices = range(start, min(end, len(points) - 1))
        if indices:
            keep.add(min(indices, key=lambda i: points[i][1]))
            keep.add(max(indices, key=lambda i: points[i][1]))
    return tuple(points[i] for i in sorted(keep))


def counts_from_zero(file_epochs: Sequence[int]) -> bool:
    """Whether the files number epochs from 0 (see the module docstring for the mapping)."""
    return bool(file_epochs) and min(file_epochs) == 0


def diagnose(curves: Curves) -> Diagnosis | None:
    """Overfitting, when validation loss rose while training loss kept falling; else None.

    Compares per-epoch means: validation's last epoch must exceed its lowest by more than
    ``RISE_FRACTION``, and training's last epoch must be below training's mean at the epoch
    where validation was lowest.
    """
    validation = curves.validation_epochs
    training = curves.training_epochs
    if len(validation) < 2 or len(training) < 2:
        return None
    best = min(validation, key=lambda e: (validation[e], e))
    last = max(validation)
    if best == last or validation[last] <= validation[best] * (1 + RISE_FRACTION):
        return None
    at_best = training.get(best, training[min(training)])
    if training[max(training)] >= at_best:
        return None
    shift = 1 if counts_from_zero(sorted(training)) else 0
    turned = best + shift
    if turned < 1:
        return None
    sentence = (
        f"Validation loss rose after epoch {turned} while training loss kept falling "
        f"(overfitting): epochCount={turned} would have stopped at its lowest validation loss "
        f"({validation[best]:.2f})."
    )
    return Diagnosis(
        turned_after_epoch=turned,
        epoch_count=turned,
        best_validation_loss=validation[best],
        last_validation_loss=validation[last],
        sentence=sentence,
    )
