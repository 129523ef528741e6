"""The media objects a conversation dataset names: found, sized and sniffed, not trusted by name.

A record says ``{"image": {"format": "png", "source": {"s3Location": {"uri": ...}}}}``;
Bedrock fails the job when the object is missing, too large, or not what the
record says. This module reads the first ``HEAD_BYTES`` of each object through a
``MediaResolver`` and judges them against the model's ``MediaLimit``:

- the format, by magic bytes (PNG, JPEG, GIF, WebP; MP4/MOV as ISO BMFF ``ftyp``,
  brand ``qt  `` for MOV; MKV/WebM by the EBML DocType);
- an image's pixel size, from its header (PNG IHDR, GIF logical screen, JPEG SOFn,
  WebP VP8/VP8L/VP8X), pure Python;
- an MP4/MOV duration, from ``moov/mvhd`` when it is within the bytes read
  ("fast start" files; others are not judged on duration).

Sources of the limits are in the catalog (``MediaLimit.source``).
"""

from __future__ import annotations

import re
import string
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Final, Literal, Protocol, TypeVar

from customization_core.bounded import clip, quote
from customization_core.catalog import Media, MediaLimit
from customization_core.findings import Finding, Source, error, warning

MediaKind = Literal["image", "video"]
T = TypeVar("T")

# Bytes read from the start of each object: every header this module parses sits
# in the first few hundred bytes, except a JPEG frame header behind a large Exif
# segment (itself at most 64 KiB) and an MP4 moov box (often at the end).
HEAD_BYTES: Final = 64 * 1024
# Resolver calls in flight. botocore's default connection pool holds 10
# connections (max_pool_connections); more threads would only queue on it.
MEDIA_CONCURRENCY: Final = 10

# Bucket names as the Bedrock API's S3Location pattern gives them:
# https://docs.aws.amazon.com/bedrock/latest/APIReference/API_agent-runtime_S3Location.html
BUCKET_NAME: Final = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
# "These file names can consist of only alphanumeric characters, underscores, hyphens,
# slashes, and dots": https://docs.aws.amazon.com/nova/latest/userguide/fine-tune-prepare-data-understanding.html
KEY_CHARACTERS: Final = frozenset(string.ascii_letters + string.digits + "_-/.")
_S3_URI: Final = re.compile(r"s3://([^/]+)/(.+)")
# The file extensions each documented "format" value is written with.
EXTENSIONS: Final[dict[str, tuple[str, ...]]] = {
    "png": ("png",),
    "jpeg": ("jpeg", "jpg"),
    "gif": ("gif",),
    "webp": ("webp",),
    "mp4": ("mp4",),
    "mov": ("mov",),
    "mkv": ("mkv",),
    "webm": ("webm",),
}
# Containers that are one family: a decoder of one reads the other, so a mix-up
# is worth a warning, not a failed job.
_SIBLINGS: Final = (frozenset({"mp4", "mov"}), frozenset({"mkv", "webm"}))


def parse_s3_uri(uri: str) -> tuple[str, str] | None:
    """``(bucket, key)`` of ``s3://bucket/key``; None for anything else (or a key ending in /)."""
    match = _S3_URI.fullmatch(uri)
    if match is None or uri.endswith("/"):
        return None
    return match[1], match[2]


# --- What the first bytes say ------------------------------------------------------------

_PNG: Final = b"\x89PNG\r\n\x1a\n"
_EBML: Final = b"\x1a\x45\xdf\xa3"
# ISO BMFF major brands that are not MP4 video, by what they are.
_BRANDS: Final = {
    b"qt  ": "mov",
    b"heic": "heic",
    b"heix": "heic",
    b"mif1": "heic",
    b"avif": "avif",
}
# QuickTime files older than the ftyp box start with one of these atoms.
_QUICKTIME_ATOMS: Final = (b"moov", b"mdat", b"wide", b"pnot")
# JPEG start-of-frame markers (SOF0-SOF15 without DHT C4, JPG C8 and DAC CC).
_SOF: Final = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def sniff_format(head: bytes) -> str | None:
    """The format the magic bytes name, in the block's "format" spelling; None if unknown."""
    if head.startswith(_PNG):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp" and len(head) >= 12:
        brand = head[8:12]
        if brand.startswith((b"3gp", b"3g2")):
            return "three_gp"
        return _BRANDS.get(brand, "mp4")
    if head[4:8] in _QUICKTIME_ATOMS:
        return "mov"
    if head.startswith(_EBML):
        return _ebml_doc_type(head)
    return None


def image_dimensions(head: bytes, fmt: str) -> tuple[int, int] | None:
    """``(width, height)`` from the header of a ``fmt`` image; None when not in ``head``."""
    if fmt == "png":
        if head.startswith(_PNG) and head[12:16] == b"IHDR" and len(head) >= 24:
            return _be(head, 16, 4), _be(head, 20, 4)
        return None
    if fmt == "gif":
        return (_le(head, 6, 2), _le(head, 8, 2)) if len(head) >= 10 else None
    if fmt == "jpeg":
        return _jpeg_dimensions(head)
    if fmt == "webp":
        return _webp_dimensions(head)
    return None


