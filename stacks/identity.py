"""Identity: the service role Bedrock assumes to run this account's customization jobs."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from customization_core.layout import JOBS_PREFIX, OUTPUT_FOLDER, RUN_INPUTS, RUNS_PREFIX
from stacks.compliance import acknowledge, nag_rendering
from stacks.network import Network
from stacks.storage import MODEL_KEY_ACTIONS, Storage

# Where users upload a run's files. The Bedrock role has no access to it: a file
# there can change after validation, so jobs train on the run's copy instead.
DATASETS_PREFIX = JOBS_PREFIX
ARTIFACTS_PREFIX = RUNS_PREFIX  # runs/<run-id>/: a run's report, input copy and output
# runs/<run-id>/input/: the data versions ValidateDataset judged, copied (customization_core/snapshot.py).
RUN_INPUT = RUN_INPUTS
# runs/<run-id>/output/: the outputDataConfig StartJob gives (naming.run_names' output_prefix).
RUN_OUTPUT = f"{ARTIFACTS_PREFIX}*/{OUTPUT_FOLDER}*"

# The network-interface permissions Bedrock needs to run a job in a VPC: AWS's documented
# policy, statement by statement, with its placeholders filled by the stack's subnets and
# job security group. Source ("Attach VPC permissions to a model customization role",
# read 2026-12-02): https://docs.aws.amazon.com/bedrock/latest/userguide/vpc-model-customization.html
ENI_DESCRIBE_ACTIONS = (
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
)
ENI_MANAGE_ACTIONS = (
    "ec2:CreateNetworkInterfacePermission",
    "ec2:DeleteNetworkInterface",
    "ec2:DeleteNetworkInterfacePermission",
)
BEDROCK_TAG_KEYS = ("BedrockManaged", "BedrockModelCustomizationJobArn")


class Identity(Construct):
    """The Bedrock model-customization service role."""

    def __init__(self, scope: Construct, id_: str, *, storage: Storage, network: Network) -> None:
        super().__init__(scope, id_)
        stack = cdk.Stack.of(self)
        self.job_arn_pattern = stack.format_arn(
            service="bedrock", resource="model-customization-job", resource_name="*"
        )

        # The confused-deputy guard: only jobs of this account may assume it. Source:
        # https://docs.aws.amazon.com/bedrock/latest/userguide/model-customization-iam-role.html
        self.bedrock_role = iam.Role(
            self,
            "BedrockCustomizationRole",
            description="Assumed by Amazon Bedrock to run this account's model customization jobs",
            assumed_by=iam.ServicePrincipal(
                "bedrock.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnEquals": {"aws:SourceArn": self.job_arn_pattern},
                },
            ),
        )
        # A customer-managed policy, not an inline one: it is versioned and can be
        # reviewed on its own (NIST 800-53 AC-6, HIPAA 164.308(a)(4)).
        self.policy = iam.ManagedPolicy(
            self,
            "BedrockCustomizationPolicy",
            description="What Bedrock may do while running this account's customization jobs",
            roles=[self.bedrock_role],
        )
        self._grant_data(storage)
        self._grant_keys(storage)
        self._grant_network(network)

    def grant_pass_to_bedrock(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` pass the service role, and only to Bedrock."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["iam:PassRole"],
            resource_arns=[self.bedrock_role.role_arn],
            conditions={"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}},
        )

    def _grant_data(self, storage: Storage) -> None:
        """Objects of the artifacts bucket only: nothing of the datasets bucket.

        S3 permissions Bedrock documents for the role: GetObject and ListBucket on the
        training data, GetObject, PutObject and ListBucket on the output. Source:
        https://docs.aws.amazon.com/bedrock/latest/userguide/model-customization-iam-role.html
        """
        artifacts = storage.artifacts
        objects = (
            (
                "ReadTrainingData",
                ("s3:GetObject",),
                RUN_INPUT,
                "Jobs read only the copy ValidateDataset made of the data versions it "
                "validated, under runs/<run-id>/input/; run ids are generated per run.",
            ),
            (
                "WriteRunOutput",
                ("s3:GetObject", "s3:PutObject"),
                RUN_OUTPUT,
                "Jobs write their model artifacts and metrics under runs/<run-id>/output/; "
                "run ids are generated per run.",
            ),
        )
        for sid, actions, pattern, reason in objects:
            arn = artifacts.arn_for_objects(pattern)
            self.policy.add_statements(
                iam.PolicyStatement(sid=sid, actions=list(actions), resources=[arn])
            )
            acknowledge(
                self.policy,
                "AwsSolutions-IAM5",
                reason,
                resource="Resource::" + nag_rendering(self, arn),
            )
        self.policy.add_statements(
            iam.PolicyStatement(
                sid="ListRunData",
                actions=["s3:ListBucket"],
                resources=[artifacts.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{ARTIFACTS_PREFIX}*"]}},
            )
        )

    def _grant_keys(self, storage: Storage) -> None:
        stack = cdk.Stack.of(self)
        role_principal = iam.ArnPrincipal(self.bedrock_role.role_arn)
        # Key policies name the role, so no IAM policy on it can widen KMS use,
        # and each key is usable by it only through the service that needs it.
        # The data key encrypts both buckets (stacks/storage.py): the role keeps it for
        # the artifacts bucket; its S3 permissions keep it out of the datasets bucket.
        storage.data_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="BedrockJobsReadAndWriteObjectsThroughS3",
                principals=[role_principal],
                actions=["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"],
                resources=["*"],
                conditions={"StringEquals": {"kms:ViaService": f"s3.{stack.region}.amazonaws.com"}},
            )
        )
        storage.model_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="BedrockJobsEncryptCustomModels",
                principals=[role_principal],
                actions=list(MODEL_KEY_ACTIONS),
                resources=["*"],
                conditions={
                    "StringEquals": {"kms:ViaService": f"bedrock.{stack.region}.amazonaws.com"}
                },
            )
        )

    def _grant_network(self, network: Network) -> None:
        stack = cdk.Stack.of(self)
        eni_arn = stack.format_arn(service="ec2", resource="network-interface", resource_name="*")
        subnet_arns = [
            stack.format_arn(service="ec2", resource="subnet", resource_name=subnet)
            for subnet in network.subnet_ids
        ]
        group_arn = stack.format_arn(
            service="ec2",
            resource="security-group",
            resource_name=network.job_security_group.security_group_id,
        )
        self.policy.add_statements(
            iam.PolicyStatement(
                sid="DescribeNetwork",
                actions=list(ENI_DESCRIBE_ACTIONS),
                resources=["*"],
            )
        )
        acknowledge(
            self.policy,
            "AwsSolutions-IAM5",
            "EC2 Describe* actions support no resource-level permissions; Bedrock documents them "
            "on '*'. The interface-management statement is on '*' as Bedrock documents it, bound "
            "to the job subnets (ec2:Subnet) and Bedrock's BedrockManaged and job-ARN tags.",
            resource="Resource::*",
        )
        self.policy.add_statements(
            iam.PolicyStatement(
                sid="CreateTaggedJobInterfaces",
                actions=["ec2:CreateNetworkInterface"],
                resources=[eni_arn],
                conditions={
                    "StringEquals": {"aws:RequestTag/BedrockManaged": ["true"]},
                    "ArnEquals": {
                        "aws:RequestTag/BedrockModelCustomizationJobArn": [self.job_arn_pattern]
                    },
                },
            )
        )
        self.policy.add_statements(
            iam.PolicyStatement(
                sid="CreateInterfacesInJobSubnets",
                actions=["ec2:CreateNetworkInterface"],
                resources=[*subnet_arns, group_arn],
            )
        )
        # Bedrock documents this statement on "*", not on network-interface/*:
        # DeleteNetworkInterfacePermission takes the network-interface resource only
        # optionally (Service Authorization Reference, Amazon EC2, iam-data 0.21.202609261,
        # read 2026-12-02). The conditions bind it: ec2:Subnet and the ec2:ResourceTag keys
        # are network-interface keys of all three actions, absent from any other request.
        self.policy.add_statements(
            iam.PolicyStatement(
                sid="ManageOnlyJobInterfaces",
                actions=list(ENI_MANAGE_ACTIONS),
                resources=["*"],
                conditions={
                    "ArnEquals": {
                        "ec2:Subnet": subnet_arns,
                        "ec2:ResourceTag/BedrockModelCustomizationJobArn": [self.job_arn_pattern],
                    },
                    "StringEquals": {"ec2:ResourceTag/BedrockManaged": "true"},
                },
            )
        )
        self.policy.add_statements(
            iam.PolicyStatement(
                sid="TagInterfacesAtCreation",
                actions=["ec2:CreateTags"],
                resources=[eni_arn],
                conditions={
                    "StringEquals": {"ec2:CreateAction": ["CreateNetworkInterface"]},
                    "ForAllValues:StringEquals": {"aws:TagKeys": list(BEDROCK_TAG_KEYS)},
                },
            )
        )
        acknowledge(
            self.policy,
            "AwsSolutions-IAM5",
            "Interface ids are chosen by EC2 at creation; the statements are bound to Bedrock's "
            "BedrockManaged and job-ARN tags and to the job subnets instead.",
            resource=f"Resource::{nag_rendering(self, eni_arn)}",
        )
