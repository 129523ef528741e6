"""One pass over one JSONL file: every line's problems and its token histogram, in constant memory.

``check_file`` reads a training or validation file line by line against a ``FileCheck``
(what the request's model allows), adds each problem to ``Findings``, notes the media
blocks it meets in a ``MediaLedger`` (judged after the pass, customization_core/validator.py)
and returns the file's ``FileSummary``. When the plan asks, the same pass hands each record
to the data risk scan (``FileCheck.observe``) and hashes the bytes read (``sha256``).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import orjson
import xxhash

from customization_core.bounded import MAX_DEPTH, depth_problem, is_depth_error, too_deep
from customization_core.catalog import DataFormat
from customization_core.conversation_format import ContentRules
from customization_core.findings import Finding, Findings, Source, error, warning
from customization_core.formats import checker, detect
from customization_core.media import MediaReference
from customization_core.media_block import MediaKind
from customization_core.record_fields import Checker
from customization_core.report import FileSummary
from customization_core.stats import EXACT_LIMIT, TokenStats, bucket
from customization_core.stream import MAX_LINE_BYTES, NEWLINE, Readable, reader, skip_rest_of_line

# Records whose content is remembered to find duplicates, when the model sets
# no maximum: memory stays bounded (about 100 bytes per record).
DEFAULT_DUPLICATE_WINDOW: Final = 200_000
BOM: Final = b"\xef\xbb\xbf"
# Media references remembered for the checks after the pass (URI, field path, line:
# about 300 bytes each, some 15 MB at the cap). Nova takes up to 20,000 records of
# up to 10 images; beyond the cap references are counted and reported as unchecked.
MAX_MEDIA_REFERENCES: Final = 50_000


@dataclass
class FileCheck:
    """What one file is checked against."""

    source: Source
    formats: tuple[DataFormat, ...]
    chars_per_token: int
    nova: bool
    token_limit: int
    token_limit_reason: str
    min_records: int | None
    max_records: int | None
    max_bytes: int | None
    records_source: str
    rules: ContentRules | None  # conversation content rules (None: a format without them)
    sides: dict[str, int] | None = None  # tokens per field, where capped per side (Cohere)
    required_fields: tuple[str, ...] = ()  # the fields an RFT grader reads in every record
    # Called with (line, record) for every record that parsed as an object: the data
    # risk scan (customization_core/risk_scan.py). None: no call, one test a record.
    observe: Callable[[int, dict[str, Any]], None] | None = None
    sha256: bool = False  # hash the bytes read into the summary's sha256


@dataclass
class MediaLedger:
    """Media blocks seen by the pass, over both files: counts, first lines, references to check."""

    references: list[MediaReference] = field(default_factory=list)
    skipped: int = 0
    images: int = 0
    videos: int = 0
    first: dict[str, tuple[Source, int]] = field(default_factory=dict)

    def add(
        self, kind: str, uri: str | None, declared: str | None, line: int, source: Source, at: str
    ) -> None:
        if kind == "image":
            self.images += 1
        else:
            self.videos += 1
        self.first.setdefault(kind, (source, line))
        if uri is None:
            return
        if len(self.references) < MAX_MEDIA_REFERENCES:
            media_kind: MediaKind = "image" if kind == "image" else "video"
            self.references.append(MediaReference(uri, media_kind, declared, line, source, at))
        else:
            self.skipped += 1


def check_file(
    stream: Readable, plan: FileCheck, findings: Findings, ledger: MediaLedger
) -> FileSummary:
    source = plan.source
    current = [0]  # the line a format checker is looking at (one closure for all lines)
    rules = plan.rules
    if rules is not None and rules.media is not None:
        note = ledger.add

        def on_media(kind: str, uri: str | None, declared: str | None, at: str) -> None:
            note(kind, uri, declared, current[0], source, at)

        rules = dataclasses.replace(rules, on_media=on_media)
    checkers: dict[DataFormat, Checker] = {
        f: checker(
            f,
            plan.chars_per_token,
            nova=plan.nova,
            rules=rules,
            sides=plan.sides,
            required_fields=plan.required_fields,
        )
        for f in plan.formats
    }
    chosen: DataFormat | None = None if len(plan.formats) > 1 else plan.formats[0]
    check = checkers[chosen] if chosen else None
    several_formats = len(checkers) > 1
    add = findings.add

    def emit(severity: str, code: str, field: str | None, message: str) -> None:
        make = error if severity == "error" else warning
        add(make(source, code, message, line=current[0], field=field))

    # The loop below is the hot path (see `make bench`): locals, no per-line objects.
    loads = orjson.loads
    # 64-bit xxh3: several times faster than hash() on kilobyte lines; a false
    # duplicate needs a 1-in-2**64 collision. Memory: one entry per record, up
    # to the model's record limit (beyond it the file is already invalid).
    digest = xxhash.xxh3_64_intdigest
    decode_error = orjson.JSONDecodeError
    readline: Callable[[int], bytes] = reader(stream).readline
    hasher = hashlib.sha256() if plan.sha256 else None
    if hasher is not None:
        readline = _hashing(readline, hasher.update)

    observe = plan.observe
    limit = plan.token_limit
    room = plan.max_records or DEFAULT_DUPLICATE_WINDOW
    seen: dict[int, int] = {}
    remember = seen.setdefault
    # Token counts below `cut` (at most the limit) take one list increment;
    # the rest (long records, errors) take the slow branch.
    small = [0] * EXACT_LIMIT
    cut = min(EXACT_LIMIT, limit + 1)
    large: Counter[int] = Counter()
    large_count = large_total = large_max = 0
    number = offset = records = 0
    while True:
        raw = readline(MAX_LINE_BYTES)
        if not raw:
            break
        number += 1
        offset += len(raw)
        if raw[-1] != NEWLINE:
            if len(raw) >= MAX_LINE_BYTES:
                start = offset - len(raw)
                length, ended = skip_rest_of_line(readline, len(raw))
                offset = start + length + ended
                records += 1
                add(
                    error(
                        source,
                        "line-too-long",
                        f"The line is {length:,} bytes; lines over {MAX_LINE_BYTES:,} bytes are not read. Split the record or check for a missing newline.",
                        line=number,
                    )
                )
                continue
            raw += b"\n"  # the last line, with no newline after it (not counted in the size)
        try:
            record = loads(raw)
        except decode_error as problem:
            # Blank lines and a byte order mark are rare: they are told apart
            # here, off the path of every good line (orjson rejects both).
            if raw.isspace():
                add(
                    error(
                        source,
                        "blank-line",
                        "The line is blank; every line must be one JSON record. Delete it.",
                        line=number,
                    )
                )
                continue
            records += 1
            start = offset - len(raw)
            if number == 1 and raw.startswith(BOM):
                add(
                    error(
                        source,
                        "utf8-bom",
                        "The file starts with a UTF-8 byte order mark (byte offset 0); save it as UTF-8 without BOM.",
                        line=1,
                    )
                )
                raw = raw[len(BOM) :]
                start += len(BOM)
                try:
                    record = loads(raw)
                except decode_error as again:
                    add(_parse_error(source, number, start, raw, again))
                    continue
            else:
                add(_parse_error(source, number, start, raw, problem))
                continue
        else:
            records += 1
        if type(record) is not dict:
            add(
                error(
                    source,
                    "not-an-object",
                    f"The line is a JSON {_json_kind(record)}, not an object; each line must be one record object.",
                    line=number,
                )
            )
            continue
        # Nesting deeper than MAX_DEPTH needs a value that is an object or a list (a
        # prompt/completion record has none) and as many brackets: only such lines are walked.
        for value in record.values():
            if type(value) is dict or type(value) is list:
                deep = too_deep(record) if raw.count(b"{") + raw.count(b"[") > MAX_DEPTH else None
                break
        else:
            deep = None
        if deep is not None:
            add(_too_deep(source, number, deep))
            continue
        if check is None:
            found = detect(record)
            chosen = found if found in checkers else plan.formats[0]
            check = checkers[chosen]
        elif several_formats:
            found = detect(record)
            if found != chosen and found in checkers:
                add(
                    error(
                        source,
                        "mixed-formats",
                        f"The record is in the {found} format but earlier records are {chosen}; use one format per file.",
                        line=number,
                    )
                )
                continue

        current[0] = number
        if observe is not None:
            observe(number, record)
        tokens = check(record, emit)
        if tokens is not None:
            if tokens < cut:
                small[tokens] += 1
            else:
                if tokens < EXACT_LIMIT:
                    small[tokens] += 1
                else:
                    large[bucket(tokens)] += 1
                    large_count += 1
                    large_total += tokens
                    large_max = max(large_max, tokens)
                if tokens > limit:
                    add(
                        error(
                            source,
                            "too-many-tokens",
                            f"The record has about {tokens:,} tokens (a deliberate over-estimate); {plan.token_limit_reason} is {limit:,}. Shorten or split it.",
                            line=number,
                        )
                    )

        first = remember(digest(raw), number)  # every line ends with a newline here
        if first != number:
            add(
                warning(
                    source,
                    "duplicate-record",
                    f"The record repeats line {first}; duplicates weigh it twice in training.",
                    line=number,
                )
            )
        elif room:
            room -= 1
            if not room:  # the window is full: look up, no longer remember
                remember = seen.get

    _file_limits(plan, records, offset, number, findings)
    return FileSummary(
        records=records,
        bytes=offset,
        data_format=chosen or plan.formats[0],
        tokens=TokenStats.from_histogram(small, large, large_count, large_total, large_max),
        token_limit=limit,
        sha256=hasher.hexdigest() if hasher is not None else None,
    )


def _hashing(
    readline: Callable[[int], bytes], update: Callable[[bytes], None]
) -> Callable[[int], bytes]:
    """``readline`` that hashes every byte it reads, over-long lines' skipped rest included."""

    def hashed(size: int) -> bytes:
        data = readline(size)
        update(data)
        return data

    return hashed


