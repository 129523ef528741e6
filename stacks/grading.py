"""Grading: the built-in RFT grader function (lambdas/grader/), which Bedrock invokes by alias.

StartJob writes each grader configuration to ``graders/<config id>.json`` in the artifacts
bucket and gives the job the alias ``g-<config id>`` of this function
(customization_core/grader_alias.py); the function reads its configuration from there and
grades the samples Bedrock sends. It reads nothing else and writes nothing.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct

from customization_core.layout import GRADER_CONFIGS, GRADERS_PREFIX
from stacks.functions import FunctionSpec, PipelineFunctions
from stacks.grants import allow
from stacks.log_groups import Keeping

GRADER = "grader"  # lambdas/grader/handler.py


def grader_spec(artifacts: s3.IBucket, data_key: kms.IKey) -> FunctionSpec:
    """The built-in grader: it reads the grader configurations, through S3's key use only."""
    region = cdk.Stack.of(artifacts).region
    return FunctionSpec(
        GRADER,
        "Grade RFT samples with the built-in grader its alias names (Bedrock invokes it)",
        [
            allow(
                "ReadGraderConfigs",
                ["s3:GetObject"],
                [artifacts.arn_for_objects(GRADER_CONFIGS)],
                wildcard_reason=f"Grader configurations are named by a hash of their content "
                f"under '{GRADERS_PREFIX}': read only, nothing else of the artifacts bucket.",
            ),
            allow(
                "DecryptGraderConfigsThroughS3",
                ["kms:Decrypt"],
                [data_key.key_arn],
                {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
            ),
        ],
        # Bedrock waits for the rewards of each batch; 60 s is room for a batch of samples
        # graded in-process (the graders call nothing). Bedrock's page suggests raising the
        # default 3 s timeout for complex graders. Source, read 2026-12-02:
        # https://docs.aws.amazon.com/bedrock/latest/userguide/reward-functions.html
        timeout=cdk.Duration.seconds(60),
        memory_mb=256,
        # Not reserved: Bedrock calls the grader for many samples in parallel during
        # training ("Bedrock automatically handles parallel reward computation", page
        # above), and a reservation of 2 would throttle the job; the account's
        # unreserved pool bounds it.
        concurrency=None,
        unreserved_reason=(
            "Bedrock invokes the built-in grader for many training samples in parallel; "
            "reserving a small concurrency would throttle the RFT job, so it shares the "
            "account's unreserved pool."
        ),
        no_dlq_reason=(
            "Bedrock invokes it synchronously for each batch's rewards and handles a failure "
            "itself; a dead-letter queue only receives asynchronous invocations."
        ),
    )


class Grading(Construct):
    """The built-in grader function, in the VPC like the workflow's handlers."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        keeping: Keeping,
        artifacts: s3.IBucket,
        data_key: kms.IKey,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        security_group: ec2.ISecurityGroup,
    ) -> None:
        super().__init__(scope, id_)
        # Its own environment: the pipeline's (PIPELINE_CONFIG) names this function's ARN.
        functions = PipelineFunctions(
            self,
            "Functions",
            keeping=keeping,
            specs=[grader_spec(artifacts, data_key)],
            key=data_key,
            vpc=vpc,
            subnets=subnets,
            security_group=security_group,
            environment={"ARTIFACTS_BUCKET": artifacts.bucket_name},
        )
        self.function: lambda_.Function = functions.functions[GRADER]

    @property
    def function_arn(self) -> str:
        """The unqualified ARN; Bedrock is given its aliases (``<arn>:g-<config id>``)."""
        return self.function.function_arn
