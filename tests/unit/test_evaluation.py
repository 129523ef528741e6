"""ROUGE-L, exact match, length ratio, held-out samples and the verdict."""

from __future__ import annotations

import json
from typing import Any

import pytest

from customization_core import evaluation


def test_rouge_l_is_the_f1_of_the_longest_common_subsequence() -> None:
    # LCS "the cat on the mat": 5 of 6 words on each side, so P = R = F = 5/6.
    assert evaluation.rouge_l("The cat sat on the mat.", "the cat is on the mat") == pytest.approx(
        5 / 6
    )
    assert evaluation.rouge_l("a b c", "a b c") == 1.0
    assert evaluation.rouge_l("x y", "a b") == 0.0
    assert evaluation.rouge_l("", "a b") == 0.0
    # Order matters: a subsequence, not a bag of words. LCS of "c b a" and "a b c" is 1 word.
    assert evaluation.rouge_l("c b a", "a b c") == pytest.approx(1 / 3)


@pytest.mark.parametrize(
    ("candidate", "reference", "expected"),
    [
        # LCS "police killed the gunman" (4 words): P = 4/4, R = 4/5, F = 2PR/(P+R) = 8/9.
        ("police killed the gunman", "the police killed the gunman", 8 / 9),
        # LCS "the gunman" (2) of 4 and 5 words: P = 2/4, R = 2/5, F = 2 * 0.5 * 0.4 / 0.9 = 4/9.
        ("the gunman kill police", "the police killed the gunman", 4 / 9),
        # Words are compared whole and lower-cased: LCS "a b" (2) of 3 and 4 words, F = 4/7.
        ("A, B! c", "a x b y", 4 / 7),
        # A repeated word counts once per match: LCS "a a" (2) of 2 and 3 words, F = 4/5.
        ("a a", "a b a", 4 / 5),
        # Unicode words: "über straße" (2) of 2 and 3 words, F = 4/5.
        ("Über Straße", "über die straße", 4 / 5),
    ],
)
def test_rouge_l_matches_hand_computed_values(
    candidate: str, reference: str, expected: float
) -> None:
    assert evaluation.rouge_l(candidate, reference) == pytest.approx(expected)
    # F1 is symmetric in precision and recall: swapping the texts keeps it.
    assert evaluation.rouge_l(reference, candidate) == pytest.approx(expected)


def test_exact_match_ignores_case_and_punctuation_and_length_ratio_counts_words() -> None:
    assert evaluation.exact_match("Person2 books the room.", "person2 books the room")
    assert not evaluation.exact_match("Person2 books a room", "Person2 books the room")
    assert evaluation.length_ratio("one two", "one two three four") == 0.5


def _lines(*records: dict[str, Any]) -> list[bytes]:
    return [json.dumps(r).encode() for r in records]


def test_samples_come_from_the_validation_file_or_the_tail_of_the_training_file() -> None:
    training = _lines(*({"prompt": f"t{i}", "completion": f"c{i}"} for i in range(5)))
    validation = _lines(*({"prompt": f"v{i}", "completion": f" r{i} "} for i in range(3)))
    chosen = evaluation.held_out(validation, training, 2)
    assert [(s.prompt, s.reference) for s in chosen] == [("v0", "r0"), ("v1", "r1")]
    assert [s.prompt for s in evaluation.held_out(None, training, 2)] == ["t3", "t4"]
    assert [s.prompt for s in evaluation.held_out([], training, 2)] == ["t3", "t4"]


def test_the_verdict_compares_mean_rouge_l_with_the_required_gain() -> None:
    results = [
        {
            "prompt": "p1",
            "reference": "alice pays the invoice",
            "base": "p1",
            "custom": "alice pays the invoice",
        },
        {
            "prompt": "p2",
            "reference": "bob moves on saturday",
            "base": "bob",
            "custom": "bob moves saturday",
        },
    ]
    document = evaluation.report(results, base_model="b", custom_model="c", min_improvement=0.2)
    assert document["verdict"] == "PROMOTED"
    assert document["overall"]["custom"]["exact_match"] == 0.5
    assert document["samples"][0]["custom_scores"]["rouge_l"] == 1.0
    assert document["overall"]["rouge_l_gain"] > 0.2
    strict = evaluation.report(results, base_model="b", custom_model="c", min_improvement=0.9)
    assert strict["verdict"] == "NOT_PROMOTED"
    assert "verdict NOT_PROMOTED" in evaluation.summary(strict)
    assert "ROUGE-L" in evaluation.summary(strict)


def test_prompts_without_references_are_answered_but_not_judged() -> None:
    results = [{"prompt": "What is new?", "reference": None, "base": "x", "custom": "y"}]
    document = evaluation.report(results, base_model="b", custom_model="c", min_improvement=0)
    assert document["verdict"] == "UNSCORED"
    assert "not scored" in evaluation.summary(document)


def test_conversations_are_sampled_as_their_last_user_turn_and_answer() -> None:
    converse = {
        "schemaVersion": "bedrock-conversation-2024",
        "system": [{"text": "You summarize."}],
        "messages": [
            {"role": "user", "content": [{"text": "Summarize: hi"}]},
            {"role": "assistant", "content": [{"text": " A greeting. "}]},
        ],
    }
    claude = {
        "system": "You summarize.",
        "messages": [
            {"role": "user", "content": "Summarize: bye"},
            {"role": "assistant", "content": "A farewell."},
        ],
    }
    chosen = evaluation.held_out(_lines(converse, claude), [], 5)
    assert [(s.prompt, s.reference) for s in chosen] == [
        ("Summarize: hi", "A greeting."),
        ("Summarize: bye", "A farewell."),
    ]


def test_without_a_base_the_custom_model_is_scored_alone_and_the_verdict_is_inconclusive() -> None:
    results: list[dict[str, Any]] = [
        {"prompt": "p1", "reference": "alice pays the invoice", "custom": "alice pays the invoice"},
        {"prompt": "p2", "reference": None, "custom": "an answer"},
    ]
    why = "no inference profile for eu-west-1"
    document = evaluation.report(
        results, base_model=None, custom_model="c", min_improvement=0.1, base_skipped=why
    )
    assert document["verdict"] == "INCONCLUSIVE"
    assert document["base_skipped"] == why
    assert document["overall"]["base"] is None
    assert document["overall"]["custom"]["rouge_l"] == 1.0
    assert document["overall"]["rouge_l_gain"] is None
    assert document["samples"][0]["custom_scores"]["rouge_l"] == 1.0
    assert "base_scores" not in document["samples"][0]
    line = evaluation.summary(document)
    assert "INCONCLUSIVE" in line
    assert why in line


def test_without_a_base_or_references_nothing_is_judged() -> None:
    results = [{"prompt": "What is new?", "reference": None, "custom": "y"}]
    document = evaluation.report(
        results, base_model=None, custom_model="c", min_improvement=0, base_skipped="no profile"
    )
    assert document["verdict"] == "UNSCORED"
    assert "no profile" in evaluation.summary(document)


def test_with_a_base_the_report_says_nothing_was_skipped() -> None:
    results = [{"prompt": "p", "reference": "a b", "base": "a", "custom": "a b"}]
    document = evaluation.report(results, base_model="b", custom_model="c", min_improvement=0)
    assert document["base_skipped"] is None
    assert document["verdict"] == "PROMOTED"
