"""WatchDeployment: keep a ready deployment, wait for its idle check, notice or end time, or end it.

It wakes at the earliest of the idle check, the notice an hour before the end time and the
end time (``run.wait_until``); the idle check reads Bedrock's invocation metric from
CloudWatch. What then deletes the deployment: customization_core/deployment_end.py.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from botocore.exceptions import ConnectionError as NetworkError
from botocore.exceptions import HTTPClientError

from customization_core.contract import parse_stamp, stamp
from customization_core.faults import BedrockThrottledError, BedrockUnavailableError, error_code
from customization_core.naming import notice_subject
from customization_core.registry import Registry
from customization_core.run import NextAction, PipelineConfig, Run, Status

WARN_BEFORE: Final = timedelta(hours=1)  # the notice before a deployment is deleted
# Idle teardown. Bedrock counts successful Converse and InvokeModel(WithResponseStream)
# requests as Invocations in the AWS/Bedrock namespace, by the ModelId dimension ("ModelId
# - all metrics"). Source, read 2026-12-02:
# https://docs.aws.amazon.com/bedrock/latest/userguide/monitoring.html#runtime-cloudwatch-metrics
# A deployment is invoked with its ARN as modelId (API_CreateCustomModelDeployment.html, the
# same for a provisioned model ARN); AWS does not spell out the ModelId value recorded then.
# The ARN is what cloud-custodian's Provisioned Throughput metrics filter reads (read
# 2026-12-02: https://github.com/cloud-custodian/cloud-custodian/pull/10916); the watch asks
# for the ARN and for its last part, so that neither reading makes a used deployment look idle.
INVOCATIONS_NAMESPACE: Final = "AWS/Bedrock"
INVOCATIONS_METRIC: Final = "Invocations"
MODEL_DIMENSION: Final = "ModelId"
# Where a deployment's idle hours come from: the manifest, or the stage's default.
IDLE_FROM_MANIFEST: Final = "deploy.idleHours"
IDLE_FROM_STAGE: Final = "deploymentIdleHours"
# GetMetricStatistics returns at most 1,440 data points a call, and keeps 1-minute data for
# 15 days and 5-minute data for 63 days (older: hourly). Source, read 2026-12-02:
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricStatistics.html
MAX_DATAPOINTS: Final = 1440
METRIC_PERIODS: Final = ((timedelta(days=15), 60), (timedelta(days=63), 300))  # (age, seconds)
HOUR: Final = 3600  # seconds
MIN_RECHECK: Final = timedelta(minutes=1)  # the finest period of Bedrock's metrics
# CloudWatch's transient answers: throttling ("Throttling", read 2026-12-02:
# https://repost.aws/knowledge-center/cloudwatch-400-error-throttling) and its own faults
# (GetMetricStatistics' InternalServiceFault answers "InternalServiceError": botocore's
# cloudwatch/2010-08-01/service-2.json); the SDK's standard retry mode has retried them.
METRIC_THROTTLED: Final = ("Throttling", "ThrottlingException", "TooManyRequestsException")
METRIC_UNAVAILABLE: Final = ("InternalServiceError", "InternalFailure", "ServiceUnavailable")
NETWORK_FAULT: Final = "ServiceUnavailable"  # no connection: transient, like a 503
# Reads of one idle check: each failed one is an attempt of the state machine's retry of
# WatchDeployment (at most TRANSIENT_ATTEMPTS there), then the watch waits IDLE_RECHECK and
# asks again. The registry keeps the count, as a retried task gets its input unchanged.
METRIC_ATTEMPTS: Final = 3
METRIC_FAILURES: Final = "idle_check_failures"
IDLE_RECHECK: Final = timedelta(minutes=15)


def watch(
    run: Run,
    *,
    registry: Registry,
    sns: Any,
    cloudwatch: Any,
    config: PipelineConfig,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Decide what happens to a ready deployment: ``next_action`` keep, wait or teardown.

    It wakes at the earliest of the idle check, the notice an hour before the end time, and
    the end time. At the idle check it asks CloudWatch for the deployment's invocations since
    its last known use (the evaluation's calls come before the first watch, which starts the
    clock): none for ``idleHours`` and it is torn down early (IDLE). A metric CloudWatch will
    not give is retried, then waited for, never taken for idleness. The end time is the
    registry's (``bedrock-customize extend``), capped at ``max_expires_at``.
    """
    assert run.deployment is not None
    deployment = run.deployment
    now = now or datetime.now(UTC)
    if run.verdict == "NOT_PROMOTED":
        run.next_action = NextAction.TEARDOWN
        deployment["end_reason"] = "NOT_PROMOTED"
        return run.state()
    if "expires_at" not in deployment:  # the first watch: the deployment just became ready
        if deployment.get("ttl_hours") is None:
            run.next_action = NextAction.KEEP
            registry.update(
                run,
                Status.SUCCEEDED,
                reason="Deployed with no end time (ttlHours: null): delete it when it is no longer needed.",
                deployment=deployment,
            )
            return run.state()
        expires = now + timedelta(hours=float(deployment["ttl_hours"]))
        deployment["expires_at"] = stamp(expires)
        deployment["max_expires_at"] = stamp(now + timedelta(hours=config.max_deployment_ttl_hours))
        if expires - WARN_BEFORE <= now:  # too short a life for an hour's notice
            deployment["warned_for"] = deployment["expires_at"]
        idle, source = _idle_hours(deployment, config, now, now)
        _schedule(run, now)
        registry.update(
            run,
            Status.DEPLOYED,
            reason=f"Serving until {deployment['expires_at']}; then it is deleted, or earlier "
            f"once nobody has invoked it for {idle:g} hours.",
            deployment=deployment,
        )
        _tell(
            sns,
            config,
            run,
            f"Deployed: {run.run_id}",
            f"The custom model of run {run.run_id} serves from {deployment['arn']}.\n"
            f"It will be deleted at {deployment['expires_at']} (a notice comes an hour before), "
            f"or earlier if nobody invokes it for {idle:g} hours ({source}).\n"
            f"Extend it:  bedrock-customize extend {run.run_id} --hours N\n"
            f"Try it:     bedrock-customize invoke {run.run_id} --prompt '...'",
        )
        run.next_action = NextAction.WAIT
        return run.state()
    # The moment this wake is for: the time it was scheduled at, or now if later. (Only on
    # the emulator, whose Wait states are shortened, is the clock behind the schedule.)
    at = max(now, parse_stamp(run.wait_until)) if run.wait_until else now
    item = registry.get(run.run_id) or {}
    expires, notes = _end_time(deployment, item.get("deployment") or {}, config)
    if expires <= at:
        deployment["end_reason"] = "EXPIRED"
        run.next_action = NextAction.TEARDOWN
        return run.state()
    idle, source = _idle_hours(deployment, config, now, at)
    if parse_stamp(deployment["idle_check_at"]) <= at:
        try:
            used = last_invocation(
                cloudwatch, deployment["arn"], parse_stamp(deployment["idle_from"]), at
            )
        except MetricUnreadError as error:
            failures = int(item.get(METRIC_FAILURES, 0)) + 1
            if error.transient and failures < METRIC_ATTEMPTS:
                counted: dict[str, Any] = {METRIC_FAILURES: failures}
                registry.annotate(run.run_id, **counted)
                raise error.retryable() from error  # the state machine retries, with backoff
            # Never idle for want of a metric: the deployment is kept, and asked about later.
            deployment["idle_check_at"] = stamp(at + IDLE_RECHECK)
            if deployment.get("idle_check_unread") is None:  # said once per spell
                notes.append(
                    f"CloudWatch did not answer for the {INVOCATIONS_METRIC} metric "
                    f"({error.code}): the idle check is tried again at "
                    f"{deployment['idle_check_at']}; the deployment is kept meanwhile."
                )
            deployment["idle_check_unread"] = error.code
        else:
            if used is None:
                deployment["end_reason"] = "IDLE"
                run.next_action = NextAction.TEARDOWN
                return run.state()
            deployment.pop("idle_check_unread", None)
            used = min(used, now)
            deployment["idle_from"] = stamp(used)
            # idleHours after that use: from this wake, less the time since the use.
            deployment["idle_check_at"] = stamp(at + timedelta(hours=idle) - (now - used))
        if METRIC_FAILURES in item:
            registry.annotate(run.run_id, remove=(METRIC_FAILURES,))
    if expires - WARN_BEFORE <= at and deployment.get("warned_for") != deployment["expires_at"]:
        _tell(
            sns,
            config,
            run,
            f"Deployment ends in an hour: {run.run_id}",
            f"The deployment {deployment['arn']} of run {run.run_id} is deleted at "
            f"{deployment['expires_at']}.\nKeep it longer:  bedrock-customize extend {run.run_id} --hours N",
        )
        deployment["warned_for"] = deployment["expires_at"]
    _schedule(run, at)
    if notes:
        registry.update(run, Status.DEPLOYED, reason=" ".join(notes), deployment=deployment)
    run.next_action = NextAction.WAIT
    return run.state()


