"""After training: deploy the custom model, keep it alive until its end time, then delete it.

``deploy.mode`` provisioned buys Provisioned Throughput without commitment
(CreateProvisionedModelThroughput); on-demand creates a custom model
deployment (CreateCustomModelDeployment, for the base models the catalog
marks). The workflow waits for the model to be Active and the deployment to
be ready, evaluates it when asked (customization_core/evaluate_step.py), and
then watches it: a notification an hour before its end time, deletion at it,
or earlier once nobody has invoked it for ``idleHours`` (Bedrock's invocation
metric in CloudWatch). ``bedrock-customize extend`` moves the end time in the
registry; the watch reads it each time it wakes, capped at the deployment's
latest end time (``maxDeploymentTtlHours``). A run that fails or is cancelled
deletes its deployment too: nothing billed by the hour is left without an
owner and an end time, unless the manifest says ``ttlHours: null``.

API reference: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_CreateProvisionedModelThroughput.html
and https://docs.aws.amazon.com/bedrock/latest/APIReference/API_CreateCustomModelDeployment.html
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from botocore.exceptions import ConnectionError as NetworkError
from botocore.exceptions import HTTPClientError

from customization_core.catalog import Catalog, load_catalog
from customization_core.estimate import money
from customization_core.faults import (
    BedrockThrottledError,
    BedrockUnavailableError,
    bedrock_faults,
    error_code,
)
from customization_core.naming import OWNER_TAG, RUN_ID_TAG, notice_subject
from customization_core.registry import Registry, RunEndedError
from customization_core.run import DeploymentStatus, NextAction, PipelineConfig, Run, Status

WARN_BEFORE: Final = timedelta(hours=1)  # the notice before a deployment is deleted
# The longest the workflow waits for the model to become Active, and then for the deployment
# to be ready (hours each): Provisioned Throughput takes minutes to tens of minutes to create.
READY_WAIT_HOURS: Final = 6
# A deployment still alive this long after its end time counts as overdue (the alarm's metric).
OVERDUE_GRACE: Final = timedelta(minutes=30)
TIMESTAMP: Final = "%Y-%m-%dT%H:%M:%SZ"  # what a Wait state's TimestampPath accepts

# What Get* answers for a deployment that serves, is still being made, or failed.
READY: Final = ("InService", "Active")
PENDING: Final = ("Creating", "Updating")

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


def _now() -> datetime:
    return datetime.now(UTC)


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(TIMESTAMP)


def parse_stamp(text: str) -> datetime:
    return datetime.strptime(text, TIMESTAMP).replace(tzinfo=UTC)


# ValidateRequest: refuse what cannot be deployed before any money is spent ----------------


def deploy_problem(
    deploy: dict[str, Any], model_id: str, catalog: Catalog, max_ttl_hours: float
) -> str | None:
    """Why the manifest's ``deploy`` block cannot be honoured for ``model_id``, or None."""
    mode = deploy.get("mode", "none")
    if mode == "on-demand":
        model = catalog.find(model_id)
        if model is None or not model.on_demand_deployment:
            supported = ", ".join(catalog.on_demand_models())
            return (
                f"deploy.mode on-demand is not available for {model_id}; custom models of "
                f"these base models can be deployed on demand: {supported}. Use deploy.mode "
                "provisioned for this model."
            )
    ttl = deploy.get("ttlHours")
    if mode != "none" and ttl is not None and ttl > max_ttl_hours:
        return (
            f"deploy.ttlHours {ttl:g} is above this deployment's limit of "
            f"{max_ttl_hours:g} hours (maxDeploymentTtlHours); ask for less, "
            "and extend it later with bedrock-customize extend."
        )
    return None


def plan(run: Run) -> None:
    """After RecordResult: the deployment the manifest asks for (``run.deployment``), if any."""
    deploy = run.extra.get("deploy") or {}
    mode = deploy.get("mode", "none")
    if mode == "none":
        run.deployment = None
        return
    run.deployment = {
        "mode": mode,
        "model_units": int(deploy.get("modelUnits", 1)),
        "ttl_hours": deploy.get("ttlHours"),
        "idle_hours": deploy.get("idleHours"),  # None: the stage's (resolved by the watch)
        # The catalog's no-commitment price per model unit per hour (None: unknown), for
        # what an operator is told a deployment that could not be deleted costs.
        "hourly_usd": _hourly_usd(run.model_id) if mode == "provisioned" else None,
        "name": f"bc-{run.run_id}"[:63],
        "status": DeploymentStatus.WAITING_FOR_MODEL.value,
        "polls": 0,
    }
    evaluate = run.extra.get("evaluate")
    prompts = list((evaluate or {}).get("prompts") or [])
    # Continued pre-training has no reference completions: it is compared only on given prompts.
    planned = evaluate is not None and (run.customization_type == "FINE_TUNING" or bool(prompts))
    run.evaluation = {"planned": planned, "done": not planned, "next": 0}


