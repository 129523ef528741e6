"""Uploads to the datasets bucket as the caller: the data, then job.json (which starts a run).

Uploads use S3 multipart transfers above 64 MiB, with the SSE-KMS headers the datasets
bucket's policy requires on every part's CreateMultipartUpload and PutObject. job.json
carries the caller's aws:userid as its submitted-by tag.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Final

from bedrock_customize import stack as stacks
from bedrock_customize.console import console, say
from bedrock_customize.stack import aws
from customization_core.layout import MANIFEST_NAME

MIB: Final = 1024 * 1024
MULTIPART_BYTES: Final = 64 * MIB  # parts of 64 MiB: 10,000 parts cover 625 GiB (S3's part limit)


def upload_encryption(stack: stacks.Stack) -> dict[str, str]:
    """The SSE-KMS headers the datasets bucket's policy requires on every upload."""
    return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": stack.output("DataKeyArn")}


def caller(stack: stacks.Stack) -> str:
    """The caller's aws:userid: what job.json's submitted-by tag must be."""
    me = aws("sts:GetCallerIdentity", lambda: stack.client("sts").get_caller_identity())
    return str(me["UserId"])


def put_manifest(
    stack: stacks.Stack, folder: str, manifest: bytes, *, user_id: str | None = None
) -> str:
    """Write ``folder``/job.json (its upload starts the run) as the caller; the run id.

    It carries the caller's aws:userid as its submitted-by tag (the bucket refuses any
    other), so that someone else must approve the run (customization_core/approval.py).
    """
    from customization_core import approval
    from customization_core.naming import ObjectVersion, run_names

    bucket, key = stack.output("DatasetsBucketName"), folder + MANIFEST_NAME
    submitter = user_id or caller(stack)
    s3, encryption = stack.client("s3"), upload_encryption(stack)
    put = aws(
        "s3:PutObject",
        lambda: s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=manifest,
            ContentType="application/json",
            Tagging=approval.tagging(approval.SUBMITTED_BY, submitter),
            **encryption,
        ),
    )
    return run_names(ObjectVersion(bucket, key, put["VersionId"])).run_id


def upload(s3: Any, path: Path, bucket: str, key: str, encryption: dict[str, str]) -> None:
    """One file, multipart above 64 MiB, with a progress bar on a terminal."""
    from boto3.s3.transfer import TransferConfig
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    size = path.stat().st_size
    config = TransferConfig(
        multipart_threshold=MULTIPART_BYTES, multipart_chunksize=MULTIPART_BYTES
    )
    terminal = console(err=True).is_terminal
    progress = (
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=console(err=True),
            transient=True,
        )
        if terminal
        else None
    )
    with progress or nullcontext():
        advance: Callable[[int], None] | None = None
        if progress is not None:
            task = progress.add_task(f"Uploading {path.name}", total=size)
            advance = lambda sent: progress.advance(task, sent)  # noqa: E731
        aws(
            "s3:PutObject",
            lambda: s3.upload_file(
                str(path), bucket, key, ExtraArgs=encryption, Config=config, Callback=advance
            ),
        )
    say(f"Uploaded {path} to s3://{bucket}/{key} ({size / MIB:,.1f} MiB, SSE-KMS).", err=True)
