"""Dataset validation: one pass over each file finds every problem, in constant memory."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import orjson
import xxhash

from customization_core.catalog import Catalog, CustomizationType, DataFormat, load_catalog
from customization_core.cost import CostEstimate, estimate_cost
from customization_core.findings import Finding, Severity, Source, error, warning
from customization_core.formats import Checker, checker, detect
from customization_core.report import FileSummary, Report
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


def validate_dataset(
    training: Readable,
    *,
    model_id: str,
    customization_type: CustomizationType | str,
    hyperparameters: Mapping[str, HyperparameterValue] | None = None,
    validation: Readable | None = None,
    catalog: Catalog | None = None,
    price_per_1k_tokens_usd: float | None = None,
) -> Report:
    """Check a request and its datasets; never raises for bad data, returns the report."""
    catalog = catalog or load_catalog()
    findings = Findings()
    request = check_request(catalog, model_id, customization_type, hyperparameters)
    for finding in request.findings:
        findings.add(finding)
    if request.model is None or request.customization is None:
        return Report.build(request, findings, training=None, validation=None, cost=None)

    plan = _plan(request)
    training_summary = _check_file(training, plan(Source.TRAINING), findings)
    validation_summary = (
        _check_file(validation, plan(Source.VALIDATION), findings)
        if validation is not None
        else None
    )
    _total_limits(request, training_summary, validation_summary, findings)
    cost = estimate_cost(
        request,
        training_summary.tokens.total,
        catalog_date=catalog.catalog_date,
        price_override=price_per_1k_tokens_usd,
    )
    return Report.build(request, findings, training_summary, validation_summary, cost)


def _plan(request: CheckedRequest) -> Any:
    assert request.model is not None
    assert request.customization is not None
    model, custom = request.model, request.customization
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
        )

    return for_source


def _check_file(stream: Readable, plan: _FileCheck, findings: Findings) -> FileSummary:
    source = plan.source
    checkers: dict[DataFormat, Checker] = {
        f: checker(f, plan.chars_per_token, nova=plan.nova) for f in plan.formats
    }
    chosen: DataFormat | None = None if len(plan.formats) > 1 else plan.formats[0]
    check = checkers[chosen] if chosen else None
    several_formats = len(checkers) > 1
    add = findings.add
    current = [0]  # the line a format checker is looking at (one closure for all lines)

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


def _parse_error(
    source: Source, number: int, start: int, data: bytes, problem: orjson.JSONDecodeError
) -> Finding:
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
