"""The validator: one pass, every finding, any stream, constant memory, deterministic reports."""

from __future__ import annotations

import io
import json
import re
import struct
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from customization_core import stream as stream_module
from customization_core.findings import REPORT_CAP
from customization_core.media import LocalMediaResolver
from customization_core.stats import TokenStats
from customization_core.tokens import RECORD_OVERHEAD_TOKENS, estimate_tokens
from customization_core.validator import validate_dataset

EXPRESS = "amazon.titan-text-express-v1:0:8k"
LLAMA = "meta.llama3-1-8b-instruct-v1:0:128k"


def _jsonl(records: Iterable[object]) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


def _pc(n: int, text: str = "Summarize this.") -> list[dict[str, str]]:
    return [{"prompt": f"{text} {i}", "completion": f"Summary {i}."} for i in range(n)]


def _dataset(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Findings about the files (the request's, such as a catalog note, are other tests')."""
    return [f for f in findings if f["file"] != "request"]


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
    monkeypatch.setattr("customization_core.file_check.MAX_LINE_BYTES", 64)
    good = b'{"prompt": "a", "completion": "b"}\n'
    data = good + b'{"prompt": "' + b"x" * 1000 + b'", "completion": "y"}\n' + good
    report = validate_dataset(io.BytesIO(data), model_id=EXPRESS, customization_type="fine-tuning")
    (finding,) = report.document["errors"]
    assert (finding["line"], finding["code"]) == (2, "line-too-long")
    assert "1,033 bytes" in finding["message"]
    # The line after it is still read, and counted where it is
    assert report.document["records"] == 3
    assert _dataset(report.document["warnings"])[0]["line"] == 3  # a duplicate of line 1
    assert report.document["files"]["training"]["bytes"] == len(data)


def test_an_over_long_last_line_without_newline_is_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("customization_core.file_check.MAX_LINE_BYTES", 64)
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
    request_warnings = len(doc["warnings"]) - len(_dataset(doc["warnings"]))
    assert doc["warning_count"] - request_warnings == 149  # duplicates of line 251
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
    assert cost["estimated_usd"] == round(expected * 3 / 1000 * cost["price_per_1k_tokens_usd"], 6)


def test_a_price_override_replaces_the_catalog_price() -> None:
    report = validate_dataset(
        io.BytesIO(_jsonl(_pc(5))),
        model_id=EXPRESS,
        customization_type="fine-tuning",
        price_per_1k_tokens_usd=1.0,
    )
    cost = report.document["cost"]
    assert cost["price_per_1k_tokens_usd"] == 1.0
    assert cost["estimated_usd"] == round(cost["billed_tokens"] / 1000, 6)
    assert "deployment setting" in cost["price_source"]


def test_the_report_is_deterministic_bytes() -> None:
    data = _jsonl(_pc(30)) + b"{bad\n"
    first = validate_dataset(io.BytesIO(data), model_id=EXPRESS, customization_type="fine-tuning")
    second = validate_dataset(io.BytesIO(data), model_id=EXPRESS, customization_type="fine-tuning")
    assert first.to_json() == second.to_json()
    document = json.loads(first.to_json())
    assert set(document) == {
        "valid", "request", "records", "validation_records", "error_count", "warning_count",
        "errors", "warnings", "tokens", "files", "cost", "estimate",
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


# --- Image and video content (conversation format) ---------------------------------------

NOVA_LITE = "amazon.nova-lite-v1:0:300k"
NOVA_2_LITE = "amazon.nova-2-lite-v1:0:256k"
NOVA_MICRO = "amazon.nova-micro-v1:0:128k"
LLAMA_VISION = "meta.llama3-2-11b-instruct-v1:0:128k"
BUCKET = "training-bucket"


def _png(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + b"\x00" * 4


def _image(key: str = "images/cat.png", fmt: str = "png", bucket: str = BUCKET) -> dict[str, Any]:
    location = {"uri": f"s3://{bucket}/{key}", "bucketOwner": "111122223333"}
    return {"image": {"format": fmt, "source": {"s3Location": location}}}


def _video(key: str = "videos/clip.mp4", fmt: str = "mp4") -> dict[str, Any]:
    return {"video": {"format": fmt, "source": {"s3Location": {"uri": f"s3://{BUCKET}/{key}"}}}}


def _conv(
    user: list[dict[str, Any]], assistant: list[dict[str, Any]] | None = None, i: int = 0
) -> dict[str, Any]:
    return {
        "schemaVersion": "bedrock-conversation-2024",
        "messages": [
            {"role": "user", "content": [*user, {"text": f"What is in picture {i}?"}]},
            {"role": "assistant", "content": assistant or [{"text": f"A cat, number {i}."}]},
        ],
    }


def _records(n: int, user: list[dict[str, Any]], start: int = 0) -> list[dict[str, Any]]:
    return [_conv(user, i=start + i) for i in range(n)]


# The fewest training records Nova 2 Lite takes (nova-2-sft-data-prep).
NOVA_2_MIN = 200


def _run(records: list[dict[str, Any]], model: str = NOVA_LITE, **kwargs: Any) -> dict[str, Any]:
    report = validate_dataset(
        io.BytesIO(_jsonl(records)), model_id=model, customization_type="fine-tuning", **kwargs
    )
    return report.document


def _found(
    document: dict[str, Any], kind: str = "errors"
) -> list[tuple[int | None, str, str | None]]:
    """The dataset's findings (the request's, such as a model's lifecycle, are other tests')."""
    return [(f["line"], f["code"], f["field"]) for f in document[kind] if f["file"] != "request"]


def test_image_records_for_nova_lite_pass_and_are_summarized(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "cat.png").write_bytes(_png(64, 64))
    doc = _run(
        _records(8, [_image()]),
        dataset_bucket=BUCKET,
        media=LocalMediaResolver(tmp_path),
    )
    assert doc["valid"], doc["errors"]
    assert doc["warnings"] == []
    assert doc["media"] == {"images": 8, "videos": 0, "bytes": len(_png(64, 64)), "checked": 1}


def test_without_a_resolver_media_give_one_warning_saying_how_to_check_them() -> None:
    doc = _run(_records(8, [_image()]))
    assert doc["valid"], doc["errors"]
    assert [(w["line"], w["code"]) for w in doc["warnings"]] == [(None, "media-not-checked")]
    assert "--media-root" in doc["warnings"][0]["message"]
    assert doc["media"]["checked"] is None


def test_text_only_reports_have_no_media_key() -> None:
    doc = _run(_records(8, []))
    assert doc["valid"], doc["errors"]
    assert "media" not in doc


def test_media_object_problems_come_back_at_the_line_that_named_them(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "cat.png").write_bytes(_png(64, 64))
    (tmp_path / "images" / "tiny.png").write_bytes(_png(9, 64))
    (tmp_path / "images" / "fake.png").write_bytes(b"GIF89a\x10\x00\x10\x00")
    records = _records(8, [_image()])
    records[2] = _conv([_image("images/tiny.png")], i=2)
    records[4] = _conv([_image("images/fake.png")], i=4)
    records[6] = _conv([_image("images/gone.png")], i=6)
    doc = _run(records, model=LLAMA_VISION, media=LocalMediaResolver(tmp_path))
    field = "messages[0].content[0].image"
    assert _found(doc) == [
        (None, "too-few-records", None),  # Llama needs 100 records in all
        (3, "image-too-small", field),
        (5, "media-format-mismatch", field),
        (7, "media-not-found", field),
    ]


def test_each_block_rule_is_a_finding_with_its_field() -> None:
    bad_uri = {"image": {"format": "png", "source": {"s3Location": {"uri": "https://x/y.png"}}}}
    bad_owner = _image()
    bad_owner["image"]["source"]["s3Location"]["bucketOwner"] = "12345"
    records = [
        _conv([_image(bucket="other-bucket")], i=0),
        _conv([_image("images/my cat (1).png")], i=1),
        _conv([_image("images/cat.jpg", fmt="png")], i=2),
        _conv([_image("images/cat.png", fmt="PNG")], i=3),
        _conv([_image("images/cat.jpg", fmt="jpg")], i=4),
        _conv([bad_uri], i=5),
        _conv([bad_owner], i=6),
        _conv([{"text": "Hi"}], assistant=[_image(), {"text": "Here."}], i=7),
        _conv([_image("images/cat.jpg", fmt="jpeg")], i=8),
    ]
    doc = _run(records, dataset_bucket=BUCKET)
    image = "messages[0].content[0].image"
    assert _found(doc) == [
        (1, "media-wrong-bucket", f"{image}.source.s3Location.uri"),
        (2, "invalid-s3-key", f"{image}.source.s3Location.uri"),
        (3, "extension-mismatch", f"{image}.source.s3Location.uri"),
        (4, "invalid-media-format", f"{image}.format"),
        (5, "invalid-media-format", f"{image}.format"),
        (6, "invalid-s3-uri", f"{image}.source.s3Location.uri"),
        (7, "invalid-bucket-owner", f"{image}.source.s3Location.bucketOwner"),
        (8, "media-in-wrong-role", "messages[1].content[0].image"),
    ]
    assert '"png"' in doc["errors"][3]["message"]  # the fix: lower case
    assert '"jpeg"' in doc["errors"][4]["message"]


def test_the_bucket_rule_is_skipped_when_the_dataset_bucket_is_unknown() -> None:
    doc = _run(_records(8, [_image(bucket="other-bucket")]))
    assert doc["valid"], doc["errors"]


def test_too_many_images_or_videos_in_one_record() -> None:
    eleven = [_image(f"images/{i}.png") for i in range(11)]
    records = [*_records(7, [_image()]), _conv(eleven, i=9)]
    doc = _run(records)
    assert _found(doc) == [(8, "too-many-images", "messages[0].content[10].image")]
    two_videos = [_video("videos/a.mp4"), _video("videos/b.mp4")]
    doc = _run([*_records(7, [_video()]), _conv(two_videos, i=9)])
    # Two videos also count past Nova's 32,000 tokens: 90 seconds at 288 tokens a second each
    assert _found(doc) == [
        (8, "too-many-videos", "messages[0].content[1].video"),
        (8, "too-many-tokens", None),
    ]
    doc = _run(_records(8, [_image(), _image("images/dog.png")]), model=LLAMA_VISION)
    assert (1, "too-many-images", "messages[0].content[1].image") in _found(doc)


def test_a_text_only_model_refuses_media_and_names_the_models_that_take_them() -> None:
    doc = _run(_records(8, [_image()]), model=NOVA_MICRO)
    assert _found(doc)[0] == (1, "unsupported-content", "messages[0].content[0].image")
    assert "Amazon Nova Lite" in doc["errors"][0]["message"]
    assert "media" not in doc or doc["media"]["checked"] is None
    # Llama 3.2 Vision takes images, not video
    doc = _run(_records(8, [_video()]), model=LLAMA_VISION)
    assert (1, "unsupported-content", "messages[0].content[0].video") in _found(doc)


def test_a_dataset_takes_one_modality_and_the_first_line_of_each_is_named() -> None:
    records = [*_records(3, []), *_records(2, [_image()], 3), *_records(3, [_video()], 5)]
    doc = _run(records)
    (finding,) = doc["errors"]
    assert (finding["code"], finding["line"], finding["file"]) == ("mixed-media", 6, "training")
    assert "line 4" in finding["message"]
    assert "line 6" in finding["message"]


def test_modalities_are_judged_across_training_and_validation() -> None:
    report = validate_dataset(
        io.BytesIO(_jsonl(_records(8, [_image()]))),
        validation=io.BytesIO(_jsonl(_records(2, [_video()], 20))),
        model_id=NOVA_LITE,
        customization_type="fine-tuning",
    )
    (finding,) = report.document["errors"]
    assert (finding["code"], finding["file"], finding["line"]) == ("mixed-media", "validation", 1)
    assert "training line 1" in finding["message"]


def test_reasoning_is_allowed_on_nova_2_lite_and_refused_on_nova_lite() -> None:
    reasoning = {"reasoningContent": {"reasoningText": {"text": "It has whiskers, so a cat."}}}
    # Nova 2 Lite takes at least 200 records (NOVA_2_MIN).
    records = [
        _conv([], assistant=[reasoning, {"text": f"A cat {i}."}], i=i) for i in range(NOVA_2_MIN)
    ]
    two = _run(records, model=NOVA_2_LITE)
    assert two["valid"], two["errors"]
    one = _run(records, model=NOVA_LITE)
    assert {(e["code"], e["field"]) for e in one["errors"]} == {
        ("reasoning-not-supported", "messages[1].content[0].reasoningContent")
    }
    assert "Amazon Nova 2 Lite" in one["errors"][0]["message"]


def test_reasoning_lives_in_assistant_turns_and_holds_text() -> None:
    good = {"reasoningContent": {"reasoningText": {"text": "Think."}}}
    records = [_conv([], i=i) for i in range(NOVA_2_MIN)]
    records[1] = _conv([good], i=1)
    records[3] = _conv(
        [], assistant=[{"reasoningContent": {"redactedContent": "eA=="}}, {"text": "x"}], i=3
    )
    records[5] = _conv(
        [], assistant=[{"reasoningContent": {"reasoningText": {"text": " "}}}, {"text": "y"}], i=5
    )
    doc = _run(records, model=NOVA_2_LITE)
    assert _found(doc) == [
        (2, "reasoning-in-wrong-role", "messages[0].content[0].reasoningContent"),
        (4, "missing-field", "messages[1].content[0].reasoningContent.reasoningText"),
        (6, "empty-field", "messages[1].content[0].reasoningContent.reasoningText.text"),
    ]


def test_reasoning_tokens_count_toward_the_record() -> None:
    plain = _run([_conv([], i=i) for i in range(8)], model=NOVA_2_LITE)
    thought = {"reasoningContent": {"reasoningText": {"text": "a" * 300}}}
    records = [
        _conv([], assistant=[thought, {"text": f"A cat, number {i}."}], i=i) for i in range(8)
    ]
    with_reasoning = _run(records, model=NOVA_2_LITE)
    assert with_reasoning["tokens"]["total"] == plain["tokens"]["total"] + 8 * 100


def test_a_validation_file_is_refused_for_nova_2_lite() -> None:
    report = validate_dataset(
        io.BytesIO(_jsonl(_records(NOVA_2_MIN, []))),
        validation=io.BytesIO(_jsonl(_records(2, [], NOVA_2_MIN + 20))),
        model_id=NOVA_2_LITE,
        customization_type="fine-tuning",
    )
    assert [(e["file"], e["line"], e["code"]) for e in report.document["errors"]] == [
        ("validation", None, "validation-not-supported")
    ]


def test_media_count_toward_the_token_limit() -> None:
    # Llama 3.2 Vision: up to 6,404 tokens an image (AWS's formula, upper bound)
    text = _run(_records(8, []), model=LLAMA_VISION)
    image = _run(_records(8, [_image()]), model=LLAMA_VISION)
    assert image["tokens"]["total"] - text["tokens"]["total"] == 8 * 6404


def test_media_references_beyond_the_cap_are_counted_not_kept(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("customization_core.file_check.MAX_MEDIA_REFERENCES", 3)
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "cat.png").write_bytes(_png(64, 64))
    doc = _run(_records(8, [_image()]), media=LocalMediaResolver(tmp_path))
    assert [(w["code"], w["line"]) for w in doc["warnings"]] == [("media-references-skipped", None)]
    # the sentence carries the numbers: 5 references skipped past the first 3 kept
    assert re.findall(r"\d[\d,]*", doc["warnings"][0]["message"])[:2] == ["5", "3"]
    assert doc["media"]["images"] == 8


COHERE = "cohere.command-text-v14:7:4k"


def test_cohere_caps_prompt_and_completion_tokens_separately() -> None:
    # 4,096 input and 2,048 output tokens (model-customization-prepare); 3 characters a token.
    long_completion = {"prompt": "Summarize.", "completion": "word " * 1300}  # ~2,167 tokens
    long_prompt = {"prompt": "word " * 2500, "completion": "Short."}  # ~4,167 tokens
    fine = {"prompt": "word " * 2000, "completion": "word " * 1000}  # ~3,334 + ~1,667
    report = validate_dataset(
        io.BytesIO(_jsonl([long_completion, long_prompt, fine])),
        model_id=COHERE,
        customization_type="fine-tuning",
    ).document
    found = sorted(
        (e["line"], e["field"]) for e in report["errors"] if e["code"] == "too-many-tokens"
    )
    assert found == [(1, "completion"), (2, "prompt")]
