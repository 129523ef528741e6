"""Storage: keys and buckets carry every security property the foundation promises."""

from __future__ import annotations

from typing import Any

import pytest

from stacks.storage import KEY_ADMIN_ACTIONS
from tests.infra.synth import Synth, as_list, statements

DATA_BUCKETS = ("Storage/Datasets/", "Storage/Artifacts/")
ALL_BUCKETS = (*DATA_BUCKETS, "Storage/AccessLogs/")


def _bucket(synth: Synth, part: str) -> tuple[str, dict[str, Any]]:
    return synth.one("AWS::S3::Bucket", part)


def _bucket_policy(synth: Synth, bucket_id: str) -> list[dict[str, Any]]:
    for policy in synth.resources("AWS::S3::BucketPolicy").values():
        if policy["Properties"]["Bucket"] == {"Ref": bucket_id}:
            return statements(policy["Properties"]["PolicyDocument"])
    raise AssertionError(f"no bucket policy for {bucket_id}")


def _key_id(synth: Synth, name: str) -> str:
    return synth.one("AWS::KMS::Key", f"Storage/{name}/")[0]


def test_two_customer_managed_keys_rotate_and_have_aliases(dev: Synth) -> None:
    # Given the dev stack, when its keys are read, then each rotates and has its alias
    for name, alias in (("DataKey", "data"), ("ModelKey", "model")):
        key_id = _key_id(dev, name)
        assert dev.template["Resources"][key_id]["Properties"]["EnableKeyRotation"] is True
        dev.assertions.has_resource_properties(
            "AWS::KMS::Alias",
            {
                "AliasName": f"alias/bedrock-customization/dev/{alias}",
                "TargetKeyId": {"Fn::GetAtt": [key_id, "Arn"]},
            },
        )


def test_key_administrators_cannot_use_keys_and_use_goes_through_services(dev: Synth) -> None:
    key = dev.template["Resources"][_key_id(dev, "DataKey")]["Properties"]["KeyPolicy"]
    admin = next(s for s in statements(key) if s.get("Sid") == "KeyAdministrationThroughIam")
    assert sorted(admin["Action"]) == sorted(KEY_ADMIN_ACTIONS)
    assert "kms:Decrypt" not in admin["Action"]
    use = next(s for s in statements(key) if s.get("Sid") == "UseThroughAwsServices")
    assert use["Condition"]["StringEquals"]["kms:ViaService"] == [
        "s3.us-east-1.amazonaws.com",
        "sns.us-east-1.amazonaws.com",
        "sqs.us-east-1.amazonaws.com",
        "dynamodb.us-east-1.amazonaws.com",
        "lambda.us-east-1.amazonaws.com",
    ]
    assert use["Condition"]["StringEquals"]["kms:CallerAccount"] == "111122223333"
    logs = next(s for s in statements(key) if s.get("Sid") == "EncryptLogGroupsOfThisAccount")
    assert logs["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    assert "kms:EncryptionContext:aws:logs:arn" in logs["Condition"]["ArnLike"]


def test_model_key_is_used_only_through_bedrock(dev: Synth) -> None:
    key = dev.template["Resources"][_key_id(dev, "ModelKey")]["Properties"]["KeyPolicy"]
    users = [s for s in statements(key) if s.get("Sid") != "KeyAdministrationThroughIam"]
    assert users, "the model key names who may use it"
    for statement in users:
        assert (
            statement["Condition"]["StringEquals"]["kms:ViaService"]
            == "bedrock.us-east-1.amazonaws.com"
        )


@pytest.mark.parametrize("part", DATA_BUCKETS)
def test_data_buckets_use_the_data_key_with_bucket_keys(dev: Synth, part: str) -> None:
    _, bucket = _bucket(dev, part)
    rule = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": {"Fn::GetAtt": [_key_id(dev, "DataKey"), "Arn"]},
    }
    assert rule["BucketKeyEnabled"] is True


def test_access_log_bucket_uses_sse_s3_as_server_access_logging_requires(dev: Synth) -> None:
    _, bucket = _bucket(dev, "Storage/AccessLogs/")
    rule = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}


