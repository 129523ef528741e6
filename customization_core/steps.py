"""What each state of the customization workflow does, given its AWS clients.

Handlers in ``lambdas/<name>/`` parse their event and environment and call one
function here. Every function takes and returns the run's state document
(``Run``), so the state machine passes it along unchanged in shape. User
mistakes end a run REJECTED with a reason; AWS faults raise the exceptions
below, whose names the state machine's Retry and Catch rules match.
"""

from __future__ import annotations

import csv
import io
import json
import math
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any, Final

from customization_core import approval, layout
from customization_core.catalog import Catalog, load_catalog
from customization_core.contract import DeploymentStatus, Errors
from customization_core.deploy_existing import deploy_command, validate_deployment
from customization_core.deployments import (
    deploy_problem,
    may_be_alive,
    plan,
    release,
    undo_lost_race,
)
from customization_core.estimate import (
    Estimate,
    approval_reasons,
    budget_problem,
    estimate_of,
    money,
)
from customization_core.faults import BedrockThrottledError as BedrockThrottledError
from customization_core.faults import BedrockUnavailableError as BedrockUnavailableError
from customization_core.faults import bedrock_faults, error_code, reraise_bedrock
from customization_core.layout import NotAJobManifestError, job_folder, output_prefix
from customization_core.live import ModelCheckDeniedError, check_live
from customization_core.manifest import (
    MAX_MANIFEST_BYTES,
    data_keys,
    parse_manifest,
    requested_hyperparameters,
)
from customization_core.media import S3MediaResolver
from customization_core.naming import (
    OWNER_TAG,
    ObjectVersion,
    lineage_tags,
    notice_subject,
    run_names,
    s3_key_problem,
)
from customization_core.registry import Registry, RunEndedError
from customization_core.request import check_request
from customization_core.run import JobStatus, PipelineConfig, Run, Source, Status
from customization_core.snapshot import snapshot
from customization_core.validator import validate_dataset

# Bedrock job statuses: which keep the Wait/Check loop going, which end it.
RUNNING: Final = ("InProgress", "Stopping")
FAILED_JOB: Final = ("Failed", "Stopped")
SUMMARY_FINDINGS: Final = 5  # findings quoted in a rejection notice


class RunQueuedError(Exception):
    """The account's concurrent-job quota is full: the run waits (QUEUED) and retries."""


class RunRejectedError(Exception):
    """A human or a rule refused the run."""


# ValidateRequest -------------------------------------------------------------


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
        return _reject(run, registry, f"{problem}; upload the manifest as jobs/<name>/job.json.")
    bad_folder = s3_key_problem(folder, bucket=source.bucket)
    if bad_folder:
        return _reject(run, registry, f"The job folder cannot be trained from: {bad_folder}.")
    # Who uploaded this manifest version (its tag, which the bucket policy makes the
    # uploader's own aws:userid): someone else must approve the run.
    run.submitted_by = approval.submitter_of(s3, source)
    if run.submitted_by is None:
        return _reject(run, registry, approval.UNTAGGED_MANIFEST)
    registry.annotate(run.run_id, submitted_by=run.submitted_by)

    body = s3.get_object(Bucket=source.bucket, Key=source.key, VersionId=source.version_id)["Body"]
    parsed = parse_manifest(body.read(MAX_MANIFEST_BYTES + 1))
    run.manifest_sha256 = parsed.sha256
    if parsed.deployment is not None:
        # A deploy-only manifest (deployModel): an existing custom model, nothing trained;
        # the run skips ValidateDataset (stacks/workflow.py, "Duplicate?").
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
        return _reject(run, registry, "The manifest is not valid: " + " ".join(parsed.problems))

    if config.allowed_models is not None and manifest.base_model_id not in config.allowed_models:
        allowed = ", ".join(config.allowed_models)
        return _reject(
            run,
            registry,
            f"Base model {manifest.base_model_id!r} is not allowed in this deployment; allowed: {allowed}.",
        )
    hyperparameters = requested_hyperparameters(manifest, config.default_hyperparameters)
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
        return _reject(run, registry, "The request is not valid: " + " ".join(errors))
    for key in data_keys(folder, manifest):
        bad_key = s3_key_problem(key, bucket=source.bucket)
        if bad_key:
            return _reject(run, registry, f"The data cannot be trained from: {bad_key}.")
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
        return _reject(run, registry, " ".join(live.errors), model_check=live.details)
    # Bedrock's own lifecycle answer stands in for the catalog's when it gives one.
    live_codes = {f.code for f in live.findings}
    run.warnings = [
        f.message
        for f in (*(f for f in checked.findings if f.code not in live_codes), *live.findings)
        if f.severity == "warning"
    ]

    refusal = deploy_problem(
        manifest.deploy.model_dump(by_alias=True),
        manifest.base_model_id,
        catalog,
        config.max_deployment_ttl_hours,
    )
    if refusal:
        return _reject(run, registry, refusal)

    training_key, validation_key = data_keys(folder, manifest)
    training_version = _version_of(s3, source.bucket, training_key)
    if training_version is None:
        return _reject(
            run,
            registry,
            f"The training file {training_key} does not exist; upload it before job.json.",
        )
    validation_version = _version_of(s3, source.bucket, validation_key)
    if validation_version is None and manifest.validation_data is not None:
        return _reject(
            run,
            registry,
            f"The validation file {validation_key} named by the manifest does not exist.",
        )

    run.model_id = manifest.base_model_id
    run.customization_type = manifest.customization_type.value
    run.hyperparameters = checked.hyperparameters
    run.effective_hyperparameters = checked.effective_all()
    run.custom_model_name = manifest.custom_model_name or names.custom_model_name
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


