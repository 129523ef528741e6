"""Approvals that prove who approves: the upload rules, the approval key and the answer path.

The emulator does not enforce bucket policies, so what AWS enforces is held here: the
statements exist with exactly these conditions, and iam-simulate (the emulator's IAM
simulator, emulator/iam/simulator.py) decides uploads against them as AWS would.
"""

from __future__ import annotations

from typing import Any

import pytest

from stacks.storage import KEY_ADMIN_ACTIONS
from tests.infra.synth import Synth, as_list, stage_settings, statements, synthesize

ACCOUNT = "111122223333"
APPROVERS = [
    f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_Approvers_*",
    f"arn:aws:iam::{ACCOUNT}:user/release-manager",
]
TAG_CHANGES = [
    "s3:DeleteObjectTagging",
    "s3:DeleteObjectVersionTagging",
    "s3:PutObjectTagging",
    "s3:PutObjectVersionTagging",
]


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """A stage that holds runs for approval and names its approvers."""
    settings = stage_settings("dev", approvalThresholdUsd=10, approvers=APPROVERS)
    return synthesize(settings, tmp_path_factory.mktemp("approvers"))


def _datasets_policy(synth: Synth) -> list[dict[str, Any]]:
    bucket_id = synth.one("AWS::S3::Bucket", "Storage/Datasets/")[0]
    for policy in synth.resources("AWS::S3::BucketPolicy").values():
        if policy["Properties"]["Bucket"] == {"Ref": bucket_id}:
            return statements(policy["Properties"]["PolicyDocument"])
    raise AssertionError("the datasets bucket has no policy")


def _objects(synth: Synth, pattern: str) -> dict[str, Any]:
    bucket_id = synth.one("AWS::S3::Bucket", "Storage/Datasets/")[0]
    return {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, f"/{pattern}"]]}


def _by_sid(found: list[dict[str, Any]], sid: str) -> dict[str, Any]:
    (statement,) = [s for s in found if s.get("Sid") == sid]
    return statement


def test_manifests_and_answers_must_name_their_uploader(dev: Synth) -> None:
    # Given the dev stack, when the datasets bucket's policy is read, then exactly these deny
    found = _datasets_policy(dev)
    expected = {
        "ManifestsNameTheirUploader": (["s3:PutObject"], "jobs/*/job.json", "submitted-by"),
        "ManifestTagsNameOnlyTheirChanger": (TAG_CHANGES, "jobs/*/job.json", "submitted-by"),
        "AnswersNameTheirUploader": (["s3:PutObject"], "approvals/*", "answered-by"),
        "AnswerTagsNameOnlyTheirChanger": (TAG_CHANGES, "approvals/*", "answered-by"),
    }
    for sid, (actions, pattern, tag) in expected.items():
        statement = _by_sid(found, sid)
        assert statement["Effect"] == "Deny"
        assert statement["Principal"] == {"AWS": "*"}
        assert sorted(as_list(statement["Action"])) == actions
        assert statement["Resource"] == _objects(dev, pattern)
        assert statement["Condition"] == {
            "StringNotEquals": {f"s3:RequestObjectTag/{tag}": "${aws:userid}"}
        }
    # Without approvers, no statement names who may answer.
    assert not [s for s in found if s.get("Sid") == "AnswersComeFromApprovers"]


def test_with_approvers_only_they_may_upload_or_retag_answers(guarded: Synth) -> None:
    statement = _by_sid(_datasets_policy(guarded), "AnswersComeFromApprovers")
    assert statement["Effect"] == "Deny"
    assert sorted(as_list(statement["Action"])) == sorted(["s3:PutObject", *TAG_CHANGES])
    assert statement["Resource"] == _objects(guarded, "approvals/*")
    assert statement["Condition"] == {"ArnNotLike": {"aws:PrincipalArn": APPROVERS}}


# What AWS decides, by the simulator -----------------------------------------------------

ALICE = (f"arn:aws:iam::{ACCOUNT}:user/alice", "AIDAALICE000000000001")
APPROVER = (
    f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/us-east-1/AWSReservedSSO_Approvers_0a1b",
    "AROAAPPROVERS0000001:bob@example.com",
)
RELEASE_MANAGER = (f"arn:aws:iam::{ACCOUNT}:user/release-manager", "AIDARELEASE000000001")
BUCKET = "datasets"


