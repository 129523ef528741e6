"""After training: deploy the custom model, keep it alive until its end time, then delete it.

``deploy.mode`` provisioned buys Provisioned Throughput without commitment
(CreateProvisionedModelThroughput); on-demand creates a custom model
deployment (CreateCustomModelDeployment, for the base models the catalog
marks). The workflow waits for the model to be Active and the deployment to
be ready, evaluates it when asked (customization_core/evaluate_step.py), and
then watches it: a notification an hour before its end time, deletion at it.
``bedrock-customize extend`` moves the end time in the registry; the watch
reads it each time it wakes. A run that fails or is cancelled deletes its
deployment too: nothing billed by the hour is left without an owner and an
end time, unless the manifest says ``ttlHours: null``.

API reference: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_CreateProvisionedModelThroughput.html
and https://docs.aws.amazon.com/bedrock/latest/APIReference/API_CreateCustomModelDeployment.html
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from customization_core.catalog import Catalog
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
        "name": f"bc-{run.run_id}"[:63],
        "status": DeploymentStatus.WAITING_FOR_MODEL.value,
        "polls": 0,
    }
    evaluate = run.extra.get("evaluate")
    prompts = list((evaluate or {}).get("prompts") or [])
    # Continued pre-training has no reference completions: it is compared only on given prompts.
    planned = evaluate is not None and (run.customization_type == "FINE_TUNING" or bool(prompts))
    run.evaluation = {"planned": planned, "done": not planned, "next": 0}


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
    config: PipelineConfig,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Decide what happens to a ready deployment: ``next_action`` keep, wait or teardown."""
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
        _schedule(run, expires, now)
        registry.update(
            run,
            Status.DEPLOYED,
            reason=f"Serving until {deployment['expires_at']}; then it is deleted.",
            deployment=deployment,
        )
        _tell(
            sns,
            config,
            run,
            f"Deployed: {run.run_id}",
            f"The custom model of run {run.run_id} serves from {deployment['arn']}.\n"
            f"It will be deleted at {deployment['expires_at']} (a notice comes an hour before).\n"
            f"Extend it:  bedrock-customize extend {run.run_id} --hours N\n"
            f"Try it:     bedrock-customize invoke {run.run_id} --prompt '...'",
        )
        run.next_action = NextAction.WAIT
        return run.state()
    recorded = (registry.get(run.run_id) or {}).get("deployment") or {}
    expires = parse_stamp(str(recorded.get("expires_at") or deployment["expires_at"]))
    if stamp(expires) != deployment["expires_at"]:  # extended meanwhile
        deployment["expires_at"] = stamp(expires)
        _schedule(run, expires, now)
        run.next_action = NextAction.WAIT
        return run.state()
    if deployment.get("phase") == "warn":
        _tell(
            sns,
            config,
            run,
            f"Deployment ends in an hour: {run.run_id}",
            f"The deployment {deployment['arn']} of run {run.run_id} is deleted at "
            f"{deployment['expires_at']}.\nKeep it longer:  bedrock-customize extend {run.run_id} --hours N",
        )
        deployment["phase"] = "expire"
        run.wait_until = deployment["expires_at"]
        run.next_action = NextAction.WAIT
        return run.state()
    deployment["end_reason"] = "EXPIRED"
    run.next_action = NextAction.TEARDOWN
    return run.state()


def _schedule(run: Run, expires: datetime, now: datetime) -> None:
    """The next wake-up: the notice an hour before the end, or the end itself."""
    assert run.deployment is not None
    warn = expires - WARN_BEFORE
    if warn > now:
        run.deployment["phase"], run.wait_until = "warn", stamp(warn)
    else:
        run.deployment["phase"], run.wait_until = "expire", stamp(expires)


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
    """Delete the deployment at its end time (EXPIRED) or because it lost to its base (NOT_PROMOTED)."""
    assert run.deployment is not None
    deployment = run.deployment
    delete_deployment(bedrock, deployment)
    expired = deployment.get("end_reason") == "EXPIRED"
    deployment["status"] = (DeploymentStatus.EXPIRED if expired else DeploymentStatus.DELETED).value
    deployment["deleted_at"] = stamp(now or _now())
    reason = (
        f"The deployment reached its end time ({deployment.get('expires_at')}) and was deleted."
        if expired
        else "The custom model did not beat its base model by evaluate.minImprovement; its deployment was deleted."
    )
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
        billed = (
            f"Provisioned Throughput of {deployment.get('model_units', 1)} model unit(s), "
            "billed by the hour per model unit until it is deleted (the catalog has no hourly "
            "price for it yet: see Provisioned Throughput on the Amazon Bedrock pricing page)"
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