def _end_time(
    deployment: dict[str, Any], recorded: dict[str, Any], config: PipelineConfig
) -> tuple[datetime, list[str]]:
    """The end time the registry holds (``extend`` moves it), capped at the deployment's latest.

    The cap is the run's own ``max_expires_at`` (maxDeploymentTtlHours after it became
    ready), not the registry's: the watch enforces it whatever the registry says.
    """
    if "warned_for" not in deployment and deployment.get("phase") == "expire":
        deployment["warned_for"] = deployment["expires_at"]  # watched before warned_for was
    expires = parse_stamp(str(recorded.get("expires_at") or deployment["expires_at"]))
    latest = parse_stamp(str(deployment["max_expires_at"]))
    notes = []
    if expires > latest:
        notes.append(
            f"The registry's end time {stamp(expires)} is past this deployment's latest, "
            f"{stamp(latest)} (maxDeploymentTtlHours {config.max_deployment_ttl_hours:g}): "
            f"it is deleted at {stamp(latest)}."
        )
        expires = latest
    deployment["expires_at"] = stamp(expires)
    return expires, notes


def _schedule(run: Run, at: datetime) -> None:
    """The next wake-up: the earliest of the idle check, the notice and the end time."""
    assert run.deployment is not None
    deployment = run.deployment
    expires = parse_stamp(deployment["expires_at"])
    # Never at once: a check due again this minute would find the same minute's data.
    wakes = [expires, max(parse_stamp(deployment["idle_check_at"]), at + MIN_RECHECK)]
    if deployment.get("warned_for") != deployment["expires_at"]:
        wakes.append(expires - WARN_BEFORE)
    run.wait_until = stamp(min(wakes))
    deployment.pop("phase", None)  # what the watch scheduled by before idle checks


