"""ValidateDataset's try of an RFT run's built-in grader on a sample, before the job is paid for.

The same dry run as ``bedrock-customize grade`` (customization_core/grader_dry_run.py) on the
first ``SAMPLE_RECORDS`` records: a grader that crashes on some records would fail the
job's batches, so the run is refused with what to fix; one that gives every answer the
same reward is flagged (a warning on the run and in its notice), as only sample answers
can show whether it tells a model's answers apart. A user's own grader is not run here (it is
their function, invoked by Bedrock only); the run says so.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Final

from customization_core.grader_dry_run import dry_run
from customization_core.graders import configure

SAMPLE_RECORDS: Final = 200
# Flags that refuse the run, and the sentence that says what to do about each. A grader
# that fails on records would fail Bedrock's batches; one that scores the references and
# the wrong answers alike may still tell a model's answers apart (a format check with no
# {reference}), which only sample responses show: a warning, with how to look.
REFUSING: Final = {
    "crashes": "the grader fails on some records: give them what it reads "
    "(reference_answer, and the fields its parameters name), or change its parameters",
}
WARNING: Final = {
    "constant": "the grader gives the references and other records' answers the same "
    "reward; unless it judges something a reference does not show (a format), it cannot "
    "teach: try it on sample answers with `bedrock-customize grade FILE --grader NAME "
    "--responses ANSWERS.jsonl`",
    "reference-below-full": "the grader gives less than full reward to many reference "
    "answers themselves: its parameters may be stricter than the data",
}


@dataclass
class GraderTry:
    """What the dry run found: refusals (sentences), warnings, and the summary recorded."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)


def try_grader(lines: Iterable[bytes], grader: Mapping[str, Any]) -> GraderTry:
    """Run the built-in ``grader`` (as a run records it) on the first records of ``lines``."""
    if grader.get("kind") != "builtin":
        return GraderTry(
            warnings=[
                "The grader is your own function: it was not tried here (Bedrock invokes it "
                "during training). Try its logic locally first."
            ]
        )
    configured = configure(str(grader["name"]), grader.get("params") or {})
    result = dry_run(_records(islice(lines, SAMPLE_RECORDS)), configured)
    graded = result.sets["reference"].count + result.failure_count
    found = GraderTry(summary={"records": graded, **result.to_json()})
    name = f"The grader {configured.name} ({configured.config_id()})"
    for flag in result.flags:
        if flag in REFUSING:
            found.errors.append(f"{name} on the first {SAMPLE_RECORDS} records: {REFUSING[flag]}.")
        elif flag in WARNING:
            found.warnings.append(f"{name}: {WARNING[flag]}.")
    return found


def _records(lines: Iterable[bytes]) -> Iterator[tuple[int, Mapping[str, Any]]]:
    for number, line in enumerate(lines, start=1):
        try:
            record = json.loads(line)
        except ValueError:
            continue  # the validator has reported it
        if isinstance(record, dict):
            yield number, record
