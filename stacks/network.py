"""Network: private subnets with no route to the internet, and the endpoints they use.

Workloads (the pipeline's Lambda functions) and Bedrock customization jobs run
in isolated subnets. AWS APIs are reached through PrivateLink interface
endpoints (private DNS on) and S3/DynamoDB gateway endpoints; every endpoint
has a policy that admits only this account's principals and the actions the
product calls, on the project's own resources where the service allows it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.compliance import acknowledge, checkov_skip
from stacks.endpoint_actions import (
    AWS_OWNED_REGIONS,
    ENDPOINT_ACTIONS,
    INTERFACE_ENDPOINT_SERVICES,
    NO_RESOURCE_ACTIONS,
    S3_READ_ACTIONS,
)
from stacks.log_groups import Keeping, encrypted_log_group
from stacks.names import pascal
from stacks.settings import ExistingVpc, GatewayService, InterfaceService

HTTPS = 443  # TCP port of every AWS API endpoint

# Subnet size: /22 gives 1,019 usable addresses per AZ, room for the network
# interfaces Bedrock creates per job node and for Lambda's.
SUBNET_CIDR_MASK = 22


class Network(Construct):
    """The VPC, its endpoints, and the security groups of workloads, endpoints and jobs."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        keeping: Keeping,
        log_key: kms.IKey,
        vpc_cidr: str,
        az_count: int,
        existing_vpc: ExistingVpc | None,
        gateway_endpoints: Sequence[GatewayService],
        interface_endpoints: Sequence[InterfaceService],
        scope_to: Mapping[str, Sequence[str]],
        read_only_buckets: Sequence[str] = (),
    ) -> None:
        """``scope_to`` maps an endpoint (``s3``, ``kms``, ``sns``...) to the ARNs its policy admits.

        An endpoint it does not name admits this account's resources of that service in this
        Region (and the base models AWS owns, for Bedrock); actions that take no resource are
        admitted on ``*``, apart. ``read_only_buckets``: bucket and object ARNs the S3
        endpoint admits for reading only (``S3_READ_ACTIONS``).
        """
        super().__init__(scope, id_)
        self._scope_to = scope_to
        self._read_only_buckets = list(read_only_buckets)
        self._account = cdk.Stack.of(self).account
        self._keeping = keeping
        self.vpc = self._vpc(existing_vpc, vpc_cidr, az_count, log_key)
        self.private_subnets = list(self.vpc.isolated_subnets)
        self.subnets = ec2.SubnetSelection(subnets=self.private_subnets)

        flow_log_group = encrypted_log_group(self, "FlowLogs", key=log_key, keeping=keeping)
        ec2.FlowLog(
            self,
            "FlowLog",
            resource_type=ec2.FlowLogResourceType.from_vpc(self.vpc),
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(
                flow_log_group, self._flow_log_role(flow_log_group)
            ),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )

        self.workload_security_group = ec2.SecurityGroup(
            self,
            "WorkloadSecurityGroup",
            vpc=self.vpc,
            description="Pipeline Lambda functions: HTTPS to AWS endpoints only",
            allow_all_outbound=False,
        )
        self.endpoint_security_group = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=self.vpc,
            description="Interface endpoints: HTTPS from pipeline workloads only",
            allow_all_outbound=False,
        )
        self.endpoint_security_group.add_ingress_rule(
            self.workload_security_group, ec2.Port.tcp(HTTPS), "HTTPS from pipeline workloads"
        )
        self.workload_security_group.add_egress_rule(
            self.endpoint_security_group, ec2.Port.tcp(HTTPS), "HTTPS to interface endpoints"
        )
        # Gateway endpoints are reached by route, not by address, and their
        # prefix-list ids differ per region (no synth-time lookup): the subnets
        # have no other route out, so HTTPS to any address reaches only them.
        self.workload_security_group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(HTTPS), "HTTPS to S3 and DynamoDB gateway endpoints"
        )

        self.job_security_group = ec2.SecurityGroup(
            self,
            "JobSecurityGroup",
            vpc=self.vpc,
            description="Bedrock customization jobs: node-to-node traffic and HTTPS to S3",
            allow_all_outbound=False,
        )
        # Multi-node training jobs fail with "Data download failed ...
        # communication between worker nodes" unless nodes may reach each other.
        self.job_security_group.connections.allow_internally(
            ec2.Port.all_traffic(), "Between the nodes of one training job"
        )
        self.job_security_group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(HTTPS), "HTTPS to the S3 gateway endpoint"
        )
        for rule in (
            "NIST.800.53.R5-EC2RestrictedCommonPorts",
            "HIPAA.Security-EC2RestrictedCommonPorts",
        ):
            acknowledge(
                self.job_security_group,
                rule,
                "The all-traffic rule's source is this group itself: only nodes of the same "
                "training job, which Bedrock documents no narrower port range for.",
            )
        for group, used_by in (
            (self.workload_security_group, "the pipeline's Lambda functions"),
            (self.job_security_group, "Bedrock customization jobs through the job's vpcConfig"),
        ):
            checkov_skip(
                group,
                "CKV2_AWS_5",
                f"Attached at run time by {used_by}, not by a resource in this template.",
            )

        self.gateway_endpoints = {name: self._gateway_endpoint(name) for name in gateway_endpoints}
        self.interface_endpoints = {
            name: self._interface_endpoint(name) for name in interface_endpoints
        }

    def _flow_log_role(self, group: logs.ILogGroup) -> iam.IRole:
        stack = cdk.Stack.of(self)
        role = iam.Role(
            self,
            "FlowLogRole",
            description="Delivers this VPC's flow logs to their log group",
            assumed_by=iam.ServicePrincipal(
                "vpc-flow-logs.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {
                        "aws:SourceArn": stack.format_arn(
                            service="ec2", resource="vpc-flow-log", resource_name="*"
                        )
                    },
                },
            ),
        )
        # The permissions flow logs document for a CloudWatch Logs destination,
        # on this one group (which exists, so no CreateLogGroup). Source:
        # https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html
        iam.ManagedPolicy(
            self,
            "FlowLogPolicy",
            description="Write this VPC's flow logs to their log group",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    actions=[
                        "logs:CreateLogStream",
                        "logs:DescribeLogStreams",
                        "logs:PutLogEvents",
                    ],
                    resources=[group.log_group_arn],
                )
            ],
        )
        # CDK would otherwise add an inline policy with the same grant.
        return role.without_policy_updates()

    @property
    def subnet_ids(self) -> list[str]:
        """Ids of the subnets workloads and Bedrock jobs run in."""
        return [subnet.subnet_id for subnet in self.private_subnets]

    def _vpc(
        self, existing: ExistingVpc | None, cidr: str, az_count: int, log_key: kms.IKey
    ) -> ec2.IVpc:
        if existing is not None:
            # Attributes, not a lookup: synth stays offline and deterministic.
            return ec2.Vpc.from_vpc_attributes(
                self,
                "Vpc",
                vpc_id=existing.vpc_id,
                availability_zones=list(existing.availability_zones),
                isolated_subnet_ids=list(existing.subnet_ids),
                isolated_subnet_route_table_ids=list(existing.route_table_ids),
            )
        vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(cidr),
            max_azs=az_count,
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="private",
                    subnet_type=ec2.SubnetType.PRIVATE_ISOLATED,
                    cidr_mask=SUBNET_CIDR_MASK,
                )
            ],
            enable_dns_hostnames=True,  # private DNS of interface endpoints needs both
            enable_dns_support=True,
            restrict_default_security_group=True,
        )
        self._govern_default_group_closer(log_key)
        return vpc

    def _govern_default_group_closer(self, log_key: kms.IKey) -> None:
        """Give CDK's default-security-group closer the governance of our own functions.

        ``restrict_default_security_group`` strips every rule from the VPC's
        default group (Security Hub EC2.2, NIST SC-7) through a one-shot
        custom-resource Lambda. CDK renders it as a raw resource, so cdk-nag
        does not see it: it would log to a group with no retention and no CMK.
        """
        stack = cdk.Stack.of(self)
        provider = stack.node.try_find_child("Custom::VpcRestrictDefaultSGCustomResourceProvider")
        handler = provider.node.try_find_child("Handler") if provider else None
        if not isinstance(handler, cdk.CfnResource):
            raise RuntimeError(
                "aws-cdk-lib no longer renders the default-security-group closer as "
                "Custom::VpcRestrictDefaultSGCustomResourceProvider/Handler: review this method"
            )
        group = encrypted_log_group(
            self, "DefaultGroupCloserLogs", key=log_key, keeping=self._keeping
        )
        handler.add_property_override("LoggingConfig.LogGroup", group.log_group_name)
        # It runs once per deployment; one concurrent run is all it ever needs.
        handler.add_property_override("ReservedConcurrentExecutions", 1)
        # The Role GetAtt already orders it after its role (cfn-lint W3005).
        handler.add_deletion_override("DependsOn")
        checkov_skip(
            handler,
            "CKV_AWS_116",
            "CloudFormation waits on this custom resource and reports its failure; "
            "a dead-letter queue would hold nothing anyone acts on.",
        )
        checkov_skip(
            handler,
            "CKV_AWS_117",
            "It calls the EC2 API, which the isolated subnets have no endpoint for; "
            "it runs once at deploy time and handles no data.",
        )

    def _gateway_endpoint(self, name: str) -> ec2.GatewayVpcEndpoint:
        service = {
            "s3": ec2.GatewayVpcEndpointAwsService.S3,
            "dynamodb": ec2.GatewayVpcEndpointAwsService.DYNAMODB,
        }[name]
        endpoint = ec2.GatewayVpcEndpoint(
            self,
            f"{pascal(name)}Endpoint",
            vpc=self.vpc,
            service=service,
            subnets=[self.subnets],
        )
        # S3 ARNs carry no account, so S3 admits only the buckets it is given;
        # DynamoDB defaults to this account's tables.
        account_wide = {
            "s3": [],
            "dynamodb": [
                cdk.Stack.of(self).format_arn(
                    service="dynamodb", resource="table", resource_name="*"
                )
            ],
        }[name]
        resources = list(self._scope_to.get(name, account_wide))
        if not resources:
            raise ValueError(f"The {name} gateway endpoint needs the bucket ARNs it may reach.")
        endpoint.add_to_policy(self._endpoint_statement(name, ENDPOINT_ACTIONS[name], resources))
        if name == "s3" and self._read_only_buckets:
            endpoint.add_to_policy(
                self._endpoint_statement(
                    "s3-read", S3_READ_ACTIONS, self._read_only_buckets, sid="S3ReadsOfThisAccount"
                )
            )
        return endpoint

    def _interface_endpoint(self, name: InterfaceService) -> ec2.InterfaceVpcEndpoint:
        endpoint = ec2.InterfaceVpcEndpoint(
            self,
            f"{pascal(name)}Endpoint",
            vpc=self.vpc,
            service=INTERFACE_ENDPOINT_SERVICES[name],
            private_dns_enabled=True,
            subnets=self.subnets,
            security_groups=[self.endpoint_security_group],
            # Without this CDK would also admit 443 from the whole VPC CIDR.
            open=False,
        )
        actions = ENDPOINT_ACTIONS[name]
        scoped = [a for a in actions if a not in NO_RESOURCE_ACTIONS]
        unscoped = [a for a in actions if a in NO_RESOURCE_ACTIONS]
        if scoped:
            resources = list(self._scope_to.get(name, self._account_resources(name)))
            endpoint.add_to_policy(self._endpoint_statement(name, scoped, resources))
        if unscoped:
            # No resource to name: the resource account is compared wherever the request
            # carries one (global key aws:ResourceAccount; the IfExists operator).
            endpoint.add_to_policy(
                self._endpoint_statement(
                    name,
                    unscoped,
                    ["*"],
                    sid=f"{pascal(name)}CallsWithoutResource",
                    extra={"StringEqualsIfExists": {"aws:ResourceAccount": self._account}},
                )
            )
        return endpoint

    def _account_resources(self, name: InterfaceService) -> list[str]:
        """This account's resources of the endpoint's service in this Region, and AWS's base models."""
        stack = cdk.Stack.of(self)
        service = ENDPOINT_ACTIONS[name][0].split(":", 1)[0]
        own = stack.format_arn(
            service=service, resource="*", arn_format=cdk.ArnFormat.NO_RESOURCE_NAME
        )
        if name not in AWS_OWNED_REGIONS:
            return [own]
        base_models = stack.format_arn(
            service="bedrock",
            resource="foundation-model",
            resource_name="*",
            account="",
            region=AWS_OWNED_REGIONS[name],
        )
        return [own, base_models]

    def _endpoint_statement(
        self,
        name: str,
        actions: Sequence[str],
        resources: list[str],
        *,
        sid: str | None = None,
        extra: Mapping[str, Mapping[str, str]] | None = None,
    ) -> iam.PolicyStatement:
        return iam.PolicyStatement(
            sid=sid or f"{pascal(name)}CallsOfThisAccount",
            principals=[iam.AnyPrincipal()],
            actions=list(actions),
            resources=resources,
            conditions={"StringEquals": {"aws:PrincipalAccount": self._account}, **(extra or {})},
        )
