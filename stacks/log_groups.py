"""Log groups the project creates: encrypted with the data key, with retention."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.settings import Settings


def encrypted_log_group(
    scope: Construct, id_: str, *, key: kms.IKey, settings: Settings
) -> logs.LogGroup:
    """A log group encrypted with ``key`` that keeps events ``settings.log_retention_days``."""
    group = logs.LogGroup(
        scope,
        id_,
        encryption_key=key,
        removal_policy=cdk.RemovalPolicy.RETAIN if settings.retain else cdk.RemovalPolicy.DESTROY,
    )
    # Settings already allow only the day counts CloudWatch Logs accepts;
    # CDK's RetentionDays enum is keyed by name, not by days.
    cfn = group.node.default_child
    assert isinstance(cfn, logs.CfnLogGroup)
    cfn.retention_in_days = settings.log_retention_days
    return group
