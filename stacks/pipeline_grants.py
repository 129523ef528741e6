"""What the workflow's handlers are granted: the resources they name, and the grants several share.

A grant with a wildcard carries the reason for it; stacks/grants.py acknowledges the
findings from those reasons, so no reason is restated in a hand-written loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from customization_core.layout import (
    JOB_FILES,
    JOBS_PREFIX,
    REPORT_LISTINGS,
    REPORT_READS,
    RUN_REPORT_PAGES,
    RUNS_PREFIX,
)
from stacks.bedrock_arns import BedrockArns
from stacks.grants import Grant, allow
from stacks.job_invocations import function_arn

# Why each kind of Bedrock ARN pattern is a wildcard.
JOBS_REASON = (
    "Job and model names are generated per run; the ARNs are bound to this account, this "
    "Region and Bedrock's customization resources, and to this stack's owner tag."
)
MODELS_REASON = (
    "Custom models and deployments get names generated per run, and base models are AWS's: "
    "the ARNs are bound to Bedrock in this Region (and to this account, but for base models)."
)
# Why the handlers name the buckets' objects by prefix.
INBOX_REASON = (
    f"People name their jobs: the handlers read (never write) what they upload under "
    f"'{JOBS_PREFIX}<job name>/', and nothing else of the datasets bucket."
)
RUN_OBJECTS_REASON = (
    f"A run's objects are under '{RUNS_PREFIX}<run-id>/', run ids generated per run: nothing "
    "else of the artifacts bucket."
)
ANY_BASE_MODEL_REASON = (
    "unknownModels is 'warn' and no base models are listed: a job or a deployment may start "
    "from any base model, which AWS names, in this Region; what it creates must carry this "
    "stack's owner tag."
)


@dataclass(frozen=True)
class PipelineResources:
    """What the handlers' permissions name."""

    datasets: s3.IBucket
    artifacts: s3.IBucket
    data_key: kms.IKey
    model_key: kms.IKey
    approval_key: kms.IKey
    table_arn: str
    topic_arn: str
    bedrock_role_arn: str
    bedrock: BedrockArns
    # The built-in RFT grader function (unqualified ARN: stacks/grading.py).
    grader_function_arn: str

    @property
    def lambda_functions(self) -> str:
        """Every Lambda function of this account and Region."""
        return function_arn(cdk.Stack.of(self.datasets), "*")


@dataclass(frozen=True)
class SharedGrants:
    """The grants several handlers hold, made once from the resources they name."""

    resources: PipelineResources
    run_items: list[str]
    update_run: Grant
    read_run: Grant
    read_inbox: Grant
    list_inbox: Grant
    data_key: Grant
    publish: list[Grant]
    run_objects_reason: str
    use_model_key: Grant
    delete_deployment: Grant
    stop_job: Grant
    read_job: Grant
    read_model: Grant
    # What a handler that rewrites the run's report page reads and writes
    # (customization_core/report_publish.py), beside read_run and data_key.
    report_page: list[Grant]
    # unknownModels 'warn' without listed models: any base model may be asked and started from.
    any_base: bool

    @property
    def bedrock(self) -> BedrockArns:
        return self.resources.bedrock

    @property
    def region(self) -> str:
        return cdk.Stack.of(self.resources.datasets).region

    @classmethod
    def of(cls, r: PipelineResources) -> SharedGrants:
        region = cdk.Stack.of(r.datasets).region
        b = r.bedrock
        run_items = [r.table_arn]
        update_run = allow("RecordRun", ["dynamodb:UpdateItem"], run_items)
        read_run = allow("ReadRun", ["dynamodb:GetItem"], run_items)
        datasets = r.datasets
        read_inbox = allow(
            "ReadInbox",
            ["s3:GetObject", "s3:GetObjectVersion"],
            [datasets.arn_for_objects(JOB_FILES)],
            wildcard_reason=INBOX_REASON,
        )
        list_inbox = allow(
            "ListInbox",
            ["s3:ListBucket", "s3:ListBucketVersions"],
            [datasets.bucket_arn],
            {"StringLike": {"s3:prefix": [JOB_FILES]}},
        )
        data_key = allow(
            "UseDataKeyThroughS3", ["kms:Decrypt", "kms:GenerateDataKey"], [r.data_key.key_arn]
        )
        publish = [
            allow("Notify", ["sns:Publish"], [r.topic_arn]),
            allow(
                "EncryptNotifications", ["kms:Decrypt", "kms:GenerateDataKey"], [r.data_key.key_arn]
            ),
        ]
        run_objects_reason = RUN_OBJECTS_REASON
        use_model_key = allow(
            "EncryptCustomModel",
            ["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"],
            [r.model_key.key_arn],
            {"StringEquals": {"kms:ViaService": f"bedrock.{region}.amazonaws.com"}},
        )
        delete_deployment = allow(
            "DeleteDeployment",
            ["bedrock:DeleteProvisionedModelThroughput", "bedrock:DeleteCustomModelDeployment"],
            b.deployments,
            b.owned,
            wildcard_reason=MODELS_REASON,
        )
        stop_job = allow(
            "StopJob",
            ["bedrock:StopModelCustomizationJob"],
            [b.jobs],
            b.owned,
            wildcard_reason=JOBS_REASON,
        )
        read_job = allow(
            "ReadJob",
            ["bedrock:GetModelCustomizationJob"],
            [b.jobs],
            b.owned,
            wildcard_reason=JOBS_REASON,
        )
        read_model = allow(
            "ReadModel",
            ["bedrock:GetCustomModel"],
            [b.custom_models],
            b.owned,
            wildcard_reason=MODELS_REASON,
        )
        artifacts = r.artifacts
        report_page = [
            # Only what the page shows: never the run's copy of the training data
            # (runs/<id>/input/) nor what the job wrote beside its metrics.
            allow(
                "ReadRunRecords",
                ["s3:GetObject"],
                [artifacts.arn_for_objects(pattern) for pattern in REPORT_READS],
                wildcard_reason=f"The run's validation report, dataset card, evaluation and "
                f"metrics CSVs under '{RUNS_PREFIX}<run-id>/', run ids generated per run.",
            ),
            allow(
                "ListRunRecords",
                ["s3:ListBucket"],
                [artifacts.bucket_arn],
                {"StringLike": {"s3:prefix": list(REPORT_LISTINGS)}},
            ),
            allow(
                "WriteReportPage",
                ["s3:PutObject"],
                [artifacts.arn_for_objects(RUN_REPORT_PAGES)],
                wildcard_reason=f"Each run's page is '{RUN_REPORT_PAGES}', run ids generated "
                "per run: nothing else of the artifacts bucket.",
            ),
            allow(
                "UseDataKeyForReportPage",
                ["kms:Decrypt", "kms:GenerateDataKey"],
                [r.data_key.key_arn],
                {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
            ),
        ]
        any_base = b.asked_models == (b.foundation_models,)
        return cls(
            resources=r,
            run_items=run_items,
            update_run=update_run,
            read_run=read_run,
            read_inbox=read_inbox,
            list_inbox=list_inbox,
            data_key=data_key,
            publish=publish,
            run_objects_reason=run_objects_reason,
            use_model_key=use_model_key,
            delete_deployment=delete_deployment,
            stop_job=stop_job,
            read_job=read_job,
            read_model=read_model,
            report_page=report_page,
            any_base=any_base,
        )
