"""Each construct on its own, on a bare stack, with the primitives it takes passed in.

No app settings and no sibling constructs: a construct that needs more than it is given
fails here, and what it builds from its inputs is asserted on its template alone.
"""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from stacks.identity import Identity
from stacks.log_groups import Keeping, encrypted_log_group
from stacks.network import Network
from stacks.notifications import Notifications
from stacks.queues import dead_letter_queue
from stacks.registry import Registry
from stacks.storage import Storage
from tests.infra.bare import ACCOUNT, DESTROY, RETAIN, acknowledged, bare_stack, one


def test_a_log_group_keeps_its_events_as_long_as_it_is_told() -> None:
    stack = bare_stack()
    encrypted_log_group(stack, "Logs", key=kms.Key(stack, "Key"), keeping=DESTROY)
    group = one(Template.from_stack(stack), "AWS::Logs::LogGroup")
    assert group["Properties"]["RetentionInDays"] == DESTROY.log_retention_days
    assert "KmsKeyId" in group["Properties"]
    assert group["DeletionPolicy"] == "Delete"


def test_a_dead_letter_queue_lets_only_its_sender_encrypt_for_its_sources() -> None:
    stack = bare_stack()
    key = kms.Key(stack, "Key")
    dead_letter_queue(
        stack,
        "Undelivered",
        key=key,
        removal_policy=cdk.RemovalPolicy.RETAIN,
        sender="events.amazonaws.com",
        source_arn="arn:aws:events:us-east-1:111122223333:rule/*",
        purpose="of a test rule's targets",
    )
    template = Template.from_stack(stack)
    queue = one(template, "AWS::SQS::Queue")
    assert queue["DeletionPolicy"] == "Retain"
    assert queue["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
    template.has_resource_properties(
        "AWS::KMS::Key",
        {
            "KeyPolicy": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Sid": "UndeliveredFilledByEvents",
                                "Principal": {"Service": "events.amazonaws.com"},
                                "Condition": {
                                    "ArnLike": {
                                        "aws:SourceArn": "arn:aws:events:us-east-1:111122223333:rule/*"
                                    },
                                    "StringEquals": {"aws:SourceAccount": ACCOUNT},
                                },
                            }
                        )
                    ]
                )
            }
        },
    )


@pytest.mark.parametrize(("keeping", "window"), [(DESTROY, 7), (RETAIN, None)])
def test_storage_builds_three_buckets_and_two_keys_from_its_primitives(
    keeping: Keeping, window: int | None
) -> None:
    stack = bare_stack()
    Storage(stack, "Storage", stage="t", keeping=keeping, noncurrent_version_days=11)
    template = Template.from_stack(stack)
    buckets = template.find_resources("AWS::S3::Bucket")
    assert len(buckets) == 3
    for bucket in buckets.values():
        rules = {r["Id"]: r for r in bucket["Properties"]["LifecycleConfiguration"]["Rules"]}
        assert rules["expire-noncurrent-versions"]["NoncurrentVersionExpiration"] == {
            "NoncurrentDays": 11
        }
        assert bucket["DeletionPolicy"] == ("Retain" if keeping is RETAIN else "Delete")
    # Only the access-log bucket expires its objects, after the log retention.
    expiring = [
        r["ExpirationInDays"]
        for b in buckets.values()
        for r in b["Properties"]["LifecycleConfiguration"]["Rules"]
        if "ExpirationInDays" in r
    ]
    assert expiring == [keeping.log_retention_days]
    keys = template.find_resources("AWS::KMS::Key")
    assert (
        sorted(k["Properties"].get("PendingWindowInDays") or 0 for k in keys.values())
        == [window or 0] * 2
    )
    aliases = {
        a["Properties"]["AliasName"] for a in template.find_resources("AWS::KMS::Alias").values()
    }
    assert aliases == {"alias/bedrock-customization/t/data", "alias/bedrock-customization/t/model"}


@pytest.mark.parametrize("retain", [True, False])
def test_the_registry_is_protected_exactly_when_it_is_retained(retain: bool) -> None:
    stack = bare_stack()
    removal = cdk.RemovalPolicy.RETAIN if retain else cdk.RemovalPolicy.DESTROY
    Registry(stack, "Registry", key=kms.Key(stack, "Key"), removal_policy=removal)
    table = one(Template.from_stack(stack), "AWS::DynamoDB::GlobalTable")
    assert table["Properties"]["Replicas"][0]["DeletionProtectionEnabled"] is retain
    assert table["DeletionPolicy"] == ("Retain" if retain else "Delete")


