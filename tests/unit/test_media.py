"""Media objects: magic bytes, pixel sizes and durations read from headers, and the resolvers."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest

from customization_core.catalog import Media, MediaLimit
from customization_core.findings import Severity, Source
from customization_core.media import (
    HEAD_BYTES,
    LocalMediaResolver,
    MediaReference,
    S3MediaResolver,
    check_media,
)
from customization_core.media_block import parse_s3_uri
from customization_core.media_bytes import image_dimensions, sniff_format, video_duration

# --- Tiny real headers, built by hand ---------------------------------------------------


def png(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return b"\x89PNG\r\n\x1a\n" + chunk + crc + b"\x00\x00\x00\x00IEND\xaeB`\x82"


def jpeg(width: int, height: int, *, exif: int = 0) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    # An APP1 (Exif) segment before the frame header, as cameras write, of `exif` bytes
    app1 = b"\xff\xe1" + struct.pack(">H", exif + 2) + b"\x00" * exif if exif else b""
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, height, width, 3)
    sof0 += b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    return b"\xff\xd8" + app0 + app1 + sof0 + b"\xff\xd9"


def gif(width: int, height: int) -> bytes:
    return b"GIF89a" + struct.pack("<HH", width, height) + b"\x00\x00\x00" + b";"


def _riff(chunk: bytes) -> bytes:
    body = b"WEBP" + chunk
    return b"RIFF" + struct.pack("<I", len(body)) + body


def webp_vp8x(width: int, height: int) -> bytes:
    data = (
        b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    )
    return _riff(b"VP8X" + struct.pack("<I", len(data)) + data)


def webp_vp8l(width: int, height: int) -> bytes:
    bits = (width - 1) | ((height - 1) << 14)
    data = b"\x2f" + struct.pack("<I", bits) + b"\x00" * 4
    return _riff(b"VP8L" + struct.pack("<I", len(data)) + data)


def webp_vp8(width: int, height: int) -> bytes:
    data = b"\x10\x02\x00" + b"\x9d\x01\x2a" + struct.pack("<HH", width, height) + b"\x00" * 4
    return _riff(b"VP8 " + struct.pack("<I", len(data)) + data)


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4(seconds: float, *, brand: bytes = b"isom", version: int = 0, moov: bool = True) -> bytes:
    ftyp = box(b"ftyp", brand + struct.pack(">I", 512) + b"isomiso2mp41")
    timescale = 1000
    duration = round(seconds * timescale)
    if version == 0:
        mvhd = b"\x00\x00\x00\x00" + struct.pack(">IIII", 0, 0, timescale, duration)
    else:
        mvhd = b"\x01\x00\x00\x00" + struct.pack(">QQIQ", 0, 0, timescale, duration)
    mvhd += b"\x00" * 80
    mdat = box(b"mdat", b"\x00" * 64)
    return ftyp + (box(b"moov", box(b"mvhd", mvhd)) if moov else b"") + mdat


def ebml(doc_type: bytes) -> bytes:
    version = b"\x42\x86\x81\x01"
    doc = b"\x42\x82" + bytes([0x80 | len(doc_type)]) + doc_type
    header = version + doc
    return b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(header)]) + header + b"\x18\x53\x80\x67\x80"


# --- Sniffing and headers ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (png(4, 4), "png"),
        (jpeg(4, 4), "jpeg"),
        (gif(4, 4), "gif"),
        (webp_vp8x(4, 4), "webp"),
        (mp4(1.0), "mp4"),
        (mp4(1.0, brand=b"qt  "), "mov"),
        (ebml(b"matroska"), "mkv"),
        (ebml(b"webm"), "webm"),
        (b"%PDF-1.7\n", None),
        (b"", None),
        (b"\x89PN", None),
    ],
)
def test_magic_bytes_name_the_format(data: bytes, expected: str | None) -> None:
    assert sniff_format(data) == expected


@pytest.mark.parametrize(
    ("data", "size"),
    [
        (png(640, 480), (640, 480)),
        (jpeg(1024, 768), (1024, 768)),
        (jpeg(300, 200, exif=5000), (300, 200)),
        (gif(17, 9), (17, 9)),
        (webp_vp8x(5000, 3), (5000, 3)),
        (webp_vp8l(100, 16000), (100, 16000)),
        (webp_vp8(320, 240), (320, 240)),
    ],
)
def test_pixel_sizes_come_from_the_headers(data: bytes, size: tuple[int, int]) -> None:
    detected = sniff_format(data)
    assert detected is not None
    assert image_dimensions(data, detected) == size


def test_a_jpeg_whose_frame_header_is_past_the_bytes_read_has_no_size() -> None:
    data = jpeg(300, 200, exif=60_000)[:1000]
    assert image_dimensions(data, "jpeg") is None
    assert image_dimensions(b"\xff\xd8\xff", "jpeg") is None


@pytest.mark.parametrize("version", [0, 1])
def test_mp4_duration_comes_from_mvhd(version: int) -> None:
    assert video_duration(mp4(12.5, version=version)) == pytest.approx(12.5)


def test_a_video_whose_moov_is_not_in_the_bytes_read_has_no_duration() -> None:
    assert video_duration(mp4(12.5, moov=False)) is None
    assert video_duration(ebml(b"webm")) is None


def test_s3_uris_split_into_bucket_and_key() -> None:
    assert parse_s3_uri("s3://bucket/a/b.png") == ("bucket", "a/b.png")
    assert parse_s3_uri("s3://bucket/") is None
    assert parse_s3_uri("https://bucket/a.png") is None


# --- check_media -------------------------------------------------------------------------

IMAGE = MediaLimit(
    formats=("gif", "jpeg", "png", "webp"),
    max_per_record=1,
    max_bytes=2000,
    min_pixels=10,
    max_pixels=8192,
    source="https://example.test/llama",
)
VIDEO = MediaLimit(
    formats=("mov", "mkv", "mp4", "webm"),
    max_per_record=1,
    max_bytes=10_000,
    max_seconds=90,
    source="https://example.test/nova",
)
LIMITS = Media(image=IMAGE, video=VIDEO)


class DictResolver:
    """Objects from a dict; counts the calls."""

    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects = objects
        self.calls: list[str] = []

    def resolve(self, uri: str) -> tuple[int, bytes] | None:
        self.calls.append(uri)
        data = self.objects.get(uri)
        return None if data is None else (len(data), data[:HEAD_BYTES])


def ref(uri: str, declared: str | None, *, kind: str = "image", line: int = 1) -> MediaReference:
    return MediaReference(
        uri=uri,
        kind=kind,  # type: ignore[arg-type]
        declared=declared,
        line=line,
        source=Source.TRAINING,
        field="messages[0].content[0]." + kind,
    )


def codes(result: Any) -> list[tuple[int | None, str, str]]:
    return [(f.line, f.code, f.severity.value) for f in result.findings]


def test_good_media_give_no_findings_and_count_their_bytes() -> None:
    objects = {
        "s3://b/a.png": png(64, 64),
        "s3://b/b.jpeg": jpeg(10, 8192),
        "s3://b/c.gif": gif(100, 100),
        "s3://b/d.webp": webp_vp8l(50, 60),
        "s3://b/e.mp4": mp4(89.5),
    }
    refs = [
        ref("s3://b/a.png", "png"),
        ref("s3://b/b.jpeg", "jpeg", line=2),
        ref("s3://b/c.gif", "gif", line=3),
        ref("s3://b/d.webp", "webp", line=4),
        ref("s3://b/e.mp4", "mp4", kind="video", line=5),
    ]
    result = check_media(refs, DictResolver(objects), LIMITS)
    assert codes(result) == []
    assert result.bytes == sum(len(v) for v in objects.values())
    assert result.objects == 5


def test_each_bad_object_is_reported_at_the_line_that_named_it() -> None:
    objects = {
        "s3://b/jpeg-in-disguise.png": jpeg(64, 64),
        "s3://b/big.png": png(64, 64) + b"\x00" * 3000,
        "s3://b/tiny.gif": gif(9, 100),
        "s3://b/huge.webp": webp_vp8x(8193, 100),
        "s3://b/long.mp4": mp4(90.5),
        "s3://b/text.png": b"hello, not an image",
    }
    refs = [
        ref("s3://b/jpeg-in-disguise.png", "png", line=3),
        ref("s3://b/big.png", "png", line=4),
        ref("s3://b/tiny.gif", "gif", line=5),
        ref("s3://b/huge.webp", "webp", line=6),
        ref("s3://b/long.mp4", "mp4", kind="video", line=7),
        ref("s3://b/missing.png", "png", line=8),
        ref("s3://b/text.png", "png", line=9),
    ]
    result = check_media(refs, DictResolver(objects), LIMITS)
    assert codes(result) == [
        (3, "media-format-mismatch", "error"),
        (4, "media-too-large", "error"),
        (5, "image-too-small", "error"),
        (6, "image-too-large", "error"),
        (7, "video-too-long", "error"),
        (8, "media-not-found", "error"),
        (9, "media-format-mismatch", "error"),
    ]
    assert all(
        f.field == "messages[0].content[0]." + r.kind
        for f, r in zip(result.findings, refs, strict=True)
    )
    assert all(f.message.endswith(".") for f in result.findings)


def test_a_sibling_container_is_a_warning_not_an_error() -> None:
    objects = {"s3://b/clip.mp4": mp4(3.0, brand=b"qt  "), "s3://b/clip.mkv": ebml(b"webm")}
    refs = [
        ref("s3://b/clip.mp4", "mp4", kind="video"),
        ref("s3://b/clip.mkv", "mkv", kind="video", line=2),
    ]
    result = check_media(refs, DictResolver(objects), LIMITS)
    assert codes(result) == [
        (1, "media-format-mismatch", "warning"),
        (2, "media-format-mismatch", "warning"),
    ]


def test_an_object_named_twice_is_fetched_once_and_reported_twice() -> None:
    resolver = DictResolver({})
    result = check_media(
        [ref("s3://b/x.png", "png", line=1), ref("s3://b/x.png", "png", line=9)], resolver, LIMITS
    )
    assert resolver.calls == ["s3://b/x.png"]
    assert codes(result) == [(1, "media-not-found", "error"), (9, "media-not-found", "error")]


def test_a_resolver_that_fails_becomes_a_finding_not_an_exception() -> None:
    class Failing:
        def resolve(self, uri: str) -> tuple[int, bytes] | None:
            raise PermissionError("Access Denied")

    result = check_media([ref("s3://b/x.png", "png")], Failing(), LIMITS)
    (finding,) = result.findings
    assert (finding.code, finding.severity) == ("media-unreadable", Severity.ERROR)
    assert "Access Denied" in finding.message


def test_many_objects_are_checked_with_a_bounded_pool() -> None:
    objects = {f"s3://b/{i}.png": png(20 + i, 20) for i in range(200)}
    refs = [ref(uri, "png", line=i + 1) for i, uri in enumerate(objects)]
    result = check_media(refs, DictResolver(objects), LIMITS, concurrency=4)
    assert codes(result) == []
    assert result.objects == 200


# --- Resolvers ---------------------------------------------------------------------------


def test_the_local_resolver_maps_keys_under_its_root(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    data = png(32, 32) + b"\x00" * (HEAD_BYTES + 10)
    (tmp_path / "images" / "cat.png").write_bytes(data)
    resolver = LocalMediaResolver(tmp_path)
    found = resolver.resolve("s3://any-bucket/images/cat.png")
    assert found is not None
    size, head = found
    assert (size, len(head)) == (len(data), HEAD_BYTES)
    assert resolver.resolve("s3://any-bucket/images/dog.png") is None
    assert resolver.resolve("s3://any-bucket/images") is None  # a folder, not an object
    assert resolver.resolve("s3://any-bucket/../outside.png") is None


class FakeS3:
    """head_object and ranged get_object, as boto3 answers them."""

    def __init__(self, objects: dict[tuple[str, str], bytes], *, denied: bool = False) -> None:
        self.objects = objects
        self.denied = denied
        self.ranges: list[str] = []

    def _error(self, code: str) -> Exception:
        problem = Exception(code)
        problem.response = {"Error": {"Code": code}}  # type: ignore[attr-defined]
        return problem

    def head_object(self, *, Bucket: str, Key: str) -> dict[str, Any]:  # noqa: N803
        if self.denied:
            raise self._error("403")
        if (Bucket, Key) not in self.objects:
            raise self._error("404")
        return {"ContentLength": len(self.objects[Bucket, Key])}

    def get_object(self, *, Bucket: str, Key: str, Range: str) -> dict[str, Any]:  # noqa: N803
        self.ranges.append(Range)
        start, end = (int(x) for x in Range.removeprefix("bytes=").split("-"))
        return {"Body": io.BytesIO(self.objects[Bucket, Key][start : end + 1])}


def test_the_s3_resolver_reads_the_size_and_only_the_first_bytes() -> None:
    data = mp4(5.0) + b"\x00" * (2 * HEAD_BYTES)
    s3 = FakeS3({("bucket", "v/clip.mp4"): data})
    resolver = S3MediaResolver(s3)
    found = resolver.resolve("s3://bucket/v/clip.mp4")
    assert found is not None
    assert found[0] == len(data)
    assert found[1] == data[:HEAD_BYTES]
    assert s3.ranges == [f"bytes=0-{HEAD_BYTES - 1}"]
    assert resolver.resolve("s3://bucket/v/none.mp4") is None


def test_the_s3_resolver_lets_access_errors_through_for_check_media_to_report() -> None:
    resolver = S3MediaResolver(FakeS3({}, denied=True))
    with pytest.raises(Exception, match="403"):
        resolver.resolve("s3://bucket/v/clip.mp4")
    result = check_media([ref("s3://bucket/v/clip.mp4", "mp4", kind="video")], resolver, LIMITS)
    assert codes(result) == [(1, "media-unreadable", "error")]


def test_a_throttled_s3_read_is_retried_not_judged() -> None:
    from botocore.exceptions import ClientError

    from customization_core.media import MediaUnavailableError, S3MediaResolver

    class SlowS3:
        def head_object(self, **_: object) -> dict[str, int]:
            raise ClientError({"Error": {"Code": "SlowDown", "Message": "slow"}}, "HeadObject")

    with pytest.raises(MediaUnavailableError):
        S3MediaResolver(SlowS3()).resolve("s3://bucket/jobs/a/x.png")


def test_a_denied_s3_read_is_a_finding_on_the_record() -> None:
    from botocore.exceptions import ClientError

    from customization_core.media import S3MediaResolver

    class DeniedS3:
        def head_object(self, **_: object) -> dict[str, int]:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "HeadObject")

    with pytest.raises(ClientError):  # _probe turns this one into media-unreadable
        S3MediaResolver(DeniedS3()).resolve("s3://bucket/jobs/a/x.png")
