"""Identity: the service role Bedrock assumes to run this account's customization jobs."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from customization_core.layout import RUN_FILES, RUN_INPUTS, RUN_OUTPUTS
from stacks.bedrock_arns import job_arn_pattern
from stacks.grants import Grant, allow, managed_policy
from stacks.job_invocations import grader_grants, teacher_grants
from stacks.storage import MODEL_KEY_ACTIONS

# The Bedrock role has no access to the datasets bucket: a file there can change after
# validation, so jobs train on the run's copy instead (runs/<run-id>/input/, the data
# versions ValidateDataset judged: customization_core/snapshot.py) and write to
# runs/<run-id>/output/ (the outputDataConfig StartJob gives: naming.run_names' output_prefix).

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
INTERFACES_REASON = (
    "Interface ids are chosen by EC2 at creation; the statements are bound to Bedrock's "
    "BedrockManaged and job-ARN tags and to the job subnets instead."
)


class Identity(Construct):
    """The Bedrock model-customization service role."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        artifacts: s3.IBucket,
        data_key: kms.IKey,
        model_key: kms.IKey,
        subnet_ids: Sequence[str],
        job_security_group_id: str,
        grader_function_arn: str,
        grader_functions: Sequence[str] = (),
        allowed_base_models: Sequence[str] | None = None,
    ) -> None:
        """``grader_function_arn``: the built-in grader (stacks/grading.py);
        ``grader_functions``: the stage's own graders by name (settings graderFunctions);
        ``allowed_base_models``: the stage's students, which pick the teachers."""
        super().__init__(scope, id_)
        stack = cdk.Stack.of(self)
        self.job_arn_pattern = job_arn_pattern(stack)

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
        self.policy = managed_policy(
            self,
            "BedrockCustomizationPolicy",
            description="What Bedrock may do while running this account's customization jobs",
            roles=[self.bedrock_role],
            grants=[
                *_data_grants(artifacts),
                *self._network_grants(subnet_ids, job_security_group_id),
                # Distillation's teachers and RFT's graders (stacks/job_invocations.py).
                *teacher_grants(stack, allowed_base_models),
                *grader_grants(
                    stack, builtin_arn=grader_function_arn, allowed_names=grader_functions
                ),
            ],
        )
        self._grant_keys(data_key, model_key)

    def _grant_keys(self, data_key: kms.IKey, model_key: kms.IKey) -> None:
        stack = cdk.Stack.of(self)
        role_principal = iam.ArnPrincipal(self.bedrock_role.role_arn)
        # Key policies name the role, so no IAM policy on it can widen KMS use,
        # and each key is usable by it only through the service that needs it.
        # The data key encrypts both buckets (stacks/storage.py): the role keeps it for
        # the artifacts bucket; its S3 permissions keep it out of the datasets bucket.
        data_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="BedrockJobsReadAndWriteObjectsThroughS3",
                principals=[role_principal],
                actions=["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"],
                resources=["*"],
                conditions={"StringEquals": {"kms:ViaService": f"s3.{stack.region}.amazonaws.com"}},
            )
        )
        model_key.add_to_resource_policy(
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

    def _network_grants(self, subnet_ids: Sequence[str], job_security_group_id: str) -> list[Grant]:
        stack = cdk.Stack.of(self)
        eni_arn = stack.format_arn(service="ec2", resource="network-interface", resource_name="*")
        subnet_arns = [
            stack.format_arn(service="ec2", resource="subnet", resource_name=subnet)
            for subnet in subnet_ids
        ]
        group_arn = stack.format_arn(
            service="ec2", resource="security-group", resource_name=job_security_group_id
        )
        return [
            allow(
                "DescribeNetwork",
                ENI_DESCRIBE_ACTIONS,
                ["*"],
                wildcard_reason="EC2 Describe* actions support no resource-level permissions; "
                "Bedrock documents them on '*'.",
            ),
            allow(
                "CreateTaggedJobInterfaces",
                ["ec2:CreateNetworkInterface"],
                [eni_arn],
                {
                    "StringEquals": {"aws:RequestTag/BedrockManaged": ["true"]},
                    "ArnEquals": {
                        "aws:RequestTag/BedrockModelCustomizationJobArn": [self.job_arn_pattern]
                    },
                },
                wildcard_reason=INTERFACES_REASON,
            ),
            allow(
                "CreateInterfacesInJobSubnets",
                ["ec2:CreateNetworkInterface"],
                [*subnet_arns, group_arn],
            ),
            # Bedrock documents this statement on "*", not on network-interface/*:
            # DeleteNetworkInterfacePermission takes the network-interface resource only
            # optionally (Service Authorization Reference, Amazon EC2, iam-data 0.21.202609261,
            # read 2026-12-02). The conditions bind it: ec2:Subnet and the ec2:ResourceTag keys
            # are network-interface keys of all three actions, absent from any other request.
            allow(
                "ManageOnlyJobInterfaces",
                ENI_MANAGE_ACTIONS,
                ["*"],
                {
                    "ArnEquals": {
                        "ec2:Subnet": subnet_arns,
                        "ec2:ResourceTag/BedrockModelCustomizationJobArn": [self.job_arn_pattern],
                    },
                    "StringEquals": {"ec2:ResourceTag/BedrockManaged": "true"},
                },
                wildcard_reason="The interface-management statement is on '*' as Bedrock "
                "documents it, bound to the job subnets (ec2:Subnet) and Bedrock's "
                "BedrockManaged and job-ARN tags.",
            ),
            allow(
                "TagInterfacesAtCreation",
                ["ec2:CreateTags"],
                [eni_arn],
                {
                    "StringEquals": {"ec2:CreateAction": ["CreateNetworkInterface"]},
                    "ForAllValues:StringEquals": {"aws:TagKeys": list(BEDROCK_TAG_KEYS)},
                },
                wildcard_reason=INTERFACES_REASON,
            ),
        ]


def _data_grants(artifacts: s3.IBucket) -> list[Grant]:
    """Objects of the artifacts bucket only: nothing of the datasets bucket.

    S3 permissions Bedrock documents for the role: GetObject and ListBucket on the
    training data, GetObject, PutObject and ListBucket on the output. Source:
    https://docs.aws.amazon.com/bedrock/latest/userguide/model-customization-iam-role.html
    """
    return [
        allow(
            "ReadTrainingData",
            ["s3:GetObject"],
            [artifacts.arn_for_objects(RUN_INPUTS)],
            wildcard_reason="Jobs read only the copy ValidateDataset made of the data versions "
            "it validated, under runs/<run-id>/input/; run ids are generated per run.",
        ),
        allow(
            "WriteRunOutput",
            ["s3:GetObject", "s3:PutObject"],
            [artifacts.arn_for_objects(RUN_OUTPUTS)],
            wildcard_reason="Jobs write their model artifacts and metrics under "
            "runs/<run-id>/output/; run ids are generated per run.",
        ),
        allow(
            "ListRunData",
            ["s3:ListBucket"],
            [artifacts.bucket_arn],
            {"StringLike": {"s3:prefix": [RUN_FILES]}},
        ),
    ]
