"""Distillation and RFT as IAM: what the Bedrock role may invoke, and what the handlers may do.

Given the synthesized dev stage (and one that allow-lists graderFunctions), when the
policies are read, then Bedrock may invoke only the built-in grader's aliases, the
allow-listed functions and functions tagged for this stack; the teachers of the stack's
Region by model or by profile; StartJob aliases only the built-in grader; the grader
reads only graders/*; and the Lambda endpoint admits only ListTags and CreateAlias.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

import aws_cdk as cdk
import pytest

from customization_core.type_settings import GRADER_TAG
from stacks.bedrock_arns import usable_teachers
from stacks.job_invocations import grader_grants, teacher_grants
from stacks.settings import SettingsError, load_settings
from tests.infra.policies import actions_of, condition, identity_statements, render
from tests.infra.synth import (
    ACCOUNT,
    CONTEXT,
    REGION,
    Synth,
    as_list,
    stage_settings,
    statements,
    synthesize_once,
)

FUNCTIONS = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:"
TAGGED = {"StringEquals": {f"aws:ResourceTag/{GRADER_TAG}": ["BedrockCustomization-dev"]}}


@pytest.fixture(scope="module")
def allow_listed(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """A stage that allow-lists its teams' graders by prefix."""
    settings = stage_settings("dev", graderFunctions=["team-grader-*"])
    return synthesize_once(settings, "grader-allow-list", tmp_path_factory)


def _role_statements(synth: Synth) -> list[dict[str, Any]]:
    role_id = synth.one("AWS::IAM::Role", "Identity/BedrockCustomizationRole/")[0]
    return [
        s
        for _, policy, s in identity_statements(synth)
        if {"Ref": role_id} in policy.get("Roles", [])
    ]


def _grader_id(synth: Synth) -> str:
    return synth.one("AWS::Lambda::Function", "Grading/Functions/Grader/")[0]


def _policy(synth: Synth, path: str) -> dict[str, dict[str, Any]]:
    _, policy = synth.one("AWS::IAM::ManagedPolicy", path)
    return {s["Sid"]: s for s in statements(policy["Properties"]["PolicyDocument"])}


def _conditions(statement: dict[str, Any]) -> dict[str, Any]:
    return {
        op: {k: sorted(render(v) for v in as_list(values)) for k, values in entries.items()}
        for op, entries in statement.get("Condition", {}).items()
    }


def _invokes(synth: Synth) -> dict[str, tuple[list[str], dict[str, Any]]]:
    return {
        s["Sid"]: (sorted(render(r) for r in as_list(s["Resource"])), _conditions(s))
        for s in _role_statements(synth)
        if "lambda:InvokeFunction" in actions_of(s)
    }


# The Bedrock role's graders ---------------------------------------------------------------


def test_the_role_invokes_the_builtin_graders_aliases_and_tagged_functions(dev: Synth) -> None:
    grader = _grader_id(dev)
    assert _invokes(dev) == {
        "InvokeBuiltInGrader": ([f"<{grader}.Arn>:g-*"], {}),
        "InvokeGradersTaggedForThisStack": ([f"{FUNCTIONS}*"], TAGGED),
    }


def test_a_stage_allow_list_adds_its_names_and_their_aliases(allow_listed: Synth) -> None:
    invokes = _invokes(allow_listed)
    assert invokes["InvokeAllowedGraders"] == (
        [f"{FUNCTIONS}team-grader-*", f"{FUNCTIONS}team-grader-*:*"],
        {},
    )
    assert set(invokes) == {
        "InvokeBuiltInGrader",
        "InvokeAllowedGraders",
        "InvokeGradersTaggedForThisStack",
    }


@pytest.mark.parametrize("variant", ["dev", "prod", "existing_vpc", "allow_listed"])
def test_no_statement_invokes_any_function_without_the_grader_tag(
    request: pytest.FixtureRequest, variant: str
) -> None:
    # Given every identity policy, when a statement could invoke a function nobody named
    # (neither the built-in grader nor an allow-listed name), then it requires the tag.
    synth: Synth = request.getfixturevalue(variant)
    stranger = f"{FUNCTIONS}someone-elses-function"
    found = 0
    for logical_id, _, statement in identity_statements(synth):
        if "lambda:InvokeFunction" not in actions_of(statement):
            continue
        for resource in as_list(statement["Resource"]):
            if fnmatchcase(stranger, render(resource)) or render(resource) == "*":
                found += 1
                assert _conditions(statement) == {
                    "StringEquals": {f"aws:ResourceTag/{GRADER_TAG}": [synth.settings.stack_name]}
                }, logical_id
    assert found == 1  # the tag-conditioned statement itself


