"""Distillation prompts and RFT records: each rule's code and field, and the line a file shows it at."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from customization_core.formats import checker, detect
from customization_core.prompt_formats import distillation_prompts, rft_messages
from customization_core.record_fields import Checker
from customization_core.tokens import MESSAGE_OVERHEAD_TOKENS, RECORD_OVERHEAD_TOKENS
from customization_core.validator import validate_dataset

SCHEMA = "bedrock-conversation-2024"
Found = list[tuple[str, str, str | None]]


def run(check: Checker, record: dict[str, Any]) -> tuple[int | None, Found]:
    """The checker's token estimate and its findings as (severity, code, field)."""
    found: Found = []

    def emit(severity: str, code: str, field: str | None, message: str) -> None:
        assert message  # every finding says what to do
        found.append((severity, code, field))

    return check(record, emit), found


def turn(role: str, text: str) -> dict[str, Any]:
    return {"role": role, "content": [{"text": text}]}


def prompt(*turns: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"schemaVersion": SCHEMA, **fields, "messages": list(turns)}


NOVA = checker("distillation-prompts", 3, nova=True)
LLAMA = checker("distillation-prompts", 3, nova=False)


# --- distillation -------------------------------------------------------------------------


def test_an_unlabelled_prompt_passes_and_counts_as_the_conversation_format_does() -> None:
    tokens, found = run(NOVA, prompt(turn("user", "why is the sky blue")))  # 19 characters
    assert found == []
    assert tokens == RECORD_OVERHEAD_TOKENS + 7 + MESSAGE_OVERHEAD_TOKENS


@pytest.mark.parametrize(
    "record",
    [
        prompt(turn("user", "why is the sky blue"), turn("assistant", "Rayleigh scattering.")),
        prompt(turn("user", "q"), turn("assistant", "a"), system=[{"text": "Be brief."}]),
        prompt(turn("user", "q"), turn("assistant", "a"), turn("user", "and at dusk?")),
        prompt(
            turn("user", "q"), turn("assistant", "a"), turn("user", "q2"), turn("assistant", "b")
        ),
    ],
    ids=["labelled", "system", "multi-turn-ending-with-user", "multi-turn-ending-with-assistant"],
)
def test_labelled_pairs_and_nova_multi_turn_prompts_pass(record: dict[str, Any]) -> None:
    assert run(NOVA, record)[1] == []


def test_a_missing_schema_version_is_an_error() -> None:
    record = prompt(turn("user", "q"))
    del record["schemaVersion"]
    assert run(NOVA, record)[1] == [("error", "missing-field", "schemaVersion")]


@pytest.mark.parametrize(
    ("version", "code"), [("bedrock-conversion-2024", "unexpected-value"), (2024, "wrong-type")]
)
def test_another_schema_version_is_an_error(version: Any, code: str) -> None:
    record = prompt(turn("user", "q"), schemaVersion=version)
    assert run(NOVA, record)[1] == [("error", code, "schemaVersion")]


@pytest.mark.parametrize(
    ("turns", "field"),
    [
        ([turn("assistant", "a")], "messages[0].role"),
        ([turn("assistant", "a"), turn("user", "q")], "messages[0].role"),
        ([turn("user", "q"), turn("user", "q2")], "messages[1].role"),
        ([turn("user", "q"), turn("assistant", "a"), turn("assistant", "b")], "messages[2].role"),
    ],
)
def test_turns_start_with_the_user_and_alternate(turns: list[dict[str, Any]], field: str) -> None:
    assert run(NOVA, prompt(*turns))[1] == [("error", "wrong-role-order", field)]


def test_a_system_turn_among_the_messages_is_refused() -> None:
    found = run(NOVA, prompt(turn("system", "s"), turn("user", "q")))[1]
    assert found == [("error", "invalid-role", "messages[0].role")]


def test_a_record_without_messages_is_told_and_not_counted() -> None:
    assert run(NOVA, {"schemaVersion": SCHEMA}) == (None, [("error", "missing-field", "messages")])
    assert run(NOVA, prompt())[1] == [("error", "too-few-messages", "messages")]


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_text_is_an_error_where_it_is(text: str) -> None:
    found = run(NOVA, prompt(turn("user", "q"), turn("assistant", text)))[1]
    assert found == [("error", "empty-field", "messages[1].content[0].text")]


