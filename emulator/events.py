"""EventBridge's events: their envelope, and the patterns and input transformers the template uses.

Source: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html
(exact values, prefix, wildcard, exists) and
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html
"""

from __future__ import annotations

import fnmatch
import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from emulator.state import ACCOUNT, REGION


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    """True when ``event`` matches ``pattern``: every field, one of its values."""
    for name, expected in pattern.items():
        actual = event.get(name) if isinstance(event, dict) else None
        if isinstance(expected, dict):
            if not isinstance(actual, dict) or not matches(expected, actual):
                return False
            continue
        if not any(_value_matches(rule, actual) for rule in expected):
            return False
    return True


def _value_matches(rule: Any, actual: Any) -> bool:
    if not isinstance(rule, dict):
        return bool(rule == actual)
    if "wildcard" in rule:
        # EventBridge's '*' matches any characters, '/' included.
        return isinstance(actual, str) and fnmatch.fnmatchcase(
            actual, rule["wildcard"].replace("[", "[[]")
        )
    if "prefix" in rule:
        return isinstance(actual, str) and actual.startswith(rule["prefix"])
    if "exists" in rule:
        return (actual is not None) is bool(rule["exists"])
    raise ValueError(f"the emulator does not implement the pattern operator {rule}")


def _path(event: dict[str, Any], path: str) -> Any:
    value: Any = event
    for part in path.removeprefix("$.").split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def transform(transformer: dict[str, Any] | None, event: dict[str, Any]) -> Any:
    """The target's input: the whole event, or the InputTransformer's template filled in."""
    if not transformer:
        return event
    values = {name: _path(event, path) for name, path in transformer["InputPathsMap"].items()}
    text = re.sub(
        r"<([\w.-]+)>", lambda m: json.dumps(values.get(m.group(1))), transformer["InputTemplate"]
    )
    return json.loads(text)


def object_created(bucket: str, key: str, size: int, etag: str, version_id: str) -> dict[str, Any]:
    """The Object Created event S3 sends EventBridge for a new object version."""
    return envelope(
        "aws.s3",
        "Object Created",
        f"arn:aws:s3:::{bucket}",
        {
            "version": "0",
            "bucket": {"name": bucket},
            "object": {"key": key, "size": size, "etag": etag.strip('"'), "version-id": version_id},
            "reason": "PutObject",
        },
    )


def envelope(
    source: str, detail_type: str, resource: str, detail: dict[str, Any]
) -> dict[str, Any]:
    """An EventBridge event envelope, as AWS services send them."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": ACCOUNT,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [resource],
        "detail": detail,
    }