def _reject(run: Run, registry: Registry, reason: str, **fields: Any) -> dict[str, Any]:
    registry.update(run, Status.REJECTED, reason=reason, **fields)
    return run.state()


# ValidateDataset and EstimateCost ------------------------------------------------


def validate_data(
    run: Run, *, s3: Any, registry: Registry, config: PipelineConfig
) -> dict[str, Any]:
    """Stream the pinned training (and validation) versions through the validator; write the report."""
    assert run.training is not None
    assert run.model_id
    assert run.customization_type
    assert run.report_key
    bucket = run.source.bucket
    training = s3.get_object(
        Bucket=bucket, Key=run.training["key"], VersionId=run.training["version_id"]
    )["Body"]
    validation = (
        s3.get_object(
            Bucket=bucket, Key=run.validation["key"], VersionId=run.validation["version_id"]
        )["Body"]
        if run.validation
        else None
    )
    media = S3MediaResolver(s3)  # remembers the version of each media object it judged
    report = validate_dataset(
        training,
        validation=validation,
        model_id=run.model_id,
        customization_type=run.customization_type,
        hyperparameters=run.hyperparameters,
        price_per_1k_tokens_usd=config.training_prices_usd.get(run.model_id),
        # Media blocks must point into the dataset's own bucket; each object they name is
        # checked to exist, and is checked by its bytes (format, size, dimensions).
        dataset_bucket=bucket,
        media=media,
        unknown_ok=config.unknown_models == "warn",
    )
    s3.put_object(
        Bucket=config.artifacts_bucket,
        Key=run.report_key,
        Body=report.to_json(),
        ContentType="application/json",
    )
    document = report.document
    run.tokens = document["tokens"]["total"]
    run.cost_usd = (document["cost"] or {}).get("estimated_usd")
    # EstimateCost prices the whole run from these: the training part and a request's size.
    run.extra["training_cost"] = document["cost"]
    records = int(document.get("records") or 0)
    run.request_tokens = math.ceil(run.tokens / records) if records and run.tokens else None
    location = f"s3://{config.artifacts_bucket}/{run.report_key}"
    if not report.valid:
        quoted = "\n".join(
            f"  {e['file']}{':' + str(e['line']) if e['line'] else ''} {e['code']}: {e['message']}"
            for e in document["errors"][:SUMMARY_FINDINGS]
        )
        run.report_summary = (
            f"{document['error_count']} error(s) in the dataset (report: {location})"
        )
        return _reject(run, registry, f"{run.report_summary}. The first:\n{quoted}")
    run.report_summary = (
        f"{document['records']} training records, about {run.tokens:,} tokens, "
        f"{document['warning_count']} warning(s) (report: {location})"
    )
    # What was validated is what is trained: the versions judged, copied for the run.
    taken = snapshot(
        s3,
        source_bucket=bucket,
        training=run.training,
        validation=run.validation,
        media_versions=media.versions,
        artifacts_bucket=config.artifacts_bucket,
        run_id=run.run_id,
    )
    run.snapshot = taken.record()
    registry.update(
        run,
        Status.VALIDATING,
        report=location,
        tokens=run.tokens,
        request_tokens=run.request_tokens,
        cost_usd=run.cost_usd,
        snapshot=run.snapshot,
    )
    return run.state()


