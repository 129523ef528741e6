"""The validator: one pass, every finding, any stream, constant memory, deterministic reports."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable

import pytest

from customization_core import stream as stream_module
from customization_core.stats import TokenStats
from customization_core.tokens import RECORD_OVERHEAD_TOKENS, estimate_tokens
from customization_core.validator import REPORT_CAP, validate_dataset

EXPRESS = "amazon.titan-text-express-v1:0:8k"
LLAMA = "meta.llama3-1-8b-instruct-v1:0:128k"


def _jsonl(records: Iterable[object]) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


def _pc(n: int, text: str = "Summarize this.") -> list[dict[str, str]]:
    return [{"prompt": f"{text} {i}", "completion": f"Summary {i}."} for i in range(n)]


class ChunkyBody:
    """Like an S3 StreamingBody: only read(n), returning at most 7 bytes a call."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)
        self.reads = 0

    def read(self, size: int = -1) -> bytes:
        self.reads += 1
        return self._data.read(min(size, 7) if size and size > 0 else 7)


def test_a_stream_with_only_read_gives_the_same_report_as_a_file() -> None:
    data = _jsonl(_pc(20)) + b"not json\n"
    body = ChunkyBody(data)
    from_body = validate_dataset(body, model_id=EXPRESS, customization_type="fine-tuning")
    from_file = validate_dataset(
        io.BytesIO(data), model_id=EXPRESS, customization_type="fine-tuning"
    )
    assert from_body.to_json() == from_file.to_json()
    assert body.reads > 1
    assert from_body.document["records"] == 21


def test_the_last_line_needs_no_newline_and_crlf_is_accepted() -> None:
    data = b'{"prompt": "a", "completion": "b"}\r\n{"prompt": "c", "completion": "d"}'
    report = validate_dataset(io.BytesIO(data), model_id=EXPRESS, customization_type="fine-tuning")
    assert report.valid, report.document["errors"]
    assert report.document["records"] == 2
    assert report.document["files"]["training"]["bytes"] == len(data)


def test_an_empty_file_is_too_few_records() -> None:
    report = validate_dataset(io.BytesIO(b""), model_id=EXPRESS, customization_type="fine-tuning")
    assert [e["code"] for e in report.document["errors"]] == ["too-few-records"]


