"""Property-based: whatever bytes arrive, the validator returns a report and never raises."""

from __future__ import annotations

import io
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customization_core.catalog import load_catalog
from customization_core.validator import validate_dataset

MODELS = [
    ("amazon.titan-text-express-v1:0:8k", "fine-tuning"),
    ("amazon.titan-text-express-v1:0:8k", "continued-pretraining"),
    ("amazon.nova-micro-v1:0:128k", "fine-tuning"),
    ("anthropic.claude-3-haiku-20240307-v1:0:200k", "fine-tuning"),
    ("meta.llama3-2-1b-instruct-v1:0:128k", "fine-tuning"),
]
load_catalog()  # parse once, outside the timed examples

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "prompt",
                    "completion",
                    "input",
                    "messages",
                    "role",
                    "content",
                    "text",
                    "system",
                    "schemaVersion",
                    "x",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=25,
)


def _check(data: bytes, model: tuple[str, str]) -> None:
    report = validate_dataset(io.BytesIO(data), model_id=model[0], customization_type=model[1])
    document = json.loads(report.to_json())
    assert document["error_count"] >= len(document["errors"])
    assert document["valid"] is (document["error_count"] == 0)
    assert report.render_text()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000), st.sampled_from(MODELS))
def test_random_bytes_always_give_a_report(data: bytes, model: tuple[str, str]) -> None:
    _check(data, model)


@settings(max_examples=300, deadline=None)
@given(st.lists(json_values, max_size=12), st.sampled_from(MODELS))
def test_random_json_lines_always_give_a_report(
    values: list[object], model: tuple[str, str]
) -> None:
    _check(b"".join(json.dumps(v).encode() + b"\n" for v in values), model)


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=400), st.sampled_from(MODELS))
def test_truncated_files_always_give_a_report(cut: int, model: tuple[str, str]) -> None:
    record = {
        "schemaVersion": "bedrock-conversation-2024",
        "messages": [
            {"role": "user", "content": [{"text": "Hello there"}]},
            {"role": "assistant", "content": "Hi"},
        ],
        "prompt": "p",
        "completion": "c",
    }
    data = (json.dumps(record) + "\n").encode() * 3
    _check(data[:cut], model)


@settings(max_examples=20, deadline=None)
@given(st.integers(min_value=1, max_value=5000), st.sampled_from(MODELS))
def test_deep_nesting_gives_a_report(depth: int, model: tuple[str, str]) -> None:
    _check(
        b"[" * depth + b"]" * depth + b"\n" + b'{"a":' * depth + b"1" + b"}" * depth + b"\n", model
    )


def test_a_huge_line_gives_a_report() -> None:
    # 20 MB of one string: longer than any record may be, more than the reader holds
    data = b'{"prompt": "' + b"x" * (20 * 1024 * 1024) + b'", "completion": "y"}\n'
    report = validate_dataset(
        io.BytesIO(data), model_id=MODELS[0][0], customization_type="fine-tuning"
    )
    assert [e["code"] for e in report.document["errors"]] == ["line-too-long"]
