"""What distillation and RFT add to a request: the teacher, the grader, ``customizationConfig``.

Shapes: botocore 1.44.8 (bedrock 2023-04-20, read 2026-12-02) ``CustomizationConfig`` is a
union of ``distillationConfig.teacherModelConfig`` {``teacherModelIdentifier``,
``maxResponseLengthForInference``} and ``rftConfig`` {``graderConfig.lambdaGrader.lambdaArn``,
``hyperParameters`` (typed ``RFTHyperParameters``)}.

A manifest can never make Bedrock invoke an arbitrary function: a built-in grader is the
stack's own function (by an alias per configuration, customization_core/graders.py), and an
own grader must be in the stack's account and Region and either named by the stage's
allow-list or tagged ``GRADER_TAG`` with the stack's name (``own_grader_problem``).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from typing import Any, Final

from customization_core.bounded import quote
from customization_core.catalog import Catalog, CustomizationType
from customization_core.findings import Finding, Source, error
from customization_core.naming import TAG_PREFIX

# The tag that admits a user's own grader function (value: the stack's name).
GRADER_TAG: Final = f"{TAG_PREFIX}grader"
# The alias prefix of a built-in grader's configuration (customization_core/graders.py config_id).
GRADER_ALIAS_PREFIX: Final = "g-"


def teacher_choice(
    catalog: Catalog,
    student_id: str,
    teacher_id: str | None,
    max_response_length: int | None,
    *,
    region: str | None,
    account: str | None = None,
) -> tuple[dict[str, Any] | None, list[Finding]]:
    """The teacher as a run records it ({model_id, name, identifier, max_response_length}).

    ``region`` None: the pair is judged, not where it runs (the CLI without --region).
    ``identifier``: what the job names it by in ``region`` (an inference-profile ARN for a
    teacher that answers only through one, when ``account`` is known).
    """
    if teacher_id is None:
        return None, [_teacher_error("missing-teacher", "Distillation needs a teacher model.")]
    teacher = catalog.find_teacher(teacher_id)
    able = catalog.teachers_of(student_id)
    choices = ", ".join(t.model_ids[0] for t in able) or "none in this catalog"
    if teacher is None:
        return None, [
            _teacher_error(
                "unknown-teacher",
                f"{quote(teacher_id)} is not a distillation teacher this tool knows; teachers "
                f"of {student_id}: {choices} (`bedrock-customize catalog --type distillation`).",
            )
        ]
    if teacher not in able:
        return None, [
            _teacher_error(
                "teacher-not-paired",
                f"{teacher.name} does not teach {student_id} ({teacher.source}); its students: "
                f"{', '.join(teacher.students)}. Teachers of {student_id}: {choices}.",
            )
        ]
    limit = teacher.max_response_length
    if max_response_length is not None and limit is not None and max_response_length > limit:
        return None, [
            _teacher_error(
                "response-length-too-long",
                f"maxResponseLength {max_response_length:,} is above {teacher.name}'s "
                f"{limit:,} tokens ({teacher.source}); give at most {limit:,}.",
                field="maxResponseLength",
            )
        ]
    identifier: str | None = teacher.model_ids[0]
    if region is not None:
        identifier = teacher.identifier(region)
        if identifier is None:
            return None, [
                _teacher_error(
                    "teacher-region",
                    f"{teacher.name} teaches in {' or '.join(teacher.regions)} only, not in "
                    f"{region} ({teacher.source}).",
                )
            ]
        if teacher.invocation == "inference-profile" and account is not None:
            identifier = f"arn:aws:bedrock:{region}:{account}:inference-profile/{identifier}"
    return {
        "model_id": teacher.model_ids[0],
        "name": teacher.name,
        "identifier": identifier,
        "max_response_length": max_response_length,
    }, []


def own_grader_problem(
    lambda_arn: str,
    *,
    account: str,
    region: str,
    allowed: Sequence[str],
    tags: Mapping[str, str] | None,
    stack_name: str,
) -> str | None:
    """Why Bedrock may not invoke a user's grader function, or None when it may.

    ``allowed``: the stage's ``graderFunctions`` (names, or prefixes ending in ``*``).
    ``tags``: the function's tags (None: they could not be read).
    """
    parts = lambda_arn.split(":")
    fn_region, fn_account, name = parts[3], parts[4], parts[6]
    if (fn_account, fn_region) != (account, region):
        return (
            f"The grader {lambda_arn} is in account {fn_account} and {fn_region}; a grader "
            f"must be a Lambda function of this stack's account {account} in {region}."
        )
    if any(fnmatch.fnmatchcase(name, pattern) for pattern in allowed):
        return None
    if tags is not None and tags.get(GRADER_TAG) == stack_name:
        return None
    if tags is None:
        return (
            f"The grader function {name} could not be read in {region} (it may not exist): "
            "give an existing function of this account and Region."
        )
    # Tags go on the function itself: tag-resource refuses a qualified (alias) ARN.
    unqualified = ":".join(parts[:7])
    return (
        f"The grader function {name} is neither in this stage's allow-list (graderFunctions: "
        f"{', '.join(allowed) or 'empty'}) nor tagged {GRADER_TAG}={stack_name}: tag it "
        f"(aws lambda tag-resource --resource {unqualified} --tags {GRADER_TAG}={stack_name}) "
        "or ask for it to be added to graderFunctions."
    )


def customization_config(
    kind: CustomizationType,
    *,
    teacher: Mapping[str, Any] | None,
    grader_arn: str | None,
    hyperparameters: Mapping[str, int | float | str],
) -> dict[str, Any] | None:
    """The job's ``customizationConfig`` (None for fine-tuning and continued pre-training)."""
    if kind is CustomizationType.DISTILLATION:
        assert teacher is not None
        config: dict[str, Any] = {"teacherModelIdentifier": teacher["identifier"]}
        if teacher.get("max_response_length") is not None:
            config["maxResponseLengthForInference"] = int(teacher["max_response_length"])
        return {"distillationConfig": {"teacherModelConfig": config}}
    if kind is CustomizationType.REINFORCEMENT_FINE_TUNING:
        assert grader_arn is not None
        rft: dict[str, Any] = {"graderConfig": {"lambdaGrader": {"lambdaArn": grader_arn}}}
        if hyperparameters:
            rft["hyperParameters"] = dict(hyperparameters)
        return {"rftConfig": rft}
    return None


def _teacher_error(code: str, message: str, *, field: str = "teacherModelId") -> Finding:
    return error(Source.REQUEST, code, message, field=field)