def _decide(synth: Synth, who: tuple[str, str], action: str, key: str, tags: dict[str, str]) -> str:
    """Allowed / ExplicitlyDenied for ``who`` (allowed s3:* by IAM) under the upload rules."""
    from emulator.iam.simulator import SIMULATOR

    rules = [
        _resolved(s)
        for s in _datasets_policy(synth)
        if str(s.get("Sid", "")).startswith(("Manifest", "Answer"))
    ]
    principal, user_id = who
    context: dict[str, Any] = {"aws:userid": user_id, "aws:PrincipalArn": principal}
    context.update({f"s3:RequestObjectTag/{k}": v for k, v in tags.items()})
    answer = SIMULATOR.decide(
        {
            "request": {
                "principal": principal,
                "action": action,
                "resource": {"resource": f"arn:aws:s3:::{BUCKET}/{key}", "accountId": ACCOUNT},
                "contextVariables": context,
            },
            "identityPolicies": [
                {
                    "name": "uploader",
                    "policy": {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
                    },
                }
            ],
            "serviceControlPolicies": [],
            "resourceControlPolicies": [],
            "resourcePolicy": {"Version": "2012-10-17", "Statement": rules},
        }
    )
    return str(answer["result"])


def _resolved(statement: dict[str, Any]) -> dict[str, Any]:
    """A statement with the datasets bucket's ARN written out."""
    (pattern,) = [part for part in statement["Resource"]["Fn::Join"][1] if isinstance(part, str)]
    return {**statement, "Resource": f"arn:aws:s3:::{BUCKET}{pattern}"}


MANIFEST = "jobs/summaries/job.json"
ANSWER = "approvals/summaries-0123456789ab/answer.json"


@pytest.mark.parametrize(
    ("action", "key", "tags", "result"),
    [
        ("s3:PutObject", MANIFEST, {"submitted-by": ALICE[1]}, "Allowed"),
        ("s3:PutObject", MANIFEST, {}, "ExplicitlyDenied"),
        ("s3:PutObject", MANIFEST, {"submitted-by": "AIDASOMEONEELSE00001"}, "ExplicitlyDenied"),
        # A tagged upload is authorized as s3:PutObjectTagging too: its own id passes.
        ("s3:PutObjectTagging", MANIFEST, {"submitted-by": ALICE[1]}, "Allowed"),
        ("s3:PutObjectTagging", MANIFEST, {"submitted-by": "AIDASOMEONE"}, "ExplicitlyDenied"),
        ("s3:PutObjectVersionTagging", MANIFEST, {"other": "x"}, "ExplicitlyDenied"),
        ("s3:DeleteObjectTagging", MANIFEST, {}, "ExplicitlyDenied"),
        ("s3:DeleteObjectVersionTagging", MANIFEST, {}, "ExplicitlyDenied"),
        ("s3:PutObject", "jobs/summaries/train.jsonl", {}, "Allowed"),  # data needs no tag
        ("s3:PutObject", ANSWER, {"answered-by": ALICE[1]}, "Allowed"),
        ("s3:PutObject", ANSWER, {"answered-by": "AIDASOMEONEELSE00001"}, "ExplicitlyDenied"),
        ("s3:PutObject", ANSWER, {}, "ExplicitlyDenied"),
        ("s3:DeleteObjectTagging", ANSWER, {}, "ExplicitlyDenied"),
    ],
)
def test_aws_lets_people_upload_only_as_themselves(
    dev: Synth, action: str, key: str, tags: dict[str, str], result: str
) -> None:
    assert _decide(dev, ALICE, action, key, tags) == result


@pytest.mark.parametrize(
    ("who", "result"),
    [(APPROVER, "Allowed"), (RELEASE_MANAGER, "Allowed"), (ALICE, "ExplicitlyDenied")],
)
def test_with_approvers_aws_takes_answers_from_them_only(
    guarded: Synth, who: tuple[str, str], result: str
) -> None:
    assert _decide(guarded, who, "s3:PutObject", ANSWER, {"answered-by": who[1]}) == result
    # Submitting is anyone's, approvers' or not.
    assert _decide(guarded, who, "s3:PutObject", MANIFEST, {"submitted-by": who[1]}) == "Allowed"


# The approval key -----------------------------------------------------------------------


def _key(synth: Synth) -> tuple[str, dict[str, Any]]:
    return synth.one("AWS::KMS::Key", "Approvals/ApprovalKey/")


def _role(synth: Synth, part: str) -> str:
    return synth.one("AWS::IAM::Role", part)[0]


def test_only_the_two_functions_may_use_the_approval_key_for_a_run(dev: Synth) -> None:
    key_id, key = _key(dev)
    props = key["Properties"]
    assert props["EnableKeyRotation"] is True
    dev.assertions.has_resource_properties(
        "AWS::KMS::Alias",
        {
            "AliasName": "alias/bedrock-customization/dev/approvals",
            "TargetKeyId": {"Fn::GetAtt": [key_id, "Arn"]},
        },
    )
    found = statements(props["KeyPolicy"])
    admin = _by_sid(found, "KeyAdministrationThroughIam")
    assert admin["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert sorted(as_list(admin["Action"])) == sorted(KEY_ADMIN_ACTIONS)
    # The account may not use the key: no IAM policy can add an Encrypt or a Decrypt.
    uses = {"kms:Decrypt", "kms:Encrypt", "kms:ReEncryptFrom", "kms:GenerateDataKey", "kms:*"}
    assert not uses & set(as_list(admin["Action"]))
    context = {"ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": ["run_id"]}}
    for sid, role, action in (
        ("RequestApprovalEncryptsTaskTokens", "Functions/RequestApprovalRole/", "kms:Encrypt"),
        ("AnswerApprovalDecryptsTaskTokens", "Functions/AnswerApprovalRole/", "kms:Decrypt"),
    ):
        statement = _by_sid(found, sid)
        assert statement["Principal"] == {"AWS": {"Fn::GetAtt": [_role(dev, role), "Arn"]}}
        assert statement["Action"] == action
        assert statement["Condition"] == context
    assert {s.get("Sid") for s in found} == {
        "KeyAdministrationThroughIam",
        "RequestApprovalEncryptsTaskTokens",
        "AnswerApprovalDecryptsTaskTokens",
    }


