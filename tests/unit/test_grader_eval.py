"""An RFT run's evaluation is decided by its grader's rewards, not by ROUGE-L."""

from __future__ import annotations

from typing import Any

from customization_core.evaluation import report, summary
from customization_core.grader_eval import graded_verdict

NUMERIC = {"kind": "builtin", "name": "numeric", "params": {"tolerance": 0.5}}


def _document(samples: list[dict[str, Any]]) -> dict[str, Any]:
    return report(samples, base_model="base", custom_model="custom", min_improvement=0.0)


def test_right_numbers_in_other_words_promote_the_custom_model() -> None:
    samples = [
        {
            "prompt": "2+2?",
            "reference": "4",
            "base": "It is five.",
            "custom": "That makes 4 in all",
        },
        {"prompt": "3+3?", "reference": "6", "base": "7", "custom": "So the total is 6."},
    ]
    document = _document(samples)
    graded_verdict(document, NUMERIC, min_improvement=0.0)
    assert document["overall"]["reward"] == {"base": 0.0, "custom": 1.0, "grader": "numeric"}
    assert document["verdict"] == "PROMOTED"
    assert [s["custom_reward"] for s in document["samples"]] == [1.0, 1.0]
    assert "Mean reward by the numeric grader: 0.000 (base) -> 1.000 (custom)" in summary(document)


def test_a_custom_model_that_scores_lower_is_not_promoted() -> None:
    samples = [{"prompt": "q", "reference": "10", "base": "10", "custom": "12"}]
    document = _document(samples)
    graded_verdict(document, NUMERIC, min_improvement=0.0)
    assert document["verdict"] == "NOT_PROMOTED"


def test_an_object_reference_is_read_back_for_a_field_grader() -> None:
    grader = {"kind": "builtin", "name": "numeric", "params": {"field": "answer"}}
    samples = [
        {"prompt": "q", "reference": '{"answer": 8, "steps": []}', "base": "9", "custom": "8"}
    ]
    document = _document(samples)
    graded_verdict(document, grader, min_improvement=0.5)
    assert document["overall"]["reward"]["custom"] == 1.0
    assert document["verdict"] == "PROMOTED"