def _hourly_usd(model_id: str | None) -> float | None:
    model = load_catalog().find(model_id) if model_id else None
    prices = model.deployment_prices if model else None
    return prices.provisioned_hourly_usd.get("none") if prices else None


def _max_polls(config: PipelineConfig) -> int:
    return math.ceil(READY_WAIT_HOURS * 3600 / config.poll_interval_seconds)


def _poll(run: Run, config: PipelineConfig, what: str) -> bool:
    """Count one poll; False once the wait has lasted READY_WAIT_HOURS."""
    assert run.deployment is not None
    run.deployment["polls"] = int(run.deployment.get("polls", 0)) + 1
    if run.deployment["polls"] > _max_polls(config):
        run.deployment["status"] = DeploymentStatus.TIMED_OUT.value
        run.reason = f"The {what} was not ready within {READY_WAIT_HOURS} hours."
        return False
    return True


# CheckModel, StartDeployment, CheckDeployment ------------------------------------------


def check_model(run: Run, *, bedrock: Any, config: PipelineConfig) -> dict[str, Any]:
    """One poll of the custom model: ``deployment.status`` MODEL_ACTIVE, WAITING_FOR_MODEL or FAILED."""
    with bedrock_faults():
        model = bedrock.get_custom_model(modelIdentifier=run.model_arn)
    # Models made before the field existed report none: they are usable.
    status = str(model.get("modelStatus", "Active"))
    return _polled(
        run,
        config,
        "custom model",
        status,
        ready=(DeploymentStatus.MODEL_ACTIVE if status == "Active" else None),
        waiting=(DeploymentStatus.WAITING_FOR_MODEL if status == "Creating" else None),
        failure=model.get("failureMessage"),
    )


def start_deployment(
    run: Run, *, bedrock: Any, registry: Registry, config: PipelineConfig
) -> dict[str, Any]:
    """Create the Provisioned Throughput or on-demand deployment (idempotent per run).

    The intent is recorded first (its name, REQUESTED, in the live-deployments index), so
    that a crash between the create and its record leaves nothing the failure, cancel and
    sweep paths cannot find by name. A run cancelled while the create was in flight gets
    its new deployment deleted here (RunEndedError: CANCELLED wins).
    """
    assert run.deployment is not None
    assert run.model_arn
    deployment = run.deployment
    token = hashlib.sha256(f"{run.run_id}/deployment".encode()).hexdigest()
    # The owner tag: the handlers may read, delete and tag only deployments that carry
    # their stack's name (stacks/workflow.py).
    tags = [
        {"key": RUN_ID_TAG, "value": run.run_id},
        {"key": OWNER_TAG, "value": config.stack_name},
    ]
    provisioned = deployment["mode"] == "provisioned"
    described = (
        f"Provisioned Throughput, {deployment['model_units']} model unit(s)"
        if provisioned
        else "on-demand deployment"
    )
    deployment.update(status=DeploymentStatus.REQUESTED.value, requested_at=stamp(_now()))
    registry.update(
        run,
        Status.DEPLOYING,
        reason=f"Creating the {described} {deployment['name']}.",
        deployment=deployment,
        live_deployment=True,
    )
    with bedrock_faults():
        if provisioned:
            # No commitmentDuration: no-commitment Provisioned Throughput, deletable at any time.
            arn = bedrock.create_provisioned_model_throughput(
                clientRequestToken=token,
                modelUnits=deployment["model_units"],
                provisionedModelName=deployment["name"],
                modelId=run.model_arn,
                tags=tags,
            )["provisionedModelArn"]
        else:
            arn = bedrock.create_custom_model_deployment(
                modelDeploymentName=deployment["name"],
                modelArn=run.model_arn,
                description=f"Custom model of run {run.run_id}",
                clientRequestToken=token,
                tags=tags,
            )["customModelDeploymentArn"]
    deployment.update(
        arn=arn, status=DeploymentStatus.CREATING.value, polls=0, created_at=stamp(_now())
    )
    try:
        registry.update(
            run, Status.DEPLOYING, reason=f"Creating the {described}.", deployment=deployment
        )
    except RunEndedError:
        undone = undo_lost_race(lambda give_up: release(run, bedrock=bedrock, give_up=give_up))
        # Still alive (DELETE_FAILED): it stays in the live index, and the sweep alarms.
        registry.note(
            run,
            f"StartDeployment created {arn} after the run had ended; "
            + (undone or "it could not be deleted."),
            deployment=run.deployment,
            live_deployment=may_be_alive(run.deployment),
        )
        raise
    return run.state()


