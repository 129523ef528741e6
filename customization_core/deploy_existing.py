"""Deploy an existing custom model: ValidateRequest for a deploy-only manifest (``deployModel``).

``bedrock-customize deploy RUN_ID|MODEL_ARN`` uploads ``{"deployModel": ..., "deploy":
...}`` as ``jobs/deploy-<...>/job.json``. The workflow runs it as a run of its own that
trains nothing (``run.trains`` False): EstimateCost, RequestApproval when a gate holds it,
then the after-training states (customization_core/deployments.py, deployment_watch.py,
deployment_end.py) from WaitForModel on.
ValidateRequest finds the run that trained the model, copies what those states need from
its registry item (model, type, pinned data for the evaluation's held-out records), plans
the deployment as RecordResult does for a training run (``deployments.plan``), and links
the two runs: ``model_of_run`` on this one, ``deployment_runs`` on the training run.

A model named by ARN must carry this stack's owner tag (naming.OWNER_TAG); the function's
policy lets it read no other (stacks/pipeline_specs.py, ReadModelToDeploy), and the tags
are checked here too.
API: GetCustomModel and ListTagsForResource, bedrock 2023-04-20 service model of botocore
1.44.8 (2026-11-20): ``modelStatus`` is Active, Creating or Failed; ``baseModelArn``
and ``customizationType`` name what it was made from; ListTagsForResource answers
``tags``, a list of {key, value}.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from customization_core.bounded import clip
from customization_core.catalog import Catalog, CustomizationType
from customization_core.deployments import deploy_problem, plan
from customization_core.faults import bedrock_faults, error_code
from customization_core.manifest import DEPLOY_MODEL, DeployManifest
from customization_core.naming import OWNER_TAG, RUN_ID_TAG
from customization_core.registry import Registry, plain
from customization_core.rejection import reject
from customization_core.run import PipelineConfig, Run, Status

# The training run's registry field that lists the runs deploying its model (oldest first).
DEPLOYMENT_RUNS: Final = "deployment_runs"
# A run whose model is being made or deployed by the run itself: not deployed again until
# it ends. DEPLOYED is not among them: its model serves, and may serve twice.
STILL_RUNNING: Final = frozenset(s for s in Status if not s.terminal) - {Status.DEPLOYED}
# What GetCustomModel answers for a model that exists but may not be read by this stack
# (no owner tag to match), or that does not exist.
NOT_READABLE: Final = ("ResourceNotFoundException", "ValidationException", "AccessDeniedException")
REASON_SHOWN: Final = 200  # characters of the training run's own reason quoted in a refusal


def model_problem(item: Mapping[str, Any]) -> str | None:
    """Why the model of the training run ``item`` (a registry item) cannot be deployed, or None.

    The CLI asks before it uploads anything, and ValidateRequest again.
    """
    run_id, status = str(item.get("run_id")), Status(str(item.get("status")))
    if not item.get("model_arn"):
        if status in STILL_RUNNING:
            why = (
                f"it is still {status.value}; deploy it once it has SUCCEEDED "
                f"(`bedrock-customize status {run_id}`)"
            )
        else:
            reason = clip(str(item.get("reason") or "no reason recorded"), REASON_SHOWN)
            why = f"it ended {status.value} before Bedrock made one ({reason})"
        return (
            f"Run {run_id} has no custom model: {why}. Only a run whose training job "
            "completed can be deployed."
        )
    if status in STILL_RUNNING:
        return (
            f"Run {run_id} is still {status.value} its own model: deploy it again once that "
            f"run has ended (`bedrock-customize status {run_id}`)."
        )
    return None


def deploy_command(item: Mapping[str, Any], catalog: Catalog, *, suffix: str = "") -> str:
    """The command that deploys the custom model of the run ``item`` (a registry item or run).

    On demand where the catalog offers it for the base model, else Provisioned Throughput;
    a deployment run's command names the run that trained its model. ``suffix``: what the
    CLI adds to go to the same place (`` --local``).
    """
    target = item.get("model_of_run") if item.get("trains") is False else None
    model = catalog.find(str(item.get("model_id") or ""))
    mode = "--on-demand" if model is not None and model.on_demand_deployment else "--provisioned"
    return f"bedrock-customize deploy {target or item.get('run_id')} {mode} --ttl-hours 2{suffix}"


def validate_deployment(
    run: Run,
    deployment: DeployManifest,
    *,
    s3: Any,
    bedrock: Any,
    registry: Registry,
    config: PipelineConfig,
    catalog: Catalog,
) -> dict[str, Any]:
    """ValidateRequest's deploy-only path, after the claim and the submitter: the run's state.

    REJECTED, with the sentence, when the model cannot be deployed; otherwise VALIDATING,
    with ``trains`` False and the deployment planned.
    """
    training: dict[str, Any] | None = None
    trained_by: str | None = None
    if deployment.run_id is not None:
        found = registry.get(deployment.run_id)
        if found is None:
            return reject(
                run,
                registry,
                f"There is no run {deployment.run_id!r} in this stack's registry: {DEPLOY_MODEL} "
                "names a run of this stack (`bedrock-customize list`) or a custom model ARN.",
            )
        training = _training_run(registry, plain(found))
        problem = model_problem(training)
        if problem:
            return reject(run, registry, problem)
        model_arn = str(training["model_arn"])
        trained_by = str(training["run_id"])
    else:
        assert deployment.model_arn is not None
        model_arn = deployment.model_arn
    described, problem = _custom_model(bedrock, model_arn)
    if problem:
        return reject(run, registry, problem)
    if deployment.model_arn is not None:
        tags, problem = _owned_tags(bedrock, model_arn, config.stack_name)
        if problem:
            return reject(run, registry, problem)
        trained_by = tags.get(RUN_ID_TAG)
        found = registry.get(trained_by) if trained_by else None
        if found is not None and found.get("model_arn") == model_arn:
            training = plain(found)
            problem = model_problem(training)
            if problem:
                return reject(run, registry, problem)
    model_id = str(training["model_id"]) if training else _base_model_id(described)
    kind = str(
        (training or {}).get("customization_type")
        or described.get("customizationType")
        or CustomizationType.FINE_TUNING.value
    )
    if config.allowed_models is not None and model_id not in config.allowed_models:
        return reject(
            run,
            registry,
            f"The custom model of run {trained_by or model_arn} is of base model {model_id!r}, "
            f"which is not allowed in this deployment; allowed: {', '.join(config.allowed_models)}.",
        )
    refusal = deploy_problem(
        deployment.deploy.model_dump(by_alias=True),
        model_id,
        catalog,
        config.max_deployment_ttl_hours,
    ) or _evaluation_problem(
        deployment, training, kind, trained_by, catalog.find(model_id), s3, run
    )
    if refusal:
        return reject(run, registry, refusal)

    run.trains = False
    run.model_of_run = trained_by
    run.model_arn = model_arn
    run.model_id = model_id
    run.customization_type = kind
    run.custom_model_name = str(described.get("modelName") or "") or None
    if training is not None:
        run.hyperparameters = dict(training.get("hyperparameters") or {})
        run.effective_hyperparameters = dict(training.get("effective_hyperparameters") or {})
        run.training = training.get("training")
        run.validation = training.get("validation")
        run.snapshot = training.get("snapshot")
        run.request_tokens = training.get("request_tokens")
        # A distilled model is evaluated against its teacher too (evaluate_step.py).
        run.teacher = training.get("teacher")
        run.grader = training.get("grader")
    run.extra = deployment.extra()
    plan(run)  # what RecordResult does for a training run: the deployment to make
    registry.update(
        run,
        Status.VALIDATING,
        reason=f"Deploys the custom model {model_arn}"
        + (f" of run {trained_by}" if trained_by else "")
        + "; nothing is trained.",
        trains=False,
        model_of_run=run.model_of_run,
        model_arn=run.model_arn,
        model_id=run.model_id,
        customization_type=run.customization_type,
        custom_model_name=run.custom_model_name,
        hyperparameters=run.hyperparameters,
        effective_hyperparameters=run.effective_hyperparameters,
        training=run.training,
        validation=run.validation,
        snapshot=run.snapshot,
        request_tokens=run.request_tokens,
        manifest_sha256=run.manifest_sha256,
        request=run.extra,
        deployment=run.deployment,
    )
    if training is not None:
        # `show` of the training run lists the runs that deploy its model. A read, then a
        # write: two deployments validated at the same instant may keep only one of them.
        linked = [str(r) for r in training.get(DEPLOYMENT_RUNS) or []]
        if run.run_id not in linked:
            link: dict[str, Any] = {DEPLOYMENT_RUNS: [*linked, run.run_id]}
            registry.annotate(str(training["run_id"]), **link)
    return run.state()


def _training_run(registry: Registry, item: dict[str, Any]) -> dict[str, Any]:
    """The run that trained the model: ``item`` itself, or the one a deployment run names."""
    if item.get("trains") is False and item.get("model_of_run"):
        found = registry.get(str(item["model_of_run"]))
        if found is not None:
            training: dict[str, Any] = plain(found)
            return training
    return item


def _custom_model(bedrock: Any, model_arn: str) -> tuple[dict[str, Any], str | None]:
    """GetCustomModel's answer, and why the model cannot be deployed (or None).

    Throttling and Bedrock's 5xx raise the retryable exceptions (customization_core/faults.py).
    """
    try:
        with bedrock_faults():
            described: dict[str, Any] = bedrock.get_custom_model(modelIdentifier=model_arn)
    except Exception as error:
        code = error_code(error)
        if code not in NOT_READABLE:
            raise
        return {}, (
            f"The custom model {model_arn} cannot be read by this stack ({code}): it does not "
            f"exist, or it is not one this stack made (its {OWNER_TAG} tag does not name this "
            "stack). This stack deploys only the models it trained."
        )
    if described.get("modelStatus") == "Failed":
        return described, (
            f"The custom model {model_arn} is Failed "
            f"({described.get('failureMessage') or 'no reason given'}): it cannot be deployed."
        )
    return described, None


def _owned_tags(bedrock: Any, model_arn: str, stack_name: str) -> tuple[dict[str, str], str | None]:
    """The model's tags, and why it is not this stack's (or None)."""
    with bedrock_faults():
        listed = bedrock.list_tags_for_resource(resourceARN=model_arn).get("tags") or []
    tags = {str(t["key"]): str(t["value"]) for t in listed}
    owner = tags.get(OWNER_TAG)
    if owner != stack_name:
        found = f"is {owner!r}" if owner is not None else "is missing"
        return tags, (
            f"The custom model {model_arn} was not made by this stack: its {OWNER_TAG} tag "
            f"{found}, not {stack_name!r}. This stack deploys only the models it trained."
        )
    return tags, None


def _base_model_id(described: Mapping[str, Any]) -> str:
    """The base model id of GetCustomModel's ``baseModelArn`` (...:foundation-model/ID)."""
    return str(described.get("baseModelArn") or "").rsplit("foundation-model/", 1)[-1]


