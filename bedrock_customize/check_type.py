"""The type step of ``check``: distillation's teacher and RFT's grader, as ValidateRequest judges them.

The pipeline resolves both in customization_core/type_step.py; ``check`` calls the same
core (type_settings.teacher_choice, grader_choice.grader_choice) without the stack: whether
Bedrock may invoke a user's own grader (same account and Region, allow-listed or tagged)
needs the stack's settings and the function's tags, so ``check`` says so instead of judging.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bedrock_customize.check_model import Outcome, severity_of
from customization_core.catalog import Catalog, CustomizationType
from customization_core.findings import Finding
from customization_core.grader_check import try_grader
from customization_core.grader_choice import grader_choice
from customization_core.layout import MANIFEST_NAME
from customization_core.manifest import Manifest
from customization_core.type_settings import GRADER_TAG, teacher_choice


def chosen_grader(manifest: Manifest) -> tuple[dict[str, Any] | None, list[Finding]]:
    """The manifest's grader as a run records it (None for other types, or when refused)."""
    if manifest.grader is None:
        return None, []
    block = manifest.grader.model_dump(by_alias=True, exclude_none=True)
    return grader_choice(block, builtin_arn=None)


def validator_settings(manifest: Manifest) -> dict[str, Any]:
    """validate_dataset's keyword arguments for the manifest's teacher and grader."""
    grader, _problems = chosen_grader(manifest)
    return {
        "teacher_model_id": manifest.teacher_model_id,
        "max_response_length": manifest.max_response_length,
        "grader_fields": tuple((grader or {}).get("needs_fields") or ()),
    }


def check_type(manifest: Manifest, catalog: Catalog, region: str | None, outcome: Outcome) -> None:
    """The teacher (paired with the student, teaching in ``region``) or the grader (valid)."""
    kind = manifest.customization_type
    findings: list[Finding] = []
    if kind is CustomizationType.DISTILLATION:
        _teacher, findings = teacher_choice(
            catalog,
            manifest.base_model_id,
            manifest.teacher_model_id,
            manifest.max_response_length,
            region=region,
        )
    elif kind is CustomizationType.REINFORCEMENT_FINE_TUNING:
        grader, findings = chosen_grader(manifest)
        if grader is not None and grader["kind"] == "own":
            outcome.note(
                "request",
                f"The grader is your own function {grader['lambda_arn']}: ValidateRequest "
                "admits it only in the stack's account and Region, named by the stage's "
                f"graderFunctions or tagged {GRADER_TAG}=<stack name>.",
            )
    for finding in findings:
        where = f"{MANIFEST_NAME}: {finding.field}" if finding.field else MANIFEST_NAME
        outcome.add("request", severity_of(finding.severity), where, finding.code, finding.message)


def try_built_in_grader(manifest: Manifest, lines: Iterable[bytes], outcome: Outcome) -> None:
    """ValidateDataset's dry run of a built-in grader on the first records (grader_check.py)."""
    grader, problems = chosen_grader(manifest)
    if grader is None or problems:
        return
    tried = try_grader(lines, grader)
    where = f"{MANIFEST_NAME}: grader"
    for message in tried.errors:
        outcome.add("data", "error", where, "grader-dry-run", message)
    for message in tried.warnings:
        outcome.add("data", "warning", where, "grader-dry-run", message)
