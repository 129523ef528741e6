"""Network: isolated subnets, private endpoints, and security groups that admit only what is needed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stacks.endpoint_actions import ENDPOINT_ACTIONS
from stacks.network import HTTPS
from tests.infra.synth import EXISTING_VPC, Synth, as_list, statements

INTERFACE = {
    "bedrock", "bedrock-runtime", "states", "kms", "logs", "sts", "sns", "monitoring", "lambda"
}  # fmt: skip


def _endpoints(synth: Synth, kind: str) -> dict[str, dict[str, Any]]:
    """Endpoints of ``kind`` by short service name (the last part of the service name)."""
    found = {}
    for endpoint in synth.resources("AWS::EC2::VPCEndpoint").values():
        props = endpoint["Properties"]
        if props.get("VpcEndpointType", "Gateway") != kind:
            continue
        name = json.dumps(props["ServiceName"]).rsplit(".", 1)[-1].strip('"]} ')
        found[name] = props
    return found


def _group_id(synth: Synth, name: str) -> str:
    return synth.one("AWS::EC2::SecurityGroup", f"Network/{name}/")[0]


@pytest.mark.parametrize(("fixture", "azs"), [("dev", 1), ("prod", 3)])
def test_vpc_has_only_isolated_subnets_one_per_az_and_no_way_out(
    request: pytest.FixtureRequest, fixture: str, azs: int
) -> None:
    synth: Synth = request.getfixturevalue(fixture)
    subnets = synth.resources("AWS::EC2::Subnet").values()
    assert len(subnets) == azs
    assert all(s["Properties"]["MapPublicIpOnLaunch"] is False for s in subnets)
    zones = [s["Properties"]["AvailabilityZone"] for s in subnets]
    assert zones == [{"Fn::Select": [i, {"Fn::GetAZs": ""}]} for i in range(azs)]
    for type_ in ("AWS::EC2::InternetGateway", "AWS::EC2::NatGateway", "AWS::EC2::Route"):
        assert not synth.resources(type_), f"{type_} would give the subnets a way out"


def test_interface_endpoints_have_private_dns_and_the_endpoint_group(dev: Synth) -> None:
    endpoints = _endpoints(dev, "Interface")
    assert set(endpoints) == INTERFACE
    group = {"Fn::GetAtt": [_group_id(dev, "EndpointSecurityGroup"), "GroupId"]}
    for props in endpoints.values():
        assert props["PrivateDnsEnabled"] is True
        assert props["SecurityGroupIds"] == [group]


def test_the_configured_endpoint_set_is_what_is_created(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    from tests.infra.synth import stage_settings, synthesize

    settings = stage_settings("dev", interfaceEndpoints=["bedrock", "kms"], gatewayEndpoints=["s3"])
    synth = synthesize(settings, tmp_path_factory.mktemp("endpoints"))
    assert set(_endpoints(synth, "Interface")) == {"bedrock", "kms"}
    assert set(_endpoints(synth, "Gateway")) == {"s3"}


def test_every_endpoint_has_a_policy_for_this_account_and_listed_actions(dev: Synth) -> None:
    endpoints = {**_endpoints(dev, "Interface"), **_endpoints(dev, "Gateway")}
    assert set(endpoints) == INTERFACE | {"s3", "dynamodb"}
    for name, props in endpoints.items():
        # No policy would mean the default: full access to the whole service. Actions that
        # take no resource, and reads of the inbox, have statements of their own
        # (tests/infra/test_least_privilege.py holds what each may name).
        found = statements(props["PolicyDocument"])
        actions: set[str] = set()
        for statement in found:
            assert statement["Effect"] == "Allow"
            assert statement["Condition"]["StringEquals"] == {
                "aws:PrincipalAccount": "111122223333"
            }
            actions |= set(as_list(statement["Action"]))
        assert sorted(actions) == sorted(ENDPOINT_ACTIONS[name])


def test_every_bedrock_action_a_handler_is_granted_passes_its_endpoint(dev: Synth) -> None:
    """A handler's Bedrock call goes through the VPC endpoint: the endpoint must allow it."""
    granted: set[str] = set()
    for resource in dev.resources("AWS::IAM::ManagedPolicy").values():
        for statement in statements(resource["Properties"]["PolicyDocument"]):
            actions = statement["Action"]
            granted |= set(actions if isinstance(actions, list) else [actions])
    through = set(ENDPOINT_ACTIONS["bedrock"]) | set(ENDPOINT_ACTIONS["bedrock-runtime"])
    missing = {a for a in granted if a.startswith("bedrock:")} - through
    assert missing == set()