def check_deployment(run: Run, *, bedrock: Any, config: PipelineConfig) -> dict[str, Any]:
    """One poll of the deployment: ``deployment.status`` ACTIVE, CREATING or FAILED."""
    assert run.deployment is not None
    arn = run.deployment["arn"]
    with bedrock_faults():
        if run.deployment["mode"] == "provisioned":
            found = bedrock.get_provisioned_model_throughput(provisionedModelId=arn)
        else:
            found = bedrock.get_custom_model_deployment(customModelDeploymentIdentifier=arn)
    status = str(found.get("status"))
    return _polled(
        run,
        config,
        "deployment",
        status,
        ready=(DeploymentStatus.ACTIVE if status in READY else None),
        waiting=(DeploymentStatus.CREATING if status in PENDING else None),
        failure=found.get("failureMessage"),
    )


def _polled(
    run: Run,
    config: PipelineConfig,
    what: str,
    status: str,
    *,
    ready: DeploymentStatus | None,
    waiting: DeploymentStatus | None,
    failure: str | None,
) -> dict[str, Any]:
    """Record one poll's answer: ``ready`` or ``waiting`` (bounded by READY_WAIT_HOURS), or FAILED."""
    assert run.deployment is not None
    if ready:
        run.deployment["status"], run.deployment["polls"] = ready.value, 0
    elif waiting:
        if _poll(run, config, what):
            run.deployment["status"] = waiting.value
    else:
        run.deployment["status"] = DeploymentStatus.FAILED.value
        run.reason = f"The {what} is {status}: {failure or 'no reason given'}."
    return run.state()


# After evaluation: keep, watch until the end time, or delete --------------------------


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
    now = now or _now()
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
        """The exception the state machine retries (stacks/workflow.py, TRANSIENT_ERRORS)."""
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


def delete_deployment(bedrock: Any, deployment: dict[str, Any]) -> bool:
    """Delete a deployment by its ARN, or by its name when the ARN was never recorded.

    False when it does not exist (already gone, or never created). Bedrock's transient
    faults raise the retryable exceptions (customization_core/faults.py).

    The handlers may delete only deployments that carry their stack's owner tag, and every
    one StartDeployment creates carries it (stacks/workflow.py): by name, a deployment never
    created is refused (AccessDeniedException, no tag to match) rather than not found.
    Refused by its recorded ARN, it exists without the tag: that raises.
    """
    identifier = deployment.get("arn") or deployment.get("name")
    if not identifier:
        return False
    try:
        with bedrock_faults():
            if deployment["mode"] == "provisioned":
                bedrock.delete_provisioned_model_throughput(provisionedModelId=identifier)
            else:
                bedrock.delete_custom_model_deployment(customModelDeploymentIdentifier=identifier)
    except Exception as error:
        if error_code(error) == "ResourceNotFoundException":
            return False
        if error_code(error) == "AccessDeniedException" and not deployment.get("arn"):
            return False  # never created: no deployment of that name carries our tag
        raise
    return True


def tear_down(
    run: Run, *, bedrock: Any, registry: Registry, now: datetime | None = None
) -> dict[str, Any]:
    """Delete the deployment at its end time (EXPIRED), unused for its idle hours before it
    (IDLE), or because it lost to its base (NOT_PROMOTED)."""
    assert run.deployment is not None
    deployment = run.deployment
    delete_deployment(bedrock, deployment)
    why = deployment.get("end_reason")
    expired = why == "EXPIRED"
    deployment["status"] = (DeploymentStatus.EXPIRED if expired else DeploymentStatus.DELETED).value
    deployment["deleted_at"] = stamp(now or _now())
    if expired:
        reason = (
            f"The deployment reached its end time ({deployment.get('expires_at')}) and was deleted."
        )
    elif why == "IDLE":
        reason = (
            f"The deployment was deleted at {deployment['deleted_at']}, before its end time "
            f"({deployment.get('expires_at')}): nobody invoked it for "
            f"{float(deployment['idle_hours']):g} hours ({deployment['idle_source']})."
        )
    else:
        reason = "The custom model did not beat its base model by evaluate.minImprovement; its deployment was deleted."
    registry.update(
        run, Status.SUCCEEDED, reason=reason, deployment=deployment, live_deployment=False
    )
    return run.state()


def may_be_alive(deployment: dict[str, Any] | None) -> bool:
    """Whether a deployment may exist and be billed: planned ones do not, deleted ones not."""
    if not deployment:
        return False
    status = deployment.get("status")
    return status not in (
        DeploymentStatus.WAITING_FOR_MODEL.value,
        DeploymentStatus.MODEL_ACTIVE.value,
        DeploymentStatus.EXPIRED.value,
        DeploymentStatus.DELETED.value,
    )


