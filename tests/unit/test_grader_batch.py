"""Bedrock's grader contract: the samples it sends in, the reward list the grader answers."""

from __future__ import annotations

from typing import Any

import pytest

from customization_core.grader_batch import GraderEventError, fields_of, grade_batch
from customization_core.graders import configure


def _sample(sample_id: str, answer: Any, reference: Any, *, under_metadata: bool = True) -> Any:
    """A sample as Bedrock sends it: the record's messages, the response last, an id."""
    sample: dict[str, Any] = {
        "id": sample_id,
        "messages": [
            {"role": "user", "content": "What is 6 * 7?"},
            {"role": "assistant", "content": answer},
        ],
    }
    fields = {"reference_answer": reference, "my_key": "sample-001"}
    if under_metadata:
        sample["metadata"] = fields
    else:
        sample.update(fields)
    return sample


def test_each_sample_gets_its_id_its_reward_and_one_reward_metric() -> None:
    # Given two samples, one right and one wrong, in the Bedrock page's shape (metadata)
    event = [_sample("a", "It is 42.", "42"), _sample("b", "It is 40.", "42")]
    # When the numeric grader answers
    answers = grade_batch(event, configure("numeric", {}))
    # Then one entry per sample, in order, with the contract's keys
    assert answers == [
        {
            "id": "a",
            "aggregate_reward_score": 1.0,
            "metrics_list": [{"name": "numeric", "value": 1.0, "type": "Reward"}],
        },
        {
            "id": "b",
            "aggregate_reward_score": 0.0,
            "metrics_list": [{"name": "numeric", "value": 0.0, "type": "Reward"}],
        },
    ]


def test_fields_at_the_top_level_and_content_blocks_are_read_too() -> None:
    # SageMaker's page puts reference_answer at the top; content may be a list of text blocks
    sample = _sample("c", [{"text": "The answer "}, {"text": "is 42"}], 42, under_metadata=False)
    [answer] = grade_batch([sample], configure("numeric", {}))
    assert answer["aggregate_reward_score"] == 1.0
    assert fields_of(sample)["my_key"] == "sample-001"
    assert "messages" not in fields_of(sample)


def test_a_weighted_grader_reports_each_component_as_a_metric() -> None:
    grader = configure(
        "weighted",
        {
            "components": [
                {"name": "numeric", "params": {}, "weight": 3},
                {"name": "regex", "params": {"pattern": r"^\d+$"}, "weight": 1},
            ]
        },
    )
    [answer] = grade_batch([_sample("d", "It is 42", "42")], grader)
    assert answer["aggregate_reward_score"] == pytest.approx(0.75)
    metrics = answer["metrics_list"]
    assert metrics[0] == {"name": "weighted", "value": pytest.approx(0.75), "type": "Reward"}
    assert [(m["value"], m["type"]) for m in metrics[1:]] == [(1.0, "Metric"), (0.0, "Metric")]
    assert len({m["name"] for m in metrics}) == 3


def test_a_sample_the_grader_cannot_read_scores_0_and_is_told_without_stopping_the_batch() -> None:
    skipped: list[tuple[object, str]] = []
    event = [
        {"id": "e", "messages": [{"role": "assistant", "content": "42"}]},  # no reference
        _sample("f", "42", "42"),
    ]
    answers = grade_batch(
        event, configure("numeric", {}), on_skip=lambda i, why: skipped.append((i, why))
    )
    assert [a["aggregate_reward_score"] for a in answers] == [0.0, 1.0]
    assert [sample_id for sample_id, _ in skipped] == ["e"]
    assert "reference_answer" in skipped[0][1]


def test_a_sample_without_an_assistant_turn_scores_0() -> None:
    sample = {"id": "g", "messages": [{"role": "user", "content": "42"}], "reference_answer": 42}
    [answer] = grade_batch([sample], configure("numeric", {}))
    assert answer["aggregate_reward_score"] == 0.0


@pytest.mark.parametrize("event", [{"id": "1"}, "samples", None, [["not", "an", "object"]]])
def test_an_event_that_is_not_a_list_of_samples_is_refused(event: object) -> None:
    with pytest.raises(GraderEventError):
        grade_batch(event, configure("exact", {}))


def test_an_empty_batch_is_an_empty_answer() -> None:
    assert grade_batch([], configure("exact", {})) == []