def test_the_watch_may_read_the_invocation_metric_and_no_other_function_reads_cloudwatch(
    dev: Synth,
) -> None:
    # Given every function policy, when the CloudWatch statements are collected, then the
    # watch alone reads the invocation metric, on "*" (the action takes no resource type).
    found = {}
    for resource in dev.resources("AWS::IAM::ManagedPolicy").values():
        for statement in statements(resource["Properties"]["PolicyDocument"]):
            if any(a.startswith("cloudwatch:") for a in as_list(statement["Action"])):
                found[resource["Metadata"]["aws:cdk:path"].split("/")[-2]] = statement
    assert found == {
        "WatchDeploymentPolicy": {
            "Sid": "ReadInvocationMetric",
            "Effect": "Allow",
            "Action": "cloudwatch:GetMetricStatistics",
            "Resource": "*",
        }
    }


def test_the_monitoring_endpoint_admits_only_the_metric_read_of_this_account(dev: Synth) -> None:
    # Given the CloudWatch (monitoring) endpoint, then its policy admits this account's
    # principals to GetMetricStatistics alone; it names no resource (the action takes none),
    # so the resource account is compared wherever the request carries one.
    props = _endpoints(dev, "Interface")["monitoring"]
    assert props["PrivateDnsEnabled"] is True
    assert statements(props["PolicyDocument"]) == [
        {
            "Sid": "MonitoringCallsWithoutResource",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": "cloudwatch:GetMetricStatistics",
            "Resource": "*",
            "Condition": {
                "StringEquals": {"aws:PrincipalAccount": "111122223333"},
                "StringEqualsIfExists": {"aws:ResourceAccount": "111122223333"},
            },
        }
    ]


def test_every_cloudwatch_action_a_handler_is_granted_passes_its_endpoint(dev: Synth) -> None:
    granted = {
        a
        for resource in dev.resources("AWS::IAM::ManagedPolicy").values()
        for statement in statements(resource["Properties"]["PolicyDocument"])
        for a in as_list(statement["Action"])
        if a.startswith("cloudwatch:")
    }
    assert granted
    assert granted <= set(ENDPOINT_ACTIONS["monitoring"])


def test_s3_kms_and_sns_endpoints_admit_only_the_project_resources(dev: Synth) -> None:
    s3 = [
        r
        for s in statements(_endpoints(dev, "Gateway")["s3"]["PolicyDocument"])
        for r in as_list(s["Resource"])
    ]
    bucket_ids = {
        k
        for k, v in dev.resources("AWS::S3::Bucket").items()
        if "AccessLogs" not in v["Metadata"]["aws:cdk:path"]
    }
    named = {json.dumps(r) for r in s3}
    for bucket_id in bucket_ids:
        assert any(bucket_id in r for r in named)
    kms = statements(_endpoints(dev, "Interface")["kms"]["PolicyDocument"])[0]["Resource"]
    assert sorted(r["Fn::GetAtt"][0] for r in kms) == sorted(dev.resources("AWS::KMS::Key"))
    sns = statements(_endpoints(dev, "Interface")["sns"]["PolicyDocument"])[0]["Resource"]
    assert sns == {"Ref": dev.one("AWS::SNS::Topic", "Notifications/Topic")[0]}