def test_the_grader_tag_is_a_condition_key_lambdas_function_resource_takes() -> None:
    from tests.infra import iam_reference as ref

    assert ref.takes_key("lambda:InvokeFunction", f"aws:ResourceTag/{GRADER_TAG}")


# Teachers ---------------------------------------------------------------------------------


def test_the_role_invokes_this_regions_teachers_by_model_and_by_profile(dev: Synth) -> None:
    by_sid = {s["Sid"]: s for s in _role_statements(dev) if "bedrock:InvokeModel" in actions_of(s)}
    nova_pro = f"arn:aws:bedrock:{REGION}::foundation-model/amazon.nova-pro-v1:0"
    premier = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:inference-profile/us.amazon.nova-premier-v1:0"
    assert nova_pro in [render(r) for r in as_list(by_sid["InvokeTeacherModels"]["Resource"])]
    assert [render(r) for r in as_list(by_sid["InvokeTeacherProfiles"]["Resource"])] == [premier]
    behind = by_sid["InvokeModelsBehindTeacherProfiles"]
    assert [render(r) for r in as_list(behind["Resource"])] == [
        "arn:aws:bedrock:*::foundation-model/amazon.nova-premier-v1:0"
    ]
    assert condition(behind, "ArnEquals", "bedrock:InferenceProfileArn") == [premier]
    # The Llama teachers teach in us-west-2 only: nothing of theirs in us-east-1.
    every = " ".join(render(r) for s in by_sid.values() for r in as_list(s["Resource"]))
    assert "meta.llama" not in every


def test_validate_request_asks_bedrock_about_the_teachers(dev: Synth) -> None:
    ask = _policy(dev, "Workflow/Functions/ValidateRequestPolicy/")["AskBedrockAboutModel"]
    asked = {render(r) for r in as_list(ask["Resource"])}
    for teacher in ("amazon.nova-pro-v1:0", "amazon.nova-premier-v1:0"):
        assert f"arn:aws:bedrock:{REGION}::foundation-model/{teacher}" in asked


def test_teachers_follow_the_region_and_the_allowed_students() -> None:
    app = cdk.App(context=CONTEXT)
    west = cdk.Stack(app, "West", env=cdk.Environment(account=ACCOUNT, region="us-west-2"))
    names = {t.name for t in usable_teachers(west, ["meta.llama3-2-1b-instruct-v1:0:128k"])}
    assert names == {
        "Meta Llama 3.1 405B Instruct",
        "Meta Llama 3.1 70B Instruct",
        "Meta Llama 3.3 70B Instruct",
    }
    assert usable_teachers(west, ["amazon.nova-micro-v1:0:128k"]) == []
    # Environment-agnostic: every Region's profile, named in the deploy Region.
    agnostic = cdk.Stack(app, "Anywhere")
    grants = {g.sid: g for g in teacher_grants(agnostic, None)}
    profiles = [agnostic.resolve(r) for r in grants["InvokeTeacherProfiles"].resources]
    assert len(profiles) == 2
    assert all("inference-profile/us." in str(p) for p in profiles)


# Handlers ---------------------------------------------------------------------------------


def test_start_job_creates_aliases_of_the_builtin_grader_only(dev: Synth) -> None:
    grader = {"Fn::GetAtt": [_grader_id(dev), "Arn"]}
    creates = [
        (logical_id, statement)
        for logical_id, _, statement in identity_statements(dev)
        if "lambda:CreateAlias" in actions_of(statement)
    ]
    start_job = dev.one("AWS::IAM::ManagedPolicy", "Workflow/Functions/StartJobPolicy/")[0]
    assert [(logical_id, s["Resource"]) for logical_id, s in creates] == [(start_job, grader)]


def test_start_job_writes_grader_configs_encrypted_through_s3(dev: Synth) -> None:
    artifacts = dev.one("AWS::S3::Bucket", "Storage/Artifacts/")[0]
    policy = _policy(dev, "Workflow/Functions/StartJobPolicy/")
    write = policy["WriteGraderConfig"]
    assert write["Action"] == "s3:PutObject"
    assert render(write["Resource"]) == f"<{artifacts}.Arn>/graders/*"
    encrypt = policy["EncryptGraderConfigThroughS3"]
    assert encrypt["Action"] == "kms:GenerateDataKey"
    assert condition(encrypt, "StringEquals", "kms:ViaService") == [f"s3.{REGION}.amazonaws.com"]
    assert policy["PassRoleToBedrock"]["Action"] == "iam:PassRole"


