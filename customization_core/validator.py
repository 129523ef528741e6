"""Dataset validation: one pass over each file finds every problem, in constant memory."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import orjson
import xxhash

from customization_core.bounded import MAX_DEPTH, depth_problem, is_depth_error, too_deep
from customization_core.catalog import (
    Catalog,
    Customization,
    CustomizationType,
    DataFormat,
    Family,
    load_catalog,
)
from customization_core.cost import CostEstimate, estimate_cost
from customization_core.findings import Finding, Severity, Source, error, warning
from customization_core.formats import Checker, ContentRules, checker, detect
from customization_core.media import MediaKind, MediaReference, MediaResolver, check_media
from customization_core.report import FileSummary, MediaSummary, Report
from customization_core.request import CheckedRequest, HyperparameterValue, check_request
from customization_core.stats import EXACT_LIMIT, TokenStats, bucket
from customization_core.stream import MAX_LINE_BYTES, NEWLINE, Readable, reader, skip_rest_of_line
from customization_core.tokens import CHARS_PER_TOKEN

# Findings kept in the report per severity; the counts stay complete.
REPORT_CAP: Final = 100
# Records whose content is remembered to find duplicates, when the model sets
# no maximum: memory stays bounded (about 100 bytes per record).
DEFAULT_DUPLICATE_WINDOW: Final = 200_000
BOM: Final = b"\xef\xbb\xbf"
# Media references remembered for the checks after the pass (URI, field path, line:
# about 300 bytes each, some 15 MB at the cap). Nova takes up to 20,000 records of
# up to 10 images; beyond the cap references are counted and reported as unchecked.
MAX_MEDIA_REFERENCES: Final = 50_000

# Tokens one media block counts for, erring high (no tokenizer runs here):
# - Llama 3.2 Vision: AWS's formula, min(2, max(H // 560, 1)) * min(2, max(W // 560, 1))
#   * 1601, is 1,601 to 6,404 tokens an image; its upper bound. Source:
#   https://docs.aws.amazon.com/bedrock/latest/userguide/model-customization-prepare.html
# - Nova: the largest example of AWS's image-to-token table (1.3K x 1.3K, ~2,600 tokens):
#   https://docs.aws.amazon.com/nova/latest/userguide/modalities-image.html
IMAGE_TOKENS: Final[dict[Family, int]] = {"llama": 6404, "nova": 2600}
# Nova samples a video at 1 frame per second (up to 16 minutes) and its table gives
# about 2,880 tokens for 10 seconds: 288 a second, counted for the longest video the
# model takes. Source: https://docs.aws.amazon.com/nova/latest/userguide/modalities-video.html
VIDEO_TOKENS_PER_SECOND: Final[dict[Family, int]] = {"nova": 288}
# A video of unknown limit counts as Nova's longest sampling: 960 frames.
VIDEO_FRAMES_CAP: Final = 960


@dataclass
class Findings:
    """Every finding counted; the first REPORT_CAP of each severity kept."""

    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    error_count: int = 0
    warning_count: int = 0

    def add(self, finding: Finding) -> None:
        if finding.severity is Severity.ERROR:
            self.error_count += 1
            if len(self.errors) < REPORT_CAP:
                self.errors.append(finding)
        else:
            self.warning_count += 1
            if len(self.warnings) < REPORT_CAP:
                self.warnings.append(finding)


@dataclass
class _FileCheck:
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


@dataclass
class _MediaLedger:
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


def validate_dataset(
    training: Readable,
    *,
    model_id: str,
    customization_type: CustomizationType | str,
    hyperparameters: Mapping[str, HyperparameterValue] | None = None,
    validation: Readable | None = None,
    catalog: Catalog | None = None,
    price_per_1k_tokens_usd: float | None = None,
    dataset_bucket: str | None = None,
    media: MediaResolver | None = None,
    unknown_ok: bool = False,
) -> Report:
    """Check a request and its datasets; never raises for bad data, returns the report.

    ``dataset_bucket``: the bucket the training file is in, where media objects must
    be too (None: that rule is skipped). ``media``: where the media objects the
    records name are looked up after the pass (None: they are not, and a warning
    says so when there are any).
    """
    catalog = catalog or load_catalog()
    findings = Findings()
    request = check_request(
        catalog, model_id, customization_type, hyperparameters, unknown_ok=unknown_ok
    )
    for finding in request.findings:
        findings.add(finding)
    if request.model is None or request.customization is None:
        return Report.build(request, findings, training=None, validation=None, cost=None)

    plan = _plan(request, catalog, dataset_bucket)
    ledger = _MediaLedger()
    training_summary = _check_file(training, plan(Source.TRAINING), findings, ledger)
    validation_summary = None
    if validation is not None:
        if not request.customization.validation_supported:
            findings.add(
                error(
                    Source.VALIDATION,
                    "validation-not-supported",
                    f"{request.model.name} takes no validation file (source: {request.customization.validation_records.source}); train without one and evaluate the custom model afterwards.",
                )
            )
        validation_summary = _check_file(validation, plan(Source.VALIDATION), findings, ledger)
    _total_limits(request, training_summary, validation_summary, findings)
    media_summary = _media_findings(request.customization, ledger, media, findings)
    cost = estimate_cost(
        request,
        training_summary.tokens.total,
        catalog_date=catalog.catalog_date,
        price_override=price_per_1k_tokens_usd,
    )
    return Report.build(
        request, findings, training_summary, validation_summary, cost, media=media_summary
    )


def _media_findings(
    custom: Customization,
    ledger: _MediaLedger,
    resolver: MediaResolver | None,
    findings: Findings,
) -> MediaSummary | None:
    """After the pass: one modality per dataset, then the objects themselves."""
    if not (ledger.images or ledger.videos):
        return None
    if "image" in ledger.first and "video" in ledger.first:
        firsts = sorted(
            ledger.first.items(), key=lambda item: (item[1][0] is Source.VALIDATION, item[1][1])
        )
        (kind_a, (file_a, line_a)), (kind_b, (file_b, line_b)) = firsts
        findings.add(
            error(
                file_b,
                "mixed-media",
                f"The dataset has {kind_a}s (first at {file_a.value} line {line_a}) and {kind_b}s (first at {file_b.value} line {line_b}); a dataset takes one modality, text with images or text with videos. Split it into two datasets.",
                line=line_b,
            )
        )
    if ledger.skipped:
        findings.add(
            warning(
                Source.TRAINING,
                "media-references-skipped",
                f"{ledger.skipped:,} media references past the first {MAX_MEDIA_REFERENCES:,} were counted but not checked; check the rest in smaller datasets.",
            )
        )
    if custom.media is None:
        return MediaSummary(ledger.images, ledger.videos, None, None)
    if resolver is None:
        if ledger.references:
            findings.add(
                warning(
                    Source.TRAINING,
                    "media-not-checked",
                    f"{len(ledger.references):,} media references were not looked up (existence, size, format, pixels, duration); check them with `bedrock-customize validate --media-root DIR`, DIR holding the bucket's keys.",
                )
            )
        return MediaSummary(ledger.images, ledger.videos, None, None)
    checked = check_media(ledger.references, resolver, custom.media)
    for finding in checked.findings:
        findings.add(finding)
    return MediaSummary(ledger.images, ledger.videos, checked.bytes, checked.objects)


def _content_rules(
    catalog: Catalog, request: CheckedRequest, dataset_bucket: str | None
) -> ContentRules:
    """What conversation blocks may hold for the requested model, and who takes what else."""
    assert request.model is not None
    assert request.customization is not None
    model, custom = request.model, request.customization
    takers: dict[str, list[str]] = {"image": [], "video": [], "reasoning": []}
    for other in catalog.models:
        kinds = other.customizations.values()
        if any(c.media and c.media.image for c in kinds):
            takers["image"].append(other.name)
        if any(c.media and c.media.video for c in kinds):
            takers["video"].append(other.name)
        if any(c.reasoning for c in kinds):
            takers["reasoning"].append(other.name)
    video = custom.media.video if custom.media else None
    seconds = video.max_seconds if video and video.max_seconds else VIDEO_FRAMES_CAP
    return ContentRules(
        model_name=model.name,
        media=custom.media,
        reasoning=custom.reasoning,
        dataset_bucket=dataset_bucket,
        takers={kind: ", ".join(names) for kind, names in takers.items() if names},
        image_tokens=IMAGE_TOKENS.get(model.family, max(IMAGE_TOKENS.values())),
        video_tokens=round(seconds * VIDEO_TOKENS_PER_SECOND.get(model.family, 288)),
    )


def _plan(request: CheckedRequest, catalog: Catalog, dataset_bucket: str | None) -> Any:
    assert request.model is not None
    assert request.customization is not None
    model, custom = request.model, request.customization
    rules = (
        _content_rules(catalog, request, dataset_bucket)
        if "conversation" in custom.formats
        else None
    )
    batch = request.effective_int("batchSize")
    limit = custom.token_limit(batch)
    reason = (
        f"the limit of {model.name} at batch size {batch}"
        if batch is not None
        else f"the smallest limit of {model.name} (no batch size given)"
    )

    def for_source(source: Source) -> _FileCheck:
        records = (
            custom.training_records if source is Source.TRAINING else custom.validation_records
        )
        return _FileCheck(
            source=source,
            formats=custom.formats,
            chars_per_token=CHARS_PER_TOKEN[model.family],
            nova=model.family == "nova",
            token_limit=limit,
            token_limit_reason=reason,
            min_records=records.min,
            max_records=records.max,
            max_bytes=custom.max_training_file_bytes
            if source is Source.TRAINING
            else custom.max_validation_file_bytes,
            records_source=records.source,
            rules=rules,
            sides={
                name: cap
                for name, cap in (
                    ("prompt", custom.max_prompt_tokens),
                    ("completion", custom.max_completion_tokens),
                )
                if cap is not None
            }
            or None,
        )

    return for_source


def _check_file(
    stream: Readable, plan: _FileCheck, findings: Findings, ledger: _MediaLedger
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
        f: checker(f, plan.chars_per_token, nova=plan.nova, rules=rules, sides=plan.sides)
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
    readline = reader(stream).readline
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
    )


def _file_limits(
    plan: _FileCheck, records: int, size: int, lines_read: int, findings: Findings
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


def _total_limits(
    request: CheckedRequest,
    training: FileSummary,
    validation: FileSummary | None,
    findings: Findings,
) -> None:
    """Limits on training and validation records together (the service quota's "sum")."""
    limit = request.customization.total_records if request.customization else None
    if limit is None:
        return
    total = training.records + (validation.records if validation else 0)
    if limit.max is not None and total > limit.max:
        findings.add(
            error(
                Source.TRAINING,
                "too-many-records",
                f"Training and validation files hold {total:,} records together; this model takes at most {limit.max:,} in all (source: {limit.source}). Remove records or sample them.",
            )
        )
    if limit.min is not None and total < limit.min:
        findings.add(
            error(
                Source.TRAINING,
                "too-few-records",
                f"Training and validation files hold {total:,} records together; this model needs at least {limit.min:,} (source: {limit.source}).",
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


__all__ = ["CostEstimate", "Findings", "validate_dataset"]
