"""Reading a synthesized stack's IAM policies: statements, their condition keys, ARNs as text."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from stacks.intrinsics import as_text
from tests.infra import iam_reference as ref
from tests.infra.synth import ACCOUNT, EXISTING_VPC, REGION, Synth, as_list, statements

IDENTITY_POLICIES = ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy")
PSEUDO = {
    "AWS::Partition": "aws",
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::URLSuffix": "amazonaws.com",
}
# Lambda documents no source condition for an execution role's trust (the role is passed
# to one function by iam:PassRole); its trust is the service principal alone. Source:
# https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html (2026-12-02)
NO_SOURCE_TRUST = {"lambda.amazonaws.com"}


def render(value: Any) -> str:
    """A policy value as a string: Ref X -> <X>, GetAtt X.Y -> <X.Y>, joins joined."""
    return as_text(value, ref=lambda name: PSEUDO.get(name, f"<{name}>"))


def condition_keys(statement: dict[str, Any]) -> Iterator[tuple[str, str, list[str]]]:
    """(operator, key, rendered values) of a statement's conditions."""
    for operator, entries in statement.get("Condition", {}).items():
        for key, values in entries.items():
            yield operator, key, [render(v) for v in as_list(values)]


def condition(statement: dict[str, Any], operator: str, key: str) -> list[str] | None:
    entries = statement.get("Condition", {}).get(operator, {})
    return [render(v) for v in as_list(entries[key])] if key in entries else None


def identity_statements(synth: Synth) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(policy logical id, policy properties, statement) of every identity policy."""
    for type_ in IDENTITY_POLICIES:
        for logical_id, policy in synth.resources(type_).items():
            for statement in statements(policy["Properties"]["PolicyDocument"]):
                yield logical_id, policy["Properties"], statement


def trusted_service(synth: Synth, role_ref: Any) -> set[str]:
    role = synth.template["Resources"][role_ref["Ref"]]["Properties"]
    return {
        service
        for s in statements(role["AssumeRolePolicyDocument"])
        for service in as_list(s.get("Principal", {}).get("Service", []))
    }


def actions_of(statement: dict[str, Any]) -> list[str]:
    return [a for pattern in as_list(statement["Action"]) for a in ref.expand(pattern)]


def is_interface_action(name: str) -> bool:
    """An EC2 action that acts on a network interface (not Describe*: those take no resource)."""
    return name.startswith("ec2:") and any(
        r["name"] == "network-interface" for r in ref.action(name)["resourceTypes"]
    )


def subnet_arns(synth: Synth) -> set[str]:
    ids = (
        EXISTING_VPC["subnetIds"]
        if synth.settings.existing_vpc
        else [f"<{i}>" for i in synth.resources("AWS::EC2::Subnet")]
    )
    return {f"arn:aws:ec2:{REGION}:{ACCOUNT}:subnet/{i}" for i in ids}


# 1. Network interfaces -----------------------------------------------------------------
