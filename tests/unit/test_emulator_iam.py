"""The emulator's IAM: a real simulator judges each call by every policy AWS would use."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from emulator.iam import enforce, hook
from emulator.iam.policies import Policies
from emulator.iam.requests import Request, Where, requests_for

ACCOUNT, REGION = "123456789012", "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/reader"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1111"
BUCKET = "data"


class NoAccount:
    def tags(self, arn: str) -> dict[str, str]:
        return {"owner": "stack-a"} if arn.endswith("/mine") else {}

    def arn_of(self, kind: str, identifier: str) -> str | None:
        return None

    def base_model_of(self, custom_model_arn: str) -> str | None:
        return f"arn:aws:bedrock:{REGION}::foundation-model/amazon.nova-micro-v1:0"

    def profile_models(self, profile_arn: str) -> list[str]:
        return []


def _allow(actions: list[str], resources: list[str], **condition: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": actions, "Resource": resources}
    if condition:
        statement["Condition"] = condition
    return statement


def _policies(*statements: dict[str, Any], **extra: Any) -> Policies:
    found = Policies(
        identity={
            ROLE: [
                {"name": "p", "policy": {"Version": "2012-10-17", "Statement": list(statements)}}
            ]
        },
        function_roles={"fn": ROLE},
        **extra,
    )
    return found


def _enforcer(policies: Policies) -> enforce.Enforcer:
    return enforce.Enforcer(policies, REGION, ACCOUNT, NoAccount())


def _get(enforcer: enforce.Enforcer, key: str = "k") -> enforce.Decision:
    return enforcer.authorize_call("fn", "s3", "GetObject", {"Bucket": BUCKET, "Key": key})


def test_the_roles_policy_allows_what_it_names_and_nothing_else() -> None:
    enforcer = _enforcer(_policies(_allow(["s3:GetObject"], [f"arn:aws:s3:::{BUCKET}/in/*"])))
    assert _get(enforcer, "in/train.jsonl").allowed
    denied = _get(enforcer, "out/train.jsonl")
    assert not denied.allowed
    assert denied.action == "s3:GetObject"
    assert denied.resource == f"arn:aws:s3:::{BUCKET}/out/train.jsonl"
    put = enforcer.authorize_call("fn", "s3", "PutObject", {"Bucket": BUCKET, "Key": "in/x"})
    assert not put.allowed
    assert put.action == "s3:PutObject"


def test_a_bucket_policys_deny_wins_over_the_roles_allow() -> None:
    bucket_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{BUCKET}/secret/*",
            }
        ],
    }
    enforcer = _enforcer(
        _policies(
            _allow(["s3:GetObject"], [f"arn:aws:s3:::{BUCKET}/*"]),
            resource={f"arn:aws:s3:::{BUCKET}": bucket_policy},
        )
    )
    assert _get(enforcer, "open/a").allowed
    denied = _get(enforcer, "secret/a")
    assert not denied.allowed
    assert "ExplicitlyDenied" in denied.why


def test_sse_kms_needs_the_key_and_a_key_policy_that_lets_iam_grant_it() -> None:
    reads = _allow(["s3:GetObject"], [f"arn:aws:s3:::{BUCKET}/*"])
    decrypt = _allow(["kms:Decrypt"], [KEY])

    def key_policy(action: str) -> dict[str, Any]:
        root = {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
        statement = {"Effect": "Allow", "Principal": root, "Action": action, "Resource": "*"}
        return {"Version": "2012-10-17", "Statement": [statement]}

    delegating, silent = key_policy("kms:*"), key_policy("kms:DescribeKey")
    keys = {BUCKET: KEY}
    # The key encrypts the bucket: reading needs kms:Decrypt too.
    without = _enforcer(_policies(reads, keys=keys, resource={KEY: delegating}))
    denied = _get(without)
    assert (denied.allowed, denied.action, denied.resource) == (False, "kms:Decrypt", KEY)
    assert _get(_enforcer(_policies(reads, decrypt, keys=keys, resource={KEY: delegating}))).allowed
    # A key policy that does not let IAM policies grant Decrypt: the role's allow is not enough.
    assert not _get(_enforcer(_policies(reads, decrypt, keys=keys, resource={KEY: silent}))).allowed


def test_a_vpc_endpoints_policy_bounds_what_goes_through_it() -> None:
    endpoint = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{BUCKET}/in/*",
                "Condition": {"StringEquals": {"aws:ResourceAccount": ACCOUNT}},
            }
        ],
    }
    enforcer = _enforcer(
        _policies(
            _allow(["s3:GetObject"], [f"arn:aws:s3:::{BUCKET}/*"]),
            endpoints={"s3": ("vpce-1", endpoint)},
        )
    )
    assert _get(enforcer, "in/a").allowed
    denied = _get(enforcer, "other/a")
    assert not denied.allowed
    assert "s3 endpoint's policy" in denied.why


def test_a_call_the_emulator_cannot_map_is_denied_and_says_where_to_add_it() -> None:
    enforcer = _enforcer(_policies(_allow(["s3:*"], ["*"])))
    denied = enforcer.authorize_call("fn", "s3", "PutBucketPolicy", {"Bucket": BUCKET})
    assert not denied.allowed
    assert "emulator/iam/requests.py" in denied.why


def _where() -> Where:
    return Where(REGION, ACCOUNT, Policies(keys={BUCKET: KEY}), NoAccount())


def test_an_s3_call_becomes_the_actions_the_s3_guide_names() -> None:
    versioned = requests_for(
        "s3", "GetObject", {"Bucket": BUCKET, "Key": "k", "VersionId": "v1"}, _where()
    )
    assert [r.action for r in versioned] == ["s3:GetObjectVersion", "kms:Decrypt"]
    assert versioned[1].context["kms:ViaService"] == f"s3.{REGION}.amazonaws.com"
    copy = {
        "Bucket": BUCKET,
        "Key": "to",
        "CopySource": {"Bucket": "src", "Key": "from", "VersionId": "v"},
    }
    replaced = requests_for("s3", "CopyObject", {**copy, "TaggingDirective": "REPLACE"}, _where())
    assert [r.action for r in replaced] == [
        "s3:GetObjectVersion",
        "s3:PutObject",
        "kms:GenerateDataKey",
    ]
    copied = requests_for("s3", "CopyObject", copy, _where())
    assert "s3:GetObjectVersionTagging" in [r.action for r in copied]
    assert "s3:PutObjectTagging" in [r.action for r in copied]
    listing = requests_for("s3", "ListObjectsV2", {"Bucket": BUCKET, "Prefix": "runs/"}, _where())
    assert (listing[0].action, listing[0].context["s3:prefix"]) == ("s3:ListBucket", "runs/")


def test_bedrock_creates_name_the_resources_and_tags_the_reference_requires() -> None:
    job = requests_for(
        "bedrock",
        "CreateModelCustomizationJob",
        {
            "customModelName": "m",
            "baseModelIdentifier": "amazon.nova-micro-v1:0",
            "roleArn": ROLE,
            "jobTags": [{"key": "owner", "value": "stack-a"}],
        },
        _where(),
    )
    assert [(r.action, r.resource.split(":", 5)[-1]) for r in job] == [
        ("bedrock:CreateModelCustomizationJob", "custom-model/m"),
        ("bedrock:CreateModelCustomizationJob", "foundation-model/amazon.nova-micro-v1:0"),
        ("iam:PassRole", "role/reader"),
    ]
    assert job[0].context["aws:RequestTag/owner"] == "stack-a"
    assert job[2].context == {"iam:PassedToService": "bedrock.amazonaws.com"}
    throughput = requests_for(
        "bedrock",
        "CreateProvisionedModelThroughput",
        {"modelId": f"arn:aws:bedrock:{REGION}:{ACCOUNT}:custom-model/m", "tags": []},
        _where(),
    )
    # The permissions reference: custom-model and foundation-model are both required.
    assert [r.resource.split(":", 5)[-1] for r in throughput] == [
        "custom-model/m",
        "foundation-model/amazon.nova-micro-v1:0",
    ]
    stop = requests_for(
        "bedrock",
        "StopModelCustomizationJob",
        {"jobIdentifier": f"arn:aws:bedrock:{REGION}:{ACCOUNT}:model-customization-job/mine"},
        _where(),
    )
    assert stop[0].context["aws:ResourceTag/owner"] == "stack-a"


def test_a_resource_tag_condition_is_judged_with_the_resources_tags() -> None:
    enforcer = _enforcer(
        _policies(
            _allow(
                ["bedrock:StopModelCustomizationJob"],
                [f"arn:aws:bedrock:{REGION}:{ACCOUNT}:model-customization-job/*"],
                StringEquals={"aws:ResourceTag/owner": "stack-a"},
            )
        )
    )

    def stop(name: str) -> bool:
        arn = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:model-customization-job/{name}"
        return enforcer.authorize_call(
            "fn", "bedrock", "StopModelCustomizationJob", {"jobIdentifier": arn}
        ).allowed

    assert stop("mine")
    assert not stop("someone-elses")


@pytest.fixture
def judged(monkeypatch: pytest.MonkeyPatch) -> Iterator[enforce.Enforcer]:
    enforcer = _enforcer(_policies(_allow(["s3:GetObject"], [f"arn:aws:s3:::{BUCKET}/*"])))
    hook.install(monkeypatch.setattr)
    with mock_aws():
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
        enforce.activate(enforcer)
        try:
            yield enforcer
        finally:
            enforce.activate(None)


def test_a_handlers_client_meets_the_services_own_access_denied(judged: Any) -> None:
    with hook.running("fn"):
        s3 = boto3.client("s3", region_name=REGION)
    with pytest.raises(ClientError) as raised:
        s3.put_object(Bucket=BUCKET, Key="k", Body=b"x")
    error = raised.value.response["Error"]
    assert error["Code"] == "AccessDenied"
    assert "s3:PutObject" in error["Message"]
    assert ROLE in error["Message"]
    # A client made outside a handler (a test, the CLI, the emulator) is not judged.
    boto3.client("s3", region_name=REGION).put_object(Bucket=BUCKET, Key="k", Body=b"x")
    with pytest.raises(ClientError, match="NoSuchKey"):  # allowed: it reaches S3
        s3.get_object(Bucket=BUCKET, Key="missing")


def test_requests_carry_the_context_aws_would_give_them() -> None:
    enforcer = _enforcer(
        _policies(
            _allow(
                ["s3:GetObject"],
                [f"arn:aws:s3:::{BUCKET}/*"],
                StringEquals={"aws:SourceVpce": "vpce-1", "aws:PrincipalAccount": ACCOUNT},
            ),
            endpoints={"s3": ("vpce-1", None)},
        )
    )
    assert _get(enforcer).allowed
    outside = enforcer.authorize(
        ROLE, [Request("s3:GetObject", f"arn:aws:s3:::{BUCKET}/k")], session="x", in_vpc=False
    )
    assert not outside.allowed


def test_a_kms_encryption_context_condition_is_judged_by_the_requests_context() -> None:
    enforcer = _enforcer(
        _policies(
            _allow(["kms:Encrypt"], [KEY], StringEquals={"kms:EncryptionContext:run_id": "r1"}),
            resource={
                KEY: {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                            "Action": "kms:*",
                            "Resource": "*",
                        }
                    ],
                }
            },
        )
    )

    def encrypt(**context: str) -> bool:
        params = {"KeyId": KEY, "Plaintext": b"t", "EncryptionContext": context}
        return enforcer.authorize_call("fn", "kms", "Encrypt", params).allowed

    assert encrypt(run_id="r1")
    assert not encrypt(run_id="r2")
    assert not encrypt()
