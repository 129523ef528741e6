"""Try a grader before paying: its rewards on the references, on wrong answers, on samples.

Three sets of responses are graded for each record:

- ``reference``: the record's own reference answer, as text. A sound grader gives it
  full reward; many below full (``reference-below-full``) means its parameters are
  stricter than the data.
- ``mismatched``: the reference of another record (the next one, rotated). A grader that
  gives these the same reward as the references cannot tell right from wrong.
- ``responses``: sample responses, when given (``bedrock-customize grade --responses``).

Flags: ``constant`` (every reward of every set identical: the grader cannot teach),
``crashes`` (it raised on some record: that record lacks what it reads), and
``reference-below-full``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from customization_core.graders import ConfiguredGrader, GraderInputError, reference_text

BINS: Final = 10
MAX_LISTED: Final = 20  # failures listed; the rest are counted
BELOW_FULL_SHARE: Final = 0.1  # more references than this below full reward is flagged
NOT_AN_OBJECT: Final = "not-an-object"  # a failure that is the line's, not the grader's


@dataclass(frozen=True)
class RewardStats:
    count: int
    min: float
    mean: float
    max: float
    histogram: tuple[int, ...]  # bins [0, 0.1), ..., [0.9, 1.0]

    @classmethod
    def of(cls, rewards: list[float]) -> RewardStats:
        bins = [0] * BINS
        for reward in rewards:
            bins[min(BINS - 1, int(reward * BINS))] += 1
        if not rewards:
            return cls(0, 0.0, 0.0, 0.0, tuple(bins))
        low, high = min(rewards), max(rewards)
        # fsum, and kept within [min, max]: three equal rewards' mean is that reward, not 1 ulp off.
        mean = min(high, max(low, math.fsum(rewards) / len(rewards)))
        return cls(len(rewards), low, mean, high, tuple(bins))

    def to_json(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "min": round(self.min, 6),
            "mean": round(self.mean, 6),
            "max": round(self.max, 6),
            "histogram": list(self.histogram),
        }


@dataclass(frozen=True)
class Failure:
    line: int
    kind: str
    message: str


@dataclass(frozen=True)
class DryRun:
    sets: dict[str, RewardStats]
    failures: list[Failure]
    failure_count: int
    flags: tuple[str, ...]
    rewards: dict[str, list[float]] = field(repr=False, default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "sets": {name: stats.to_json() for name, stats in self.sets.items()},
            "failures": [
                {"line": f.line, "kind": f.kind, "message": f.message} for f in self.failures
            ],
            "failure_count": self.failure_count,
            "flags": list(self.flags),
        }


def dry_run(
    records: Iterable[tuple[int, Mapping[str, Any] | object]],
    grader: ConfiguredGrader,
    responses: Mapping[int, str] | None = None,
    *,
    limit: int | None = None,
) -> DryRun:
    """Grade the references, the mismatched answers and ``responses`` (by line) of ``records``."""
    chosen: list[tuple[int, Mapping[str, Any] | object]] = []
    for item in records:
        if limit is not None and len(chosen) >= limit:
            break
        chosen.append(item)
    rewards: dict[str, list[float]] = {"reference": [], "mismatched": []}
    if responses is not None:
        rewards["responses"] = []
    failures: list[Failure] = []
    failed_lines: set[int] = set()

    def grade(line: int, response: str, record: Mapping[str, Any], into: str) -> None:
        try:
            rewards[into].append(grader.grade(response, record))
        except GraderInputError as problem:
            _fail(failures, failed_lines, Failure(line, "missing-input", str(problem)))
        except Exception as problem:  # a grader's bug is reported with its record, never raised
            _fail(
                failures,
                failed_lines,
                Failure(line, type(problem).__name__, str(problem) or type(problem).__name__),
            )

    objects: list[tuple[int, Mapping[str, Any]]] = []
    for line, record in chosen:
        if isinstance(record, Mapping):
            objects.append((line, record))
        else:
            kind = type(record).__name__
            _fail(failures, failed_lines, Failure(line, NOT_AN_OBJECT, f"the record is {kind}"))
    for index, (line, record) in enumerate(objects):
        reference = record.get("reference_answer")
        grade(line, "" if reference is None else reference_text(reference), record, "reference")
        other = _other_reference(objects, index)
        if other is not None:  # the control: a wrong answer, another record's reference
            grade(line, other, record, "mismatched")
        if responses is not None and line in responses:
            grade(line, responses[line], record, "responses")
    failures.sort(key=lambda failure: failure.line)
    every = [reward for values in rewards.values() for reward in values]
    flags: list[str] = []
    if len(every) > 1 and max(every) == min(every):
        flags.append("constant")
    if any(failure.kind != NOT_AN_OBJECT for failure in failures):
        flags.append("crashes")
    references = rewards["reference"]
    below = sum(1 for reward in references if reward < 1.0)
    if references and below / len(references) > BELOW_FULL_SHARE:
        flags.append("reference-below-full")
    return DryRun(
        sets={name: RewardStats.of(values) for name, values in rewards.items()},
        failures=failures[:MAX_LISTED],
        failure_count=len(failed_lines),
        flags=tuple(flags),
        rewards=rewards,
    )


def _other_reference(objects: list[tuple[int, Mapping[str, Any]]], index: int) -> str | None:
    """The next record's reference (rotating) that differs from this one's, or None.

    A reference equal to this record's is no wrong answer: with every record sharing one
    label, there is no control, rather than a control that looks like a constant grader.
    """
    own = _text_of(objects[index][1].get("reference_answer"))
    for step in range(1, len(objects)):
        other = _text_of(objects[(index + step) % len(objects)][1].get("reference_answer"))
        if other != own:
            return other
    return None


def _text_of(reference: object) -> str:
    return "" if reference is None else reference_text(reference)


def _fail(failures: list[Failure], lines: set[int], failure: Failure) -> None:
    if failure.line not in lines:
        lines.add(failure.line)
        failures.append(failure)


class ResponsesError(ValueError):
    """A --responses file that cannot be read; the message names the line."""


def read_responses(path: Path | Iterable[str]) -> dict[int, str]:
    """A responses JSONL: {"response": ...} per line in FILE's order, or with "line" or "id"."""
    lines = path.read_text(encoding="utf-8").splitlines() if isinstance(path, Path) else path
    found: dict[int, str] = {}
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            item = json.loads(text)
        except ValueError as problem:
            raise ResponsesError(f"line {number} is not JSON ({problem})") from None
        if not isinstance(item, dict) or not isinstance(item.get("response"), str):
            raise ResponsesError(
                f'line {number} must be an object with a "response" string, e.g. {{"response": "42"}}'
            )
        key = "line" if "line" in item else "id"  # either names the record's line in FILE
        at = item.get(key, number)
        if isinstance(at, bool) or not isinstance(at, int) or at < 1:
            raise ResponsesError(f'line {number}: "{key}" must be a record\'s line number from 1')
        found[at] = item["response"]
    return found
