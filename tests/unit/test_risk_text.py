"""The text the risk scan reads, per data format: prompt, answer, and the cut of long records."""

from __future__ import annotations

from typing import Any

import pytest

from customization_core.risk_text import MAX_TEXT_CHARS, record_text


@pytest.mark.parametrize(
    ("record", "prompt", "answer"),
    [
        ({"prompt": "Q?", "completion": "A."}, "Q?", "A."),
        ({"input": "Some text."}, "Some text.", None),
        (
            {
                "system": "Be kind.",
                "messages": [
                    {"role": "user", "content": "Hi"},
                    {"role": "assistant", "content": "Hello"},
                ],
            },
            "Be kind.\nHi",
            "Hello",
        ),
        (
            {
                "schemaVersion": "bedrock-conversation-2024",
                "messages": [
                    {"role": "user", "content": [{"text": "One"}]},
                    {"role": "assistant", "content": [{"text": "Two"}]},
                    {"role": "user", "content": [{"text": "Three"}]},
                    {"role": "assistant", "content": [{"text": "Four"}]},
                ],
            },
            "One\nTwo\nThree",
            "Four",
        ),
        (
            {"messages": [{"role": "user", "content": [{"text": "Only a prompt"}]}]},
            "Only a prompt",
            None,
        ),
        (
            {
                "messages": [{"role": "user", "content": "What is 2+2?"}],
                "reference_answer": {"value": 4},
            },
            "What is 2+2?",
            '{"value": 4}',
        ),
    ],
    ids=["prompt-completion", "pretraining", "claude", "conversation", "distillation", "rft"],
)
def test_each_format_gives_its_prompt_and_answer(
    record: dict[str, Any], prompt: str, answer: str | None
) -> None:
    found = record_text(record)

    assert found is not None
    assert (found.prompt, found.answer, found.cut) == (prompt, answer, False)


def test_a_record_without_text_in_a_known_place_has_none() -> None:
    assert record_text({"unknown": "field"}) is None


def test_a_huge_record_is_cut_but_its_length_is_kept() -> None:
    found = record_text({"prompt": "x" * (MAX_TEXT_CHARS + 10), "completion": "done"})

    assert found is not None
    assert found.cut
    assert len(found.text) <= MAX_TEXT_CHARS + 1
    assert found.length == MAX_TEXT_CHARS + 14