def test_a_line_longer_than_the_cap_is_reported_without_being_held(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a cap of 64 bytes and a 1,000-byte line between good ones
    monkeypatch.setattr(stream_module, "MAX_LINE_BYTES", 64)
    monkeypatch.setattr("customization_core.validator.MAX_LINE_BYTES", 64)
    good = b'{"prompt": "a", "completion": "b"}\n'
    data = good + b'{"prompt": "' + b"x" * 1000 + b'", "completion": "y"}\n' + good
    report = validate_dataset(io.BytesIO(data), model_id=EXPRESS, customization_type="fine-tuning")
    (finding,) = report.document["errors"]
    assert (finding["line"], finding["code"]) == (2, "line-too-long")
    assert "1,033 bytes" in finding["message"]
    # The line after it is still read, and counted where it is
    assert report.document["records"] == 3
    assert report.document["warnings"][0]["line"] == 3  # a duplicate of line 1
    assert report.document["files"]["training"]["bytes"] == len(data)


def test_an_over_long_last_line_without_newline_is_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("customization_core.validator.MAX_LINE_BYTES", 64)
    monkeypatch.setattr(stream_module, "MAX_LINE_BYTES", 64)
    data = b'{"prompt": "a", "completion": "b"}\n' + b"z" * 500
    report = validate_dataset(io.BytesIO(data), model_id=EXPRESS, customization_type="fine-tuning")
    assert [(e["line"], e["code"]) for e in report.document["errors"]] == [(2, "line-too-long")]
    assert report.document["files"]["training"]["bytes"] == len(data)


def test_findings_are_capped_at_100_each_but_counted_in_full() -> None:
    data = b"nope\n" * 250 + _jsonl(_pc(1)) * 150
    report = validate_dataset(io.BytesIO(data), model_id=EXPRESS, customization_type="fine-tuning")
    doc = report.document
    assert doc["error_count"] == 250
    assert len(doc["errors"]) == REPORT_CAP
    assert doc["warning_count"] == 149  # duplicates of line 251
    assert len(doc["warnings"]) == REPORT_CAP
    assert [e["line"] for e in doc["errors"]] == list(range(1, 101))
    assert "(first 100 shown)" in report.render_text()


def test_the_token_limit_follows_the_batch_size() -> None:
    # About 3,000 estimated tokens: under Express's 4,096 at batch size 1, over 2,048 at 2
    record = {"prompt": "a" * 8800, "completion": "b"}
    for batch, valid in (("1", True), ("2", False)):
        report = validate_dataset(
            io.BytesIO(_jsonl([record])),
            model_id=EXPRESS,
            customization_type="fine-tuning",
            hyperparameters={"batchSize": batch},
        )
        assert report.valid is valid
    assert "at batch size 2 is 2,048" in report.document["errors"][0]["message"]


def test_training_and_validation_are_limited_together_where_the_docs_say_so() -> None:
    # Llama takes at least 100 records in all: 60 + 50 passes, 60 alone does not
    train = _jsonl(_pc(60))
    alone = validate_dataset(io.BytesIO(train), model_id=LLAMA, customization_type="fine-tuning")
    assert [e["code"] for e in alone.document["errors"]] == ["too-few-records"]
    assert (
        "hold 60 records together; this model needs at least 100"
        in alone.document["errors"][0]["message"]
    )
    both = validate_dataset(
        io.BytesIO(train),
        validation=io.BytesIO(_jsonl(_pc(50, "Other"))),
        model_id=LLAMA,
        customization_type="fine-tuning",
    )
    assert both.valid, both.document["errors"]
    assert both.document["validation_records"] == 50


def test_the_validation_file_is_checked_and_reported_as_such() -> None:
    report = validate_dataset(
        io.BytesIO(_jsonl(_pc(3))),
        validation=io.BytesIO(b'{"prompt": "x"}\n'),
        model_id=EXPRESS,
        customization_type="fine-tuning",
    )
    (finding,) = report.document["errors"]
    assert (finding["file"], finding["line"], finding["code"]) == ("validation", 1, "missing-field")


def test_tokens_and_cost_add_up() -> None:
    records = _pc(10)
    report = validate_dataset(
        io.BytesIO(_jsonl(records)),
        model_id="amazon.titan-text-lite-v1:0:4k",
        customization_type="fine-tuning",
        hyperparameters={"epochCount": 3},
    )
    expected = sum(
        RECORD_OVERHEAD_TOKENS
        + estimate_tokens(r["prompt"], 3)
        + estimate_tokens(r["completion"], 3)
        for r in records
    )
    tokens = report.document["tokens"]
    assert tokens["total"] == expected
    cost = report.document["cost"]
    assert (cost["epochs"], cost["billed_tokens"]) == (3, expected * 3)
    assert cost["estimated_usd"] == round(expected * 3 / 1000 * cost["price_per_1k_tokens_usd"], 2)


def test_a_price_override_replaces_the_catalog_price() -> None:
    report = validate_dataset(
        io.BytesIO(_jsonl(_pc(5))),
        model_id=EXPRESS,
        customization_type="fine-tuning",
        price_per_1k_tokens_usd=1.0,
    )
    cost = report.document["cost"]
    assert cost["price_per_1k_tokens_usd"] == 1.0
    assert cost["estimated_usd"] == round(cost["billed_tokens"] / 1000, 2)
    assert "deployment setting" in cost["price_source"]


def test_the_report_is_deterministic_bytes() -> None:
    data = _jsonl(_pc(30)) + b"{bad\n"
    first = validate_dataset(io.BytesIO(data), model_id=EXPRESS, customization_type="fine-tuning")
    second = validate_dataset(io.BytesIO(data), model_id=EXPRESS, customization_type="fine-tuning")
    assert first.to_json() == second.to_json()
    document = json.loads(first.to_json())
    assert set(document) == {
        "valid", "request", "records", "validation_records", "error_count", "warning_count",
        "errors", "warnings", "tokens", "files", "cost",
    }  # fmt: skip
    assert set(document["errors"][0]) == {"file", "line", "code", "field", "message"}


def test_non_ascii_text_counts_a_token_per_character() -> None:
    assert estimate_tokens("abcdef", 3) == 2
    assert estimate_tokens("abcdefg", 3) == 3
    assert estimate_tokens("日本語のテキスト", 3) == 8
    assert estimate_tokens("café", 3) == 2  # 3 ASCII characters -> 1, plus 1 for é


def test_percentiles_never_read_low() -> None:
    stats = TokenStats()
    for tokens in [*range(1, 101), 10_000, 1_000_000]:
        stats.add(tokens)
    assert stats.count == 102
    assert stats.max == 1_000_000
    assert stats.percentile(0.95) == 97
    assert stats.percentile(1.0) == 1_000_000
    big = TokenStats()
    for tokens in (5000, 5001, 123_457):
        big.add(tokens)
    assert big.percentile(0.5) >= 5001
    assert big.percentile(0.5) <= 5001 * (1 + 1 / 4096) + 1
