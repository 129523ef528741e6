"""Notifications: the topic that tells people how each run ended."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from stacks.names import generated_name_pattern
from stacks.queues import dead_letter_queue

# The longest topic name (characters). Source, read 2026-12-02:
# https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html
TOPIC_NAME_MAX = 256


class Notifications(Construct):
    """An SNS topic encrypted with the data key, TLS only, with the stage's e-mail subscribers.

    A notification SNS cannot deliver (a bounced address, a deleted endpoint)
    goes to an encrypted dead-letter queue instead of being dropped.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        stage: str,
        emails: Sequence[str],
        key: kms.IKey,
        removal_policy: cdk.RemovalPolicy,
    ) -> None:
        super().__init__(scope, id_)
        stack = cdk.Stack.of(self)
        self.key = key
        self.topic = sns.Topic(
            self,
            "Topic",
            display_name=f"Bedrock customization ({stage})",
            master_key=key,
            enforce_ssl=True,
        )
        cfn_topic = self.topic.node.default_child
        assert isinstance(cfn_topic, sns.CfnTopic)
        self.undelivered = dead_letter_queue(
            self,
            "Undelivered",
            key=key,
            removal_policy=removal_policy,
            sender="sns.amazonaws.com",
            # This topic only, by its generated name: its ARN would make Key -> Topic -> Key.
            source_arn=stack.format_arn(
                service="sns",
                resource=generated_name_pattern(cfn_topic, max_length=TOPIC_NAME_MAX),
                arn_format=cdk.ArnFormat.NO_RESOURCE_NAME,
            ),
            purpose="of the topic's subscriptions, their RedrivePolicy",
        )
        for email in emails:
            # Each address gets a confirmation mail from SNS and receives nothing until it confirms.
            self.topic.add_subscription(
                subscriptions.EmailSubscription(email, dead_letter_queue=self.undelivered)
            )

    def allow_publishing(self, sid: str, *, service: str, source_arn: str) -> None:
        """Let ``service`` (a service principal) publish to the topic for ``source_arn`` only.

        The topic is encrypted with a customer managed key, so the key policy must let the
        service encrypt too: kms:GenerateDataKey and kms:Decrypt, what a publisher to an
        encrypted topic needs. Both statements are bound to this account and ``source_arn``
        (an ARN or an ArnLike pattern), against the confused deputy. Sources, read 2026-12-02:
        https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
        https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#send-to-encrypted-topic
        """
        stack = cdk.Stack.of(self)
        principal = iam.ServicePrincipal(service)
        conditions = {
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnLike": {"aws:SourceArn": source_arn},
        }
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid=f"{sid}Publish",
                principals=[principal],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions=conditions,
            )
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid=f"{sid}EncryptNotifications",
                principals=[principal],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],
                conditions=conditions,
            )
        )
