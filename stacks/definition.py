"""The customization workflow's definition: which handler runs when, and what each answer leads to.

Every field it compares and every value it compares with is the run contract's
(customization_core/contract.py: Status, JobStatus, DeploymentStatus, NextAction, Errors);
what each state does is in customization_core/*_step.py, *_steps.py and deployment*.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from customization_core.contract import (
    ERROR_FIELD,
    LAST_RESORT_RETRIES,
    DeploymentStatus,
    Errors,
    JobStatus,
    NextAction,
    Status,
)
from customization_core.job_steps import RunQueuedError
from customization_core.media import MediaUnavailableError
from customization_core.registry import RunEndedError
from customization_core.snapshot import SnapshotUnavailableError
from stacks.state_tasks import LAST_RESORT_INTERVAL, RUN_ERRORS, TRANSIENT, Tasks, vars_of

# How often a QUEUED run asks again for a job slot (minutes).
QUEUE_INTERVAL_MINUTES = 15
ERROR_PATH = f"$.{ERROR_FIELD}"


def _status_is(status: Status) -> sfn.Condition:
    return sfn.Condition.string_equals("$.status", status.value)


def _failed_with(scope: Construct, id_: str, error: str, cause: str) -> sfn.Pass:
    """A Pass state that records ``error`` where a Catch would, for RecordFailure to read."""
    return sfn.Pass(
        scope,
        id_,
        result=sfn.Result.from_object({"Error": error, "Cause": cause}),
        result_path=ERROR_PATH,
    )


def run_definition(
    states: Tasks,
    *,
    poll_interval_seconds: int,
    approval_timeout_hours: float,
    queue_retry_hours: float,
) -> sfn.IChainable:
    """From the uploaded manifest to the notification of how the run ended."""
    scope = states.scope
    poll = sfn.WaitTime.duration(cdk.Duration.seconds(poll_interval_seconds))
    run_failed = sfn.Fail(
        scope, "RunFailed", cause="The run failed; see the registry and the notification."
    )
    done = sfn.Succeed(scope, "RunEnded")
    # A handler found the run ended by someone else (the cancel path), who told people.
    ended_elsewhere = sfn.Succeed(
        scope, "EndedElsewhere", comment="The run was ended, and notified, by another path."
    )
    last_resort = states.last_resort()
    notify = states.invoke("notify", "Notify")
    notify.add_retry(
        errors=RUN_ERRORS,
        interval=cdk.Duration.seconds(LAST_RESORT_INTERVAL),
        backoff_rate=2,
        max_attempts=LAST_RESORT_RETRIES,
    )
    notify.add_catch(last_resort, errors=RUN_ERRORS, result_path="$.last_resort_error")
    notify.next(
        sfn.Choice(scope, "Outcome?").when(_status_is(Status.FAILED), run_failed).otherwise(done)
    )

    # RecordFailure takes whatever a Catch hands it (the raw execution input when
    # ValidateRequest crashed). A run another path ended is left quietly.
    record_failure, last_attempt = states.until_last_attempt(
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

    def task(
        name: str, state: str, *, transient: bool = False, **options: Any
    ) -> tasks.LambdaInvoke:
        invoked = states.invoke(name, state, **options)
        invoked.add_catch(ended_elsewhere, errors=[RunEndedError.__name__])
        invoked.add_catch(record_failure, errors=RUN_ERRORS, result_path=ERROR_PATH)
        if transient:
            invoked.add_retry(**vars_of(TRANSIENT))
        return invoked

    # ValidateRequest asks Bedrock about the base model (GetFoundationModel*).
    validate_request = task(
        "validate_request",
        "ValidateRequest",
        transient=True,
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
    validate_data = task("validate_data", "ValidateDataset")
    # Reading media objects and copying the validated data can be throttled by S3
    # (SlowDown, 5xx): retried, not judged.
    validate_data.add_retry(
        **{
            **vars_of(TRANSIENT),
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
        task_timeout=sfn.Timeout.duration(cdk.Duration.hours(approval_timeout_hours)),
    )
    start_job = task("start_job", "StartJob", transient=True)
    start_job.add_retry(
        errors=[RunQueuedError.__name__],
        interval=cdk.Duration.minutes(QUEUE_INTERVAL_MINUTES),
        backoff_rate=1,
        max_attempts=math.ceil(queue_retry_hours * 60 / QUEUE_INTERVAL_MINUTES),
    )
    check_job = task("check_job", "CheckJob", transient=True)
    record_result = task("record_result", "RecordResult", transient=True)
    wait = sfn.Wait(scope, "WaitForJob", time=poll)
    job_failed = _failed_with(
        scope, "JobFailed", Errors.JOB_FAILED, "The Bedrock job failed."
    ).next(record_failure)

    def retried(name: str, state: str) -> tasks.LambdaInvoke:
        return task(name, state, transient=True)

    after_training = _after_training(scope, retried, poll, notify, record_failure)
    rejected = _status_is(Status.REJECTED)
    training = (
        start_job.next(wait)
        .next(check_job)
        .next(
            sfn.Choice(scope, "JobStatus?")
            .when(sfn.Condition.string_equals("$.job_status", JobStatus.IN_PROGRESS.value), wait)
            .when(
                sfn.Condition.string_equals("$.job_status", JobStatus.COMPLETED.value),
                record_result.next(
                    sfn.Choice(scope, "ModelUsable?")
                    .when(_status_is(Status.FAILED), notify)
                    .otherwise(after_training)
                ),
            )
            .otherwise(job_failed)
        )
    )
    # ValidateRequest ends a run FAILED itself when the stack may not ask Bedrock
    # about models (a deployment fault): the run is told, and the execution fails.
    ended = sfn.Condition.or_(rejected, _status_is(Status.FAILED))
    # A run that deploys an existing custom model (a deploy-only manifest, deployModel)
    # trains nothing: no dataset to validate, no job; after the gates it goes straight
    # to the after-training branch (customization_core/deploy_existing.py).
    deploy_only = sfn.Condition.boolean_equals("$.trains", False)
    # One Next per state: approval and no approval both go on through this choice.
    trains = sfn.Choice(scope, "Trains?").when(deploy_only, after_training).otherwise(training)
    gates = estimate_cost.next(
        sfn.Choice(scope, "Approval?")
        .when(rejected, notify)
        .when(sfn.Condition.boolean_equals("$.needs_approval", True), approval.next(trains))
        .otherwise(trains)
    )
    return validate_request.next(
        sfn.Choice(scope, "Duplicate?")
        .when(
            sfn.Condition.boolean_equals("$.duplicate", True), sfn.Succeed(scope, "AlreadyHandled")
        )
        .when(ended, notify)
        .when(deploy_only, gates)
        .otherwise(
            validate_data.next(
                sfn.Choice(scope, "DatasetValid?").when(rejected, notify).otherwise(gates)
            )
        )
    )


def _after_training(
    scope: Construct,
    retried: Callable[[str, str], tasks.LambdaInvoke],
    poll: sfn.WaitTime,
    notify: sfn.IChainable,
    record_failure: sfn.IChainable,
) -> sfn.Choice:
    """Deploy (when the manifest asks), evaluate, watch the end time, tear down.

    Every wait is a Wait state and every check one Lambda call: the same in AWS and
    on the emulator. See customization_core/deployments.py, deployment_watch.py,
    evaluate_step.py and deployment_end.py.
    """

    def status_is(value: DeploymentStatus) -> sfn.Condition:
        return sfn.Condition.string_equals("$.deployment.status", value.value)

    def next_is(value: NextAction) -> sfn.Condition:
        return sfn.Condition.string_equals("$.next_action", value.value)

    failed = _failed_with(
        scope,
        "DeploymentFailed",
        Errors.DEPLOYMENT_FAILED,
        "The custom model could not be deployed.",
    ).next(record_failure)
    watch = retried("watch_deployment", "WatchDeployment")
    watch.next(
        sfn.Choice(scope, "DeploymentNext?")
        .when(
            next_is(NextAction.WAIT),
            sfn.Wait(
                scope, "WaitForEndTime", time=sfn.WaitTime.timestamp_path("$.wait_until")
            ).next(watch),
        )
        .when(next_is(NextAction.TEARDOWN), retried("tear_down", "TearDown").next(notify))
        .otherwise(notify)
    )
    evaluate_next = sfn.Choice(scope, "Evaluate?")
    evaluate = retried("evaluate", "Evaluate").next(evaluate_next)
    evaluate_next.when(
        sfn.Condition.boolean_equals("$.evaluation.done", False), evaluate
    ).otherwise(watch)
    wait_for_deployment = sfn.Wait(scope, "WaitForDeployment", time=poll)
    wait_for_deployment.next(retried("check_deployment", "CheckDeployment")).next(
        sfn.Choice(scope, "DeploymentReady?")
        .when(status_is(DeploymentStatus.ACTIVE), evaluate_next)
        .when(status_is(DeploymentStatus.CREATING), wait_for_deployment)
        .otherwise(failed)
    )
    wait_for_model = sfn.Wait(scope, "WaitForModel", time=poll)
    wait_for_model.next(retried("check_model", "CheckModel")).next(
        sfn.Choice(scope, "ModelActive?")
        .when(
            status_is(DeploymentStatus.MODEL_ACTIVE),
            retried("start_deployment", "StartDeployment").next(wait_for_deployment),
        )
        .when(status_is(DeploymentStatus.WAITING_FOR_MODEL), wait_for_model)
        .otherwise(failed)
    )
    return (
        sfn.Choice(scope, "Deploy?")
        .when(sfn.Condition.is_null("$.deployment"), notify)
        .otherwise(wait_for_model)
    )
