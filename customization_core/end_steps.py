"""RecordFailure and Cancel: end a run that did not finish, and leave nothing of it billed.

Its Bedrock job is stopped and a deployment that may be alive deleted, by their fixed
names; the run is recorded FAILED, REJECTED or CANCELLED with the cause, and told.
"""

from __future__ import annotations

import json
from contextlib import suppress
from typing import Any

from customization_core.approval import RunRejectedError
from customization_core.contract import DeploymentStatus, Errors
from customization_core.deployment_end import may_be_alive, release
from customization_core.job_steps import stop_job
from customization_core.naming import ObjectVersion, run_names
from customization_core.notify_step import notify
from customization_core.registry import Registry, RunEndedError, plain, run_of_item
from customization_core.run import PipelineConfig, Run, Source, Status


def record_failure(
    run: Run,
    error: dict[str, Any],
    *,
    registry: Registry,
    bedrock: Any,
    give_up: bool = True,
) -> dict[str, Any]:
    """The catch-all: FAILED (or REJECTED when a person or rule refused), with the cause.

    Its Bedrock job is stopped and a deployment that may be alive deleted first: a failed
    run leaves nothing billed. What the registry knows and the state document does not
    (an ARN recorded before a crash) is used too. ``give_up`` (the last attempt): a job
    or deployment Bedrock keeps refusing to end is named in the reason, with the command
    that ends it, instead of raising. Raises RunEndedError when the run already ended.
    """
    name = str(error.get("Error", ""))
    cause = _cause(error.get("Cause"))
    if run.status is Status.REJECTED:
        return run.state()  # already recorded with its reason
    held = registry.get(run.run_id) or {}
    if held.get("status") and Status(str(held["status"])).terminal:
        if not held.get("notified_at") and held.get("execution_arn") == run.execution_arn:
            # This execution ended the run, then lost the handler's answer (a crash after
            # the write): the end stands, and Notify tells it.
            return run_of_item(held).state()
        raise RunEndedError(run.run_id, Status(str(held["status"])), Status.FAILED)
    _learn_from_registry(run, held)
    stopped = stop_job(run, bedrock=bedrock, give_up=give_up)
    released = release(run, bedrock=bedrock, give_up=give_up)
    if name == RunRejectedError.__name__ or name == "Rejected":
        status, reason = Status.REJECTED, f"Rejected: {cause or 'by an approver'}"
    elif name == Errors.TIMEOUT and held.get("status") == Status.AWAITING_APPROVAL.value:
        # The state document predates the approval request; the registry knows it was waiting.
        status, reason = Status.REJECTED, "Nobody approved the run in time."
    elif name == Errors.JOB_FAILED:
        status, reason = Status.FAILED, f"The Bedrock job failed: {run.reason or cause}"
    elif name == Errors.DEPLOYMENT_FAILED:
        status, reason = Status.FAILED, f"Deploying the custom model failed: {run.reason or cause}"
    else:
        status, reason = Status.FAILED, f"{name}: {cause}" if cause else name or "Unknown error"
    for done in (stopped, released):
        if done:
            reason = f"{reason.rstrip('.')}. {done}"
    registry.update(
        run,
        status,
        reason=reason,
        deployment=run.deployment,
        live_deployment=_live(run),
    )
    return run.state()


def _live(run: Run) -> bool | None:
    """The live-deployments index entry after a failure or cancel: kept only if still billed."""
    if not run.deployment:
        return None
    return run.deployment.get("status") == DeploymentStatus.DELETE_FAILED.value


def _learn_from_registry(run: Run, held: dict[str, Any]) -> None:
    """ARNs the registry recorded that the state document lost (a crash after a create)."""
    if not run.job_arn and held.get("job_arn"):
        run.job_arn = str(held["job_arn"])
    if not run.job_name and held.get("job_name"):
        run.job_name = str(held["job_name"])
    if not run.model_arn and held.get("model_arn"):
        run.model_arn = str(held["model_arn"])
    recorded = held.get("deployment")
    # The registry's deployment is further along when it may exist (a create was at least
    # requested) and the document knows no ARN: a crash lost the create's answer.
    if (
        isinstance(recorded, dict)
        and may_be_alive(recorded)
        and not (run.deployment or {}).get("arn")
    ):
        run.deployment = plain(recorded)


def run_from_execution_input(
    execution_input: dict[str, Any], execution_arn: str, *, registry: Registry
) -> Run:
    """The run of an execution whose first state failed before it returned a run document.

    The execution input is the trigger rule's {bucket, key, versionId, etag, time}. The run
    is claimed here when ValidateRequest crashed before claiming it. Raises RunEndedError
    when another execution owns the run or it already ended.
    """
    source = Source.model_validate(execution_input)
    names = run_names(ObjectVersion(source.bucket, source.key, source.version_id))
    run = Run(run_id=names.run_id, source=source, execution_arn=execution_arn)
    if not registry.claim(run):  # another execution's run (a duplicate delivery)
        raise RunEndedError(run.run_id, registry.status_of(run.run_id), Status.FAILED)
    # Claimed now, or by this execution before it crashed: whatever the registry knows.
    return run_of_item(registry.get(run.run_id) or run.state())