def estimate_cost(
    run: Run, *, registry: Registry, config: PipelineConfig, catalog: Catalog | None = None
) -> dict[str, Any]:
    """Price the whole run; refuse it over its own budget; hold it for a person at a gate.

    The estimate (customization_core/estimate.py) has the training, the first month of
    storage, the deployment and the evaluation apart; budgetUsd and the approval
    threshold apply to its total. The deployment gates hold whatever the threshold.
    """
    deploy = run.extra.get("deploy")
    estimate = estimate_of(
        catalog or load_catalog(),
        model_id=run.model_id,
        kind=run.customization_type,
        training_cost=run.extra.get("training_cost"),
        deploy=deploy,
        evaluate=run.extra.get("evaluate"),
        request_tokens=run.request_tokens,
        trains=run.trains,
    )
    run.estimate = estimate.to_dict()
    run.cost_usd = estimate.total_usd
    budget = run.extra.get("budgetUsd")
    over = budget_problem(estimate, float(budget) if budget is not None else None)
    if over:
        return _reject(
            run,
            registry,
            f"{over}: raise budgetUsd, or spend less (less data, fewer epochs, fewer "
            "model units, a shorter ttlHours). The estimate: " + "; ".join(estimate.lines()),
            cost_usd=run.cost_usd,
            estimate=run.estimate,
        )
    reasons = approval_reasons(
        estimate,
        deploy,
        threshold_usd=config.approval_threshold_usd,
        max_unapproved_units=config.max_unapproved_model_units,
        budget_usd=float(budget) if budget is not None else None,
    )
    run.needs_approval = bool(reasons)
    run.extra["approval_reasons"] = reasons
    # An unknown total removes the training-only figure ValidateDataset recorded.
    registry.annotate(
        run.run_id,
        remove=("cost_usd",) if run.cost_usd is None else (),
        cost_usd=run.cost_usd,
        estimate=run.estimate,
    )
    return run.state()


def request_approval(
    run: Run, task_token: str, *, registry: Registry, sns: Any, kms: Any, config: PipelineConfig
) -> None:
    """Store the task token, encrypted for this run, and tell people how to approve or reject.

    Only the ciphertext reaches the registry: AnswerApproval alone may decrypt it, for an
    answer someone other than the submitter uploaded (customization_core/approval.py).
    """
    if config.approval_key_arn is None:
        raise ValueError("The pipeline configuration names no approval key (approval_key_arn).")
    ciphertext = approval.encrypt_token(
        kms, key_arn=config.approval_key_arn, run_id=run.run_id, token=task_token
    )
    registry.update(run, Status.AWAITING_APPROVAL, approval_token_ciphertext=ciphertext)
    what = (
        "training"
        if run.trains
        else f"deploying the custom model of run {run.model_of_run}"
        if run.model_of_run
        else f"deploying the custom model {run.model_arn}"
    )
    why = "; ".join(run.extra.get("approval_reasons") or ()) or "the stage asks for it"
    sns.publish(
        TopicArn=config.topic_arn,
        Subject=notice_subject(f"Approval needed: {run.run_id}"),
        Message=(
            f"Run {run.run_id} needs approval before {what}: {why}.\n"
            f"Model: {run.model_id} ({run.customization_type})\n"
            f"{_estimate_text(run)}\n"
            f"Dataset: {run.report_summary or 'not read (nothing is trained)'}\n"
            f"Submitted by: {run.submitted_by} (who may not answer it)\n\n"
            f"Approve:  bedrock-customize approve {run.run_id}\n"
            f"Reject:   bedrock-customize reject {run.run_id} --reason '...'\n"
            f"Or upload {layout.answer_key(run.run_id)} to the datasets bucket, "
            f'{{"answer": "approve"}} or {{"answer": "reject", "reason": "..."}}, tagged '
            f"{approval.ANSWERED_BY}=<your UserId from aws sts get-caller-identity>."
        ),
    )


def _estimate_text(run: Run) -> str:
    """The run's estimate in parts and in total, as check and cost print it."""
    if run.estimate:
        lines = Estimate.from_dict(run.estimate).lines()
        return "Estimated cost, before it was spent:\n" + "\n".join(f"  {line}" for line in lines)
    return f"Estimated cost: {money(run.cost_usd)} (training only)"


