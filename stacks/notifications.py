"""Notifications: the topic that tells people how each run ended."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.compliance import acknowledge
from stacks.settings import Settings

# The longest SQS keeps a message (seconds); a bounced notification waits there for a person.
# Source: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html
DEAD_LETTER_RETENTION = cdk.Duration.days(14)


class Notifications(Construct):
    """An SNS topic encrypted with the data key, TLS only, with the stage's e-mail subscribers.

    A notification SNS cannot deliver (a bounced address, a deleted endpoint)
    goes to an encrypted dead-letter queue instead of being dropped.
    """

    def __init__(self, scope: Construct, id_: str, *, settings: Settings, key: kms.IKey) -> None:
        super().__init__(scope, id_)
        stack = cdk.Stack.of(self)
        self.topic = sns.Topic(
            self,
            "Topic",
            display_name=f"Bedrock customization ({settings.stage})",
            master_key=key,
            enforce_ssl=True,
        )
        self.undelivered = sqs.Queue(
            self,
            "Undelivered",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=DEAD_LETTER_RETENTION,
            removal_policy=cdk.RemovalPolicy.RETAIN
            if settings.retain
            else cdk.RemovalPolicy.DESTROY,
        )
        for rule in ("AwsSolutions-SQS3", "Serverless-SQSRedrivePolicy"):
            acknowledge(
                self.undelivered,
                rule,
                "This queue is the dead-letter queue of the topic's subscriptions (their "
                "RedrivePolicy); nothing consumes it automatically, so nothing can fail twice.",
            )
        # SNS encrypts what it moves to the queue with the queue's key. Naming
        # the topic would make Key -> Topic -> Key a cycle: scope to this
        # account's topics instead. Source:
        # https://docs.aws.amazon.com/sns/latest/dg/sns-configure-dead-letter-queue.html
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="SnsMovesUndeliveredNotificationsToTheQueue",
                principals=[iam.ServicePrincipal("sns.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "aws:SourceArn": stack.format_arn(
                            service="sns", resource="*", arn_format=cdk.ArnFormat.NO_RESOURCE_NAME
                        )
                    },
                    "StringEquals": {"aws:SourceAccount": stack.account},
                },
            )
        )
        for email in settings.notification_emails:
            # Each address gets a confirmation mail from SNS and receives nothing until it confirms.
            self.topic.add_subscription(
                subscriptions.EmailSubscription(email, dead_letter_queue=self.undelivered)
            )