def _file_limits(
    plan: FileCheck, records: int, size: int, lines_read: int, findings: Findings
) -> None:
    source = plan.source
    name = "training" if source is Source.TRAINING else "validation"
    if plan.min_records is not None and records < plan.min_records:
        findings.add(
            error(
                source,
                "too-few-records",
                f"The {name} file has {records:,} records; this model needs at least {plan.min_records:,} (source: {plan.records_source}).",
                field=None,
            )
        )
    if plan.max_records is not None and records > plan.max_records:
        findings.add(
            error(
                source,
                "too-many-records",
                f"The {name} file has {records:,} records; this model takes at most {plan.max_records:,} (source: {plan.records_source}). Remove records or sample them.",
                field=None,
            )
        )
    if plan.max_bytes is not None and lines_read and size > plan.max_bytes:
        findings.add(
            error(
                source,
                "file-too-large",
                f"The {name} file is {size:,} bytes; this model takes at most {plan.max_bytes:,} bytes. Remove or shorten records.",
            )
        )


def _too_deep(source: Source, number: int, under: str | int | None) -> Finding:
    return error(
        source,
        "nested-too-deep",
        depth_problem("The record", under)
        + "; the deepest record format (a conversation's media block) is 8 levels deep. Write the record in its model's format, as `bedrock-customize prepare` does.",
        line=number,
    )


def _parse_error(
    source: Source, number: int, start: int, data: bytes, problem: orjson.JSONDecodeError
) -> Finding:
    if is_depth_error(problem):  # orjson's own limit: the same mistake as MAX_DEPTH
        return _too_deep(source, number, None)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as bad:
        offset = start + bad.start
        return error(
            source,
            "invalid-utf8",
            f"The line has bytes that are not UTF-8 at byte offset {offset:,} of the file ({data[bad.start : bad.start + 4]!r}); save the file as UTF-8.",
            line=number,
        )
    return error(
        source,
        "invalid-json",
        f"The line is not valid JSON ({problem.msg} at column {problem.colno}); each line must be one complete JSON object.",
        line=number,
    )


def _json_kind(value: object) -> str:
    return {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}.get(
        type(value), "null"
    )
