"""After training: plan the deployment, wait for the model, create the deployment, wait for it.

This module plans the deployment (``plan``, and ``deploy_problem`` before any money is
spent) and runs CheckModel, StartDeployment and CheckDeployment. Its life after that is
customization_core/deployment_watch.py's (WatchDeployment) and deployment_end.py's
(TearDown, and the deletion on failure or cancel).

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
from datetime import UTC, datetime
from typing import Any, Final

from customization_core.catalog import Catalog, load_catalog
from customization_core.contract import stamp
from customization_core.deployment_end import may_be_alive, release, undo_lost_race
from customization_core.faults import bedrock_faults
from customization_core.naming import OWNER_TAG, RUN_ID_TAG
from customization_core.registry import Registry, RunEndedError
from customization_core.run import DeploymentStatus, PipelineConfig, Run, Status

# The longest the workflow waits for the model to become Active, and then for the deployment
# to be ready (hours each): Provisioned Throughput takes minutes to tens of minutes to create.
READY_WAIT_HOURS: Final = 6
# What Get* answers for a deployment that serves, is still being made, or failed.
READY: Final = ("InService", "Active")
PENDING: Final = ("Creating", "Updating")


def _now() -> datetime:
    return datetime.now(UTC)


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
    # their stack's name (stacks/deployment_specs.py, stacks/bedrock_arns.py).
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