@pytest.mark.parametrize(
    ("block", "field"),
    [
        (
            {"image": {"format": "png", "source": {"s3Location": {"uri": "s3://b/k.png"}}}},
            "messages[0].content[0].image",
        ),
        ({"video": {"format": "mp4"}}, "messages[0].content[0].video"),
        (
            {"reasoningContent": {"reasoningText": {"text": "think"}}},
            "messages[0].content[0].reasoningContent",
        ),
    ],
)
def test_media_and_reasoning_blocks_are_refused(block: dict[str, Any], field: str) -> None:
    record = prompt({"role": "user", "content": [block, {"text": "describe it"}]})
    assert run(NOVA, record)[1] == [("error", "unsupported-content", field)]


def test_content_must_be_a_list_of_text_blocks() -> None:
    found = run(NOVA, prompt({"role": "user", "content": "q"}, {"role": "assistant"}))[1]
    assert found == [
        ("error", "wrong-type", "messages[0].content"),
        ("error", "missing-field", "messages[1].content"),
    ]


def test_nova_reserved_words_are_refused_for_nova_students_only() -> None:
    record = prompt(turn("user", "User: hi"), system=[{"text": "You are the Bot: kind."}])
    assert run(NOVA, record)[1] == [
        ("error", "reserved-word", "system[0].text"),
        ("error", "reserved-word", "messages[0].content[0].text"),
    ]
    assert run(LLAMA, record)[1] == []


def test_a_llama_student_takes_one_user_turn() -> None:
    assert run(LLAMA, prompt(turn("user", "q"), turn("assistant", "a")))[1] == []
    found = run(LLAMA, prompt(turn("user", "q"), turn("assistant", "a"), turn("user", "q2")))[1]
    assert found == [("error", "too-many-turns", "messages[2]")]


def test_the_quick_and_the_careful_path_count_the_same_tokens() -> None:
    check = distillation_prompts(3)
    record = prompt(turn("user", "é" * 10 + "abc"), turn("assistant", "x" * 40))
    quick, none = run(check, record)
    careful, found = run(check, {**record, "id": 7})  # an unknown field takes the careful path
    assert none == []
    assert found == [("warning", "unknown-field", "id")]
    assert quick == careful == RECORD_OVERHEAD_TOKENS + 11 + 14 + 2 * MESSAGE_OVERHEAD_TOKENS


# --- reinforcement fine-tuning ----------------------------------------------------------------

RFT = rft_messages(3)


def rft(*turns: tuple[str, Any], **fields: Any) -> dict[str, Any]:
    return {"messages": [{"role": r, "content": c} for r, c in turns], **fields}


@pytest.mark.parametrize(
    "record",
    [
        rft(("user", "Solve: 2x + 5 = 13"), reference_answer="x = 4"),
        rft(("system", "You are a math tutor"), ("user", "2+2?"), reference_answer=4),
        rft(("user", "2+2?"), reference_answer={"solution": "4", "steps": ["2+2=4"]}),
        rft(("user", "q"), ("assistant", "a"), ("user", "q2"), reference_answer="b"),
        rft(("user", "q"), reference_answer="a", id="sample-001", my_key="graded"),
    ],
    ids=["string", "system-first", "object", "multi-turn", "extra-fields"],
)
def test_rft_records_that_end_with_the_user_pass(record: dict[str, Any]) -> None:
    assert run(RFT, record)[1] == []


def test_rft_tokens_count_the_messages() -> None:
    record = rft(("system", "abc"), ("user", "abcdef"), reference_answer="x" * 300)
    assert run(RFT, record)[0] == RECORD_OVERHEAD_TOKENS + 1 + 2 + 2 * MESSAGE_OVERHEAD_TOKENS


