"""Notifications: the topic that tells people how each run ended."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from stacks.queues import dead_letter_queue
from stacks.settings import Settings


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
        self.undelivered = dead_letter_queue(
            self,
            "Undelivered",
            key=key,
            settings=settings,
            sender="sns.amazonaws.com",
            source_arn=stack.format_arn(
                service="sns", resource="*", arn_format=cdk.ArnFormat.NO_RESOURCE_NAME
            ),
            purpose="of the topic's subscriptions, their RedrivePolicy",
        )
        for email in settings.notification_emails:
            # Each address gets a confirmation mail from SNS and receives nothing until it confirms.
            self.topic.add_subscription(
                subscriptions.EmailSubscription(email, dead_letter_queue=self.undelivered)
            )
