"""The run's own copy of the data it validated, which is all Bedrock is given to train on.

ValidateDataset judges object versions, but Bedrock reads keys: a file replaced
while the run awaits approval would train on data nobody checked. So the
versions judged (the data files, and the media objects their records name) are
copied under ``runs/<run-id>/input/`` in the artifacts bucket, and StartJob
names only that copy. The copy of a data file is streamed line by line in
bounded memory; a line whose media URIs point into the source bucket is
rewritten to name the media copies, every other line is copied byte for byte.

The source bucket is only read (GetObject and CopyObject's source, by version).
A retry writes the same keys with the same bytes. Objects are written without
encryption arguments: the artifacts bucket's default (SSE-KMS with the stack's
data key, see stacks/storage.py) applies to PutObject, multipart uploads and
CopyObject alike, and its policy refuses any other encryption.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Final

import orjson
from botocore.exceptions import ConnectionError as NetworkError
from botocore.exceptions import HTTPClientError, IncompleteReadError

from customization_core.layout import (
    TRAINING_FOLDER,
    VALIDATION_FOLDER,
    input_prefix,
    media_copy_key,
)
from customization_core.media import MEDIA_CONCURRENCY, NULL_VERSION, S3_TRANSIENT
from customization_core.media_block import media_locations, parse_s3_uri
from customization_core.stream import MAX_LINE_BYTES, NEWLINE, reader

# Multipart part size (bytes). S3 takes parts of 5 MiB to 5 GiB and at most 10,000
# of them: 8 MiB parts carry files up to 80 GiB, above the catalog's largest
# training file (10 GiB). Source: https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html
PART_BYTES: Final = 8 * 1024 * 1024
MIN_PART_BYTES: Final = 5 * 1024 * 1024
# Faults of the connection rather than of a request: a read cut short mid-stream,
# a timeout. Transient like S3_TRANSIENT, so the state retries.
_NETWORK_FAULTS: Final = (NetworkError, HTTPClientError, IncompleteReadError)


class SnapshotUnavailableError(Exception):
    """S3 failed on its side (throttling, 5xx, a dropped stream) while copying: the state retries."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Where the copy is, and what it was copied from (small: it rides in the run document)."""

    training_uri: str
    training_version: str  # the source version copied
    validation_uri: str | None
    validation_version: str | None
    media_count: int  # distinct media objects copied
    # Of those, objects the validator did not look up (past its reference cap):
    # copied at the version current now, which the copy then keeps.
    unchecked_media: int
    bytes: int  # of the data files written
    rewritten_lines: int  # lines whose media URIs now name the copies

    def record(self) -> dict[str, Any]:
        """The snapshot as JSON-ready fields, for the run document and the registry."""
        return dataclasses.asdict(self)


def data_copy_key(run_id: str, folder: str, source_key: str) -> str:
    """The key of the copy of a data file (training and validation in their own folders,
    so two files of the same name in different folders do not collide)."""
    return f"{input_prefix(run_id)}{folder}{PurePosixPath(source_key).name}"


def snapshot(
    s3: Any,
    *,
    source_bucket: str,
    training: Mapping[str, str],
    validation: Mapping[str, str] | None,
    media_versions: Mapping[str, str],
    artifacts_bucket: str,
    run_id: str,
    part_bytes: int = PART_BYTES,
    concurrency: int = MEDIA_CONCURRENCY,
) -> Snapshot:
    """Copy the pinned data files and the media they name under ``runs/<run-id>/input/``.

    ``training`` and ``validation`` are the run's ``{"key", "version_id"}`` of each
    file in ``source_bucket``, the versions the validator read.
    ``media_versions``: URI -> the version the validator judged
    (``S3MediaResolver.versions``). Raises SnapshotUnavailableError for S3's
    transient faults; any other S3 error (403, a version deleted) propagates.
    """
    if part_bytes < MIN_PART_BYTES:
        raise ValueError(f"part_bytes must be at least {MIN_PART_BYTES:,} (S3's minimum part)")
    media: dict[str, str] = {}  # source URI -> source key, in the order first named
    rewritten = 0

    def rewrite(line: bytes) -> bytes:
        nonlocal rewritten
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            return line  # the validator passed it; Bedrock gets it as it was
        changed = False
        for location in media_locations(record):
            uri = location.get("uri")
            if not isinstance(uri, str):
                continue
            parsed = parse_s3_uri(uri)
            if parsed is None or parsed[0] != source_bucket:
                continue
            media.setdefault(uri, parsed[1])
            location["uri"] = f"s3://{artifacts_bucket}/{media_copy_key(run_id, parsed[1])}"
            changed = True
        if not changed:
            return line
        rewritten += 1
        body = line.rstrip()
        return orjson.dumps(record) + line[len(body) :]  # the line's own ending, kept

    def copy(pinned: Mapping[str, str], folder: str) -> tuple[str, str, int]:
        key = data_copy_key(run_id, folder, pinned["key"])
        written = _copy_data_file(
            s3,
            source_bucket=source_bucket,
            source_key=pinned["key"],
            version_id=pinned["version_id"],
            bucket=artifacts_bucket,
            key=key,
            rewrite=rewrite,
            part_bytes=part_bytes,
        )
        return f"s3://{artifacts_bucket}/{key}", pinned["version_id"], written

    training_uri, training_version, size = copy(training, TRAINING_FOLDER)
    validation_uri = validation_version = None
    if validation is not None:
        validation_uri, validation_version, more = copy(validation, VALIDATION_FOLDER)
        size += more

    def copy_media(uri: str) -> None:
        _copy_media(
            s3,
            source_bucket=source_bucket,
            source_key=media[uri],
            version_id=media_versions.get(uri),
            bucket=artifacts_bucket,
            key=media_copy_key(run_id, media[uri]),
        )

    if media:
        with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(media)))) as pool:
            list(pool.map(copy_media, media))
    return Snapshot(
        training_uri=training_uri,
        training_version=training_version,
        validation_uri=validation_uri,
        validation_version=validation_version,
        media_count=len(media),
        unchecked_media=sum(1 for uri in media if uri not in media_versions),
        bytes=size,
        rewritten_lines=rewritten,
    )