@pytest.mark.parametrize(
    ("fields", "finding"),
    [
        ({}, ("error", "missing-field", "reference_answer")),
        ({"reference_answer": None}, ("error", "empty-field", "reference_answer")),
        ({"reference_answer": " "}, ("error", "empty-field", "reference_answer")),
        ({"reference_answer": {}}, ("error", "empty-field", "reference_answer")),
        ({"reference_answer": [1, 2]}, ("warning", "unexpected-type", "reference_answer")),
        ({"reference_answer": True}, ("warning", "unexpected-type", "reference_answer")),
    ],
)
def test_the_reference_answer_is_required(
    fields: dict[str, Any], finding: tuple[str, str, str]
) -> None:
    assert run(RFT, rft(("user", "q"), **fields))[1] == [finding]


@pytest.mark.parametrize(
    ("turns", "finding"),
    [
        ([("user", "q"), ("assistant", "a")], ("error", "wrong-role-order", "messages[1].role")),
        ([("user", "q"), ("system", "s")], ("error", "wrong-role-order", "messages[1].role")),
        ([("assistant", "a"), ("user", "q")], ("error", "wrong-role-order", "messages[0].role")),
        ([("system", "s")], ("error", "too-few-messages", "messages")),
        ([("tool", "q")], ("error", "invalid-role", "messages[0].role")),
        (
            [("user", [{"type": "text", "text": "q"}])],
            ("error", "wrong-type", "messages[0].content"),
        ),
        ([("user", "")], ("error", "empty-field", "messages[0].content")),
    ],
)
def test_rft_messages_end_with_the_users_prompt(
    turns: list[tuple[str, Any]], finding: tuple[str, str, str]
) -> None:
    assert run(RFT, rft(*turns, reference_answer="a"))[1] == [finding]


def test_a_field_the_grader_reads_is_required_in_every_record() -> None:
    check = rft_messages(3, required_fields=("reference_answer", "my_key", "reference_answer.x"))
    good = rft(("user", "q"), reference_answer={"x": 1}, my_key="k")
    assert run(check, good)[1] == []
    found = run(check, rft(("user", "q"), reference_answer="1"))[1]
    assert found == [
        ("error", "missing-grader-field", "my_key"),
        ("error", "missing-grader-field", "reference_answer.x"),
    ]
    # No reference answer at all: told once, not again for each path into it.
    found = run(check, rft(("user", "q"), my_key=None))[1]
    assert found == [
        ("error", "missing-field", "reference_answer"),
        ("error", "missing-grader-field", "my_key"),
    ]


def test_an_rft_record_is_told_apart_by_its_reference_answer() -> None:
    assert detect(rft(("user", "q"), reference_answer="a")) == "rft-messages"


# --- whole files, through validate_dataset (the catalog's students) ----------------------------


def jsonl(records: list[dict[str, Any]]) -> io.BytesIO:
    return io.BytesIO("".join(json.dumps(r) + "\n" for r in records).encode())


def test_a_nova_micro_distillation_file_reports_each_bad_record_by_line() -> None:
    records = [prompt(turn("user", f"Question {i}?")) for i in range(5)]
    records[3] = prompt(turn("user", "Bot: hello"), turn("assistant", "hi"))
    report = validate_dataset(
        jsonl(records),
        model_id="amazon.nova-micro-v1:0:128k",
        customization_type="DISTILLATION",
        teacher_model_id="amazon.nova-pro-v1:0",
        max_response_length=1000,
    ).document
    assert report["request"]["data_format"] == "distillation-prompts"
    assert [(e["line"], e["code"], e["field"]) for e in report["errors"]] == [
        (4, "reserved-word", "messages[0].content[0].text")
    ]
    assert report["records"] == 5


def test_a_nova_2_lite_rft_file_reports_a_missing_reference_answer_at_its_line() -> None:
    records = [
        rft(("user", f"What is {i} + 1?"), reference_answer=str(i + 1), my_key=i)
        for i in range(100)
    ]
    del records[36]["reference_answer"]
    del records[41]["my_key"]
    report = validate_dataset(
        jsonl(records),
        model_id="amazon.nova-2-lite-v1:0:256k",
        customization_type="REINFORCEMENT_FINE_TUNING",
        grader_fields=("reference_answer", "my_key"),
    ).document
    assert report["request"]["data_format"] == "rft-messages"
    assert [(e["line"], e["code"], e["field"]) for e in report["errors"]] == [
        (37, "missing-field", "reference_answer"),
        (42, "missing-grader-field", "my_key"),
    ]
    assert report["warnings"] == []
