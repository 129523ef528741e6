"""Dataset validation: the request, each file's pass, the limits on both files, the media, the report.

The pass over one file is customization_core/file_check.py; this module plans it from the
catalog (formats, token limits, content rules), then adds what only the whole dataset
shows: record limits on both files together, one modality, the media objects themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

from customization_core.catalog import (
    Catalog,
    Customization,
    CustomizationType,
    Family,
    load_catalog,
)
from customization_core.conversation_format import ContentRules
from customization_core.cost import estimate_cost
from customization_core.file_check import FileCheck, MediaLedger, check_file
from customization_core.findings import Findings, Source, error, warning
from customization_core.media import MediaResolver, check_media
from customization_core.report import FileSummary, MediaSummary, Report
from customization_core.request import CheckedRequest, HyperparameterValue, check_request
from customization_core.risk_policy import RiskPolicy, ScanBudget
from customization_core.stream import Readable
from customization_core.tokens import CHARS_PER_TOKEN
from customization_core.type_settings import teacher_choice

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
    teacher_model_id: str | None = None,
    max_response_length: int | None = None,
    grader_fields: tuple[str, ...] = (),
    risk: RiskPolicy | None = None,
    risk_budget: ScanBudget | None = None,
) -> Report:
    """Check a request and its datasets; never raises for bad data, returns the report.

    ``dataset_bucket``: the bucket the training file is in, where media objects must
    be too (None: that rule is skipped). ``media``: where the media objects the
    records name are looked up after the pass (None: they are not, and a warning
    says so when there are any). ``grader_fields``: the fields the RFT grader reads,
    each reported where a record lacks it. ``risk``: run the data risk scan in the same
    pass (customization_core/risk_scan.py) with this policy; the document gains "risk"
    and each file's "sha256", and the kinds the policy blocks are errors. ``risk_budget``:
    how much of each file the scan reads (None, the default: every record, whole).
    """
    catalog = catalog or load_catalog()
    findings = Findings()
    request = check_request(
        catalog, model_id, customization_type, hyperparameters, unknown_ok=unknown_ok
    )
    for finding in request.findings:
        findings.add(finding)
    teacher = None
    if request.customization_type is CustomizationType.DISTILLATION:
        chosen, problems = teacher_choice(
            catalog, model_id, teacher_model_id, max_response_length, region=None
        )
        for finding in problems:
            findings.add(finding)
        teacher = catalog.find_teacher(chosen["model_id"]) if chosen else None
    if request.model is None or request.customization is None:
        return Report.build(request, findings, training=None, validation=None, cost=None)

    planned = _plan(request, catalog, dataset_bucket, grader_fields)
    scan = None
    if risk is not None:  # imported only then: detect-secrets alone takes some 200 ms to load
        from customization_core.risk_scan import RiskScan

        scan = RiskScan(risk, budget=risk_budget)

    def plan(source: Source) -> FileCheck:
        check = planned(source)
        if scan is None:
            return check
        scan.start_file("training" if source is Source.TRAINING else "validation")
        check.observe = scan.observe
        check.sha256 = True
        return check

    ledger = MediaLedger()
    training_summary = check_file(training, plan(Source.TRAINING), findings, ledger)
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
        validation_summary = check_file(validation, plan(Source.VALIDATION), findings, ledger)
    _total_limits(request, training_summary, validation_summary, findings)
    risk_document = None
    if scan is not None:
        scanned = scan.result()
        for finding in scanned.findings():
            findings.add(finding)
        risk_document = scanned.to_dict()
    media_summary = _media_findings(request.customization, ledger, media, findings)
    cost = estimate_cost(
        request,
        training_summary.tokens.total,
        catalog_date=catalog.catalog_date,
        price_override=price_per_1k_tokens_usd,
        teacher=teacher,
        records=training_summary.records,
        max_response_length=max_response_length,
    )
    return Report.build(
        request,
        findings,
        training_summary,
        validation_summary,
        cost,
        media=media_summary,
        risk=risk_document,
    )


def _media_findings(
    custom: Customization,
    ledger: MediaLedger,
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
                f"{ledger.skipped:,} media references past the first {len(ledger.references):,} were counted but not checked; check the rest in smaller datasets.",
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
        video_tokens=round(
            seconds
            * VIDEO_TOKENS_PER_SECOND.get(model.family, max(VIDEO_TOKENS_PER_SECOND.values()))
        ),
    )


def _plan(
    request: CheckedRequest,
    catalog: Catalog,
    dataset_bucket: str | None,
    grader_fields: tuple[str, ...] = (),
) -> Callable[[Source], FileCheck]:
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

    def for_source(source: Source) -> FileCheck:
        records = (
            custom.training_records if source is Source.TRAINING else custom.validation_records
        )
        return FileCheck(
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
            required_fields=grader_fields,
        )

    return for_source


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
