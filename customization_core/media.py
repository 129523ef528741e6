"""The media objects a conversation dataset names: found, sized and sniffed, not trusted by name.

A record says ``{"image": {"format": "png", "source": {"s3Location": {"uri": ...}}}}``;
Bedrock fails the job when the object is missing, too large, or not what the
record says. This module reads the first ``HEAD_BYTES`` of each object through a
``MediaResolver`` and judges what they say (customization_core/media_bytes.py: format,
pixels, duration) against the model's ``MediaLimit``. Sources of the limits are in the
catalog (``MediaLimit.source``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Final, Protocol, TypeVar

from customization_core.bounded import clip, quote
from customization_core.catalog import Media, MediaLimit
from customization_core.findings import Finding, Source, error, warning
from customization_core.media_block import MediaKind, parse_s3_uri
from customization_core.media_bytes import image_dimensions, sniff_format, video_duration

T = TypeVar("T")

# Bytes read from the start of each object: every header media_bytes.py parses sits
# in the first few hundred bytes, except a JPEG frame header behind a large Exif
# segment (itself at most 64 KiB) and an MP4 moov box (often at the end).
HEAD_BYTES: Final = 64 * 1024
# Resolver calls in flight. botocore's default connection pool holds 10
# connections (max_pool_connections); more threads would only queue on it.
MEDIA_CONCURRENCY: Final = 10

# Containers that are one family: a decoder of one reads the other, so a mix-up
# is worth a warning, not a failed job.
_SIBLINGS: Final = (frozenset({"mp4", "mov"}), frozenset({"mkv", "webm"}))


# --- Resolvers ---------------------------------------------------------------------------


class MediaResolver(Protocol):
    """Where the objects a dataset names are read from."""

    def resolve(self, uri: str) -> tuple[int, bytes] | None:
        """``(size in bytes, the first HEAD_BYTES)`` of the object, or None when it does not exist."""
        ...


class LocalMediaResolver:
    """``s3://bucket/key`` read as ``root/key``: a local copy of the bucket (CLI ``--media-root``)."""

    def __init__(self, root: Path) -> None:
        self._root = root.resolve()

    def resolve(self, uri: str) -> tuple[int, bytes] | None:
        parsed = parse_s3_uri(uri)
        if parsed is None:
            return None
        path = (self._root / parsed[1]).resolve()
        if not path.is_relative_to(self._root) or not path.is_file():
            return None
        with path.open("rb") as stream:
            head = stream.read(HEAD_BYTES)
        return path.stat().st_size, head


# The version id S3 reports for an object stored while the bucket was never versioned.
# Source: https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html
NULL_VERSION: Final = "null"


class MediaUnavailableError(Exception):
    """S3 failed on its side (throttling, 5xx) while reading a media object: retried, not judged."""


# S3's transient error codes: the object is not at fault, the read is tried again later.
# Source: https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
S3_TRANSIENT: Final = frozenset(
    {
        "SlowDown",
        "ServiceUnavailable",
        "InternalError",
        "RequestTimeout",
        "503",
        "500",
        "ThrottlingException",
    }
)


class S3MediaResolver:
    """Objects in S3: HeadObject for the size and version, a ranged GetObject of that version.

    ``s3_client`` is a boto3 S3 client (untyped here, as everywhere in the core).
    A missing object is None; any other error (403, throttling) propagates, and
    ``check_media`` reports it as ``media-unreadable`` on the record that named it.

    ``versions`` remembers the object version each resolved URI was judged by, so
    that what trains is that version (customization_core/snapshot.py copies it).
    """

    _MISSING: Final = frozenset({"404", "NoSuchKey", "NotFound", "NoSuchVersion"})

    def __init__(self, s3_client: Any) -> None:
        self._s3 = s3_client
        self._versions: dict[str, str] = {}
        self._lock = threading.Lock()  # check_media resolves from several threads

    @property
    def versions(self) -> dict[str, str]:
        """URI -> version id of every object found ("null" in a bucket never versioned)."""
        with self._lock:
            return dict(self._versions)

    def resolve(self, uri: str) -> tuple[int, bytes] | None:
        parsed = parse_s3_uri(uri)
        if parsed is None:
            return None
        bucket, key = parsed
        head = self._call(uri, self._s3.head_object, Bucket=bucket, Key=key)
        if head is None:
            return None
        size = int(head["ContentLength"])
        version = head.get("VersionId")
        head_bytes = b""
        if size:
            # The bytes judged are those of the version recorded, even when the key is
            # overwritten between the two calls.
            pinned = {"VersionId": version} if version else {}
            last = min(size, HEAD_BYTES) - 1
            read = self._call(
                uri, self._first_bytes, Bucket=bucket, Key=key, Range=f"bytes=0-{last}", **pinned
            )
            if read is None:
                return None  # that version was deleted between the two calls
            head_bytes = read
        with self._lock:
            self._versions[uri] = str(version or NULL_VERSION)
        return size, head_bytes[:HEAD_BYTES]

    def _first_bytes(self, **request: str) -> bytes:
        body = self._s3.get_object(**request)["Body"]
        try:
            return bytes(body.read())
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()

    def _call(self, uri: str, call: Callable[..., T], **request: str) -> T | None:
        """``call(**request)``; None when the object is missing, S3's own faults retried."""
        try:
            return call(**request)
        except Exception as problem:
            code = getattr(problem, "response", {}).get("Error", {}).get("Code")
            if code in self._MISSING:
                return None
            if code in S3_TRANSIENT:
                raise MediaUnavailableError(f"{quote(uri)}: {clip(str(problem))}") from problem
            raise