def undo_lost_race(end: Callable[[bool], str | None], *, tries: int = 4) -> str | None:
    """End what a handler created after the run ended, retrying Bedrock's transient faults.

    Nothing retries the handler any more (its execution was stopped), so it retries here,
    within its own time limit (1 + 2 + 4 seconds), then gives up and says so. ``end`` takes
    ``give_up`` (stop_job or release).
    """
    for attempt in range(tries - 1):
        try:
            return end(False)
        except (BedrockThrottledError, BedrockUnavailableError):
            time.sleep(2**attempt)
    return end(True)


def release(run: Run, *, bedrock: Any, give_up: bool = True) -> str | None:
    """On failure or cancellation: delete a deployment that may be alive; a sentence, or None.

    It is looked up by name when its ARN was never recorded (a create in flight or a crash
    after it). A delete Bedrock keeps refusing with a transient fault raises while
    ``give_up`` is False (the caller is retried); with ``give_up`` it marks the deployment
    DELETE_FAILED and returns what an operator must do, with the price of waiting.
    """
    deployment = run.deployment
    if not may_be_alive(deployment):
        return None
    assert deployment is not None
    try:
        existed = delete_deployment(bedrock, deployment)
    except (BedrockThrottledError, BedrockUnavailableError):
        if not give_up:
            raise
        return _delete_failed(deployment)
    except Exception as error:
        if not give_up:
            raise
        return _delete_failed(deployment, error_code(error) or type(error).__name__)
    deployment["status"] = DeploymentStatus.DELETED.value
    deployment["deleted_at"] = stamp(_now())
    return "Its deployment was deleted." if existed else None


def _delete_failed(deployment: dict[str, Any], why: str = "Bedrock kept failing") -> str:
    deployment["status"] = DeploymentStatus.DELETE_FAILED.value
    identifier = deployment.get("arn") or deployment["name"]
    if deployment["mode"] == "provisioned":
        command = (
            f"aws bedrock delete-provisioned-model-throughput --provisioned-model-id {identifier}"
        )
        units = int(deployment.get("model_units", 1))
        hourly = deployment.get("hourly_usd")
        price = (
            f"about {money(units * float(hourly))} an hour at the catalog's no-commitment price"
            if hourly is not None
            else "the catalog has no hourly price for it: see Provisioned Throughput on the "
            "Amazon Bedrock pricing page"
        )
        billed = (
            f"Provisioned Throughput of {units} model unit(s), billed by the hour per model "
            f"unit until it is deleted ({price})"
        )
    else:
        command = (
            "aws bedrock delete-custom-model-deployment "
            f"--custom-model-deployment-identifier {identifier}"
        )
        billed = "an on-demand deployment (billed per token used, not by the hour)"
    return (
        f"Its deployment {identifier} could NOT be deleted ({why}): {billed}. "
        f"Delete it now: {command}"
    )


def overdue(
    items: list[dict[str, Any]],
    now: datetime | None = None,
    *,
    workflow_limit: timedelta = timedelta(hours=240),
) -> list[str]:
    """Run ids that still own something billed which should be gone (the alarm's metric).

    ``items`` are the registry's runs with a live deployment (or a job a lost race could
    not stop), in any status. Overdue: alive well past its end time, marked DELETE_FAILED,
    alive after its run ended (except a SUCCEEDED run kept on purpose with ``ttlHours:
    null``), or owned by a run still open past the workflow's time limit (no execution is
    left to end it).
    """
    now = now or _now()
    late = []
    for item in items:
        if item.get("orphan_job"):  # a job a lost race could not stop
            late.append(str(item["run_id"]))
            continue
        deployment = item.get("deployment") or {}
        if not may_be_alive(deployment):
            continue
        expires = deployment.get("expires_at")
        status = Status(str(item.get("status")))
        kept = status is Status.SUCCEEDED and deployment.get("ttl_hours") is None
        past_end = bool(expires) and parse_stamp(str(expires)) + OVERDUE_GRACE < now
        orphaned = status.terminal and not kept
        changed = item.get("updated_at")
        stale = (
            not status.terminal
            and bool(changed)
            and datetime.fromisoformat(str(changed)) + workflow_limit + OVERDUE_GRACE < now
        )
        if (
            past_end
            or orphaned
            or stale
            or deployment.get("status") == DeploymentStatus.DELETE_FAILED
        ):
            late.append(str(item["run_id"]))
    return late


def _tell(sns: Any, config: PipelineConfig, run: Run, subject: str, message: str) -> None:
    sns.publish(
        TopicArn=config.topic_arn,
        Subject=notice_subject(subject),
        Message=message,
    )
