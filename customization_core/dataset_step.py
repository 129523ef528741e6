"""ValidateDataset: stream the pinned dataset versions through the validator, then snapshot them.

What was validated is what is trained: the versions judged are copied for the run
(customization_core/snapshot.py), and StartJob gives Bedrock only that copy.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Final

import orjson

from customization_core.dataset_card import dataset_card
from customization_core.grader_check import try_grader
from customization_core.layout import dataset_card_key
from customization_core.media import S3MediaResolver
from customization_core.registry import Registry
from customization_core.rejection import reject
from customization_core.report_publish import refresh_page
from customization_core.risk_policy import RiskPolicy
from customization_core.run import PipelineConfig, Run, Status
from customization_core.snapshot import snapshot
from customization_core.validator import validate_dataset

SUMMARY_FINDINGS: Final = 5  # findings quoted in a rejection notice


def validate_data(
    run: Run,
    *,
    s3: Any,
    registry: Registry,
    config: PipelineConfig,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Stream the pinned training (and validation) versions through the validator; write the report.

    The same pass scans the data for risks (near-duplicates, leakage, personal data,
    secrets, outliers): warnings, or errors for the kinds the stage's dataRisk blocks. The
    dataset card (sizes, tokens, content hashes and versions, the risks) is written beside
    the report and linked from the run.
    """
    assert run.training is not None
    assert run.model_id
    assert run.customization_type
    assert run.report_key
    bucket = run.source.bucket
    training = s3.get_object(
        Bucket=bucket, Key=run.training["key"], VersionId=run.training["version_id"]
    )["Body"]
    validation = (
        s3.get_object(
            Bucket=bucket, Key=run.validation["key"], VersionId=run.validation["version_id"]
        )["Body"]
        if run.validation
        else None
    )
    media = S3MediaResolver(s3)  # remembers the version of each media object it judged
    report = validate_dataset(
        training,
        validation=validation,
        model_id=run.model_id,
        customization_type=run.customization_type,
        hyperparameters=run.hyperparameters,
        price_per_1k_tokens_usd=config.training_prices_usd.get(run.model_id),
        teacher_model_id=(run.teacher or {}).get("model_id"),
        # RFT: each record must carry what the grader reads (reference_answer, a field).
        grader_fields=tuple((run.grader or {}).get("needs_fields") or ()),
        max_response_length=(run.teacher or {}).get("max_response_length"),
        # Media blocks must point into the dataset's own bucket; each object they name is
        # checked to exist, and is checked by its bytes (format, size, dimensions).
        dataset_bucket=bucket,
        media=media,
        unknown_ok=config.unknown_models == "warn",
        risk=RiskPolicy.parse(config.data_risk),
    )
    s3.put_object(
        Bucket=config.artifacts_bucket,
        Key=run.report_key,
        Body=report.to_json(),
        ContentType="application/json",
    )
    document = report.document
    card = _write_card(run, document, s3=s3, bucket=config.artifacts_bucket)
    risk_summary = (document.get("risk") or {}).get("summary")
    run.tokens = document["tokens"]["total"]
    run.cost_usd = (document["cost"] or {}).get("estimated_usd")
    # EstimateCost prices the whole run from these: the training part and a request's size.
    run.extra["training_cost"] = document["cost"]
    records = int(document.get("records") or 0)
    run.request_tokens = math.ceil(run.tokens / records) if records and run.tokens else None
    location = f"s3://{config.artifacts_bucket}/{run.report_key}"
    if not report.valid:
        quoted = "\n".join(
            f"  {e['file']}{':' + str(e['line']) if e['line'] else ''} {e['code']}: {e['message']}"
            for e in document["errors"][:SUMMARY_FINDINGS]
        )
        run.report_summary = (
            f"{document['error_count']} error(s) in the dataset (report: {location})"
        )
        registry.annotate(run.run_id, dataset_card=card, risk_summary=risk_summary)
        return reject(run, registry, f"{run.report_summary}. The first:\n{quoted}")
    if run.grader is not None:
        body = s3.get_object(
            Bucket=bucket, Key=run.training["key"], VersionId=run.training["version_id"]
        )["Body"]
        try:
            tried = try_grader(body.iter_lines(), run.grader)
        finally:
            body.close()  # only the first records are read
        run.extra["grader_dry_run"] = tried.summary
        run.warnings.extend(tried.warnings)
        if tried.errors:
            return reject(run, registry, " ".join(tried.errors))
    run.report_summary = (
        f"{document['records']} training records, about {run.tokens:,} tokens, "
        f"{document['warning_count']} warning(s) (report: {location})"
    )
    # What was validated is what is trained: the versions judged, copied for the run.
    taken = snapshot(
        s3,
        source_bucket=bucket,
        training=run.training,
        validation=run.validation,
        media_versions=media.versions,
        artifacts_bucket=config.artifacts_bucket,
        run_id=run.run_id,
    )
    run.snapshot = taken.record()
    registry.update(
        run,
        Status.VALIDATING,
        report=location,
        tokens=run.tokens,
        request_tokens=run.request_tokens,
        cost_usd=run.cost_usd,
        snapshot=run.snapshot,
        grader_dry_run=run.extra.get("grader_dry_run"),
        warnings=run.warnings,
        dataset_card=card,
        risk_summary=risk_summary,
    )
    refresh_page(run.run_id, s3=s3, registry=registry, config=config, now=now)
    return run.state()


def _write_card(run: Run, document: dict[str, Any], *, s3: Any, bucket: str) -> str:
    """Write the run's dataset card beside its report; its S3 URI, which the registry links."""
    files = []
    for role, pinned in (("training", run.training), ("validation", run.validation)):
        if pinned is None:
            continue
        summary = (document.get("files") or {}).get(role) or {}
        files.append(
            {
                "role": role,
                "key": pinned["key"],
                "version_id": pinned["version_id"],
                "sha256": summary.get("sha256"),
                "bytes": summary.get("bytes"),
            }
        )
    key = dataset_card_key(run.run_id)
    s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=orjson.dumps(dataset_card(document, files), option=orjson.OPT_SORT_KEYS),
        ContentType="application/json",
    )
    return f"s3://{bucket}/{key}"