def test_validate_request_reads_tags_of_this_accounts_functions_only(dev: Synth) -> None:
    tags = _policy(dev, "Workflow/Functions/ValidateRequestPolicy/")["ReadGraderTags"]
    assert tags["Action"] == "lambda:ListTags"
    assert render(tags["Resource"]) == f"{FUNCTIONS}*"


def test_the_grader_reads_only_grader_configs(dev: Synth) -> None:
    artifacts = dev.one("AWS::S3::Bucket", "Storage/Artifacts/")[0]
    policy = _policy(dev, "Grading/Functions/GraderPolicy/")
    storage = {
        sid: (as_list(s["Action"]), render(s["Resource"]))
        for sid, s in policy.items()
        if any(a.startswith("s3:") for a in as_list(s["Action"]))
    }
    assert storage == {"ReadGraderConfigs": (["s3:GetObject"], f"<{artifacts}.Arn>/graders/*")}
    decrypts = [s for s in policy.values() if "kms:Decrypt" in as_list(s["Action"])]
    assert {tuple(condition(s, "StringEquals", "kms:ViaService") or []) for s in decrypts} == {
        (f"s3.{REGION}.amazonaws.com",),
        (f"lambda.{REGION}.amazonaws.com",),  # its encrypted environment
    }
    every_action = {a for s in policy.values() for a in actions_of(s)}
    assert not {a for a in every_action if a.startswith(("lambda:", "bedrock:", "dynamodb:"))}


def test_the_grader_runs_unreserved_in_the_vpc_with_its_own_environment(dev: Synth) -> None:
    grader = dev.template["Resources"][_grader_id(dev)]["Properties"]
    assert grader["Handler"] == "lambdas.grader.handler.main"
    assert grader["Architectures"] == ["arm64"]
    assert (grader["Timeout"], grader["MemorySize"]) == (60, 256)
    assert "ReservedConcurrentExecutions" not in grader
    assert grader["VpcConfig"]["SubnetIds"]
    variables = grader["Environment"]["Variables"]
    assert "PIPELINE_CONFIG" not in variables  # it names this function: no cycle
    assert variables["ARTIFACTS_BUCKET"] == {
        "Ref": dev.one("AWS::S3::Bucket", "Storage/Artifacts/")[0]
    }


def test_the_handlers_are_told_the_grader_and_the_allow_list(allow_listed: Synth) -> None:
    grader = _grader_id(allow_listed)
    (validate,) = [
        f["Properties"]["Environment"]["Variables"]["PIPELINE_CONFIG"]
        for f in allow_listed.resources("AWS::Lambda::Function").values()
        if f["Properties"].get("Handler") == "lambdas.validate_request.handler.main"
    ]
    text = render(validate)
    assert f'"grader_function_arn":"<{grader}.Arn>"' in text
    assert '"grader_functions":["team-grader-*"]' in text


# The Lambda endpoint ----------------------------------------------------------------------


def test_the_lambda_endpoint_admits_only_list_tags_and_create_alias(dev: Synth) -> None:
    (endpoint,) = [
        r["Properties"]
        for r in dev.resources("AWS::EC2::VPCEndpoint").values()
        if render(r["Properties"]["ServiceName"]).endswith(".lambda")
    ]
    assert endpoint["PrivateDnsEnabled"] is True
    (statement,) = statements(endpoint["PolicyDocument"])
    assert sorted(as_list(statement["Action"])) == ["lambda:CreateAlias", "lambda:ListTags"]
    assert render(statement["Resource"]) == f"{FUNCTIONS}*"
    assert condition(statement, "StringEquals", "aws:PrincipalAccount") == [ACCOUNT]


# Settings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    # The last three would cover the stack's own functions (BedrockCustomization-test-...).
    ["*", "my:grader", "x" * 65, "team-*-grader", "B*", "BedrockCustomization-test-*",
     "BedrockCustomization-test-Grader"],
)  # fmt: skip
def test_grader_functions_refuse_what_is_not_a_name_or_a_prefix(bad: str) -> None:
    context = CONTEXT["bedrock-customization"]
    stages = {**context["stages"], "test": {"graderFunctions": [bad]}}
    with pytest.raises(SettingsError) as raised:
        load_settings({**context, "stages": stages}, stage="test")
    assert "graderFunctions" in str(raised.value)


def test_an_empty_allow_list_grants_no_names() -> None:
    app = cdk.App(context=CONTEXT)
    stack = cdk.Stack(app, "Bare", env=cdk.Environment(account=ACCOUNT, region=REGION))
    arn = f"{FUNCTIONS}builtin"
    sids = [g.sid for g in grader_grants(stack, builtin_arn=arn, allowed_names=())]
    assert sids == ["InvokeBuiltInGrader", "InvokeGradersTaggedForThisStack"]