def video_duration(head: bytes) -> float | None:
    """Seconds, from the ``mvhd`` box of an MP4/MOV; None when it is not in ``head``."""
    moov = _find_box(head, 0, len(head), b"moov")
    if moov is None:
        return None
    mvhd = _find_box(head, moov[0], moov[1], b"mvhd")
    if mvhd is None:
        return None
    start, end = mvhd
    if start < end and head[start] == 1:
        if end - start < 32:
            return None
        timescale, duration = _be(head, start + 20, 4), _be(head, start + 24, 8)
        unknown = 0xFFFFFFFFFFFFFFFF
    else:
        if end - start < 20:
            return None
        timescale, duration = _be(head, start + 12, 4), _be(head, start + 16, 4)
        unknown = 0xFFFFFFFF
    if not timescale or duration == unknown:
        return None
    return duration / timescale


def _be(data: bytes, at: int, size: int) -> int:
    return int.from_bytes(data[at : at + size], "big")


def _le(data: bytes, at: int, size: int) -> int:
    return int.from_bytes(data[at : at + size], "little")


def _jpeg_dimensions(head: bytes) -> tuple[int, int] | None:
    if not head.startswith(b"\xff\xd8"):
        return None
    i, n = 2, len(head)
    while i + 4 <= n:
        if head[i] != 0xFF:
            return None  # not at a marker: a corrupt segment length
        marker = head[i + 1]
        if marker == 0xFF:  # fill byte before a marker
            i += 1
            continue
        i += 2
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:
            continue  # markers without a length
        if marker in (0xD9, 0xDA):
            return None  # end of image or start of scan before any frame header
        length = _be(head, i, 2)
        if length < 2:
            return None
        if marker in _SOF:
            if i + 7 > n:
                return None
            return _be(head, i + 5, 2), _be(head, i + 3, 2)  # precision, height, width
        i += length
    return None


def _webp_dimensions(head: bytes) -> tuple[int, int] | None:
    if head[:4] != b"RIFF" or head[8:12] != b"WEBP":
        return None
    chunk = head[12:16]
    if chunk == b"VP8L" and len(head) >= 25 and head[20] == 0x2F:
        bits = _le(head, 21, 4)
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if len(head) < 30:
        return None
    if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":
        return _le(head, 26, 2) & 0x3FFF, _le(head, 28, 2) & 0x3FFF
    if chunk == b"VP8X":
        return _le(head, 24, 3) + 1, _le(head, 27, 3) + 1
    return None


def _find_box(data: bytes, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    """The payload range of the first ``kind`` box among the boxes in ``data[start:end]``."""
    i = start
    while i + 8 <= end:
        size, header = _be(data, i, 4), 8
        if size == 1:  # a 64-bit size follows the type
            if i + 16 > end:
                return None
            size, header = _be(data, i + 8, 8), 16
        elif size == 0:  # the box runs to the end of the file
            size = end - i
        if size < header:
            return None
        if data[i + 4 : i + 8] == kind:
            return i + header, min(i + size, end)
        i += size
    return None


def _vint(data: bytes, i: int, *, marker: bool) -> tuple[int, int] | None:
    """An EBML variable-length integer at ``i``: (value, its length in bytes)."""
    if i >= len(data) or data[i] == 0:
        return None
    length = 9 - data[i].bit_length()
    if i + length > len(data):
        return None
    value = data[i] if marker else data[i] & ((1 << (8 - length)) - 1)
    for byte in data[i + 1 : i + length]:
        value = (value << 8) | byte
    return value, length


def _ebml_doc_type(head: bytes) -> str | None:
    size = _vint(head, 4, marker=False)
    if size is None:
        return None
    i = 4 + size[1]
    end = min(len(head), i + size[0])
    while i < end:
        element = _vint(head, i, marker=True)
        if element is None:
            return None
        length = _vint(head, i + element[1], marker=False)
        if length is None:
            return None
        i += element[1] + length[1]
        if element[0] == 0x4282:  # DocType
            doc_type = head[i : i + length[0]].rstrip(b"\x00")
            return {b"matroska": "mkv", b"webm": "webm"}.get(doc_type)
        i += length[0]
    return "mkv"  # the EBML default DocType is "matroska"


# --- Where records name media ------------------------------------------------------------

# The media blocks of the conversation schema (bedrock-conversation-2024), as
# customization_core/formats.py reads them (its MEDIA_BLOCKS; formats imports this module).
MEDIA_BLOCK_KINDS: Final = ("image", "video", "document")


def media_locations(record: Any) -> Iterator[dict[str, Any]]:
    """The ``s3Location`` object of every media block of a conversation record, in order.

    Blocks sit in ``system`` and in each ``messages[].content`` list, as
    ``{"image"|"video"|"document": {"format", "source": {"s3Location": {"uri"}}}}``.
    The objects yielded are the record's own: setting their ``"uri"`` rewrites it.
    Any other shape (another format, a malformed block) yields nothing.
    """
    if not isinstance(record, dict):
        return
    messages = record.get("messages")
    lists = [record.get("system")]
    if isinstance(messages, list):
        lists.extend(m.get("content") for m in messages if isinstance(m, dict))
    for blocks in lists:
        if not isinstance(blocks, list):
            continue
        for block in blocks:
            if not isinstance(block, dict):
                continue
            for kind in MEDIA_BLOCK_KINDS:
                value = block.get(kind)
                source = value.get("source") if isinstance(value, dict) else None
                location = source.get("s3Location") if isinstance(source, dict) else None
                if isinstance(location, dict):
                    yield location


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
