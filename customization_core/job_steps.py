"""StartJob, CheckJob and RecordResult: the Bedrock customization job, from its create to its model.

AWS faults raise the exceptions whose names the state machine's Retry rules match
(customization_core/faults.py, and RunQueuedError here).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any, Final

from customization_core.deployment_end import undo_lost_race
from customization_core.deployments import plan
from customization_core.faults import bedrock_faults, error_code, reraise_bedrock
from customization_core.grader_alias import publish_grader
from customization_core.layout import output_prefix
from customization_core.naming import OWNER_TAG, ObjectVersion, lineage_tags, run_names
from customization_core.registry import Registry, RunEndedError
from customization_core.report_publish import refresh_page
from customization_core.run import JobStatus, PipelineConfig, Run, Status
from customization_core.training_curves import curves_from_files, diagnose
from customization_core.training_eta import trained_epochs, training_eta

# Bedrock job statuses that keep the Wait/Check loop going (any other ends it).
RUNNING: Final = ("InProgress", "Stopping")


class RunQueuedError(Exception):
    """The account's concurrent-job quota is full: the run waits (QUEUED) and retries."""


def start_job(
    run: Run,
    *,
    bedrock: Any,
    registry: Registry,
    config: PipelineConfig,
    s3: Any = None,
    lambda_client: Any = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Create the Bedrock job; the client request token makes a retry return the same job.

    An RFT run's built-in grader gets its configuration and alias first
    (customization_core/grader_alias.py), so the function answers from the first sample.
    """
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
        # carries their stack's name (stacks/pipeline_specs.py, stacks/bedrock_arns.py).
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
        "trainingDataConfig": {"s3Uri": copy["training_uri"]},
        "outputDataConfig": {"s3Uri": f"s3://{config.artifacts_bucket}/{names.output_prefix}"},
        "vpcConfig": {
            "subnetIds": list(config.subnet_ids),
            "securityGroupIds": list(config.security_group_ids),
        },
        "jobTags": tag_list,
        "customModelTags": tag_list,
    }
    if run.customization_config is not None:
        # Distillation takes no hyperparameters; RFT's are typed, inside rftConfig.
        request["customizationConfig"] = run.customization_config
    else:
        request["hyperParameters"] = run.hyperparameters
    if run.grader is not None and run.grader.get("kind") == "builtin":
        publish_grader(
            run.grader, s3=s3, lambda_client=lambda_client, bucket=config.artifacts_bucket
        )
    if copy.get("validation_uri"):
        request["validationDataConfig"] = {"validators": [{"s3Uri": copy["validation_uri"]}]}
    started = now or datetime.now(UTC)
    # Before the create, and never failing it: None when it cannot be made (training_eta.py).
    run.training_eta = training_eta(
        model_id=run.model_id,
        tokens=run.tokens or 0,
        epochs=trained_epochs(run.effective_hyperparameters),
        registry=registry,
        started_at=started,
        customization_type=run.customization_type,
    )
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
        registry.update(
            run,
            Status.TRAINING,
            job_arn=run.job_arn,
            job_name=run.job_name,
            training_eta=run.training_eta,
        )
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
    if s3 is not None:
        refresh_page(run.run_id, s3=s3, registry=registry, config=config, now=started)
    return run.state()


def stop_job(run: Run, *, bedrock: Any, give_up: bool) -> str | None:
    """Stop the run's Bedrock job by name if it may be running; a sentence, or None.

    The name is known from ValidateRequest on, so a job whose create answer was lost is
    found too. A job that does not exist or already ended cannot be stopped: None. A
    transient fault raises while ``give_up`` is False (the caller is retried); with
    ``give_up`` the sentence says it may still run and how to stop it.

    The handlers may stop only jobs that carry their stack's owner tag, and every job
    StartJob creates carries it (stacks/pipeline_specs.py, CreateJob): a job never created is
    refused (AccessDeniedException, no tag to match) rather than not found. Refused with no job
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
    run: Run,
    *,
    bedrock: Any,
    s3: Any,
    registry: Registry,
    config: PipelineConfig,
    now: datetime | None = None,
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
    metrics.update(_metrics_files(s3, config.artifacts_bucket, run.run_id, run))
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
    # The losses, the curves and the diagnosis, while a deployment may still take hours.
    refresh_page(run.run_id, s3=s3, registry=registry, config=config, now=now)
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


# The columns of the metrics CSVs Bedrock writes that the run records (the last row's):
# fine-tuning's losses (page model-customization-analyze) and RFT's rewards, by the metric
# names AWS documents for RFT (page rft-submit-job, "Monitor your RFT training job", read
# 2026-12-02; AWS names no RFT file, so every CSV under the output prefix is read).
METRIC_COLUMNS: Final = {
    "training_loss": "final_training_loss",
    "validation_loss": "final_validation_loss",
    "critic/rewards/mean": "final_reward_mean",
    "critic/rewards/max": "final_reward_max",
    "critic/rewards/min": "final_reward_min",
    "val-score/rewards/mean@1": "final_validation_reward_mean",
}
MAX_OUTPUT_FILES: Final = 50  # keys of the output prefix the run lists (the rest are counted)


def _metrics_files(s3: Any, bucket: str, run_id: str, run: Run) -> dict[str, Any]:
    """The last row's metrics in the CSVs Bedrock writes under the run's output prefix, and its files.

    ``output_files``: the keys (relative to the prefix) of what the job wrote, e.g. a
    distillation job's synthetic data, so that the run says where its outputs are.
    ``diagnosis``: validation loss rose while training loss fell (customization_core/
    training_curves.py), with ``best_epoch_count``, the epochCount that would have stopped
    at the lowest validation loss.
    """
    found: dict[str, Any] = {}
    texts: dict[str, str] = {}
    prefix = output_prefix(run_id)
    listing = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
    keys = [item["Key"] for item in listing.get("Contents", [])]
    if keys:
        found["output_files"] = [key.removeprefix(prefix) for key in keys[:MAX_OUTPUT_FILES]]
        if len(keys) > MAX_OUTPUT_FILES or listing.get("IsTruncated"):
            found["output_files_truncated"] = True
    for key in keys:
        if not key.endswith(".csv"):
            continue
        text = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8", "replace")
        texts[key.removeprefix(prefix)] = text
        rows = list(csv.DictReader(io.StringIO(text)))
        if not rows:
            continue
        last = rows[-1]
        for column, name in METRIC_COLUMNS.items():
            if last.get(column) not in (None, ""):
                try:
                    found[name] = float(last[column])
                except ValueError:
                    continue
    diagnosis = diagnose(curves_from_files(texts))
    if diagnosis is not None:
        found["diagnosis"] = diagnosis.sentence
        found["best_epoch_count"] = diagnosis.epoch_count
    return found
