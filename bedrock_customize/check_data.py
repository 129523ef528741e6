"""The data and cost steps of ``check``: ValidateDataset's and EstimateCost's judgement.

The pinned files go through the validator with the request's hyperparameters, then
the estimate, budget and approval gates are the pipeline's
(customization_core/estimate.py).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path

from bedrock_customize.check_model import Job, Outcome, Rules, Severity
from bedrock_customize.check_type import try_built_in_grader, validator_settings
from customization_core.catalog import Catalog
from customization_core.estimate import approval_reasons, budget_problem, estimate_of
from customization_core.layout import MANIFEST_NAME
from customization_core.manifest import DEFAULT_VALIDATION_KEY, Manifest, data_keys
from customization_core.media import LocalMediaResolver
from customization_core.request import CheckedRequest
from customization_core.validator import validate_dataset


def _is_file(path: Path) -> bool:
    """Whether ``path`` is a file; False too when the system cannot look (a name over 255 bytes)."""
    try:
        return path.is_file()
    except OSError:  # ENAMETOOLONG: the manifest names a key no local file can have
        return False


def _prepared_hint(training: Path | None) -> str:
    """A folder whose records `prepare` writes (examples/image-captions): say how."""
    spec = training.parent / "prepare.json" if training else None
    if spec is None or not _is_file(spec):
        return ""
    return (
        f" This folder's records are written by `bedrock-customize prepare` with the "
        f"arguments in {spec} (they name media by their S3 URI): `make demo` runs it."
    )


def check_data(
    job: Job,
    folder: str,
    manifest: Manifest,
    checked: CheckedRequest,
    price: float | None,
    media_root: Path | None,
    catalog: Catalog,
    outcome: Outcome,
    *,
    unknown_ok: bool = False,
    data_risk: Mapping[str, str] | None = None,
) -> None:
    """ValidateDataset: the pinned files through the validator, with the request's hyperparameters.

    The data risk scan runs as in the pipeline, under the stage's ``dataRisk`` policy: a
    kind the stage blocks is an error here too.
    """
    from customization_core.risk_policy import RiskPolicy

    training_key, validation_key = data_keys(folder, manifest)
    training = job.locate(manifest.training_data)
    if training is None or not _is_file(training):
        outcome.add(
            "data",
            "error",
            training_key,
            "training-file-missing",
            f"The training file {training_key} does not exist"
            + (f": put it at {training}." if training else "; upload it before job.json.")
            + _prepared_hint(training),
        )
        training = None
    validation = job.locate(manifest.validation_data or DEFAULT_VALIDATION_KEY)
    if validation is not None and not _is_file(validation):
        validation = None
    if validation is None and manifest.validation_data is not None:
        outcome.add(
            "data",
            "error",
            validation_key,
            "validation-file-missing",
            f"The validation file {validation_key} named by the manifest does not exist; "
            "add it, or remove validationData from job.json.",
        )
    if training is None:
        return
    if checked.model is None or checked.customization is None:
        outcome.note(
            "data", "The data was not checked: the request names no model and type to check it for."
        )
        return
    with ExitStack() as files:
        report = validate_dataset(
            files.enter_context(training.open("rb")),
            model_id=manifest.base_model_id,
            customization_type=manifest.customization_type,
            hyperparameters=checked.hyperparameters,
            validation=files.enter_context(validation.open("rb")) if validation else None,
            catalog=catalog,
            price_per_1k_tokens_usd=price,
            dataset_bucket=None,
            media=LocalMediaResolver(media_root) if media_root else None,
            unknown_ok=unknown_ok,
            risk=RiskPolicy.parse(data_risk),
            **validator_settings(manifest),  # the teacher, the fields the grader reads
        )
    if report.valid and manifest.grader is not None:  # as ValidateDataset: valid data only
        with training.open("rb") as lines:
            try_built_in_grader(manifest, lines, outcome)
    document = report.document
    outcome.report = document
    outcome.cost = document["cost"]
    kinds: tuple[tuple[Severity, str], ...] = (("error", "errors"), ("warning", "warnings"))
    for severity, kind in kinds:
        shown = [f for f in document[kind] if f["file"] != "request"]  # the request step said those
        for finding in shown:
            where = (
                finding["file"]
                if finding["line"] is None
                else f"{finding['file']}:{finding['line']}"
            )
            outcome.add(
                "data", severity, where, finding["code"], finding["message"], finding["field"]
            )
        more = document[f"{severity}_count"] - len(document[kind])
        if more > 0:
            outcome.note(
                "data", f"{more:,} more data {kind} than shown (the report keeps the first)."
            )


def check_cost(manifest: Manifest, rules: Rules | None, catalog: Catalog, outcome: Outcome) -> None:
    """EstimateCost: the same estimate, budget and gates as the pipeline (customization_core/estimate.py)."""
    if outcome.report is None:
        outcome.note("cost", "The cost was not estimated: the data was not checked.")
        return
    document = outcome.report
    records = int(document.get("records") or 0)
    tokens = int((document.get("tokens") or {}).get("total") or 0)
    deploy = manifest.deploy.model_dump(mode="json", by_alias=True)
    evaluate = (
        manifest.evaluate.model_dump(mode="json", by_alias=True) if manifest.evaluate else None
    )
    estimate = estimate_of(
        catalog,
        model_id=manifest.base_model_id,
        kind=manifest.customization_type.value,
        training_cost=outcome.cost,
        deploy=deploy,
        evaluate=evaluate,
        request_tokens=math.ceil(tokens / records) if records and tokens else None,
    )
    outcome.estimate = estimate.to_dict()
    for line in estimate.lines():
        outcome.note("cost", line)
    over = budget_problem(estimate, manifest.budget_usd)
    if over:
        outcome.add(
            "cost",
            "error",
            f"{MANIFEST_NAME}: budgetUsd",
            "over-budget",
            f"{over}; raise budgetUsd, or spend less (less data, fewer epochs, fewer model "
            "units, a shorter deploy.ttlHours).",
        )
    reasons = approval_reasons(
        estimate,
        deploy,
        threshold_usd=rules.approval_threshold_usd if rules else None,
        max_unapproved_units=rules.max_unapproved_model_units if rules else 1,
        budget_usd=manifest.budget_usd,
    )
    outcome.needs_approval = bool(reasons)
    if reasons:
        stage = f" of stage {rules.stage}" if rules else ""
        outcome.note(
            "cost",
            f"It would wait for approval{stage}: {'; '.join(reasons)}. Someone other than the "
            "submitter approves it with bedrock-customize approve RUN_ID.",
        )
