"""ValidateRequest's part for distillation and RFT: the teacher, the grader, customizationConfig."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from customization_core.catalog import Catalog, CustomizationType
from customization_core.faults import error_code, reraise_bedrock
from customization_core.grader_choice import grader_choice
from customization_core.manifest import Manifest
from customization_core.request import CheckedRequest, typed_hyperparameters
from customization_core.run import PipelineConfig
from customization_core.type_settings import (
    customization_config,
    own_grader_problem,
    teacher_choice,
)


@dataclass
class TypeSettings:
    """What the run records for its type (all None for fine-tuning), or why it is refused."""

    teacher: dict[str, Any] | None = None
    grader: dict[str, Any] | None = None
    customization_config: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)


def account_of(role_arn: str) -> str:
    """The account of an IAM ARN (arn:aws:iam::ACCOUNT:role/NAME)."""
    return role_arn.split(":")[4]


def resolve_type_settings(
    manifest: Manifest,
    checked: CheckedRequest,
    *,
    catalog: Catalog,
    region: str,
    config: PipelineConfig,
    lambda_client: Any | None,
) -> TypeSettings:
    kind = manifest.customization_type
    account = account_of(config.bedrock_role_arn)
    settings = TypeSettings()
    if kind is CustomizationType.DISTILLATION:
        settings.teacher, findings = teacher_choice(
            catalog,
            manifest.base_model_id,
            manifest.teacher_model_id,
            manifest.max_response_length,
            region=region,
            account=account,
        )
        settings.problems = [f.message for f in findings]
    elif kind is CustomizationType.REINFORCEMENT_FINE_TUNING:
        assert manifest.grader is not None
        block = manifest.grader.model_dump(by_alias=True, exclude_none=True)
        settings.grader, findings = grader_choice(block, builtin_arn=config.grader_function_arn)
        settings.problems = [f.message for f in findings]
        grader = settings.grader
        if grader is not None and grader["kind"] == "builtin" and grader["lambda_arn"] is None:
            settings.problems.append(
                "This stage ships no built-in grader function; give your own (grader.lambdaArn)."
            )
        if grader is not None and grader["kind"] == "own":
            problem = own_grader_problem(
                grader["lambda_arn"],
                account=account,
                region=region,
                allowed=config.grader_functions,
                tags=_tags(lambda_client, grader["lambda_arn"]),
                stack_name=config.stack_name,
            )
            if problem:
                settings.problems.append(problem)
    if settings.problems:
        return settings
    assert checked.customization is not None
    typed = (
        typed_hyperparameters(checked.customization, checked.hyperparameters)
        if checked.customization.hyperparameters_as == "rft"
        else {}
    )
    settings.customization_config = customization_config(
        kind,
        teacher=settings.teacher,
        grader_arn=settings.grader["lambda_arn"] if settings.grader else None,
        hyperparameters=typed,
    )
    return settings


def _tags(lambda_client: Any | None, function_arn: str) -> dict[str, str] | None:
    """A function's tags (None: no client, or the function does not exist or cannot be read).

    ListTags takes the unqualified function ARN. Source, read 2026-12-02:
    https://docs.aws.amazon.com/lambda/latest/api/API_ListTags.html
    """
    if lambda_client is None:
        return None
    unqualified = ":".join(function_arn.split(":")[:7])
    try:
        answer = lambda_client.list_tags(Resource=unqualified)
    except Exception as fault:
        if error_code(fault) in ("ResourceNotFoundException", "AccessDeniedException"):
            return None
        reraise_bedrock(fault)
        raise
    return {str(k): str(v) for k, v in (answer.get("Tags") or {}).items()}