def test_notifications_mail_each_address_and_keep_what_bounces() -> None:
    stack = bare_stack()
    Notifications(
        stack,
        "Notifications",
        stage="t",
        emails=("a@example.com", "b@example.com"),
        key=kms.Key(stack, "Key"),
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    template = Template.from_stack(stack)
    assert one(template, "AWS::SNS::Topic")["Properties"]["DisplayName"] == (
        "Bedrock customization (t)"
    )
    subscriptions = template.find_resources("AWS::SNS::Subscription").values()
    assert sorted(s["Properties"]["Endpoint"] for s in subscriptions) == [
        "a@example.com",
        "b@example.com",
    ]
    assert all("RedrivePolicy" in s["Properties"] for s in subscriptions)


def test_the_network_opens_only_the_endpoints_it_is_told() -> None:
    stack = bare_stack()
    key = kms.Key(stack, "Key")
    network = Network(
        stack,
        "Network",
        keeping=DESTROY,
        log_key=key,
        vpc_cidr="10.9.0.0/16",
        az_count=1,
        existing_vpc=None,
        gateway_endpoints=("s3",),
        interface_endpoints=("kms",),
        scope_to={
            "s3": ["arn:aws:s3:::artifacts", "arn:aws:s3:::artifacts/*"],
            "kms": [key.key_arn],
        },
    )
    template = Template.from_stack(stack)
    assert one(template, "AWS::EC2::VPC")["Properties"]["CidrBlock"] == "10.9.0.0/16"
    assert len(network.subnet_ids) == 1
    endpoints = template.find_resources("AWS::EC2::VPCEndpoint").values()
    assert sorted(e["Properties"]["VpcEndpointType"] for e in endpoints) == ["Gateway", "Interface"]
    (gateway,) = [e for e in endpoints if e["Properties"]["VpcEndpointType"] == "Gateway"]
    (statement,) = gateway["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Resource"] == ["arn:aws:s3:::artifacts", "arn:aws:s3:::artifacts/*"]
    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}
    groups = template.find_resources("AWS::Logs::LogGroup").values()
    assert {g["Properties"]["RetentionInDays"] for g in groups} == {DESTROY.log_retention_days}


GRADER_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:grader"


def test_identity_acknowledges_exactly_the_wildcards_of_its_grants() -> None:
    stack = bare_stack()
    key = kms.Key(stack, "DataKey")
    identity = Identity(
        stack,
        "Identity",
        artifacts=s3.Bucket(stack, "Artifacts"),
        data_key=key,
        model_key=kms.Key(stack, "ModelKey"),
        subnet_ids=["subnet-0a1b2c3d4e5f60718"],
        job_security_group_id="sg-0a1b2c3d4e5f60718",
        grader_function_arn=GRADER_ARN,
    )
    found = set(acknowledged(identity.policy))
    prefix = "AwsSolutions::AwsSolutions-IAM5[Resource::"
    # What jobs invoke (stacks/job_invocations.py): the grader's aliases, tagged functions,
    # and the model behind a teacher's profile in any Region.
    invoked = {a for a in found if ":lambda:" in a or ":bedrock:" in a}
    found -= invoked
    assert invoked == {
        f"{prefix}{GRADER_ARN}:g-*]",
        f"{prefix}arn:aws:lambda:us-east-1:{ACCOUNT}:function:*]",
        f"{prefix}arn:aws:bedrock:*::foundation-model/amazon.nova-premier-v1:0]",
    }
    # (the part after the account, or after the bucket's ARN)
    tails = {
        a.removeprefix(prefix).removesuffix("]").rsplit(":", 1)[-1].split(">/")[-1] for a in found
    }
    assert tails == {
        "*",  # DescribeNetwork and ManageOnlyJobInterfaces
        "network-interface/*",
        "runs/*/input/*",
        "runs/*/output/*",
    }
    policy = one(Template.from_stack(stack), "AWS::IAM::ManagedPolicy")
    sids = [s["Sid"] for s in policy["Properties"]["PolicyDocument"]["Statement"]]
    assert sids == [
        "ReadTrainingData",
        "WriteRunOutput",
        "ListRunData",
        "DescribeNetwork",
        "CreateTaggedJobInterfaces",
        "CreateInterfacesInJobSubnets",
        "ManageOnlyJobInterfaces",
        "TagInterfacesAtCreation",
        "InvokeTeacherModels",
        "InvokeTeacherProfiles",
        "InvokeModelsBehindTeacherProfiles",
        "InvokeBuiltInGrader",
        "InvokeGradersTaggedForThisStack",
    ]
    assert "iam:PassRole" not in str(policy)  # the role is passed by StartJob's policy