@pytest.mark.parametrize("part", ALL_BUCKETS)
def test_every_bucket_is_private_versioned_owner_enforced_with_lifecycle(
    dev: Synth, part: str
) -> None:
    _, bucket = _bucket(dev, part)
    props = bucket["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    noncurrent = [
        r for r in props["LifecycleConfiguration"]["Rules"] if "NoncurrentVersionExpiration" in r
    ]
    assert noncurrent[0]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 7  # dev setting
    assert noncurrent[0]["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 7


@pytest.mark.parametrize("part", ALL_BUCKETS)
def test_every_bucket_denies_requests_without_tls(dev: Synth, part: str) -> None:
    bucket_id, _ = _bucket(dev, part)
    denies = [s for s in _bucket_policy(dev, bucket_id) if s["Effect"] == "Deny"]
    tls = [
        s for s in denies if s.get("Condition", {}).get("Bool") == {"aws:SecureTransport": "false"}
    ]
    assert tls
    assert tls[0]["Action"] == "s3:*"
    assert tls[0]["Principal"] == {"AWS": "*"}
    old_tls = [
        s for s in denies if "s3:TlsVersion" in s.get("Condition", {}).get("NumericLessThan", {})
    ]
    assert old_tls, "TLS below 1.2 is refused"


@pytest.mark.parametrize("part", DATA_BUCKETS)
def test_data_buckets_log_access_to_the_log_bucket(dev: Synth, part: str) -> None:
    logs_id, _ = _bucket(dev, "Storage/AccessLogs/")
    _, bucket = _bucket(dev, part)
    assert bucket["Properties"]["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": logs_id}


@pytest.mark.parametrize("part", DATA_BUCKETS)
def test_puts_asking_for_other_encryption_or_key_are_denied(dev: Synth, part: str) -> None:
    bucket_id, _ = _bucket(dev, part)
    by_sid = {s.get("Sid"): s for s in _bucket_policy(dev, bucket_id)}
    other = by_sid["DenyOtherEncryption"]
    assert other["Effect"] == "Deny"
    assert other["Action"] == "s3:PutObject"
    # Only a header that is present and not aws:kms is refused: plain uploads get the default.
    assert other["Condition"] == {
        "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
        "Null": {"s3:x-amz-server-side-encryption": "false"},
    }
    other_key = by_sid["DenyOtherKmsKey"]["Condition"]
    assert other_key["StringNotEquals"]["s3:x-amz-server-side-encryption-aws-kms-key-id"] == {
        "Fn::GetAtt": [_key_id(dev, "DataKey"), "Arn"]
    }
    assert other_key["Null"] == {"s3:x-amz-server-side-encryption-aws-kms-key-id": "false"}
    no_key = by_sid["DenyKmsWithoutKeyId"]["Condition"]
    assert no_key == {
        "StringEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
        "Null": {"s3:x-amz-server-side-encryption-aws-kms-key-id": "true"},
    }
    sse_c = by_sid["DenyCustomerProvidedKeys"]["Condition"]
    assert sse_c == {"Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "false"}}


def test_only_the_inbox_sends_events_to_eventbridge(dev: Synth) -> None:
    _, datasets = _bucket(dev, "Storage/Datasets/")
    _, artifacts = _bucket(dev, "Storage/Artifacts/")
    assert datasets["Properties"]["NotificationConfiguration"] == {
        "EventBridgeConfiguration": {"EventBridgeEnabled": True}
    }
    # Outputs never land where they could start a run.
    assert "NotificationConfiguration" not in artifacts["Properties"]
    assert not dev.resources("Custom::S3BucketNotifications")


def test_stateful_resources_are_retained_unless_a_stage_asks_to_destroy(
    dev: Synth, prod: Synth
) -> None:
    for type_ in ("AWS::S3::Bucket", "AWS::KMS::Key", "AWS::Logs::LogGroup"):
        assert {r["DeletionPolicy"] for r in prod.resources(type_).values()} == {"Retain"}
        assert {r["DeletionPolicy"] for r in dev.resources(type_).values()} == {"Delete"}
    pending = {
        r["Properties"].get("PendingWindowInDays") for r in dev.resources("AWS::KMS::Key").values()
    }
    assert pending == {7}


def test_topic_is_encrypted_with_the_data_key_and_tls_only(dev: Synth) -> None:
    topic_id, topic = dev.one("AWS::SNS::Topic", "Notifications/Topic")
    assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [_key_id(dev, "DataKey"), "Arn"]}
    policy = next(iter(dev.resources("AWS::SNS::TopicPolicy").values()))["Properties"]
    assert policy["Topics"] == [{"Ref": topic_id}]
    deny = [s for s in statements(policy["PolicyDocument"]) if s["Effect"] == "Deny"]
    assert any(s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in deny)


def test_notification_emails_become_subscriptions(tmp_path_factory: pytest.TempPathFactory) -> None:
    from tests.infra.synth import stage_settings, synthesize

    settings = stage_settings("dev", notificationEmails=["ml-platform@example.com"])
    synth = synthesize(settings, tmp_path_factory.mktemp("emails"))
    subscriptions = list(synth.resources("AWS::SNS::Subscription").values())
    assert [s["Properties"]["Endpoint"] for s in subscriptions] == ["ml-platform@example.com"]
    assert as_list(subscriptions[0]["Properties"]["Protocol"]) == ["email"]