# StartJob, CheckJob, RecordResult ------------------------------------------------


def start_job(
    run: Run, *, bedrock: Any, registry: Registry, config: PipelineConfig
) -> dict[str, Any]:
    """Create the Bedrock job; the client request token makes a retry return the same job."""
    assert run.training is not None
    assert run.job_name
    assert run.model_id
    assert run.customization_type
    # Bedrock reads only the run's copy of what was validated, never the user's keys.
    assert run.snapshot is not None, "StartJob needs the snapshot ValidateDataset took"
    copy = run.snapshot
    names = run_names(ObjectVersion(run.source.bucket, run.source.key, run.source.version_id))
    bucket = run.source.bucket
    tags = {
        **run.extra.get("tags", {}),
        **lineage_tags(
            ObjectVersion(bucket, run.source.key, run.source.version_id),
            run_id=run.run_id,
            execution_arn=run.execution_arn,
            manifest_sha256=run.manifest_sha256 or "",
            training_version=copy.get("training_version"),
            validation_version=copy.get("validation_version"),
        ),
        # Last, so nothing overrides it: the handlers may stop, read and tag only what
        # carries their stack's name (stacks/workflow.py).
        OWNER_TAG: config.stack_name,
    }
    tag_list = [{"key": k, "value": v} for k, v in sorted(tags.items())]
    request: dict[str, Any] = {
        "jobName": run.job_name,
        "customModelName": run.custom_model_name,
        "roleArn": config.bedrock_role_arn,
        "clientRequestToken": names.client_request_token,
        "baseModelIdentifier": run.model_id,
        "customizationType": run.customization_type,
        "customModelKmsKeyId": config.model_key_arn,
        "hyperParameters": run.hyperparameters,
        "trainingDataConfig": {"s3Uri": copy["training_uri"]},
        "outputDataConfig": {"s3Uri": f"s3://{config.artifacts_bucket}/{names.output_prefix}"},
        "vpcConfig": {
            "subnetIds": list(config.subnet_ids),
            "securityGroupIds": list(config.security_group_ids),
        },
        "jobTags": tag_list,
        "customModelTags": tag_list,
    }
    if copy.get("validation_uri"):
        request["validationDataConfig"] = {"validators": [{"s3Uri": copy["validation_uri"]}]}
    try:
        response = bedrock.create_model_customization_job(**request)
    except Exception as error:
        code = error_code(error)
        if code == "ServiceQuotaExceededException":
            registry.update(
                run,
                Status.QUEUED,
                reason="The account's concurrent customization jobs quota is full; the run will retry.",
            )
            raise RunQueuedError(str(error)) from error
        reraise_bedrock(error)
        raise
    run.job_arn = response["jobArn"]
    run.job_status = JobStatus.IN_PROGRESS
    try:
        registry.update(run, Status.TRAINING, job_arn=run.job_arn, job_name=run.job_name)
    except RunEndedError:
        # Cancelled while the create was in flight: CANCELLED wins, the new job is stopped.
        stopped = undo_lost_race(lambda give_up: stop_job(run, bedrock=bedrock, give_up=give_up))
        left = bool(stopped and "could NOT" in stopped)
        registry.note(
            run,
            f"StartJob created {run.job_arn} after the run had ended; "
            + (stopped or "it had already ended."),
            job_arn=run.job_arn,
            # A job still training: kept in the live index, where the sweep alarms on it.
            orphan_job=run.job_name if left else None,
            live_deployment=True if left else None,
        )
        raise
    return run.state()


def stop_job(run: Run, *, bedrock: Any, give_up: bool) -> str | None:
    """Stop the run's Bedrock job by name if it may be running; a sentence, or None.

    The name is known from ValidateRequest on, so a job whose create answer was lost is
    found too. A job that does not exist or already ended cannot be stopped: None. A
    transient fault raises while ``give_up`` is False (the caller is retried); with
    ``give_up`` the sentence says it may still run and how to stop it.

    The handlers may stop only jobs that carry their stack's owner tag, and every job
    StartJob creates carries it (stacks/workflow.py): a job never created is refused
    (AccessDeniedException, no tag to match) rather than not found. Refused with no job
    ARN recorded, there is no job of this run: None. Refused with one, the job exists
    without the tag (made before the tag was): it is not stopped, and the caller is told.
    """
    if not run.job_name or run.model_arn:
        return None  # no job yet, or it finished with its model
    try:
        with bedrock_faults():
            bedrock.stop_model_customization_job(jobIdentifier=run.job_name)
    except Exception as error:
        if error_code(error) in (
            "ValidationException",
            "ConflictException",
            "ResourceNotFoundException",
        ):
            return None
        if error_code(error) == "AccessDeniedException" and run.job_arn is None:
            return None  # never created: nothing carries this run's job name and our tag
        if not give_up:
            raise
        return (
            f"Its Bedrock job {run.job_name} could NOT be stopped ({error_code(error) or type(error).__name__}) "
            "and may still be training, billed per token: stop it now with "
            f"aws bedrock stop-model-customization-job --job-identifier {run.job_name}"
        )
    return "Its Bedrock job was stopped."


