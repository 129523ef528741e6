"""Emulated Bedrock model customization jobs: each one lives the life its run's scenario asks for.

moto creates jobs but leaves them InProgress forever. The patched backend moves
each job through the lifecycle its run's scenario asks for (Completed after N
polls with the metrics files Bedrock writes, or Failed with a message), can
answer the first N creates with throttling or quota errors, refuses a model,
type or Region the emulated account does not offer (emulator/account.py),
fails a job whose service role lacks a permission (emulator/iam/service_role.py),
and records every call in ``state.BEDROCK``. A job's outputModelArn is made the
ARN of the model moto registers. The scenario is the one of the job folder its
lineage tag names (emulator/state.py), wherever its training data was copied.

moto reads only the named parameters of CreateModelCustomizationJob: the request's
``customizationConfig`` is kept here, stored on the job and returned by
GetModelCustomizationJob as Bedrock returns it. A distillation job invokes its
teacher (emulator/distillation_jobs.py) and an RFT job its grader function
(emulator/rft_jobs.py) before it completes; either refuses a request Bedrock refuses.
"""

from __future__ import annotations

import inspect
import json
import math
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from moto.bedrock.models import BedrockBackend, ModelCustomizationJob
from moto.bedrock.responses import BedrockResponse

from emulator import account, distillation_jobs, rft_jobs
from emulator.iam import service_role
from emulator.state import BEDROCK, BedrockError, Scenario, folder, job_folder_of, s3_location

_original_create = BedrockBackend.create_model_customization_job
_original_get = BedrockBackend.get_model_customization_job
_original_stop = BedrockBackend.stop_model_customization_job
_original_respond = BedrockResponse.create_model_customization_job
_original_to_dict = ModelCustomizationJob.to_dict
# The customizationConfig of the request being answered (moto's backend is not given it).
_REQUEST = threading.local()
REFUSALS: dict[str, Callable[[str, dict[str, Any], Any], str | None]] = {
    "DISTILLATION": distillation_jobs.refusal,
    "REINFORCEMENT_FINE_TUNING": rft_jobs.refusal,
}
COMPLETIONS: dict[str, Callable[[Any], str | None]] = {
    "DISTILLATION": distillation_jobs.complete,
    "REINFORCEMENT_FINE_TUNING": rft_jobs.complete,
}


def _respond_create(self: Any) -> str:
    """moto's answer, with the request's customizationConfig available to ``_create``."""
    _REQUEST.config = json.loads(self.body or "{}").get("customizationConfig")
    try:
        return str(_original_respond(self))
    finally:
        _REQUEST.config = None


# A distillation job's sub-tasks (validation, data processing: the teacher's answers,
# training) by the job's status: GetModelCustomizationJob ``statusDetails``, "for a
# Distillation job" only (botocore 1.44.5 bedrock service-2.json, read 2026-12-02).
SUB_TASKS = {
    "InProgress": ("Completed", "InProgress", "NotStarted"),
    "Completed": ("Completed", "Completed", "Completed"),
    "Failed": ("Completed", "Failed", "NotStarted"),
    "Stopping": ("Completed", "Completed", "Stopping"),
    "Stopped": ("Completed", "Completed", "Stopped"),
}


def _to_dict(self: Any) -> dict[str, Any]:
    found = _original_to_dict(self)
    config = getattr(self, "customization_config", None)
    if config:
        found["customizationConfig"] = config
    if self.customization_type == "DISTILLATION" and self.status in SUB_TASKS:
        names = ("validationDetails", "dataProcessingDetails", "trainingDetails")
        found["statusDetails"] = {
            name: {
                "status": status,
                "creationTime": self.creation_time,
                "lastModifiedTime": self.last_modified_time,
            }
            for name, status in zip(names, SUB_TASKS[self.status], strict=True)
        }
    return found


def _create(self: Any, *args: Any, **kwargs: Any) -> Any:
    arguments = inspect.signature(_original_create).bind(self, *args, **kwargs).arguments
    job_folder = folder(
        arguments.get("job_tags") or arguments.get("custom_model_tags"),
        arguments.get("training_data_config"),
    )
    scenario = BEDROCK.scenario(job_folder)
    attempt = BEDROCK.creates.get(job_folder, 0) + 1
    BEDROCK.creates[job_folder] = attempt
    name = str(arguments.get("job_name"))
    BEDROCK.calls.append(("CreateModelCustomizationJob", name))
    if attempt <= scenario.throttle_first:
        raise BedrockError("ThrottlingException", "Rate exceeded (emulated).")
    if attempt <= scenario.throttle_first + scenario.quota_first:
        raise BedrockError(
            "ServiceQuotaExceededException",
            "Concurrent customization jobs quota reached (emulated).",
        )
    kind = str(arguments.get("customization_type") or "FINE_TUNING")
    refused = account.refusal(self.region_name, str(arguments.get("base_model_identifier")), kind)
    config: dict[str, Any] = getattr(_REQUEST, "config", None) or {}
    check = REFUSALS.get(kind)
    if not refused and check is not None:
        refused = check(self.region_name, config, arguments.get("hyper_parameters"))
    if refused:
        raise BedrockError("ValidationException", refused)
    if name in self.model_customization_jobs:
        # The same job (its name and client request token follow from the run): Bedrock
        # answers an idempotent retry with the existing job.
        return self.model_customization_jobs[name].job_arn
    created = _original_create(self, *args, **kwargs)
    # Bedrock reads the data, writes the output and uses the model key and the VPC as
    # the service role: a permission it lacks fails the job, as in AWS.
    denied = service_role.denial({**arguments, "customization_config": config})
    if denied:
        BEDROCK.denied_jobs[name] = denied
    # moto names the job's output model "<model>-<job>" but registers the model as "<model>";
    # in AWS outputModelArn is the custom model's ARN, which is what gets invoked.
    job = self.model_customization_jobs[name]
    job.customization_config = config or None
    model = self.custom_models[job.custom_model_name]
    job.output_model_name, job.output_model_arn = model.model_name, model.model_arn
    return created