@contextmanager
def _s3_faults(what: str) -> Iterator[None]:
    """Within the block, S3's transient faults become SnapshotUnavailableError."""
    try:
        yield
    except _NETWORK_FAULTS as fault:
        raise SnapshotUnavailableError(f"{what}: {fault}") from fault
    except Exception as problem:
        code = getattr(problem, "response", {}).get("Error", {}).get("Code")
        if code in S3_TRANSIENT:
            raise SnapshotUnavailableError(f"{what}: {problem}") from problem
        raise


def _version(version_id: str | None) -> dict[str, str]:
    """The VersionId argument that reads exactly ``version_id`` (none for an unversioned object)."""
    return {"VersionId": version_id} if version_id and version_id != NULL_VERSION else {}


def _copy_data_file(
    s3: Any,
    *,
    source_bucket: str,
    source_key: str,
    version_id: str,
    bucket: str,
    key: str,
    rewrite: Callable[[bytes], bytes],
    part_bytes: int,
) -> int:
    """Stream one version of a data file to ``bucket/key`` through ``rewrite``; bytes written."""
    what = f"s3://{source_bucket}/{source_key}?versionId={version_id}"
    metadata = {
        "source-bucket": source_bucket,
        "source-key": source_key,
        "source-version-id": version_id,
    }
    with _s3_faults(what):
        body = s3.get_object(Bucket=source_bucket, Key=source_key, **_version(version_id))["Body"]
        upload = _Upload(s3, bucket, key, part_bytes, metadata)
        try:
            readline = reader(body).readline
            inside_long_line = False
            while True:
                raw = readline(MAX_LINE_BYTES)
                if not raw:
                    break
                ended = raw[-1] == NEWLINE
                if inside_long_line or (not ended and len(raw) >= MAX_LINE_BYTES):
                    # A line longer than any record is passed through in pieces, unread
                    # (the validator refuses such a file, so this is only robustness).
                    upload.write(raw)
                    inside_long_line = not ended
                    continue
                upload.write(rewrite(raw))
            return upload.finish()
        except BaseException:
            upload.abort()
            raise
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()


def _copy_media(
    s3: Any,
    *,
    source_bucket: str,
    source_key: str,
    version_id: str | None,
    bucket: str,
    key: str,
) -> None:
    """Copy one media object, by the version validated when there is one, server side.

    One CopyObject copies up to 5 GB; larger objects would need a multipart copy
    (UploadPartCopy). Media are far below it: the largest media limit in the catalog
    is 50 MiB (Nova video), and the validator refuses larger objects. Source:
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html
    """
    what = f"s3://{source_bucket}/{source_key}" + (f"?versionId={version_id}" if version_id else "")
    with _s3_faults(what):
        s3.copy_object(
            Bucket=bucket,
            Key=key,
            CopySource={"Bucket": source_bucket, "Key": source_key, **_version(version_id)},
            # The source's tags stay with the source (copying them would need tagging
            # permissions on both buckets); its metadata and content type are copied.
            TaggingDirective="REPLACE",
        )


class _Upload:
    """One object written as it is produced: one PutObject if it stays under a part, else parts.

    At most one part (plus the line that filled it) is held in memory.
    """

    def __init__(
        self, s3: Any, bucket: str, key: str, part_bytes: int, metadata: dict[str, str]
    ) -> None:
        self._s3, self._bucket, self._key = s3, bucket, key
        self._part_bytes = part_bytes
        self._metadata = metadata
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self.written = 0

    def write(self, data: bytes) -> None:
        self._buffer += data
        self.written += len(data)
        if len(self._buffer) >= self._part_bytes:
            self._send_part()

    def _send_part(self) -> None:
        if self._upload_id is None:
            self._upload_id = self._s3.create_multipart_upload(
                Bucket=self._bucket, Key=self._key, Metadata=self._metadata
            )["UploadId"]
        number = len(self._parts) + 1
        data, self._buffer = bytes(self._buffer), bytearray()
        etag = self._s3.upload_part(
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            PartNumber=number,
            Body=data,
        )["ETag"]
        self._parts.append({"PartNumber": number, "ETag": etag})

    def finish(self) -> int:
        """Complete the object; the bytes written."""
        if self._upload_id is None:
            self._s3.put_object(
                Bucket=self._bucket,
                Key=self._key,
                Body=bytes(self._buffer),
                Metadata=self._metadata,
            )
            self._buffer = bytearray()
            return self.written
        if self._buffer:
            self._send_part()
        self._s3.complete_multipart_upload(
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            MultipartUpload={"Parts": self._parts},
        )
        self._upload_id = None
        return self.written

    def abort(self) -> None:
        """Drop the parts sent (the bucket's lifecycle rule aborts them anyway, after 7 days)."""
        if self._upload_id is None:
            return
        upload_id, self._upload_id = self._upload_id, None
        with suppress(Exception):  # the fault that brought us here is the one to raise
            self._s3.abort_multipart_upload(Bucket=self._bucket, Key=self._key, UploadId=upload_id)
