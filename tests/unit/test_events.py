"""The emulator's EventBridge: patterns and input transformers as the template uses them."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.events import matches, transform

EVENT: dict[str, Any] = {
    "source": "aws.s3",
    "detail-type": "Object Created",
    "time": "2026-11-24T09:00:00Z",
    "detail": {
        "bucket": {"name": "inbox"},
        "object": {"key": "jobs/a/b/job.json", "version-id": "v1", "etag": "e"},
    },
}
PATTERN = {
    "source": ["aws.s3"],
    "detail-type": ["Object Created"],
    "detail": {"bucket": {"name": ["inbox"]}, "object": {"key": [{"wildcard": "jobs/*/job.json"}]}},
}


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("jobs/a/job.json", True),
        ("jobs/a/b/job.json", True),  # '*' spans '/'
        ("jobs/a/train.jsonl", False),
        ("other/a/job.json", False),
        ("jobs/a/job.json.bak", False),
    ],
)
def test_the_upload_rule_matches_only_job_json_under_jobs(key: str, expected: bool) -> None:
    event = {**EVENT, "detail": {**EVENT["detail"], "object": {"key": key}}}
    assert matches(PATTERN, event) is expected


def test_other_buckets_and_sources_do_not_match() -> None:
    assert not matches(PATTERN, {**EVENT, "source": "aws.states"})
    assert not matches(
        PATTERN, {**EVENT, "detail": {**EVENT["detail"], "bucket": {"name": "elsewhere"}}}
    )


def test_prefix_and_exists_operators() -> None:
    assert matches({"detail": {"object": {"key": [{"prefix": "jobs/"}]}}}, EVENT)
    assert matches({"detail": {"object": {"size": [{"exists": False}]}}}, EVENT)
    with pytest.raises(ValueError, match="does not implement"):
        matches({"source": [{"numeric": [">", 0]}]}, EVENT)


def test_the_input_transformer_fills_its_template() -> None:
    transformer = {
        "InputPathsMap": {
            "k": "$.detail.object.key",
            "v": "$.detail.object.version-id",
            "t": "$.time",
        },
        "InputTemplate": '{"key":<k>,"versionId":<v>,"time":<t>}',
    }
    assert transform(transformer, EVENT) == {
        "key": "jobs/a/b/job.json",
        "versionId": "v1",
        "time": "2026-11-24T09:00:00Z",
    }
    assert transform(None, EVENT) is EVENT
