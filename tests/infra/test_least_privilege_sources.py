"""Least privilege (issue 13), items 5 to 8 of the review (1 to 4: test_least_privilege.py).

Given every synthesized variant, when its policy documents are read against AWS's Service
Authorization Reference as data (tests/infra/iam_reference.py), then:

5. interface endpoints admit this account's resources only (an ARN, or aws:ResourceAccount),
   and nothing in the VPC may write the datasets bucket through the S3 endpoint;
6. no statement has a condition key one of its actions never carries (it could never apply);
7. every service that assumes a role is bound by aws:SourceAccount and aws:SourceArn;
8. services that may use the data key are bound to the stack's topic or to rules.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from fnmatch import fnmatchcase
from typing import Any

import pytest

from stacks.names import NameMayBeCutError
from tests.infra import iam_reference as ref
from tests.infra.policies import (
    NO_SOURCE_TRUST,
    actions_of,
    condition,
    condition_keys,
    render,
)
from tests.infra.synth import (
    ACCOUNT,
    REGION,
    Synth,
    as_list,
    policy_documents,
    statements,
)


def _endpoint_statements(synth: Synth, kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical_id, endpoint in synth.resources("AWS::EC2::VPCEndpoint").items():
        props = endpoint["Properties"]
        if props.get("VpcEndpointType", "Gateway") == kind:
            for statement in statements(props["PolicyDocument"]):
                yield logical_id, statement


def test_every_interface_endpoint_statement_admits_this_accounts_resources_only(
    every_variant: Synth,
) -> None:
    count = 0
    for logical_id, statement in _endpoint_statements(every_variant, "Interface"):
        count += 1
        resources = [render(r) for r in as_list(statement["Resource"])]
        keys = {key for _, key, _ in condition_keys(statement)}
        assert condition(statement, "StringEquals", "aws:PrincipalAccount") == [ACCOUNT]
        if "*" in resources:
            assert resources == ["*"], logical_id
            # Only actions that take no resource, with the resource account compared.
            assert "aws:ResourceAccount" in keys, logical_id
            for name in actions_of(statement):
                assert not ref.action(name)["resourceTypes"], (logical_id, name)
        else:
            for arn in resources:
                # The stack's own (a reference), this account's, or a base model (AWS's: no
                # account in its ARN).
                own = arn.startswith("<") or f":{ACCOUNT}:" in arn
                assert own or "::foundation-model/" in arn, (logical_id, arn)
    assert count >= 7


def test_nothing_in_the_vpc_may_write_the_datasets_bucket(every_variant: Synth) -> None:
    datasets = every_variant.one("AWS::S3::Bucket", "Storage/Datasets/")[0]
    artifacts = every_variant.one("AWS::S3::Bucket", "Storage/Artifacts/")[0]
    reads = writes = False
    for logical_id, statement in _endpoint_statements(every_variant, "Gateway"):
        text = json.dumps(statement["Resource"])
        levels = {ref.action(a)["accessLevel"] for a in actions_of(statement)}
        if datasets in text:
            assert levels <= {"Read", "List"}, (logical_id, levels)
            assert artifacts not in text, "the inbox has a statement of its own"
            reads = True
        if artifacts in text and "s3:PutObject" in actions_of(statement):
            writes = True
    assert reads  # the inbox is read,
    assert writes  # and the artifacts bucket written


# 6. Condition keys every action carries ----------------------------------------------------


def test_no_condition_key_is_one_an_action_never_carries(every_variant: Synth) -> None:
    # Given every statement of every policy (identity, key, bucket, queue, topic, endpoint,
    # trust), when its condition keys are checked against the reference, then an Allow holds
    # no key that one of its actions never carries (that action could never be allowed by
    # it), and a Deny no key that none of its actions carries (it could never deny).
    checked = 0
    for logical_id, kind, document in policy_documents(every_variant.template):
        for statement in statements(document):
            names = actions_of(statement)
            for _, key, _ in condition_keys(statement):
                checked += 1
                carried = [n for n in names if ref.takes_key(n, key)]
                if statement["Effect"] == "Allow":
                    assert carried == names, (logical_id, kind, key, set(names) - set(carried))
                else:
                    assert carried, (logical_id, kind, key)
    assert checked > 100


def test_describe_key_is_never_granted_under_a_key_it_does_not_carry() -> None:
    # The two grants the review found: GrantIsForAWSResource and an encryption context.
    assert not ref.takes_key("kms:DescribeKey", "kms:GrantIsForAWSResource")
    assert not ref.takes_key("kms:DescribeKey", "kms:EncryptionContext:aws:logs:arn")
    assert ref.takes_key("kms:CreateGrant", "kms:GrantIsForAWSResource")


# 7. Service trusts -------------------------------------------------------------------------


def test_every_service_trust_names_its_source_account_and_arn(every_variant: Synth) -> None:
    trusted = set()
    for role in every_variant.resources("AWS::IAM::Role").values():
        for statement in statements(role["Properties"]["AssumeRolePolicyDocument"]):
            services = set(as_list(statement.get("Principal", {}).get("Service", [])))
            if not services or services <= NO_SOURCE_TRUST:
                continue
            trusted |= services
            keys = {key for _, key, _ in condition_keys(statement)}
            assert {"aws:SourceAccount", "aws:SourceArn"} <= keys, services
            for _, key, values in condition_keys(statement):
                if key == "aws:SourceArn":
                    assert all(f":{ACCOUNT}:" in v for v in values), values
    assert trusted >= {"states.amazonaws.com", "events.amazonaws.com", "bedrock.amazonaws.com"}


def _trust_source_arns(synth: Synth, role_path: str) -> list[str]:
    _, role = synth.one("AWS::IAM::Role", role_path)
    (statement,) = statements(role["Properties"]["AssumeRolePolicyDocument"])
    return condition(statement, "ArnLike", "aws:SourceArn") or []


@pytest.mark.parametrize("machine", ["StateMachine", "EndRun"])
def test_a_state_machine_role_is_trusted_only_by_its_machine(dev: Synth, machine: str) -> None:
    machine_id = dev.one("AWS::StepFunctions::StateMachine", f"Workflow/{machine}/")[0]
    other = "EndRun" if machine == "StateMachine" else "StateMachine"
    other_id = dev.one("AWS::StepFunctions::StateMachine", f"Workflow/{other}/")[0]
    (pattern,) = _trust_source_arns(dev, f"Workflow/{machine}Role/")
    prefix = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:"
    # The names CloudFormation gives: "<logical id>-<random>", or with the stack before it.
    for name in (f"{machine_id}-N5TJppzoevKQ", f"{dev.settings.stack_name}-{machine_id}-1TU4XWRL"):
        assert fnmatchcase(prefix + name, pattern), name
    assert not fnmatchcase(f"{prefix}{other_id}-N5TJppzoevKQ", pattern)
    assert not fnmatchcase(f"{prefix}SomeoneElses-N5TJppzoevKQ", pattern)


def test_the_trigger_role_is_trusted_by_this_accounts_rules_only(dev: Synth) -> None:
    assert _trust_source_arns(dev, "Workflow/TriggerRole/") == [
        f"arn:aws:events:{REGION}:{ACCOUNT}:rule/*"
    ]


def test_a_name_cloudformation_could_cut_is_refused() -> None:
    import aws_cdk as cdk
    from aws_cdk import aws_sns as sns

    from stacks.names import generated_name_pattern

    stack = cdk.Stack(cdk.App(), "S" * 60)
    topic = sns.CfnTopic(stack, "Topic")
    assert generated_name_pattern(topic, max_length=256).startswith("*Topic")
    with pytest.raises(NameMayBeCutError, match="cut"):
        generated_name_pattern(topic, max_length=64)


# 8. Services that may use the data key ----------------------------------------------------


def _data_key_statements(synth: Synth) -> dict[str, dict[str, Any]]:
    _, key = synth.one("AWS::KMS::Key", "Storage/DataKey/")
    return {s["Sid"]: s for s in statements(key["Properties"]["KeyPolicy"])}


def test_sns_may_use_the_data_key_for_the_stacks_topic_only(every_variant: Synth) -> None:
    topic = every_variant.one("AWS::SNS::Topic", "Notifications/Topic")[0]
    sns = _data_key_statements(every_variant)["UndeliveredFilledBySns"]
    (pattern,) = condition(sns, "ArnLike", "aws:SourceArn") or []
    prefix = f"arn:aws:sns:{REGION}:{ACCOUNT}:"
    assert fnmatchcase(
        f"{prefix}{every_variant.settings.stack_name}-{topic}-1S1BJGOMGWMAA", pattern
    )
    assert not fnmatchcase(f"{prefix}another-topic", pattern)


def test_every_service_using_the_data_key_is_bound_to_its_source(every_variant: Synth) -> None:
    for sid, statement in _data_key_statements(every_variant).items():
        services = as_list(statement.get("Principal", {}).get("Service", []))
        if not services:
            continue
        keys = {key for _, key, _ in condition_keys(statement)}
        # CloudWatch Logs is bound by the log group's ARN in the encryption context.
        assert "aws:SourceArn" in keys or "kms:EncryptionContext:aws:logs:arn" in keys, sid
        for _, key, values in condition_keys(statement):
            if key == "aws:SourceArn":
                assert all(not v.endswith(f":{ACCOUNT}:*") for v in values), (sid, values)
