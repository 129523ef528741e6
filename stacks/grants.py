"""Permissions as data: an IAM statement with the reason for its wildcards, and the acknowledgements made from them.

A ``Grant`` that names a resource or an action with ``*`` (as cdk-nag renders it, tokens
resolved) must say why; ``acknowledge_wildcards`` turns those reasons into the exact
AwsSolutions-IAM5 acknowledgements of the policy that holds the grants, so no reason is
written twice and none is left behind when a statement changes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import aws_iam as iam
from constructs import Construct, IConstruct

from stacks.compliance import acknowledge, nag_rendering

WILDCARD_RULE = "AwsSolutions-IAM5"


@dataclass(frozen=True)
class Grant:
    """One Allow statement: its sid, actions, resources and conditions, and why any ``*``."""

    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: Mapping[str, Any] | None = None
    # Why a resource or an action with "*" is needed; required when one has it.
    wildcard_reason: str | None = None

    def statement(self) -> iam.PolicyStatement:
        return iam.PolicyStatement(
            sid=self.sid,
            actions=list(self.actions),
            resources=list(self.resources),
            conditions=dict(self.conditions) if self.conditions is not None else None,
        )

    def wildcards(self, scope: IConstruct) -> list[str]:
        """The finding resources cdk-nag reports for this statement (``Resource::...``, ``Action::...``)."""
        found = [f"Action::{action}" for action in self.actions if "*" in action]
        for resource in self.resources:
            rendered = nag_rendering(scope, resource)
            if "*" in rendered:
                found.append(f"Resource::{rendered}")
        return found


def allow(
    sid: str,
    actions: Sequence[str],
    resources: Sequence[str],
    conditions: Mapping[str, Any] | None = None,
    *,
    wildcard_reason: str | None = None,
) -> Grant:
    return Grant(sid, tuple(actions), tuple(resources), conditions, wildcard_reason)


def acknowledge_wildcards(policy: IConstruct, grants: Sequence[Grant]) -> None:
    """Acknowledge each wildcard finding of ``policy`` once, with the reasons of the grants that have it."""
    reasons: dict[str, list[str]] = {}
    for grant in grants:
        for finding in grant.wildcards(policy):
            if grant.wildcard_reason is None:
                raise ValueError(
                    f"{grant.sid} grants {finding} and gives no wildcard_reason: say why it is needed."
                )
            said = reasons.setdefault(finding, [])
            if grant.wildcard_reason not in said:
                said.append(grant.wildcard_reason)
    for finding, said in reasons.items():
        acknowledge(policy, WILDCARD_RULE, " ".join(said), resource=finding)


def managed_policy(
    scope: Construct,
    id_: str,
    *,
    description: str | None = None,
    roles: Sequence[iam.IRole],
    grants: Sequence[Grant],
) -> iam.ManagedPolicy:
    """A customer-managed policy of ``grants``, its wildcards acknowledged from their reasons."""
    policy = iam.ManagedPolicy(
        scope,
        id_,
        description=description,
        roles=list(roles),
        statements=[grant.statement() for grant in grants],
    )
    acknowledge_wildcards(policy, grants)
    return policy
