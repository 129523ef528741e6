"""The run's report page, gathered from the registry and the run's files and written beside them.

The handlers that move a run on (ValidateDataset, StartJob, RecordResult, Notify, Cancel)
rewrite ``runs/<run-id>/report.html`` in the artifacts bucket (encrypted by the bucket's
default, the stack's data key); Notify also signs a short link to it. The page is a view
of the run's record: one that cannot be written is logged and never fails the run.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

import orjson

from customization_core.layout import (
    dataset_card_key,
    evaluation_keys,
    output_prefix,
    report_page_key,
    validation_report_key,
)
from customization_core.registry import SECRET_ATTRIBUTES, Registry, plain
from customization_core.report_inputs import ReportInputs
from customization_core.report_page import render_report
from customization_core.run import PipelineConfig
from customization_core.training_eta import eta_of

LOGGER = logging.getLogger(__name__)

# The metrics CSVs a page reads (Bedrock writes two for fine-tuning, one for RFT), and the
# most of each it reads (bytes): a 5,000-step file is about 200 KB.
MAX_METRICS_FILES: Final = 10
MAX_METRICS_BYTES: Final = 8 * 1024 * 1024
MAX_METRICS_TOTAL_BYTES: Final = 16 * 1024 * 1024  # of all of them: the page's memory bound
# How long the notification's link to the page works (seconds). A presigned URL also ends
# when the signing role's session does; `bedrock-customize report RUN_ID` fetches it later.
# Source: https://docs.aws.amazon.com/AmazonS3/latest/userguide/ShareObjectPreSignedURL.html
# (read 2026-12-02).
LINK_SECONDS: Final = 3600
CONTENT_TYPE: Final = "text/html; charset=utf-8"


def gather(
    run_id: str, *, s3: Any, registry: Registry, bucket: str, now: datetime
) -> ReportInputs | None:
    """Everything the page of ``run_id`` shows (None: the registry has no such run)."""
    item = registry.get(run_id)
    if item is None:
        return None
    return inputs_of(item, s3=s3, bucket=bucket, now=now)


def inputs_of(item: Mapping[str, Any], *, s3: Any, bucket: str, now: datetime) -> ReportInputs:
    """The page's inputs for a registry item: its validation report, evaluation and metrics."""
    run_id = str(item["run_id"])
    run = plain(item, hide=SECRET_ATTRIBUTES)  # JSON types: DynamoDB's numbers are Decimals
    # The registry links the card (its S3 URI); the page shows the card itself.
    card = read_listed(s3, bucket, dataset_card_key(run_id))
    if card:
        run["dataset_card"] = orjson.loads(card)
    return ReportInputs.from_documents(
        run,
        validation_report=read_listed(s3, bucket, validation_report_key(run_id)),
        evaluation=read_listed(s3, bucket, evaluation_keys(run_id)[1]),
        metrics_files=metrics_files(s3, bucket, run_id),
        eta=eta_of(item, now=now),
        generated_at=now,
    )


def publish_report(
    run_id: str, *, s3: Any, registry: Registry, bucket: str, now: datetime
) -> str | None:
    """Render and write the page of ``run_id``; its key, or None when the run is unknown."""
    inputs = gather(run_id, s3=s3, registry=registry, bucket=bucket, now=now)
    if inputs is None:
        return None
    key = report_page_key(run_id)
    s3.put_object(
        Bucket=bucket, Key=key, Body=render_report(inputs).encode(), ContentType=CONTENT_TYPE
    )
    return key


def publish_quietly(
    run_id: str, *, s3: Any, registry: Registry, bucket: str, now: datetime
) -> str | None:
    """``publish_report``, logged instead of raised: the page never fails a run."""
    try:
        return publish_report(run_id, s3=s3, registry=registry, bucket=bucket, now=now)
    except Exception:  # the run's record is the truth; a page it cannot write is a warning
        LOGGER.warning("The report page of run %s was not written", run_id, exc_info=True)
        return None


def refresh_page(
    run_id: str, *, s3: Any, registry: Registry, config: PipelineConfig, now: datetime | None = None
) -> str | None:
    """A handler's call: the page of ``run_id`` rewritten in the stack's artifacts bucket, quietly."""
    return publish_quietly(
        run_id,
        s3=s3,
        registry=registry,
        bucket=config.artifacts_bucket,
        now=now or datetime.now(UTC),
    )


def report_link(s3: Any, bucket: str, run_id: str, *, seconds: int = LINK_SECONDS) -> str:
    """A presigned GET of the page: signed here, with no call to any endpoint."""
    return str(
        s3.generate_presigned_url(
            "get_object",
            Params={"Bucket": bucket, "Key": report_page_key(run_id)},
            ExpiresIn=seconds,
        )
    )


def read_object(s3: Any, bucket: str, key: str, limit: int | None = None) -> bytes | None:
    """The object's bytes (at most ``limit``), or None when there is none."""
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    except s3.exceptions.NoSuchKey:
        return None
    try:
        return bytes(body.read(limit) if limit else body.read())
    finally:
        body.close()


def read_listed(s3: Any, bucket: str, key: str) -> bytes | None:
    """The object's bytes if it is listed, else None.

    Listed first because S3 answers a GET of a missing key with AccessDenied, not NoSuchKey,
    to a caller without s3:ListBucket on it, and a run's evaluation or card may not exist
    yet; the writers may list exactly these keys (customization_core/layout.py
    REPORT_LISTINGS). Source: https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
    (read 2026-12-02).
    """
    listing = s3.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1)
    if not any(item["Key"] == key for item in listing.get("Contents", [])):
        return None
    return read_object(s3, bucket, key)


def metrics_files(s3: Any, bucket: str, run_id: str) -> dict[str, str]:
    """The CSVs Bedrock wrote under the run's output prefix (key relative to it -> text)."""
    prefix = output_prefix(run_id)
    listing = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
    keys = sorted(i["Key"] for i in listing.get("Contents", []) if i["Key"].endswith(".csv"))
    found = {}
    left = MAX_METRICS_TOTAL_BYTES
    for key in keys[:MAX_METRICS_FILES]:
        raw = read_object(s3, bucket, key, min(MAX_METRICS_BYTES, left)) if left else None
        if raw is not None:
            found[key.removeprefix(prefix)] = raw.decode("utf-8", "replace")
            left -= len(raw)
    return found
