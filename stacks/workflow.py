"""Workflow: an upload of jobs/<name>/job.json runs a Bedrock customization end to end.

S3 (Object Created) -> EventBridge rule (key filter, retries, DLQ) -> Step
Functions standard workflow -> the handlers in lambdas/<name>/ -> Bedrock job
in the VPC with the model key -> registry -> notification. Every failure is
caught, recorded (FAILED or REJECTED with its cause) and notified; nothing is
deleted. This module composes the parts and owns the triggers: the handlers and
their permissions are in stacks/pipeline_specs.py, the definition in
stacks/definition.py, each state machine's role in stacks/state_machines.py.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from customization_core.layout import MANIFESTS
from stacks.bedrock_arns import BedrockArns
from stacks.definition import run_definition
from stacks.functions import PipelineFunctions
from stacks.grants import allow, managed_policy
from stacks.log_groups import Keeping
from stacks.pipeline_grants import PipelineResources
from stacks.pipeline_specs import pipeline_specs
from stacks.queues import dead_letter_queue
from stacks.state_machines import state_machine
from stacks.state_tasks import Tasks
from stacks.uploads import EVENT_MAX_AGE_HOURS, EVENT_RETRIES, object_created, uploaded_version
from stacks.workflow_props import WorkflowProps

# How often deployments are checked against their end time (minutes).
SWEEP_MINUTES = 15
# How long EndRun may keep trying to end a run (hours): its retries take about 5.
END_RUN_TIMEOUT_HOURS = 12


class Workflow(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        props: WorkflowProps,
        keeping: Keeping,
        datasets: s3.IBucket,
        artifacts: s3.IBucket,
        data_key: kms.IKey,
        model_key: kms.IKey,
        approval_key: kms.IKey,
        table: dynamodb.ITableV2,
        topic: sns.ITopic,
        bedrock_role_arn: str,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        workload_security_group: ec2.ISecurityGroup,
        job_security_group: ec2.ISecurityGroup,
        grader_function_arn: str,
    ) -> None:
        """``props``: the stage's rules and timing; the rest are what the handlers use
        (``grader_function_arn``: the built-in RFT grader, stacks/grading.py)."""
        super().__init__(scope, id_)
        stack = cdk.Stack.of(self)
        self._stack = stack
        config = {
            "artifacts_bucket": artifacts.bucket_name,
            "topic_arn": topic.topic_arn,
            "bedrock_role_arn": bedrock_role_arn,
            "model_key_arn": model_key.key_arn,
            "subnet_ids": [subnet.subnet_id for subnet in subnets.subnets or []],
            "security_group_ids": [job_security_group.security_group_id],
            # The owner tag's value on what the handlers create (customization_core/naming.py).
            "stack_name": stack.stack_name,
            **props.handler_config(),
            "grader_function_arn": grader_function_arn,
            # RequestApproval encrypts the task token with it (stacks/approvals.py).
            "approval_key_arn": approval_key.key_arn,
            "approvers": list(props.approvers) if props.approvers is not None else None,
        }
        specs = pipeline_specs(
            PipelineResources(
                datasets=datasets,
                artifacts=artifacts,
                data_key=data_key,
                model_key=model_key,
                approval_key=approval_key,
                table_arn=table.table_arn,
                topic_arn=topic.topic_arn,
                bedrock_role_arn=bedrock_role_arn,
                grader_function_arn=grader_function_arn,
                bedrock=BedrockArns.of(
                    stack,
                    allowed_base_models=props.allowed_base_models,
                    unknown_models=props.unknown_models,
                ),
            )
        )
        # Every handler's environment (AnswerApproval's too: stacks/approvals.py).
        self.environment = {
            "PIPELINE_CONFIG": stack.to_json_string(config),
            "REGISTRY_TABLE": table.table_name,
        }
        pipeline = PipelineFunctions(
            self,
            "Functions",
            keeping=keeping,
            specs=specs,
            key=data_key,
            vpc=vpc,
            subnets=subnets,
            security_group=workload_security_group,
            environment=self.environment,
        )
        self.functions = pipeline.functions
        # Runs whose end could not be recorded or notified, and ended executions whose job
        # or deployment could not be ended: each message waits for a person (an alarm).
        self.unended = dead_letter_queue(
            self,
            "UnendedRuns",
            key=data_key,
            removal_policy=keeping.removal_policy,
            sender="states.amazonaws.com",
            source_arn=stack.format_arn(
                service="states",
                resource="stateMachine",
                resource_name="*",
                arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
            ),
            purpose="of the workflow's last resort: runs whose end could not be recorded",
        )
        states = Tasks(self, functions=self.functions, unended=self.unended)
        self.state_machine = state_machine(
            self,
            "StateMachine",
            run_definition(
                states,
                poll_interval_seconds=props.poll_interval_seconds,
                approval_timeout_hours=props.approval_timeout_hours,
                queue_retry_hours=props.queue_retry_hours,
            ),
            key=data_key,
            keeping=keeping,
            unended_queue_arn=self.unended.queue_arn,
            functions=list(self.functions.values()),
            description="What the customization workflow may do",
            timeout=cdk.Duration.hours(props.limit_hours),
        )
        self.end_run = state_machine(
            self,
            "EndRun",
            states.end_run(),
            key=data_key,
            keeping=keeping,
            unended_queue_arn=self.unended.queue_arn,
            functions=[self.functions["cancel"]],
            description="What ending a stopped, timed-out or failed run may do",
            timeout=cdk.Duration.hours(END_RUN_TIMEOUT_HOURS),
        )
        self.rule, self.dead_letters = self._trigger(keeping, data_key, datasets.bucket_name)
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

    # The triggers ------------------------------------------------------------

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

    def _trigger(
        self, keeping: Keeping, key: kms.IKey, datasets_bucket_name: str
    ) -> tuple[events.Rule, sqs.Queue]:
        stack = self._stack
        dead_letters = dead_letter_queue(
            self,
            "UndeliveredRuns",
            key=key,
            removal_policy=keeping.removal_policy,
            sender="events.amazonaws.com",
            source_arn=self.rule_arns,
            purpose="of the EventBridge rules' targets: uploads, answers, stops and sweeps not delivered",
        )
        rule = events.Rule(
            self,
            "JobUploaded",
            description="Starts a customization run when jobs/<name>/job.json is uploaded",
            event_pattern=object_created(datasets_bucket_name, MANIFESTS),
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
        managed_policy(
            self,
            "TriggerPolicy",
            roles=[role],
            grants=[
                allow(
                    "StartRun",
                    ["states:StartExecution"],
                    [self.state_machine.state_machine_arn, self.end_run.state_machine_arn],
                )
            ],
        )
        rule.add_target(
            targets.SfnStateMachine(
                self.state_machine,
                input=uploaded_version(etag="$.detail.object.etag", time="$.time"),
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