def check_job(run: Run, *, bedrock: Any) -> dict[str, Any]:
    """One poll of the job: ``job_status`` is InProgress, Completed or Failed.

    Jobs are looked up by name (unique in the account and Region), which
    Bedrock accepts as well as the ARN.
    """
    try:
        job = bedrock.get_model_customization_job(jobIdentifier=run.job_name)
    except Exception as error:
        reraise_bedrock(error)
        raise
    status = job["status"]
    if status in RUNNING:
        run.job_status = JobStatus.IN_PROGRESS
    elif status == "Completed":
        run.job_status = JobStatus.COMPLETED
    else:
        run.job_status = JobStatus.FAILED
        run.reason = job.get("failureMessage") or f"The Bedrock job ended {status}."
    return run.state()


def record_result(
    run: Run, *, bedrock: Any, s3: Any, registry: Registry, config: PipelineConfig
) -> dict[str, Any]:
    """Record the custom model and its training metrics; a job without a model fails the run."""
    with bedrock_faults():  # throttled after a paid job: retried, never FAILED for it
        job = bedrock.get_model_customization_job(jobIdentifier=run.job_name)
    model_arn = job.get("outputModelArn")
    unusable = _unusable_model(bedrock, model_arn)
    if unusable:
        registry.update(
            run,
            Status.FAILED,
            reason=f"The Bedrock job completed without a usable custom model: {unusable}; "
            f"see the job {run.job_arn or run.job_name} in the Bedrock console.",
            model_arn=model_arn,
        )
        return run.state()
    run.model_arn = model_arn
    metrics: dict[str, Any] = {}
    training_loss = (job.get("trainingMetrics") or {}).get("trainingLoss")
    if training_loss is not None:
        metrics["training_loss"] = float(training_loss)
    validation = [
        v.get("validationLoss")
        for v in job.get("validationMetrics") or []
        if v.get("validationLoss") is not None
    ]
    if validation:
        metrics["validation_loss"] = float(validation[-1])
    metrics.update(_metrics_files(s3, config.artifacts_bucket, run.run_id))
    started, ended = job.get("creationTime"), job.get("endTime")
    if isinstance(started, datetime) and isinstance(ended, datetime):
        metrics["duration_seconds"] = int((_utc(ended) - _utc(started)).total_seconds())
    run.metrics = metrics
    plan(run)
    if run.deployment is None:
        registry.update(run, Status.SUCCEEDED, model_arn=run.model_arn, metrics=metrics)
    else:
        registry.update(
            run,
            Status.DEPLOYING,
            reason="Trained; waiting for the custom model to be Active before deploying it.",
            model_arn=run.model_arn,
            metrics=metrics,
            deployment=run.deployment,
        )
    return run.state()


def _unusable_model(bedrock: Any, model_arn: str | None) -> str | None:
    """Why the job's output model cannot be used (none, or Failed), or None.

    GetCustomModel's ``modelStatus`` is Active, Creating or Failed; a model made before
    the field existed reports none and is usable. Source:
    https://docs.aws.amazon.com/bedrock/latest/APIReference/API_GetCustomModel.html
    """
    if not model_arn:
        return "the job reports no outputModelArn"
    with bedrock_faults():
        model = bedrock.get_custom_model(modelIdentifier=model_arn)
    if model.get("modelStatus") == "Failed":
        return f"the custom model {model_arn} is Failed ({model.get('failureMessage') or 'no reason given'})"
    return None


