"""TearDown and the failure paths' clean-up: delete a deployment, and say what is still billed.

``tear_down`` deletes it at its end time, when idle, or because it lost to its base model;
``release`` deletes it for a run that failed or was cancelled; ``overdue`` is the sweep's
check that nothing billed outlived its run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from customization_core.contract import parse_stamp, stamp
from customization_core.estimate import money
from customization_core.faults import (
    BedrockThrottledError,
    BedrockUnavailableError,
    bedrock_faults,
    error_code,
)
from customization_core.registry import Registry
from customization_core.run import DeploymentStatus, Run, Status
from customization_core.spend import delete_command

# A deployment still alive this long after its end time counts as overdue (the alarm's metric).
OVERDUE_GRACE: Final = timedelta(minutes=30)


def delete_deployment(bedrock: Any, deployment: dict[str, Any]) -> bool:
    """Delete a deployment by its ARN, or by its name when the ARN was never recorded.

    False when it does not exist (already gone, or never created). Bedrock's transient
    faults raise the retryable exceptions (customization_core/faults.py).

    The handlers may delete only deployments that carry their stack's owner tag, and every
    one StartDeployment creates carries it (stacks/deployment_specs.py): by name, a deployment never
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
    deployment["deleted_at"] = stamp(now or datetime.now(UTC))
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
    deployment["deleted_at"] = stamp(datetime.now(UTC))
    return "Its deployment was deleted." if existed else None


def _delete_failed(deployment: dict[str, Any], why: str = "Bedrock kept failing") -> str:
    deployment["status"] = DeploymentStatus.DELETE_FAILED.value
    identifier = deployment.get("arn") or deployment["name"]
    if deployment["mode"] == "provisioned":
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
        billed = "an on-demand deployment (billed per token used, not by the hour)"
    command = delete_command(deployment["mode"], identifier)
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
    now = now or datetime.now(UTC)
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