def test_endpoints_admit_https_only_from_the_workload_group(dev: Synth) -> None:
    endpoint_group = _group_id(dev, "EndpointSecurityGroup")
    workload_group = _group_id(dev, "WorkloadSecurityGroup")
    group = dev.template["Resources"][endpoint_group]["Properties"]
    assert "SecurityGroupIngress" not in group, "no CIDR-based ingress on the endpoint group"
    ingress = [
        r["Properties"]
        for r in dev.resources("AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == {"Fn::GetAtt": [endpoint_group, "GroupId"]}
    ]
    assert ingress == [
        {
            "Description": "HTTPS from pipeline workloads",
            "FromPort": HTTPS,
            "GroupId": {"Fn::GetAtt": [endpoint_group, "GroupId"]},
            "IpProtocol": "tcp",
            "SourceSecurityGroupId": {"Fn::GetAtt": [workload_group, "GroupId"]},
            "ToPort": HTTPS,
        }
    ]


def test_no_group_admits_traffic_from_an_address_range(dev: Synth) -> None:
    for group in dev.resources("AWS::EC2::SecurityGroup").values():
        for rule in group["Properties"].get("SecurityGroupIngress", []):
            assert "CidrIp" not in rule
            assert "CidrIpv6" not in rule


def test_job_group_lets_nodes_of_a_job_reach_each_other(dev: Synth) -> None:
    job = _group_id(dev, "JobSecurityGroup")
    ref = {"Fn::GetAtt": [job, "GroupId"]}
    self_ingress = [
        r["Properties"]
        for r in dev.resources("AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == ref and r["Properties"].get("SourceSecurityGroupId") == ref
    ]
    assert len(self_ingress) == 1
    assert self_ingress[0]["IpProtocol"] == "-1"
    self_egress = [
        r["Properties"]
        for r in dev.resources("AWS::EC2::SecurityGroupEgress").values()
        if r["Properties"]["GroupId"] == ref
        and r["Properties"].get("DestinationSecurityGroupId") == ref
    ]
    assert len(self_egress) == 1


def test_workload_and_job_egress_is_https_or_internal_only(dev: Synth) -> None:
    for name in ("WorkloadSecurityGroup", "JobSecurityGroup"):
        group = dev.template["Resources"][_group_id(dev, name)]["Properties"]
        for rule in group.get("SecurityGroupEgress", []):
            assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", HTTPS, HTTPS)


def test_flow_logs_go_to_an_encrypted_log_group_with_retention(dev: Synth, prod: Synth) -> None:
    for synth, days in ((dev, 30), (prod, 731)):
        (flow,) = synth.resources("AWS::EC2::FlowLog").values()
        assert flow["Properties"]["TrafficType"] == "ALL"
        assert flow["Properties"]["LogDestinationType"] == "cloud-watch-logs"
        group_id = flow["Properties"]["LogGroupName"]["Ref"]
        group = synth.template["Resources"][group_id]["Properties"]
        assert group["RetentionInDays"] == days
        assert "KmsKeyId" in group


def test_every_log_group_is_encrypted_and_has_retention(every_variant: Synth) -> None:
    groups = every_variant.resources("AWS::Logs::LogGroup").values()
    assert groups
    for group in groups:
        assert group["Properties"]["RetentionInDays"] == every_variant.settings.log_retention_days
        assert "KmsKeyId" in group["Properties"]


def test_default_security_group_is_closed_by_a_governed_function(dev: Synth) -> None:
    (closer,) = dev.resources("Custom::VpcRestrictDefaultSG").values()
    assert closer["Properties"]["DefaultSecurityGroupId"]
    handler = next(
        r
        for r in dev.resources("AWS::Lambda::Function").values()
        if "VpcRestrictDefaultSG" in r["Metadata"]["aws:cdk:path"]
    )
    assert handler["Properties"]["ReservedConcurrentExecutions"] == 1
    group_id = handler["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    assert dev.template["Resources"][group_id]["Type"] == "AWS::Logs::LogGroup"


def test_an_existing_vpc_is_used_by_id_without_creating_one(existing_vpc: Synth) -> None:
    for type_ in ("AWS::EC2::VPC", "AWS::EC2::Subnet", "Custom::VpcRestrictDefaultSG"):
        assert not existing_vpc.resources(type_)
    interface = _endpoints(existing_vpc, "Interface")
    for props in interface.values():
        assert props["VpcId"] == EXISTING_VPC["vpcId"]
        assert props["SubnetIds"] == EXISTING_VPC["subnetIds"]
    gateway = _endpoints(existing_vpc, "Gateway")
    assert set(gateway) == {"s3"}
    assert gateway["s3"]["RouteTableIds"] == EXISTING_VPC["routeTableIds"]
    (flow,) = existing_vpc.resources("AWS::EC2::FlowLog").values()
    assert flow["Properties"]["ResourceId"] == EXISTING_VPC["vpcId"]
    outputs = existing_vpc.template["Outputs"]
    assert outputs["JobSubnetIds"]["Value"] == ",".join(EXISTING_VPC["subnetIds"])
