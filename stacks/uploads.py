"""What the EventBridge rules that start work share: the pattern of an upload, and their delivery."""

from __future__ import annotations

from aws_cdk import aws_events as events

# How long EventBridge keeps trying to deliver to a target before the DLQ (hours).
EVENT_MAX_AGE_HOURS = 24
EVENT_RETRIES = 185  # EventBridge's maximum


def object_created(bucket_name: str, key_wildcard: str) -> events.EventPattern:
    """S3's Object Created events of ``bucket_name`` whose key matches ``key_wildcard``."""
    return events.EventPattern(
        source=["aws.s3"],
        detail_type=["Object Created"],
        detail={
            "bucket": {"name": [bucket_name]},
            "object": {"key": events.Match.wildcard(key_wildcard)},
        },
    )


def uploaded_version(**more: str) -> events.RuleTargetInput:
    """A target's input naming the uploaded object's version: ``{"bucket", "key", "versionId"}``.

    ``more``: further fields, each a path into the event. The handlers read the three as a
    ``Source`` (customization_core/run.py) or an ``AnswerUpload`` (approval.py).
    """
    paths = {
        "bucket": "$.detail.bucket.name",
        "key": "$.detail.object.key",
        "versionId": "$.detail.object.version-id",
        **more,
    }
    return events.RuleTargetInput.from_object(
        {name: events.EventField.from_path(path) for name, path in paths.items()}
    )
