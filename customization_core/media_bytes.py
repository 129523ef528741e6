"""What the first bytes of a media object say: its format, an image's pixels, a video's length.

Pure Python, from headers only:

- the format, by magic bytes (PNG, JPEG, GIF, WebP; MP4/MOV as ISO BMFF ``ftyp``,
  brand ``qt  `` for MOV; MKV/WebM by the EBML DocType);
- an image's pixel size, from its header (PNG IHDR, GIF logical screen, JPEG SOFn,
  WebP VP8/VP8L/VP8X);
- an MP4/MOV duration, from ``moov/mvhd`` when it is within the bytes read
  ("fast start" files; others are not judged on duration).
"""

from __future__ import annotations

from typing import Final

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