def _get(self: Any, job_identifier: str) -> Any:
    job = _original_get(self, job_identifier)
    BEDROCK.calls.append(("GetModelCustomizationJob", job.job_name))
    if job.status != "InProgress":
        return job
    scenario = BEDROCK.scenario(job_folder_of(job))
    polls = BEDROCK.polls.get(job.job_name, 0) + 1
    BEDROCK.polls[job.job_name] = polls
    if job.job_name in BEDROCK.denied_jobs:
        job.status, job.failure_message = "Failed", BEDROCK.denied_jobs[job.job_name]
        job.end_time = datetime.now(UTC).isoformat()
        return job
    if polls >= scenario.polls_until_done:
        complete = COMPLETIONS.get(str(job.customization_type))
        # The teacher's answers or the grader's rewards, made before the job completes.
        failed = complete(job) if complete and scenario.outcome == "Completed" else None
        job.status = "Failed" if failed else scenario.outcome
        job.end_time = datetime.now(UTC).isoformat()
        if failed:
            job.failure_message = failed
        elif scenario.outcome != "Completed":
            job.failure_message = scenario.failure_message
        elif job.customization_type == "REINFORCEMENT_FINE_TUNING":
            # AWS documents RFT's rewards in its metrics, no loss (emulator/rft_jobs.py).
            job.training_metrics, job.validation_metrics = {}, []
        else:
            job.training_metrics = {"trainingLoss": scenario.training_loss}
            # Bedrock reports validation loss only for jobs given validation data.
            job.validation_metrics = (
                [{"validationLoss": scenario.validation_loss}] if job.validation_data_config else []
            )
            _write_metrics(job, scenario)
    return job


def _stop_job(self: Any, job_identifier: str) -> Any:
    BEDROCK.calls.append(("StopModelCustomizationJob", job_identifier))
    return _original_stop(self, job_identifier)


def _write_metrics(job: Any, scenario: Scenario) -> None:
    """The metrics files Bedrock writes under the output URI, with the documented columns.

    Page model-customization-analyze (read 2026-12-02): step_wise_training_metrics.csv has
    step_number (from 0), epoch_number, training_loss, perplexity; validation_metrics.csv
    the same with validation_loss. One validation row per epoch here; the last epoch's
    losses are the scenario's (what GetModelCustomizationJob reports).
    """
    if BEDROCK.s3 is None:
        return
    bucket, prefix = s3_location(str(job.output_data_config["s3Uri"]))
    epochs = max(1, int(str((job.hyper_parameters or {}).get("epochCount") or 2)))
    rows, validation = (
        ["step_number,epoch_number,training_loss,perplexity"],
        ["step_number,epoch_number,validation_loss,perplexity"],
    )
    steps = epochs * scenario.steps_per_epoch
    for step in range(steps):
        left = 1 - (step + 1) / steps  # 1 at the start, 0 at the last step
        # Deterministic noise of +-3 %, none on the last step: its loss is the job's.
        wobble = 0.03 * ((step * 7919) % 11 - 5) / 5 if step < steps - 1 else 0.0
        loss = scenario.training_loss * (1 + 2.5 * left**2) * (1 + wobble)
        epoch = step // scenario.steps_per_epoch
        rows.append(f"{step},{epoch},{loss:.4f},{math.exp(loss):.4f}")
        if (step + 1) % scenario.steps_per_epoch == 0:
            value = _validation_loss(scenario, epoch + 1, epochs)
            validation.append(f"{step},{epoch},{value:.4f},{math.exp(value):.4f}")
    BEDROCK.s3.put_object(
        Bucket=bucket,
        Key=f"{prefix.rstrip('/')}/training_artifacts/step_wise_training_metrics.csv",
        Body="\n".join(rows).encode(),
    )
    if job.validation_data_config:
        BEDROCK.s3.put_object(
            Bucket=bucket,
            Key=f"{prefix.rstrip('/')}/validation_artifacts/post_fine_tuning_validation/validation/validation_metrics.csv",
            Body="\n".join(validation).encode(),
        )


def _validation_loss(scenario: Scenario, epoch: int, epochs: int) -> float:
    """Validation loss after ``epoch`` (1-based); the last is the scenario's validation_loss."""
    last = scenario.validation_loss
    turn = scenario.overfit_after_epoch
    if turn is None or turn >= epochs:
        return last * (1 + 0.6 * (epochs - epoch) / epochs)  # falls to the end
    lowest = last * 0.8  # the turn's value; then it rises to `last`
    if epoch <= turn:
        return lowest * (1 + 0.6 * (turn - epoch) / turn)
    return lowest + (last - lowest) * (epoch - turn) / (epochs - turn)


def install(assign: Callable[[Any, str, Any], None] = setattr) -> None:
    """Run the jobs (``assign`` is setattr, or a test's monkeypatch.setattr)."""
    assign(BedrockBackend, "create_model_customization_job", _create)
    assign(BedrockBackend, "get_model_customization_job", _get)
    assign(BedrockBackend, "stop_model_customization_job", _stop_job)
    assign(BedrockResponse, "create_model_customization_job", _respond_create)
    assign(ModelCustomizationJob, "to_dict", _to_dict)