def _evaluation_problem(
    deployment: DeployManifest,
    training: Mapping[str, Any] | None,
    kind: str,
    trained_by: str | None,
    model: Any,
    s3: Any,
    run: Run,
) -> str | None:
    """Why the evaluation asked for cannot run (its held-out records are not there), or None."""
    if deployment.evaluate is None:
        return None
    if model is None:
        return (
            "evaluate needs the base model in the catalog (to ask it the same prompts), and "
            "this model's base is not there: remove evaluate."
        )
    if kind != CustomizationType.FINE_TUNING.value:
        return None  # compared on evaluate.prompts only (deployments.plan)
    if training is None or not training.get("training"):
        return (
            "evaluate compares the model on its training run's held-out records, and run "
            f"{trained_by or '(unknown)'} is not in this stack's registry: remove evaluate, "
            "or deploy by the run id of a run this stack trained."
        )
    for pinned in (training.get("training"), training.get("validation")):
        if pinned and not _exists(s3, run.source.bucket, pinned):
            return (
                f"evaluate reads the held-out records of run {trained_by}, and "
                f"s3://{run.source.bucket}/{pinned['key']} (version {pinned['version_id']}) "
                "is no longer there: remove evaluate."
            )
    return None


def _exists(s3: Any, bucket: str, pinned: Mapping[str, str]) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=pinned["key"], VersionId=pinned["version_id"])
    except Exception as error:
        if error_code(error) in ("404", "NoSuchKey", "NoSuchVersion", "NotFound", "400"):
            return False
        raise
    return True
