"""The pipeline's Lambda functions: one per handler in lambdas/<name>/, one code asset for all.

Every function runs arm64 in the private subnets with the workload security
group, reserved concurrency, X-Ray, a KMS-encrypted environment and its own
log group with retention. Its role has exactly the statements given here, in
a customer-managed policy: CDK's automatic grants would add inline policies,
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
from stacks import lambda_bundle
from stacks.compliance import acknowledge, checkov_skip, nag_rendering
from stacks.log_groups import encrypted_log_group
from stacks.settings import Settings

# What a function in a VPC needs to manage its network interfaces; EC2 scopes
# none of these to a resource. Source:
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions
VPC_ACTIONS = (
    "ec2:AssignPrivateIpAddresses",
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:UnassignPrivateIpAddresses",
)
XRAY_ACTIONS = ("xray:PutTelemetryRecords", "xray:PutTraceSegments")


@dataclass(frozen=True)
class FunctionSpec:
    """One handler: its name (the folder under lambdas/), what it does, and its grants."""

    name: str
    description: str
    statements: Sequence[iam.PolicyStatement]
    memory_mb: int = 256
    timeout: cdk.Duration = field(default_factory=lambda: cdk.Duration.seconds(60))
    # At most this many runs are handled at once by this function.
    concurrency: int = 2
    # Why the function needs no dead-letter queue of its own (it is not invoked asynchronously).
    no_dlq_reason: str = (
        "Step Functions invokes it synchronously and retries or catches every failure; "
        "a dead-letter queue only receives asynchronous invocations."
    )


class PipelineFunctions(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        settings: Settings,
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
                spec, code, settings, key, vpc, subnets, security_group, environment
            )

    def _function(
        self,
        spec: FunctionSpec,
        code: lambda_.Code,
        settings: Settings,
        key: kms.IKey,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        security_group: ec2.ISecurityGroup,
        environment: Mapping[str, str],
    ) -> tuple[lambda_.Function, iam.ManagedPolicy]:
        pascal = "".join(part.capitalize() for part in spec.name.split("_"))
        log_group = encrypted_log_group(self, f"{pascal}Logs", key=key, settings=settings)
        role = iam.Role(
            self,
            f"{pascal}Role",
            description=f"Runs the {spec.name} handler of the customization workflow",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        )
        policy = iam.ManagedPolicy(
            self,
            f"{pascal}Policy",
            description=f"What the {spec.name} handler may do",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    sid="WriteOwnLogs",
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[log_group.log_group_arn],
                ),
                iam.PolicyStatement(
                    sid="ManageVpcInterfaces", actions=list(VPC_ACTIONS), resources=["*"]
                ),
                iam.PolicyStatement(sid="Trace", actions=list(XRAY_ACTIONS), resources=["*"]),
                iam.PolicyStatement(
                    sid="ReadEncryptedEnvironment",
                    actions=["kms:Decrypt"],
                    resources=[key.key_arn],
                    conditions={
                        "StringEquals": {
                            "kms:ViaService": f"lambda.{cdk.Stack.of(self).region}.amazonaws.com"
                        }
                    },
                ),
                *spec.statements,
            ],
        )
        acknowledge(
            policy,
            "AwsSolutions-IAM5",
            "EC2 network-interface and X-Ray actions support no resource-level permissions "
            "(Lambda VPC access and tracing need them on '*').",
            resource="Resource::*",
        )
        acknowledge(
            policy,
            "AwsSolutions-IAM5",
            "A log group ARN ends in ':*' to cover its log streams; this is the function's own group.",
            resource=f"Resource::{nag_rendering(self, log_group.log_group_arn)}",
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
            "The unconstrained writes are the EC2 network-interface actions Lambda needs in a VPC "
            "(and X-Ray's); EC2 offers no resource scoping for them. Every other statement names its resources.",
        )
        for rule in (
            "Serverless-LambdaDLQ",
            "NIST.800.53.R5-LambdaDLQ",
            "HIPAA.Security-LambdaDLQ",
        ):
            acknowledge(
                function,
                rule,
                "Step Functions invokes it synchronously and retries or catches every failure; "
                "a dead-letter queue only receives asynchronous invocations.",
            )
        checkov_skip(
            function,
            "CKV_AWS_116",
            "Invoked synchronously by Step Functions, which retries and catches failures; "
            "a dead-letter queue only applies to asynchronous invocations.",
        )
        return function, policy
