"""The built-in graders: each rule, their parameters, Bedrock's contract, and their properties."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customization_core.grader_batch import GraderEventError, fields_of, grade_batch
from customization_core.graders import (
    GRADER_NAMES,
    GraderConfigError,
    GraderInputError,
    configure,
    describe,
    reference_text,
    response_text,
)


def _record(reference: Any) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": "q"}], "reference_answer": reference}


@pytest.mark.parametrize(
    ("response", "reference", "normalize", "reward"),
    [
        ("Paris", "Paris", True, 1.0),
        ("  paris. ", "Paris", True, 1.0),
        ('"PARIS"', "paris", True, 1.0),
        ("Paris is the capital", "Paris", True, 0.0),
        ("paris", "Paris", False, 0.0),
        ("42", 42, True, 1.0),
    ],
)
def test_exact_compares_the_normalized_text(
    response: str, reference: Any, normalize: bool, reward: float
) -> None:
    grader = configure("exact", {"normalize": normalize})
    assert grader.grade(response, _record(reference)) == reward


@pytest.mark.parametrize(
    ("response", "reference", "params", "reward"),
    [
        ("The answer is 1,234.5", "1234.5", {}, 1.0),
        ("#### 42", 42, {}, 1.0),
        ("It is 41, no, 43", "42", {"tolerance": 1}, 1.0),
        ("It is 45", "42", {"tolerance": 1}, 0.0),
        ("about 105", 100, {"tolerance": 0.05, "relative": True}, 1.0),
        ("about 106", 100, {"tolerance": 0.05, "relative": True}, 0.0),
        ("no number here", "7", {}, 0.0),
        ("-3", "-3", {}, 1.0),
    ],
)
def test_numeric_reads_the_last_number(
    response: str, reference: Any, params: dict[str, Any], reward: float
) -> None:
    assert configure("numeric", params).grade(response, _record(reference)) == reward


def test_a_field_of_an_object_reference_is_compared() -> None:
    grader = configure("numeric", {"field": "answer"})
    assert grader.grade("so 8", _record({"answer": 8, "steps": []})) == 1.0
    assert grader.needs_fields() == ("reference_answer.answer",)
    with pytest.raises(GraderInputError):
        grader.grade("8", _record({"solution": 8}))
    with pytest.raises(GraderInputError):
        grader.grade("8", {"messages": []})


def test_json_fields_gives_the_share_of_matching_fields() -> None:
    reference = {"intent": "refund", "urgent": True}
    partial = configure("json-fields", {})
    reply = 'Here: ```json\n{"intent": "refund", "urgent": false}\n```'
    assert partial.grade(reply, _record(reference)) == 0.5
    assert partial.grade('{"intent": "refund", "urgent": true}', _record(reference)) == 1.0
    assert partial.grade("no json", _record(reference)) == 0.0
    strict = configure("json-fields", {"partial": False, "fields": ["intent", "urgent"]})
    assert strict.grade(reply, _record(reference)) == 0.0
    with pytest.raises(GraderInputError):
        configure("json-fields", {"fields": ["missing"]}).grade("{}", _record(reference))


def test_regex_matches_with_the_reference_substituted() -> None:
    grader = configure("regex", {"pattern": r"answer:\s*{reference}\b", "flags": "i"})
    assert grader.grade("ANSWER: 3.5", _record("3.5")) == 1.0
    assert grader.grade("answer: 345", _record("3.5")) == 0.0  # the dot is escaped
    whole = configure("regex", {"pattern": "[0-9]+", "mode": "fullmatch"})
    assert whole.grade("123", _record("x")) == 1.0
    assert whole.grade("123 apples", _record("x")) == 0.0


def test_weighted_is_the_weighted_mean_of_its_components() -> None:
    grader = configure(
        "weighted",
        {
            "components": [
                {"name": "numeric", "params": {}, "weight": 3},
                {"name": "regex", "params": {"pattern": "^####"}, "weight": 1},
            ]
        },
    )
    assert grader.grade("#### 12", _record("12")) == 1.0
    assert grader.grade("12", _record("12")) == 0.75
    assert grader.components("12", _record("12")) == {"numeric#0": 1.0, "regex#1": 0.0}


@pytest.mark.parametrize(
    ("name", "params", "named"),
    [
        ("bogus", {}, "grader.name"),
        ("numeric", {"tolerance": -1}, "grader.params.tolerance"),
        ("numeric", {"tolerance": "0.1"}, "grader.params.tolerance"),
        ("numeric", {"tol": 0.1}, "grader.params.tol"),
        ("exact", {"normalize": "yes"}, "grader.params.normalize"),
        ("regex", {}, "grader.params.pattern"),
        ("regex", {"pattern": "("}, "grader.params.pattern"),
        ("regex", {"pattern": "a" * 1001}, "grader.params.pattern"),
        ("regex", {"pattern": "a", "flags": "x"}, "grader.params.flags"),
        ("weighted", {"components": []}, "grader.params.components"),
        ("weighted", {"components": [{"name": "weighted"}]}, "components[0].name"),
        ("weighted", {"components": [{"name": "exact", "weight": 0}]}, "components[0].weight"),
        (
            "weighted",
            {"components": [{"name": "numeric", "params": {"tolerance": -2}}]},
            "components[0].params.tolerance",
        ),
    ],
)
def test_a_bad_configuration_names_the_parameter(
    name: str, params: dict[str, Any], named: str
) -> None:
    with pytest.raises(GraderConfigError, match=named.replace("[", r"\[").replace("]", r"\]")):
        configure(name, params)


def test_describe_lists_every_grader_with_its_parameters() -> None:
    described = {g["name"]: g for g in describe()}
    assert tuple(described) == GRADER_NAMES
    assert [p["name"] for p in described["numeric"]["params"]] == ["tolerance", "relative", "field"]


def test_bedrocks_event_is_answered_one_reward_per_sample() -> None:
    grader = configure("numeric", {"tolerance": 0.01})
    event: list[dict[str, Any]] = [
        {
            "id": "a",
            "messages": [
                {"role": "user", "content": "2+2?"},
                {"role": "assistant", "content": "It is 4."},
            ],
            "metadata": {"reference_answer": "4", "my_key": "x"},
        },
        {
            "id": "b",
            "messages": [
                {"role": "user", "content": [{"text": "3+3?"}]},
                {"role": "assistant", "content": [{"text": "7"}]},
            ],
            "reference_answer": 6,
        },
        {"id": "c", "messages": [{"role": "assistant", "content": "9"}], "metadata": {}},
    ]
    skipped: list[Any] = []
    answers = grade_batch(event, grader, on_skip=lambda i, why: skipped.append(i))
    assert [(a["id"], a["aggregate_reward_score"]) for a in answers] == [
        ("a", 1.0),
        ("b", 0.0),
        ("c", 0.0),
    ]
    assert answers[0]["metrics_list"] == [{"name": "numeric", "value": 1.0, "type": "Reward"}]
    assert skipped == ["c"]
    json.dumps(answers)  # the answer is JSON as Lambda returns it
    with pytest.raises(GraderEventError):
        grade_batch({"not": "a list"}, grader)
    assert fields_of(event[0])["my_key"] == "x"


def test_the_configuration_id_follows_the_content_not_the_order() -> None:
    one = configure("regex", {"pattern": "a", "flags": "i"})
    two = configure("regex", {"flags": "i", "pattern": "a"})
    assert one.config_id() == two.config_id()
    assert len(one.config_id()) == 12
    assert configure("regex", {"pattern": "b"}).config_id() != one.config_id()


TEXT = st.text(max_size=40)
REFERENCES = st.one_of(
    TEXT, st.integers(-(10**6), 10**6), st.floats(allow_nan=False, allow_infinity=False, width=32)
)


@given(response=TEXT, reference=REFERENCES, name=st.sampled_from(["exact", "numeric", "regex"]))
def test_every_reward_is_between_0_and_1(response: str, reference: Any, name: str) -> None:
    params = {"pattern": "{reference}"} if name == "regex" else {}
    grader = configure(name, params)
    try:
        reward = grader.grade(response, _record(reference))
    except GraderInputError:
        return  # a reference with no number, for numeric
    assert 0.0 <= reward <= 1.0


@given(reference=REFERENCES)
def test_exact_gives_every_reference_full_reward(reference: Any) -> None:
    record = _record(reference)
    assert configure("exact", {}).grade(reference_text(reference), record) == 1.0


@given(
    a=st.integers(-(10**9), 10**9), b=st.integers(-(10**9), 10**9), tolerance=st.integers(0, 1000)
)
def test_numeric_is_within_tolerance_exactly_when_the_distance_is(
    a: int, b: int, tolerance: int
) -> None:
    grader = configure("numeric", {"tolerance": tolerance})
    assert grader.grade(f"answer {a}", _record(b)) == float(abs(a - b) <= tolerance)


@given(response=TEXT, reference=TEXT)
def test_weighted_of_one_component_equals_that_component(response: str, reference: str) -> None:
    alone = configure("exact", {})
    weighted = configure("weighted", {"components": [{"name": "exact", "weight": 2.5}]})
    record = _record(reference)
    assert weighted.grade(response, record) == alone.grade(response, record)


def test_response_text_is_the_last_assistant_turn() -> None:
    messages = [
        {"role": "assistant", "content": "first"},
        {"role": "user", "content": "again?"},
        {"role": "assistant", "content": [{"text": "sec"}, {"text": "ond"}]},
    ]
    assert response_text(messages) == "second"
    assert response_text("not a list") == ""