def _utc(moment: datetime) -> datetime:
    """A timestamp without a zone is UTC (the API's are; some emulators drop the zone)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _metrics_files(s3: Any, bucket: str, run_id: str) -> dict[str, float]:
    """The last loss in the metrics CSVs Bedrock writes under the run's output prefix."""
    found: dict[str, float] = {}
    listing = s3.list_objects_v2(Bucket=bucket, Prefix=output_prefix(run_id))
    for item in listing.get("Contents", []):
        key = item["Key"]
        if not key.endswith(".csv"):
            continue
        text = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8", "replace")
        rows = list(csv.DictReader(io.StringIO(text)))
        if not rows:
            continue
        last = rows[-1]
        for column in ("training_loss", "validation_loss"):
            if last.get(column) not in (None, ""):
                name = "final_" + column
                try:
                    found[name] = float(last[column])
                except ValueError:
                    continue
    return found


# Failure, notification, cancellation ------------------------------------------------


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
        run.deployment = _plain(recorded)


def run_of_item(item: dict[str, Any]) -> Run:
    """The run document of a registry item (its Run fields, as JSON types)."""
    return Run.model_validate({k: v for k, v in _plain(item).items() if k in Run.model_fields})


def _plain(value: Any) -> Any:
    """A registry value as JSON types (DynamoDB's Decimals become ints or floats)."""
    return json.loads(json.dumps(value, default=lambda d: int(d) if d == int(d) else float(d)))


def run_from_execution_input(
    execution_input: dict[str, Any], execution_arn: str, *, registry: Registry
) -> Run:
    """The run of an execution whose first state failed before it returned a run document.

    The execution input is the trigger rule's {bucket, key, versionId, etag, time}. The run
    is claimed here when ValidateRequest crashed before claiming it. Raises RunEndedError
    when another execution owns the run or it already ended.
    """
    source = Source.of_execution_input(execution_input)
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


def notify(run: Run, *, sns: Any, config: PipelineConfig, registry: Registry) -> dict[str, Any]:
    """Tell people how the run ended, once: a retry after the publish went out does nothing.

    (A crash between the publish and its record sends it twice: at least once, not at
    most once.)
    """
    if (registry.get(run.run_id) or {}).get("notified_at"):
        return run.state()
    lines = [
        f"Run: {run.run_id}",
        f"Status: {run.status.value}",
        f"Manifest: s3://{run.source.bucket}/{run.source.key} (version {run.source.version_id})",
    ]
    if run.reason:
        lines.append(f"Reason: {run.reason}")
    if run.model_id:
        lines.append(f"Base model: {run.model_id} ({run.customization_type})")
    if run.report_summary and run.report_summary not in (run.reason or ""):
        lines.append(f"Dataset: {run.report_summary}")
    if run.model_of_run:
        lines.append(f"Deploys the custom model trained by run {run.model_of_run}")
    if run.tokens and run.trains:
        # As the report counts them: the catalog's default when the manifest gives none.
        epochs = int(
            run.effective_hyperparameters.get("epochCount")
            or run.hyperparameters.get("epochCount")
            or 1
        )
        lines.append(
            f"Training tokens: {run.tokens:,} per epoch x {epochs} epoch(s) = {run.tokens * epochs:,} "
            "billed (counted by the validator, which errs high)"
        )
    if run.estimate or run.tokens:
        lines.append(_estimate_text(run))
    if run.job_arn:
        lines.append(f"Bedrock job: {run.job_arn}")
    if run.model_arn:
        lines.append(f"Custom model: {run.model_arn}")
    for name, value in sorted(run.metrics.items()):
        lines.append(f"{name}: {value}")
    if run.evaluation and run.evaluation.get("summary"):
        lines.append(
            f"Evaluation: {run.evaluation['summary']} (report: {run.evaluation['report']})"
        )
    deployment = run.deployment or {}
    if deployment.get("arn"):
        state = deployment.get("status", "")
        until = f", deleted at {deployment['deleted_at']}" if deployment.get("deleted_at") else ""
        lines.append(f"Deployment: {deployment['arn']} ({deployment['mode']}, {state}{until})")
    if run.status is Status.SUCCEEDED and run.model_arn and not may_be_alive(run.deployment):
        # Nothing serves it now: the command that deploys it in a run of its own.
        lines.append(f"Deploy it later: {deploy_command(run.state(), load_catalog())}")
    sns.publish(
        TopicArn=config.topic_arn,
        Subject=notice_subject(f"{run.status.value}: {run.run_id}"),
        Message="\n".join(lines),
    )
    registry.mark_notified(run)
    return run.state()


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
    return notify(run_of_item(item), sns=sns, config=config, registry=registry)