def _cause(cause: Any) -> str:
    """A Lambda error's Cause is JSON with errorMessage; others are plain text."""
    if not isinstance(cause, str):
        return ""
    try:
        parsed = json.loads(cause)
    except ValueError:
        return cause[:1000]
    if isinstance(parsed, dict):
        return str(parsed.get("errorMessage") or parsed)[:1000]
    return cause[:1000]


def cancel(
    run: Run,
    *,
    bedrock: Any,
    registry: Registry,
    timed_out: bool = False,
    failed_execution: bool = False,
    give_up: bool = True,
) -> dict[str, Any]:
    """Record the run's end first, then stop its Bedrock job and delete its deployment.

    The end is written first (conditionally), so a handler still running loses every
    later write and undoes what it creates; the job and deployment are then read afresh
    and ended by their fixed names. A stopped execution ends CANCELLED; one past the
    workflow's time limit, or one that failed before recording the run's end, FAILED.
    Datasets, reports and outputs are kept. Raises RunEndedError when a handler ended the
    run first. A transient fault raises while ``give_up`` is False (EndRun retries, and
    ``finish_cancel`` goes on where this stopped).
    """
    if timed_out:
        status, reason = (
            Status.FAILED,
            "The workflow ran past its time limit (workflowTimeoutHours).",
        )
    elif failed_execution:
        # The execution failed before the run's end was recorded (RecordFailure itself
        # failed): this is the last resort that ends it, stops its job and deletes its deployment.
        status, reason = (
            Status.FAILED,
            "The workflow failed before it could record the run's end; see the execution's history.",
        )
    else:
        status, reason = Status.CANCELLED, "Cancelled by request."
    registry.update(run, status, reason=reason, cleanup_pending=True)
    return finish_cancel(run, bedrock=bedrock, registry=registry, give_up=give_up)


def finish_cancel(
    run: Run, *, bedrock: Any, registry: Registry, give_up: bool = True
) -> dict[str, Any]:
    """Stop the job and delete the deployment of a run whose end is recorded; say so."""
    fresh = run_of_item(registry.get(run.run_id) or run.state())
    stopped = stop_job(fresh, bedrock=bedrock, give_up=give_up)
    released = release(fresh, bedrock=bedrock, give_up=give_up)
    reason = fresh.reason or ""
    for done in (stopped, released):
        reason += f" {done}" if done else ""
    registry.note(
        fresh,
        f"Ended: {reason}",
        reason=reason,
        deployment=fresh.deployment,
        cleanup_pending=False,
        live_deployment=_live(fresh) if fresh.deployment else None,
    )
    fresh.reason = reason
    return fresh.state()


def cancel_aborted(
    execution_input: dict[str, Any],
    *,
    bedrock: Any,
    registry: Registry,
    sns: Any,
    config: PipelineConfig,
    execution_arn: str | None = None,
    timed_out: bool = False,
    failed_execution: bool = False,
    give_up: bool = True,
    s3: Any = None,
) -> dict[str, Any] | None:
    """An execution stopped, timed out or failed: end its run, stop its job, delete its deployment.

    ``execution_input`` is the execution's input (the rule's {bucket, key, versionId});
    the run id follows from it. Idempotent, and goes on where a failed attempt stopped:
    a run whose clean-up is pending is cleaned up, a run ended but never notified is
    notified. Returns None when there is nothing to do: no run was claimed, it belongs to
    another execution (``execution_arn``: a duplicate delivery was stopped), or it ended
    and was told.
    """
    source = ObjectVersion(
        execution_input["bucket"], execution_input["key"], execution_input["versionId"]
    )
    item = registry.get(run_names(source).run_id)
    if item is None or (execution_arn and item.get("execution_arn") != execution_arn):
        return None
    run = run_of_item(item)
    if not run.status.terminal:
        # A handler still running may end it first (RunEndedError): told below, unless it was.
        with suppress(RunEndedError):
            cancel(
                run,
                bedrock=bedrock,
                registry=registry,
                timed_out=timed_out,
                failed_execution=failed_execution,
                give_up=give_up,
            )
        item = registry.get(run.run_id) or item
    elif item.get("cleanup_pending"):
        finish_cancel(run, bedrock=bedrock, registry=registry, give_up=give_up)
        item = registry.get(run.run_id) or item
    if item.get("notified_at"):
        return None
    return notify(run_of_item(item), sns=sns, config=config, registry=registry, s3=s3)
