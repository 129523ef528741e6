"""Log groups the project creates: encrypted with the data key, with retention."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct


@dataclass(frozen=True)
class Keeping:
    """What happens to what the stack stores: kept or destroyed with it, and logs' retention (days)."""

    removal_policy: cdk.RemovalPolicy
    # Settings already allow only the day counts CloudWatch Logs accepts.
    log_retention_days: int

    @classmethod
    def of(cls, *, retain: bool, log_retention_days: int) -> Keeping:
        policy = cdk.RemovalPolicy.RETAIN if retain else cdk.RemovalPolicy.DESTROY
        return cls(policy, log_retention_days)


def encrypted_log_group(
    scope: Construct, id_: str, *, key: kms.IKey, keeping: Keeping
) -> logs.LogGroup:
    """A log group encrypted with ``key`` that keeps events ``keeping.log_retention_days``."""
    group = logs.LogGroup(scope, id_, encryption_key=key, removal_policy=keeping.removal_policy)
    # CDK's RetentionDays enum is keyed by name, not by days.
    cfn = group.node.default_child
    assert isinstance(cfn, logs.CfnLogGroup)
    cfn.retention_in_days = keeping.log_retention_days
    return group