def _idle_hours(
    deployment: dict[str, Any], config: PipelineConfig, now: datetime, at: datetime
) -> tuple[float, str]:
    """The hours the deployment may go without an invocation, and the setting that says so.

    deploy.idleHours (``plan`` copies it), or the stage's deploymentIdleHours. The first
    watch starts the idle clock: what came before (the evaluation) was use.
    """
    if "idle_source" not in deployment:
        asked = deployment.get("idle_hours")
        deployment["idle_hours"] = float(asked if asked is not None else config.idle_hours)
        deployment["idle_source"] = IDLE_FROM_MANIFEST if asked is not None else IDLE_FROM_STAGE
    idle = float(deployment["idle_hours"])
    if "idle_check_at" not in deployment:  # the first watch, or a run watched before idle checks
        deployment["idle_from"] = stamp(now)
        deployment["idle_check_at"] = stamp(at + timedelta(hours=idle))
    return idle, str(deployment["idle_source"])


class MetricUnreadError(Exception):
    """CloudWatch did not give the invocation metric (a denial, a throttle, no network)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"CloudWatch GetMetricStatistics ({code}): {detail}")
        self.code = code
        self.transient = code in METRIC_THROTTLED or code in METRIC_UNAVAILABLE

    def retryable(self) -> Exception:
        """The exception the state machine retries (stacks/state_tasks.py, TRANSIENT_ERRORS)."""
        if self.code in METRIC_THROTTLED:
            return BedrockThrottledError(str(self))
        return BedrockUnavailableError(str(self))


@contextmanager
def _metric_faults() -> Iterator[None]:
    """Within the block, a failed CloudWatch read raises MetricUnreadError."""
    try:
        yield
    except (NetworkError, HTTPClientError) as fault:
        raise MetricUnreadError(NETWORK_FAULT, str(fault)) from fault
    except Exception as error:
        code = error_code(error)
        if not code:
            raise  # not CloudWatch's answer: a defect, not a missing metric
        raise MetricUnreadError(code, str(error)) from error


def metric_period(window: timedelta) -> int:
    """The finest period (seconds) GetMetricStatistics answers for a window reaching this far back."""
    for age, period in METRIC_PERIODS:
        if window <= age and window.total_seconds() / period <= MAX_DATAPOINTS:
            return period
    return HOUR * math.ceil(window.total_seconds() / HOUR / MAX_DATAPOINTS)


def last_invocation(cloudwatch: Any, arn: str, start: datetime, end: datetime) -> datetime | None:
    """The end of the latest period between ``start`` and ``end`` in which ``arn`` was invoked.

    None: no invocation at all (no data point, or only zeros). Raises MetricUnreadError when
    CloudWatch does not answer. Asked by the ARN and by its last part (see MODEL_DIMENSION).
    """
    period = metric_period(end - start)
    latest: datetime | None = None
    for value in dict.fromkeys((arn, arn.rsplit("/", 1)[-1])):
        with _metric_faults():
            answer = cloudwatch.get_metric_statistics(
                Namespace=INVOCATIONS_NAMESPACE,
                MetricName=INVOCATIONS_METRIC,
                Dimensions=[{"Name": MODEL_DIMENSION, "Value": value}],
                StartTime=start,
                EndTime=end,
                Period=period,
                Statistics=["Sum"],
            )
        for point in answer.get("Datapoints", []):
            if float(point.get("Sum", 0)) > 0:
                ended = point["Timestamp"].astimezone(UTC) + timedelta(seconds=period)
                latest = ended if latest is None else max(latest, ended)
    return latest


def _tell(sns: Any, config: PipelineConfig, run: Run, subject: str, message: str) -> None:
    sns.publish(
        TopicArn=config.topic_arn,
        Subject=notice_subject(subject),
        Message=message,
    )
