"""The EventBridge pattern of an upload to a bucket, shared by the rules that start work."""

from __future__ import annotations

from aws_cdk import aws_events as events


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
