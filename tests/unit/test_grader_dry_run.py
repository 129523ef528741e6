"""The grader dry run: reward spreads per set, the records a grader cannot grade, and its flags."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from customization_core.grader_dry_run import (
    MAX_LISTED,
    ResponsesError,
    RewardStats,
    dry_run,
    read_responses,
)
from customization_core.graders import configure


def _records(answers: list[Any]) -> list[tuple[int, Any]]:
    """Given records by line number, each a question whose reference is the answer given."""
    return [
        (line, {"messages": [{"role": "user", "content": "?"}], "reference_answer": answer})
        for line, answer in enumerate(answers, start=1)
    ]


def test_a_sound_grader_gives_references_full_reward_and_the_control_none() -> None:
    # Given distinct numeric answers, When the numeric grader is tried
    result = dry_run(_records(["3", "14", "15", "92"]), configure("numeric", {}))
    # Then every reference scores 1, every mismatched answer 0, and nothing is flagged
    assert result.sets["reference"] == RewardStats(4, 1.0, 1.0, 1.0, (0,) * 9 + (4,))
    assert result.sets["mismatched"].max == 0.0
    assert result.sets["mismatched"].histogram[0] == 4
    assert "responses" not in result.sets
    assert result.flags == ()
    assert result.failure_count == 0


def test_a_pattern_that_matches_anything_is_flagged_constant() -> None:
    result = dry_run(_records(["1", "2", "3"]), configure("regex", {"pattern": ".*"}))
    assert result.flags == ("constant",)
    assert result.sets["mismatched"].min == 1.0


def test_records_without_a_reference_are_crashes_with_their_lines() -> None:
    # Given lines 2 and 4 without a reference_answer
    records = _records(["1", None, "3", None, "5"])
    for line in (2, 4):
        del records[line - 1][1]["reference_answer"]
    result = dry_run(records, configure("exact", {}))
    assert "crashes" in result.flags
    assert [(f.line, f.kind) for f in result.failures] == [
        (2, "missing-input"),
        (4, "missing-input"),
    ]
    assert result.failure_count == 2
    # The others are still graded
    assert result.sets["reference"].count == 3


def test_a_field_every_record_lacks_crashes_on_every_line() -> None:
    result = dry_run(_records([{"value": 1}, {"value": 2}]), configure("numeric", {"field": "x"}))
    assert {f.line for f in result.failures} == {1, 2}
    assert result.sets["reference"].count == 0
    assert "crashes" in result.flags


def test_references_below_full_reward_are_flagged() -> None:
    # Given a grader that wants digits and references half of which are words
    grader = configure("regex", {"pattern": r"\d+", "mode": "fullmatch"})
    result = dry_run(_records(["12", "thirteen", "fourteen", "15"]), grader)
    assert "reference-below-full" in result.flags
    assert result.sets["reference"].mean == 0.5


def test_one_reference_in_ten_below_full_is_tolerated() -> None:
    answers = [str(n) for n in range(9)] + ["ten"]
    result = dry_run(_records(answers), configure("regex", {"pattern": r"\d", "mode": "fullmatch"}))
    assert "reference-below-full" not in result.flags


def test_records_that_are_not_objects_are_failures_but_not_crashes() -> None:
    records: list[tuple[int, Any]] = [*_records(["1", "2"]), (3, [1, 2]), (4, "text")]
    result = dry_run(records, configure("numeric", {}))
    assert [(f.line, f.kind) for f in result.failures] == [
        (3, "not-an-object"),
        (4, "not-an-object"),
    ]
    assert "crashes" not in result.flags
    # The control pairs the objects only: 1 with 2 and 2 with 1
    assert result.sets["mismatched"].count == 2


def test_failures_are_listed_up_to_the_cap_and_all_counted() -> None:
    records: list[tuple[int, Any]] = [(line, {"messages": []}) for line in range(1, 31)]
    result = dry_run(records, configure("exact", {}))
    assert len(result.failures) == MAX_LISTED
    assert result.failure_count == 30
    assert result.to_json()["failure_count"] == 30


def test_responses_are_graded_by_line_and_the_limit_stops_early() -> None:
    records = _records(["10", "20", "30", "40"])
    responses = {1: "it is 10", 2: "maybe 21", 4: "40"}
    result = dry_run(records, configure("numeric", {}), responses, limit=3)
    # Line 4 is past the limit; line 3 has no response
    assert result.sets["responses"].count == 2
    assert result.sets["responses"].mean == 0.5
    assert result.sets["reference"].count == 3


def test_the_document_is_json_ready() -> None:
    document = dry_run(_records(["a", "b"]), configure("exact", {})).to_json()
    assert set(document) == {"sets", "failures", "failure_count", "flags"}
    assert document["sets"]["reference"]["histogram"] == [0] * 9 + [2]
    assert document["flags"] == []


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=50))
def test_every_reward_lands_in_one_of_ten_bins(rewards: list[float]) -> None:
    stats = RewardStats.of(rewards)
    assert len(stats.histogram) == 10
    assert sum(stats.histogram) == len(rewards)
    assert stats.min <= stats.mean <= stats.max
    # Full reward is in the last bin
    assert stats.histogram[9] >= rewards.count(1.0)


def test_responses_files_name_their_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "responses.jsonl"
    path.write_text('{"response": "1"}\n\n{"line": 7, "response": "2"}\n', encoding="utf-8")
    assert read_responses(path) == {1: "1", 7: "2"}
    assert read_responses(['{"id": 4, "response": "x"}']) == {4: "x"}
    for text, line in (
        ('{"response": 3}', 1),
        ('{"response": "x"}\n{oops', 2),
        ('{"response": "x"}\n{"id": "two", "response": "y"}', 2),
    ):
        with pytest.raises(ResponsesError, match=f"line {line}"):
            read_responses(text.splitlines())