# --- Judging the objects -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MediaReference:
    """One media block of one record: what it names, and where it was written."""

    uri: str
    kind: MediaKind
    declared: str | None  # its "format", None when that was itself invalid (already reported)
    line: int
    source: Source
    field: str


@dataclass(frozen=True, slots=True)
class MediaCheck:
    findings: list[Finding] = field(default_factory=list)
    bytes: int = 0  # of the distinct objects found
    objects: int = 0  # distinct objects looked up


@dataclass(frozen=True, slots=True)
class _Probe:
    """What the first bytes of one object said (kept instead of the bytes: memory stays small)."""

    size: int
    detected: str | None
    dimensions: tuple[int, int] | None
    seconds: float | None


def _probe(resolver: MediaResolver, uri: str) -> _Probe | str | None:
    """The probe of ``uri``; None when it does not exist, a message when it cannot be read."""
    try:
        found = resolver.resolve(uri)
    except MediaUnavailableError:
        raise  # S3's fault, not the data's: the state machine retries ValidateDataset
    except Exception as problem:  # any other resolver failure is a finding, never a crash
        return clip(f"{type(problem).__name__}: {problem}")
    if found is None:
        return None
    size, head = found
    detected = sniff_format(head)
    dimensions = image_dimensions(head, detected) if detected else None
    seconds = video_duration(head) if detected in ("mp4", "mov") else None
    return _Probe(size, detected, dimensions, seconds)


def check_media(
    references: Sequence[MediaReference],
    resolver: MediaResolver,
    limits: Media,
    *,
    concurrency: int = MEDIA_CONCURRENCY,
) -> MediaCheck:
    """Look up each distinct object once (``concurrency`` at a time) and judge every reference."""
    from concurrent.futures import ThreadPoolExecutor  # only a dataset with media pays for it

    unique = list(dict.fromkeys(ref.uri for ref in references))
    if not unique:
        return MediaCheck()
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(unique)))) as pool:
        probes = dict(zip(unique, pool.map(partial(_probe, resolver), unique), strict=True))
    findings: list[Finding] = []
    for ref in references:
        limit = limits.image if ref.kind == "image" else limits.video
        if limit is not None:
            findings.extend(_judge(ref, probes[ref.uri], limit))
    found = [p for p in probes.values() if isinstance(p, _Probe)]
    return MediaCheck(findings, sum(p.size for p in found), len(unique))


def _judge(ref: MediaReference, probe: _Probe | str | None, limit: MediaLimit) -> list[Finding]:
    def bad(code: str, message: str) -> Finding:
        return error(ref.source, code, message, line=ref.line, field=ref.field)

    uri, noun = quote(ref.uri), ref.kind  # as every message shows it
    if isinstance(probe, str):
        return [
            bad(
                "media-unreadable",
                f"{uri} could not be read ({probe}); check that it exists and that the role running the job may read it.",
            )
        ]
    if probe is None:
        return [
            bad(
                "media-not-found",
                f"{uri} does not exist; upload the {noun} or correct the URI.",
            )
        ]
    found: list[Finding] = []
    if probe.size > limit.max_bytes:
        found.append(
            bad(
                "media-too-large",
                f"{uri} is {probe.size:,} bytes; a {noun} may be at most {limit.max_bytes:,} bytes (source: {limit.source}). Compress or shorten it.",
            )
        )
    detected, declared = probe.detected, ref.declared
    if detected is None:
        what = "is empty" if probe.size == 0 else "starts with bytes of no image or video format"
        found.append(
            bad(
                "media-format-mismatch",
                f"{uri} {what}, not a {declared or noun} file; replace it with a real {declared or noun}.",
            )
        )
        return found
    if declared is not None and detected != declared:
        sibling = frozenset({detected, declared}) in _SIBLINGS
        make = warning if sibling else error
        found.append(
            make(
                ref.source,
                "media-format-mismatch",
                f'{uri} is a {detected} file but the record says "{declared}"; '
                + (
                    f'set "format" to "{detected}" (the two containers are related, so it may still train).'
                    if sibling
                    else f'set "format" to "{detected}" if the model takes it, or convert the file to {declared}.'
                ),
                line=ref.line,
                field=ref.field,
            )
        )
    if probe.dimensions is not None:
        width, height = probe.dimensions
        if limit.min_pixels is not None and min(width, height) < limit.min_pixels:
            found.append(
                bad(
                    "image-too-small",
                    f"{uri} is {width}x{height} pixels; each side must be at least {limit.min_pixels:,} (source: {limit.source}). Use a larger image.",
                )
            )
        if limit.max_pixels is not None and max(width, height) > limit.max_pixels:
            found.append(
                bad(
                    "image-too-large",
                    f"{uri} is {width}x{height} pixels; each side may be at most {limit.max_pixels:,} (source: {limit.source}). Scale it down.",
                )
            )
    if (
        probe.seconds is not None
        and limit.max_seconds is not None
        and probe.seconds > limit.max_seconds
    ):
        found.append(
            bad(
                "video-too-long",
                f"{uri} runs {probe.seconds:,.1f} seconds; a video may be at most {limit.max_seconds:g} seconds (source: {limit.source}). Trim it.",
            )
        )
    return found
