"""The stage's monthly budget: AWS Budgets watches what the pipeline spends on Bedrock.

Every job, custom model, Provisioned Throughput and custom model deployment the handlers
create carries the owner tag, ``bedrock-customization:stack`` = this stack's name
(customization_core/naming.py OWNER_TAG); the budget counts the costs that carry it. The
stack's own resources (endpoints, keys, alarms) do not carry that tag: ``make summary``
states what they cost while idle.

A user-defined tag filters nothing until it is activated as a cost allocation tag in the
Billing console (Cost allocation tags), which only an organization's management account or a
standalone account can do. The key is listed there up to 24 hours after a resource first
carries it (after the first run), and activation takes up to 24 hours more. Sources, read
2026-12-02:
https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/activating-tags.html
https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/custom-tags.html
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_budgets as budgets
from constructs import Construct

from customization_core.naming import OWNER_TAG
from stacks.notifications import Notifications

BUDGETS_SERVICE = "budgets.amazonaws.com"
# When the topic hears: at these percentages of the monthly amount, of the spend so far
# (ACTUAL) and of AWS's forecast for the whole month (FORECASTED).
THRESHOLDS_PERCENT = (80, 100)
NOTIFICATION_TYPES = ("ACTUAL", "FORECASTED")


def tag_filter(stack_name: str) -> dict[str, list[str]]:
    """CostFilters for costs tagged with this stack's owner tag.

    A user-defined tag is written ``user:<key>$<value>``. Source, read 2026-12-02 (the
    create-budget example, "TagKeyValue": ["user:Key$value1", "user:Key$value2"]):
    https://docs.aws.amazon.com/cli/latest/reference/budgets/create-budget.html
    """
    return {"TagKeyValue": [f"user:{OWNER_TAG}${stack_name}"]}


def budget_arn(stack: cdk.Stack, name: str) -> str:
    """arn:aws:budgets::<account>:budget/<name> (Budgets is global: no Region in the ARN).

    Source, read 2026-12-02:
    https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-budgets-budget-budgetdata.html
    """
    return stack.format_arn(service="budgets", region="", resource="budget", resource_name=name)


class MonthlyBudget(Construct):
    """A COST budget of ``monthlyBudgetUsd`` a month on the owner tag, alerting the topic.

    AWS Budgets publishes to the stack's topic, which is encrypted with the data key: the
    topic policy and the key policy let budgets.amazonaws.com do so for this budget of this
    account only (aws:SourceAccount, aws:SourceArn). Sources, read 2026-12-02:
    https://docs.aws.amazon.com/cost-management/latest/userguide/budgets-sns-policy.html
    (the topic statement, whose documented aws:SourceArn is arn:aws:budgets::<account-id>:*,
    narrowed here to this budget's ARN; and "To enable compatibility between AWS Budgets and
    encrypted Amazon SNS topics": kms:GenerateDataKey* and kms:Decrypt in the key policy,
    granted as kms:GenerateDataKey and kms:Decrypt, bound to this account and this budget's
    ARN: stacks/notifications.py allow_publishing).
    """

    def __init__(
        self, scope: Construct, id_: str, *, monthly_usd: float, notifications: Notifications
    ) -> None:
        super().__init__(scope, id_)
        stack = cdk.Stack.of(self)
        # Budget names are unique per account, across Regions: the stack name and Region
        # make it this deployment's.
        self.name = f"{stack.stack_name}-{stack.region}"
        notifications.allow_publishing(
            "Budget", service=BUDGETS_SERVICE, source_arn=budget_arn(stack, self.name)
        )
        self.budget = budgets.CfnBudget(
            self,
            "Resource",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_name=self.name,
                budget_type="COST",
                time_unit="MONTHLY",
                budget_limit=budgets.CfnBudget.SpendProperty(amount=monthly_usd, unit="USD"),
                cost_filters=tag_filter(stack.stack_name),
            ),
            notifications_with_subscribers=[
                budgets.CfnBudget.NotificationWithSubscribersProperty(
                    notification=budgets.CfnBudget.NotificationProperty(
                        notification_type=kind,
                        comparison_operator="GREATER_THAN",
                        threshold=percent,
                        threshold_type="PERCENTAGE",
                    ),
                    subscribers=[
                        budgets.CfnBudget.SubscriberProperty(
                            subscription_type="SNS", address=notifications.topic.topic_arn
                        )
                    ],
                )
                for kind in NOTIFICATION_TYPES
                for percent in THRESHOLDS_PERCENT
            ],
        )
