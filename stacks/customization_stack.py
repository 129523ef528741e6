"""The one stack a platform team deploys per account and stage."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from stacks.approvals import Approvals
from stacks.budgets import MonthlyBudget
from stacks.compliance import add_compliance_checks
from stacks.grading import GRADER, Grading
from stacks.identity import Identity
from stacks.job_invocations import function_arn
from stacks.log_groups import Keeping
from stacks.network import Network
from stacks.notifications import Notifications
from stacks.observability import Observability
from stacks.registry import Registry
from stacks.settings import Settings
from stacks.storage import Storage
from stacks.workflow import Workflow
from stacks.workflow_props import WorkflowProps

# Fn::GetAZs lists a region's zones at deploy time; three is the most any setting asks for.
MAX_AZS = 3


def region_problems(settings: Settings) -> list[str]:
    """Why the stage's models cannot be customized in its Region (by the catalog's Regions)."""
    from customization_core.catalog import load_catalog

    if settings.region is None:
        return []  # environment-agnostic: the live check judges at run time
    catalog = load_catalog()
    region = settings.region
    if settings.allowed_base_models is None:
        if any(region in c.regions for m in catalog.models for c in m.customizations.values()):
            return []
        return [
            f"No model of the catalog ({catalog.catalog_date}) can be customized in {region}: "
            "every run would be REJECTED. Deploy the stack in a Region from the README's "
            "'Which Region' table."
        ]
    problems = []
    for model_id in settings.allowed_base_models:
        model = catalog.find(model_id)
        if model is None:
            continue  # the settings refuse unknown ids
        where = sorted({r for c in model.customizations.values() for r in c.regions})
        if region not in where:
            problems.append(
                f"allowedBaseModels names {model_id}, which can be customized in "
                f"{', '.join(where)} only, not in {region}: its runs would be REJECTED."
            )
    return problems


class BedrockCustomizationStack(cdk.Stack):
    """Storage, network, identity and notifications for Bedrock model customization."""

    def __init__(self, scope: Construct, id_: str, *, settings: Settings, **kwargs: Any) -> None:
        super().__init__(
            scope,
            id_,
            description=f"Bedrock model customization pipeline ({settings.stage})",
            **kwargs,
        )
        self.settings = settings
        for problem in region_problems(settings):
            cdk.Annotations.of(self).add_warning_v2("bedrock-customization:region", problem)
        keeping = Keeping.of(retain=settings.retain, log_retention_days=settings.log_retention_days)
        self.storage = storage = Storage(
            self,
            "Storage",
            stage=settings.stage,
            keeping=keeping,
            noncurrent_version_days=settings.noncurrent_version_days,
        )
        data_key = storage.data_key
        self.notifications = Notifications(
            self,
            "Notifications",
            stage=settings.stage,
            emails=settings.notification_emails,
            key=data_key,
            removal_policy=keeping.removal_policy,
        )
        topic = self.notifications.topic
        # The approval key first: the KMS endpoint and the workflow's functions name it.
        self.approvals = Approvals(
            self,
            "Approvals",
            stage=settings.stage,
            keeping=keeping,
            datasets=storage.datasets,
            approvers=settings.approvers,
        )
        self.registry = Registry(
            self, "Registry", key=data_key, removal_policy=keeping.removal_policy
        )
        table = self.registry.table
        self.network = network = Network(
            self,
            "Network",
            keeping=keeping,
            log_key=data_key,
            vpc_cidr=settings.vpc_cidr,
            az_count=settings.az_count,
            existing_vpc=settings.existing_vpc,
            gateway_endpoints=settings.gateway_endpoints,
            interface_endpoints=settings.interface_endpoints,
            # Workloads and Bedrock write only to the artifacts bucket; the datasets bucket
            # (the inbox) is only read through the endpoint.
            read_only_buckets=[
                storage.datasets.bucket_arn,
                storage.datasets.arn_for_objects("*"),
            ],
            scope_to={
                "s3": [storage.artifacts.bucket_arn, storage.artifacts.arn_for_objects("*")],
                "kms": [data_key.key_arn, storage.model_key.key_arn, self.approvals.key.key_arn],
                "sns": [topic.topic_arn],
                "dynamodb": [table.table_arn, f"{table.table_arn}/index/*"],
                "lambda": [function_arn(self, "*")],
            },
        )
        # Before the identity and the workflow: the Bedrock role invokes it, StartJob aliases it.
        self.grading = Grading(
            self,
            "Grading",
            keeping=keeping,
            artifacts=storage.artifacts,
            data_key=data_key,
            vpc=network.vpc,
            subnets=network.subnets,
            security_group=network.workload_security_group,
        )
        self.identity = Identity(
            self,
            "Identity",
            artifacts=storage.artifacts,
            data_key=data_key,
            model_key=storage.model_key,
            subnet_ids=network.subnet_ids,
            job_security_group_id=network.job_security_group.security_group_id,
            grader_function_arn=self.grading.function_arn,
            grader_functions=settings.grader_functions,
            allowed_base_models=settings.allowed_base_models,
        )
        self.workflow = workflow = Workflow(
            self,
            "Workflow",
            props=WorkflowProps.of(settings),
            keeping=keeping,
            datasets=storage.datasets,
            artifacts=storage.artifacts,
            data_key=data_key,
            model_key=storage.model_key,
            approval_key=self.approvals.key,
            table=table,
            topic=topic,
            bedrock_role_arn=self.identity.bedrock_role.role_arn,
            vpc=network.vpc,
            subnets=network.subnets,
            workload_security_group=network.workload_security_group,
            job_security_group=network.job_security_group,
            grader_function_arn=self.grading.function_arn,
        )
        requester = workflow.functions["request_approval"].role
        assert requester is not None
        self.approvals.answer_with(
            datasets=storage.datasets,
            data_key=data_key,
            table_arn=table.table_arn,
            vpc=network.vpc,
            subnets=network.subnets,
            security_group=network.workload_security_group,
            environment=workflow.environment,
            requester=requester,
            dead_letters=workflow.dead_letters,
        )
        self.observability = Observability(
            self,
            "Observability",
            stage=settings.stage,
            topic=topic,
            key=data_key,
            state_machine=workflow.state_machine,
            functions={
                **workflow.functions,
                **self.approvals.functions,
                GRADER: self.grading.function,
            },
            queues={
                "UndeliveredRuns": workflow.dead_letters,
                "UndeliveredNotifications": self.notifications.undelivered,
                "UnendedRuns": workflow.unended,
                "UnprocessedAnswers": self.approvals.unprocessed,
            },
        )
        if settings.monthly_budget_usd is not None:
            MonthlyBudget(
                self,
                "Budget",
                monthly_usd=settings.monthly_budget_usd,
                notifications=self.notifications,
            )

        cdk.Tags.of(self).add("stage", settings.stage)
        for key, value in sorted(settings.tags.items()):
            cdk.Tags.of(self).add(key, value)
        self._outputs()

    @property
    def availability_zones(self) -> list[str]:
        # Tokens resolved by CloudFormation, so an environment-specific stack
        # needs no synth-time AZ lookup (which would need credentials).
        return [cdk.Fn.select(i, cdk.Fn.get_azs()) for i in range(MAX_AZS)]

    def _outputs(self) -> None:
        storage, network = self.storage, self.network
        outputs = {
            "DatasetsBucketName": storage.datasets.bucket_name,
            "ArtifactsBucketName": storage.artifacts.bucket_name,
            "DataKeyArn": storage.data_key.key_arn,
            "ModelKeyArn": storage.model_key.key_arn,
            "BedrockRoleArn": self.identity.bedrock_role.role_arn,
            "VpcId": network.vpc.vpc_id,
            "JobSubnetIds": cdk.Fn.join(",", network.subnet_ids),
            "JobSecurityGroupId": network.job_security_group.security_group_id,
            "WorkloadSecurityGroupId": network.workload_security_group.security_group_id,
            "NotificationTopicArn": self.notifications.topic.topic_arn,
            "RegistryTableName": self.registry.table.table_name,
            "StateMachineArn": self.workflow.state_machine.state_machine_arn,
            "UndeliveredRunsQueueUrl": self.workflow.dead_letters.queue_url,
            "UnendedRunsQueueUrl": self.workflow.unended.queue_url,
            "EndRunStateMachineArn": self.workflow.end_run.state_machine_arn,
            "DashboardName": self.observability.prefix,
        }
        for name, value in outputs.items():
            cdk.CfnOutput(self, name, value=value)


def build(app: cdk.App, settings: Settings) -> BedrockCustomizationStack:
    """Add the stage's stack to ``app`` with the compliance packs that gate every synth."""
    env = (
        cdk.Environment(account=settings.account, region=settings.region)
        if settings.account or settings.region
        else None
    )
    stack = BedrockCustomizationStack(app, settings.stack_name, settings=settings, env=env)
    add_compliance_checks(app)
    return stack
