"""ValidateRequest: claim the run, parse job.json, check it against the catalog and live Bedrock.

The handler (lambdas/validate_request/) parses its event and calls ``validate_request``.
User mistakes end the run REJECTED with a reason (customization_core/rejection.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from customization_core import approval
from customization_core.catalog import Catalog, load_catalog
from customization_core.deploy_existing import validate_deployment
from customization_core.deployments import deploy_problem
from customization_core.faults import error_code
from customization_core.layout import NotAJobManifestError, job_folder
from customization_core.live import ModelCheckDeniedError, check_live, check_teacher_live
from customization_core.manifest import data_keys, requested_hyperparameters
from customization_core.manifest_parse import MAX_MANIFEST_BYTES, parse_manifest
from customization_core.naming import ObjectVersion, run_names, s3_key_problem
from customization_core.registry import Registry
from customization_core.rejection import reject
from customization_core.request import check_request
from customization_core.run import PipelineConfig, Run, Source, Status
from customization_core.type_step import resolve_type_settings


def validate_request(
    source: Source,
    execution_arn: str,
    *,
    s3: Any,
    bedrock: Any,
    region: str,
    registry: Registry,
    config: PipelineConfig,
    catalog: Catalog | None = None,
    now: datetime | None = None,
    lambda_client: Any | None = None,
) -> dict[str, Any]:
    """Claim the run, parse the manifest, check it against the catalog, then ask Bedrock.

    Nothing of the data is read until Bedrock in ``region`` has said that this account
    can customize the model with the requested type (customization_core/live.py). A
    deploy-only manifest (``deployModel``) trains nothing: its run is validated by
    customization_core/deploy_existing.py, ``trains`` False, its deployment planned.
    """
    catalog = catalog or load_catalog()
    now = now or datetime.now(UTC)
    origin = ObjectVersion(source.bucket, source.key, source.version_id)
    names = run_names(origin)
    run = Run(run_id=names.run_id, source=source, execution_arn=execution_arn)
    if not registry.claim(run):
        # The same object version again (EventBridge delivers at least once): the
        # first execution does the work; this one ends quietly.
        run.duplicate = True
        return run.state()
    try:
        folder = job_folder(source.key)
    except NotAJobManifestError as problem:
        return reject(run, registry, f"{problem}; upload the manifest as jobs/<name>/job.json.")
    bad_folder = s3_key_problem(folder, bucket=source.bucket)
    if bad_folder:
        return reject(run, registry, f"The job folder cannot be trained from: {bad_folder}.")
    # Who uploaded this manifest version (its tag, which the bucket policy makes the
    # uploader's own aws:userid): someone else must approve the run.
    run.submitted_by = approval.submitter_of(s3, source)
    if run.submitted_by is None:
        return reject(run, registry, approval.UNTAGGED_MANIFEST)
    registry.annotate(run.run_id, submitted_by=run.submitted_by)

    body = s3.get_object(Bucket=source.bucket, Key=source.key, VersionId=source.version_id)["Body"]
    parsed = parse_manifest(body.read(MAX_MANIFEST_BYTES + 1))
    run.manifest_sha256 = parsed.sha256
    if parsed.deployment is not None:
        # A deploy-only manifest (deployModel): an existing custom model, nothing trained;
        # the run skips ValidateDataset (stacks/definition.py, "Duplicate?").
        return validate_deployment(
            run,
            parsed.deployment,
            s3=s3,
            bedrock=bedrock,
            registry=registry,
            config=config,
            catalog=catalog,
        )
    manifest = parsed.manifest
    if manifest is None:
        return reject(run, registry, "The manifest is not valid: " + " ".join(parsed.problems))

    if config.allowed_models is not None and manifest.base_model_id not in config.allowed_models:
        allowed = ", ".join(config.allowed_models)
        return reject(
            run,
            registry,
            f"Base model {manifest.base_model_id!r} is not allowed in this deployment; allowed: {allowed}.",
        )
    hyperparameters = requested_hyperparameters(
        manifest,
        config.default_hyperparameters,
        catalog.hyperparameter_keys(manifest.base_model_id, manifest.customization_type),
    )
    checked = check_request(
        catalog,
        manifest.base_model_id,
        manifest.customization_type,
        hyperparameters,
        today=now.date(),
        unknown_ok=config.unknown_models == "warn",
    )
    errors = [f.message for f in checked.findings if f.severity == "error"]
    if errors:
        return reject(run, registry, "The request is not valid: " + " ".join(errors))
    for key in data_keys(folder, manifest):
        bad_key = s3_key_problem(key, bucket=source.bucket)
        if bad_key:
            return reject(run, registry, f"The data cannot be trained from: {bad_key}.")
    try:
        live = check_live(
            bedrock,
            manifest.base_model_id,
            manifest.customization_type,
            region=region,
            catalog=catalog,
            now=now,
        )
    except ModelCheckDeniedError as fault:
        # Not the user's mistake: the run ends FAILED (the execution fails, and alarms).
        registry.update(run, Status.FAILED, reason=str(fault))
        return run.state()
    run.model_check = live.details
    if live.errors:
        return reject(run, registry, " ".join(live.errors), model_check=live.details)
    # Bedrock's own lifecycle answer stands in for the catalog's when it gives one.
    live_codes = {f.code for f in live.findings}
    run.warnings = [
        f.message
        for f in (*(f for f in checked.findings if f.code not in live_codes), *live.findings)
        if f.severity == "warning"
    ]

    settings = resolve_type_settings(
        manifest,
        checked,
        catalog=catalog,
        region=region,
        config=config,
        lambda_client=lambda_client,
    )
    if settings.problems:
        return reject(run, registry, "The request is not valid: " + " ".join(settings.problems))
    if settings.teacher is not None:
        try:
            teacher = check_teacher_live(
                bedrock, settings.teacher["model_id"], region=region, now=now
            )
        except ModelCheckDeniedError as fault:
            registry.update(run, Status.FAILED, reason=str(fault))
            return run.state()
        run.model_check = {**live.details, "teacher": teacher.details}
        if teacher.errors:
            return reject(run, registry, " ".join(teacher.errors), model_check=run.model_check)
        run.warnings.extend(f.message for f in teacher.findings if f.severity == "warning")

    refusal = deploy_problem(
        manifest.deploy.model_dump(by_alias=True),
        manifest.base_model_id,
        catalog,
        config.max_deployment_ttl_hours,
    )
    if refusal:
        return reject(run, registry, refusal)

    training_key, validation_key = data_keys(folder, manifest)
    training_version = _version_of(s3, source.bucket, training_key)
    if training_version is None:
        return reject(
            run,
            registry,
            f"The training file {training_key} does not exist; upload it before job.json.",
        )
    validation_version = _version_of(s3, source.bucket, validation_key)
    if validation_version is None and manifest.validation_data is not None:
        return reject(
            run,
            registry,
            f"The validation file {validation_key} named by the manifest does not exist.",
        )

    run.model_id = manifest.base_model_id
    run.customization_type = manifest.customization_type.value
    run.hyperparameters = checked.hyperparameters
    run.effective_hyperparameters = checked.effective_all()
    run.custom_model_name = manifest.custom_model_name or names.custom_model_name
    run.teacher, run.grader = settings.teacher, settings.grader
    run.customization_config = settings.customization_config
    run.job_name = names.job_name
    run.report_key = names.report_key
    run.training = {"key": training_key, "version_id": training_version}
    run.validation = (
        {"key": validation_key, "version_id": validation_version} if validation_version else None
    )
    run.extra = manifest.model_dump(
        mode="json", by_alias=True, include={"deploy", "evaluate", "budget_usd", "tags"}
    )
    registry.update(
        run,
        Status.VALIDATING,
        model_id=run.model_id,
        customization_type=run.customization_type,
        hyperparameters=run.hyperparameters,
        effective_hyperparameters=run.effective_hyperparameters,
        training=run.training,
        validation=run.validation,
        # The job's name is its intent: the failure and cancel paths stop it by this name,
        # even when a crash lost the ARN Bedrock answered with.
        job_name=run.job_name,
        manifest_sha256=run.manifest_sha256,
        teacher=run.teacher,
        grader=run.grader,
        customization_config=run.customization_config,
        request=run.extra,
        model_check=run.model_check,
        warnings=run.warnings,
    )
    return run.state()


def _version_of(s3: Any, bucket: str, key: str) -> str | None:
    """The current version id of an object, pinned for the rest of the run; None if absent."""
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except Exception as error:
        if error_code(error) in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    return str(head.get("VersionId") or "null")
