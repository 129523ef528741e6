"""How conversation records name media objects: the S3 URI, the block's format, where blocks sit.

These checks read the record alone; the objects themselves are looked up and judged
after the pass (customization_core/media.py).
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from typing import Any, Final, Literal

from customization_core.bounded import quote
from customization_core.catalog import MediaLimit
from customization_core.record_fields import MISSING, Emit

MediaKind = Literal["image", "video"]

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


def parse_s3_uri(uri: str) -> tuple[str, str] | None:
    """``(bucket, key)`` of ``s3://bucket/key``; None for anything else (or a key ending in /)."""
    match = _S3_URI.fullmatch(uri)
    if match is None or uri.endswith("/"):
        return None
    return match[1], match[2]


# The media blocks of the conversation schema (bedrock-conversation-2024); "document" is
# refused (no model in the catalog lists document limits for training data).
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


def media_uri(
    kind: str,
    value: dict[str, Any],
    base: str,
    declared: str | None,
    dataset_bucket: str | None,
    emit: Emit,
) -> str | None:
    """Check a media block's ``source``; its URI when it names an object that can be looked up."""
    source = value.get("source", MISSING)
    example = f'{{"s3Location": {{"uri": "s3://bucket/path/file.{declared or "png"}"}}}}'
    if not isinstance(source, dict):
        code = "missing-field" if source is MISSING else "wrong-type"
        emit(
            "error", code, f"{base}.source", f'"{base}.source" must be an object such as {example}.'
        )
        return None
    location = source.get("s3Location", MISSING)
    if not isinstance(location, dict):
        code = "missing-field" if location is MISSING else "wrong-type"
        emit(
            "error",
            code,
            f"{base}.source.s3Location",
            f'"{base}.source" must name the object in Amazon S3, as in {example}; training records cannot embed bytes.',
        )
        return None
    where = f"{base}.source.s3Location"
    owner = location.get("bucketOwner", MISSING)
    if owner is not MISSING and not (type(owner) is str and len(owner) == 12 and owner.isdigit()):
        emit(
            "error",
            "invalid-bucket-owner",
            f"{where}.bucketOwner",
            f'"{where}.bucketOwner" is {quote(owner)}; it must be the 12-digit AWS account id that owns the bucket, or be left out.',
        )
    uri = location.get("uri", MISSING)
    if type(uri) is not str:
        code = "missing-field" if uri is MISSING else "wrong-type"
        emit(
            "error",
            code,
            f"{where}.uri",
            f'"{where}.uri" must be a string such as "s3://bucket/path/file.png".',
        )
        return None
    field_name = f"{where}.uri"
    parsed = parse_s3_uri(uri)
    if parsed is None or not BUCKET_NAME.fullmatch(parsed[0]):
        why = (
            f"{quote(parsed[0])} is not an S3 bucket name (3 to 63 lower-case letters, digits, dots and hyphens)"
            if parsed
            else f'write it as "s3://bucket/path/file.{declared or "png"}"'
        )
        emit(
            "error",
            "invalid-s3-uri",
            field_name,
            f"{quote(uri)} is not an S3 object URI; {why}.",
        )
        return None
    bucket, key = parsed
    usable = True
    bad = sorted({ch for ch in key if ch not in KEY_CHARACTERS})
    if bad:
        usable = False
        shown = " ".join(repr(ch) for ch in bad[:10])
        emit(
            "error",
            "invalid-s3-key",
            field_name,
            f"The key of {quote(uri)} contains {shown}; AWS allows only letters, digits, _, -, / and . in these file names. Rename the object and the URI.",
        )
    if dataset_bucket is not None and bucket != dataset_bucket:
        usable = False
        emit(
            "error",
            "media-wrong-bucket",
            field_name,
            f'{quote(uri)} is in bucket "{bucket}"; media must be in the dataset\'s own bucket "{dataset_bucket}". Copy it there and update the URI.',
        )
    if declared is not None:
        name = key.rsplit("/", 1)[-1]
        extension = name.rsplit(".", 1)[1].lower() if "." in name else None
        allowed = EXTENSIONS.get(declared, (declared,))
        if extension is None:
            emit(
                "warning",
                "missing-extension",
                field_name,
                f'{quote(uri)} has no file extension; name it *.{allowed[0]} to match its format "{declared}".',
            )
        elif extension not in allowed:
            emit(
                "error",
                "extension-mismatch",
                field_name,
                f'{quote(uri)} ends in {quote("." + extension)} but its format is "{declared}"; fix the format or rename the file to .{allowed[0]}.',
            )
    return uri if usable else None


def media_format(
    kind: str, value: dict[str, Any], base: str, limit: MediaLimit, emit: Emit
) -> str | None:
    """The block's declared ``format`` when the model takes it, else None (reported)."""
    fmt = value.get("format", MISSING)
    allowed = ", ".join(f'"{f}"' for f in limit.formats)
    if type(fmt) is not str:
        code = "missing-field" if fmt is MISSING else "wrong-type"
        emit("error", code, f"{base}.format", f'"{base}.format" must be one of {allowed}.')
        return None
    if fmt in limit.formats:
        return fmt
    lower = fmt.lower()
    if lower in limit.formats:
        hint = f'write it in lower case, "{lower}"'
    elif lower == "jpg" and "jpeg" in limit.formats:
        hint = 'the documented value is "jpeg"'
    else:
        hint = f"this model takes {allowed}; convert the {kind}"
    emit(
        "error",
        "invalid-media-format",
        f"{base}.format",
        f'"{base}.format" is {quote(fmt)}; {hint}.',
    )
    return None