def _policy(synth: Synth, part: str) -> list[dict[str, Any]]:
    return statements(synth.one("AWS::IAM::ManagedPolicy", part)[1]["Properties"]["PolicyDocument"])


def test_the_functions_name_the_key_and_the_tags_they_use(dev: Synth) -> None:
    key_arn = {"Fn::GetAtt": [_key(dev)[0], "Arn"]}
    encrypt = _by_sid(_policy(dev, "Functions/RequestApprovalPolicy/"), "EncryptTaskToken")
    assert (encrypt["Action"], encrypt["Resource"]) == ("kms:Encrypt", key_arn)
    decrypt = _by_sid(_policy(dev, "Functions/AnswerApprovalPolicy/"), "DecryptTaskToken")
    assert (decrypt["Action"], decrypt["Resource"]) == ("kms:Decrypt", key_arn)
    tags = _by_sid(_policy(dev, "Functions/ValidateRequestPolicy/"), "ReadManifestTags")
    assert (tags["Action"], tags["Resource"]) == (
        "s3:GetObjectVersionTagging",
        _objects(dev, "jobs/*/job.json"),
    )
    answers = _by_sid(_policy(dev, "Functions/AnswerApprovalPolicy/"), "ReadAnswers")
    assert answers["Resource"] == _objects(dev, "approvals/*")
    # No other function may decrypt with the approval key.
    for logical_id, policy in dev.resources("AWS::IAM::ManagedPolicy").items():
        if "AnswerApprovalPolicy" in logical_id:
            continue
        for statement in statements(policy["Properties"]["PolicyDocument"]):
            if key_arn in as_list(statement["Resource"]):
                assert as_list(statement["Action"]) == ["kms:Encrypt"], logical_id


def test_the_execution_logs_carry_no_task_input(dev: Synth) -> None:
    for machine in dev.resources("AWS::StepFunctions::StateMachine").values():
        logging = machine["Properties"]["LoggingConfiguration"]
        assert logging["Level"] == "ALL"
        assert logging["IncludeExecutionData"] is False


def test_an_uploaded_answer_runs_answer_approval_with_dead_letter_queues(dev: Synth) -> None:
    function_id = dev.one("AWS::Lambda::Function", "Approvals/Functions/AnswerApproval/")[0]
    function = dev.template["Resources"][function_id]["Properties"]
    assert function["Handler"] == "lambdas.answer_approval.handler.main"
    queue_id = dev.one("AWS::SQS::Queue", "Approvals/UnprocessedAnswers/")[0]
    assert function["DeadLetterConfig"] == {"TargetArn": {"Fn::GetAtt": [queue_id, "Arn"]}}
    bucket_id = dev.one("AWS::S3::Bucket", "Storage/Datasets/")[0]
    _, rule = dev.one("AWS::Events::Rule", "Approvals/AnswerUploaded/")
    assert rule["Properties"]["EventPattern"] == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {
            "bucket": {"name": [{"Ref": bucket_id}]},
            "object": {"key": [{"wildcard": "approvals/*/answer.json"}]},
        },
    }
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]}
    assert "DeadLetterConfig" in target
    # The same environment as every handler: the pipeline's settings name the key.
    assert "approval_key_arn" in str(function["Environment"]["Variables"]["PIPELINE_CONFIG"])


def test_the_endpoints_admit_the_key_and_the_tag_reads(dev: Synth) -> None:
    # The handlers call KMS and S3 through the VPC's endpoints, whose policies name what
    # they admit: the approval key, and reading the datasets bucket's object tags.
    key_arn = {"Fn::GetAtt": [_key(dev)[0], "Arn"]}
    datasets = _objects(dev, "*").get("Fn::Join")
    found = [
        s
        for endpoint in dev.resources("AWS::EC2::VPCEndpoint").values()
        for s in statements(endpoint["Properties"].get("PolicyDocument") or {})
    ]
    assert [s for s in found if key_arn in as_list(s["Resource"]) and "kms:Decrypt" in s["Action"]]
    assert [
        s
        for s in found
        if {"Fn::Join": datasets} in as_list(s["Resource"])
        and "s3:GetObjectVersionTagging" in as_list(s["Action"])
    ]
