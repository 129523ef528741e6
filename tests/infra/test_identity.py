"""Identity: the Bedrock service role is trusted narrowly and can do only what a job needs."""

from __future__ import annotations

from typing import Any

from stacks.identity import ENI_DESCRIBE_ACTIONS, ENI_MANAGE_ACTIONS
from tests.infra.synth import Synth, as_list, statements

JOB_ARN = "arn:aws:bedrock:us-east-1:111122223333:model-customization-job/*"


def _role(synth: Synth) -> tuple[str, dict[str, Any]]:
    return synth.one("AWS::IAM::Role", "Identity/BedrockCustomizationRole/")


def _policy(synth: Synth) -> dict[str | None, dict[str, Any]]:
    role_id, _ = _role(synth)
    (policy,) = [
        p["Properties"]
        for p in synth.resources("AWS::IAM::ManagedPolicy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
    ]
    return {s.get("Sid"): s for s in statements(policy["PolicyDocument"])}


def test_role_is_trusted_only_by_bedrock_jobs_of_this_account(dev: Synth) -> None:
    _, role = _role(dev)
    (trust,) = statements(role["Properties"]["AssumeRolePolicyDocument"])
    assert trust["Principal"] == {"Service": "bedrock.amazonaws.com"}
    assert trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "111122223333"},
        "ArnEquals": {"aws:SourceArn": JOB_ARN},
    }


def test_role_has_no_inline_or_aws_managed_policies(dev: Synth) -> None:
    _, role = _role(dev)
    assert "Policies" not in role["Properties"]
    assert "ManagedPolicyArns" not in role["Properties"]
    assert not dev.resources("AWS::IAM::Policy"), "no inline (AWS::IAM::Policy) policies at all"


def test_role_reads_the_run_input_and_writes_the_run_output_only(dev: Synth) -> None:
    # The role trains on the run's copy (runs/<id>/input/), never on the inbox (jobs/);
    # tests/infra/test_bedrock_role.py evaluates what these statements allow.
    policy = _policy(dev)
    assert policy["ReadTrainingData"]["Action"] == "s3:GetObject"
    assert policy["ReadTrainingData"]["Resource"]["Fn::Join"][1][-1] == "/runs/*/input/*"
    assert sorted(policy["WriteRunOutput"]["Action"]) == ["s3:GetObject", "s3:PutObject"]
    assert policy["WriteRunOutput"]["Resource"]["Fn::Join"][1][-1] == "/runs/*/output/*"
    listing = [s for s in policy.values() if s["Action"] == "s3:ListBucket"]
    assert [s["Condition"]["StringLike"]["s3:prefix"] for s in listing] == [["runs/*"]]


def test_role_uses_keys_only_through_s3_and_bedrock_by_key_policy(dev: Synth) -> None:
    role_id, _ = _role(dev)
    role_arn = {"Fn::GetAtt": [role_id, "Arn"]}
    seen = {}
    for _key_id, key in dev.resources("AWS::KMS::Key").items():
        for statement in statements(key["Properties"]["KeyPolicy"]):
            if statement.get("Principal") == {"AWS": role_arn}:
                seen[key["Metadata"]["aws:cdk:path"].split("/")[-2]] = statement
    assert seen["DataKey"]["Condition"] == {
        "StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}
    }
    assert seen["ModelKey"]["Condition"] == {
        "StringEquals": {"kms:ViaService": "bedrock.us-east-1.amazonaws.com"}
    }
    assert "kms:CreateGrant" in seen["ModelKey"]["Action"]
    # No IAM statement widens KMS use beyond the key policies.
    assert not [s for s in _policy(dev).values() if str(s["Action"]).startswith("kms:")]


def test_network_interface_permissions_carry_bedrock_tag_conditions(dev: Synth) -> None:
    policy = _policy(dev)
    assert sorted(policy["DescribeNetwork"]["Action"]) == sorted(ENI_DESCRIBE_ACTIONS)
    create = policy["CreateTaggedJobInterfaces"]
    assert create["Action"] == "ec2:CreateNetworkInterface"
    assert create["Condition"] == {
        "StringEquals": {"aws:RequestTag/BedrockManaged": ["true"]},
        "ArnEquals": {"aws:RequestTag/BedrockModelCustomizationJobArn": [JOB_ARN]},
    }
    manage = policy["ManageOnlyJobInterfaces"]
    assert sorted(manage["Action"]) == sorted(ENI_MANAGE_ACTIONS)
    assert manage["Condition"]["StringEquals"] == {"ec2:ResourceTag/BedrockManaged": "true"}
    assert manage["Condition"]["ArnEquals"]["ec2:ResourceTag/BedrockModelCustomizationJobArn"] == [
        JOB_ARN
    ]
    assert len(manage["Condition"]["ArnEquals"]["ec2:Subnet"]) == 1  # the dev stage's one subnet
    tags = policy["TagInterfacesAtCreation"]
    assert tags["Condition"]["StringEquals"] == {"ec2:CreateAction": ["CreateNetworkInterface"]}
    assert tags["Condition"]["ForAllValues:StringEquals"] == {
        "aws:TagKeys": ["BedrockManaged", "BedrockModelCustomizationJobArn"]
    }


def test_interfaces_are_created_only_in_job_subnets_with_the_job_group(dev: Synth) -> None:
    resources = as_list(_policy(dev)["CreateInterfacesInJobSubnets"]["Resource"])
    subnet_ids = set(dev.resources("AWS::EC2::Subnet"))
    job_group = dev.one("AWS::EC2::SecurityGroup", "Network/JobSecurityGroup/")[0]
    text = str(resources)
    assert all(subnet_id in text for subnet_id in subnet_ids)
    assert job_group in text
    assert len(resources) == len(subnet_ids) + 1


def test_the_role_is_passed_only_by_start_job_and_only_to_bedrock(dev: Synth) -> None:
    # Given every identity policy of the stack, when one allows iam:PassRole,
    # then it is StartJob's, on the Bedrock role alone, and only to Bedrock
    role_id, _ = _role(dev)
    passing = {
        p["Metadata"]["aws:cdk:path"]: statement
        for p in dev.resources("AWS::IAM::ManagedPolicy").values()
        for statement in statements(p["Properties"]["PolicyDocument"])
        if "iam:PassRole" in as_list(statement["Action"])
    }
    assert list(passing) == ["BedrockCustomization-dev/Workflow/Functions/StartJobPolicy/Resource"]
    (statement,) = passing.values()
    assert statement == {
        "Sid": "PassRoleToBedrock",
        "Action": "iam:PassRole",
        "Condition": {"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}},
        "Effect": "Allow",
        "Resource": {"Fn::GetAtt": [role_id, "Arn"]},
    }
