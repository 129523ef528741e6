"""Dead-letter queues: where what an AWS service could not deliver waits for a person."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.compliance import acknowledge

# The longest SQS keeps a message; an undelivered message waits there for a person.
# Source: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html
RETENTION = cdk.Duration.days(14)


def dead_letter_queue(
    scope: Construct,
    id_: str,
    *,
    key: kms.IKey,
    removal_policy: cdk.RemovalPolicy,
    sender: str,
    source_arn: str,
    purpose: str,
) -> sqs.Queue:
    """A KMS-encrypted, TLS-only queue that ``sender`` (a service principal) may fill.

    The sender encrypts what it moves with the queue's key, so the key policy
    lets it, for its resources of this account (``source_arn``, a pattern:
    naming the one resource would make Key -> resource -> Key a cycle).
    Source: https://docs.aws.amazon.com/sns/latest/dg/sns-configure-dead-letter-queue.html
    """
    stack = cdk.Stack.of(scope)
    queue = sqs.Queue(
        scope,
        id_,
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=key,
        enforce_ssl=True,
        retention_period=RETENTION,
        removal_policy=removal_policy,
    )
    for rule in ("AwsSolutions-SQS3", "Serverless-SQSRedrivePolicy"):
        acknowledge(
            queue,
            rule,
            f"This queue is itself a dead-letter queue ({purpose}); nothing consumes it "
            "automatically, so nothing in it can fail a second time.",
        )
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid=f"{id_}FilledBy{sender.split('.')[0].capitalize()}",
            principals=[iam.ServicePrincipal(sender)],
            actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resources=["*"],
            conditions={
                "ArnLike": {"aws:SourceArn": source_arn},
                "StringEquals": {"aws:SourceAccount": stack.account},
            },
        )
    )
    return queue
