"""What distillation and RFT jobs invoke as the Bedrock service role: teachers and graders.

Bedrock itself invokes a distillation job's teacher and an RFT job's grader function, with
the job's service role (not through the stack's VPC endpoints), so the role holds these
grants (stacks/identity.py). Sources, read 2026-12-02:
https://docs.aws.amazon.com/bedrock/latest/userguide/prequisites-model-distillation.html
https://docs.aws.amazon.com/bedrock/latest/userguide/custom-model-job-access-security.html
(its cross-Region inference profile example: the profile in the job's Region, and the model
in each Region the profile routes to) and
https://docs.aws.amazon.com/bedrock/latest/userguide/rft-access-security.html
(lambda:InvokeFunction on the reward function).
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk

from customization_core.type_settings import GRADER_ALIAS_PREFIX, GRADER_TAG
from stacks.bedrock_arns import foundation_model_arn, teacher_profiles, usable_teachers
from stacks.grants import Grant, allow


def teacher_grants(stack: cdk.Stack, allowed_base_models: Sequence[str] | None) -> list[Grant]:
    """bedrock:InvokeModel on each teacher as a job names it (type_settings.teacher_choice).

    A "model-id" teacher: its foundation model in this Region. An "inference-profile"
    teacher: its system-defined profile in this Region (every Region's profile when the
    stack is environment-agnostic, as stacks/bedrock_arns.py base_model_profiles does),
    and the model behind it in whichever Region the profile routes to, only through the
    profiles (bedrock:InferenceProfileArn). Source for the pair:
    https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-prereq.html
    """
    teachers = usable_teachers(stack, allowed_base_models)
    direct = sorted({t.model_ids[0] for t in teachers if t.invocation == "model-id"})
    profile_arns, behind = teacher_profiles(stack, allowed_base_models)
    grants = []
    if direct:
        grants.append(
            allow(
                "InvokeTeacherModels",
                ["bedrock:InvokeModel"],
                [foundation_model_arn(stack, model_id) for model_id in direct],
            )
        )
    if profile_arns:
        grants += teacher_profile_grants(profile_arns, behind)
    return grants


def teacher_profile_grants(profile_arns: Sequence[str], behind: Sequence[str]) -> list[Grant]:
    """Invoke the teachers' profiles, and the models behind them only through those profiles."""
    return [
        allow("InvokeTeacherProfiles", ["bedrock:InvokeModel"], list(profile_arns)),
        allow(
            "InvokeModelsBehindTeacherProfiles",
            ["bedrock:InvokeModel"],
            list(behind),
            {"ArnEquals": {"bedrock:InferenceProfileArn": list(profile_arns)}},
            wildcard_reason="A teacher that answers only through a cross-Region inference "
            "profile, named in full, in whichever Region its profile routes to (AWS "
            "documents the model in each Region of the profile); allowed only through "
            "this stack's teacher profiles (bedrock:InferenceProfileArn).",
        ),
    ]


def function_arn(stack: cdk.Stack, name: str) -> str:
    """A Lambda function (or name pattern) of this account and Region."""
    return stack.format_arn(
        service="lambda",
        resource="function",
        resource_name=name,
        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
    )


def grader_grants(
    stack: cdk.Stack, *, builtin_arn: str, allowed_names: Sequence[str]
) -> list[Grant]:
    """lambda:InvokeFunction on the graders an RFT job may name (type_settings.own_grader_problem).

    The built-in grader by its aliases only (``g-<config id>``: Bedrock is never given the
    unqualified ARN). An allow-listed name both unqualified and qualified: a policy on the
    unqualified ARN does not cover versions and aliases (Lambda's endpoint page: "include
    both the qualified and the unqualified function ARN"). Source, read 2026-12-02:
    https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc-endpoints.html
    Any other function of this account and Region only when it carries the grader tag with
    this stack's name: Lambda supports aws:ResourceTag on the actions whose resource is a
    function (InvokeFunction among them; its tags apply to its versions and aliases).
    Sources, read 2026-12-02:
    https://docs.aws.amazon.com/lambda/latest/dg/attribute-based-access-control.html
    https://docs.aws.amazon.com/lambda/latest/dg/attribute-based-access-control-example.html
    and the Service Authorization Reference (iam-data 0.21.202609261, resourceTypes/
    lambda.json: the function resource takes aws:ResourceTag/${TagKey}).
    """
    grants = [
        allow(
            "InvokeBuiltInGrader",
            ["lambda:InvokeFunction"],
            [f"{builtin_arn}:{GRADER_ALIAS_PREFIX}*"],
            wildcard_reason="The built-in grader has one alias per grader configuration, "
            f"named '{GRADER_ALIAS_PREFIX}' and a hash of it: only this function's aliases.",
        )
    ]
    if allowed_names:
        grants.append(
            allow(
                "InvokeAllowedGraders",
                ["lambda:InvokeFunction"],
                [
                    arn
                    for name in allowed_names
                    for arn in (function_arn(stack, name), function_arn(stack, f"{name}:*"))
                ],
                wildcard_reason="The stage's graderFunctions (names, or prefixes ending in "
                "'*'), in this account and Region, and their versions and aliases.",
            )
        )
    grants.append(
        allow(
            "InvokeGradersTaggedForThisStack",
            ["lambda:InvokeFunction"],
            [function_arn(stack, "*")],
            {"StringEquals": {f"aws:ResourceTag/{GRADER_TAG}": stack.stack_name}},
            wildcard_reason="A user's own grader function of this account and Region, only "
            f"when it carries the tag {GRADER_TAG} with this stack's name.",
        )
    )
    return grants
