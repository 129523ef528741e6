"""RecordFailure and Cancel against moto: every cause recorded, nothing left running."""

from __future__ import annotations

import json

import pytest

from customization_core import approval_steps, end_steps
from customization_core.run import Run, Status
from tests.handlers.conftest import Aws
from tests.handlers.runs import _job, _started, _validated, execution_input


@pytest.mark.parametrize(
    ("error", "status", "fragment"),
    [
        (
            {"Error": "RunRejectedError", "Cause": "Too expensive"},
            Status.REJECTED,
            "Rejected: Too expensive",
        ),
        (
            {"Error": "RunQueuedError", "Cause": json.dumps({"errorMessage": "quota"})},
            Status.FAILED,
            "RunQueuedError: quota",
        ),
        ({"Error": "States.TaskFailed", "Cause": "boom"}, Status.FAILED, "States.TaskFailed: boom"),
    ],
)
def test_every_caught_failure_is_recorded_with_its_cause(
    aws: Aws, error: dict[str, str], status: Status, fragment: str
) -> None:
    run = _validated(aws)
    result = Run.model_validate(
        end_steps.record_failure(run, error, registry=aws.registry, bedrock=aws.bedrock)
    )
    assert result.status is status
    assert fragment in (result.reason or "")
    assert aws.item(run.run_id)["status"] == status.value


def test_an_approval_that_times_out_is_a_rejection(aws: Aws) -> None:
    run = _validated(aws)
    approval_steps.request_approval(
        run, "t", registry=aws.registry, sns=aws.sns, kms=aws.kms, config=aws.config
    )
    result = Run.model_validate(
        end_steps.record_failure(
            run, {"Error": "States.Timeout"}, registry=aws.registry, bedrock=aws.bedrock
        )
    )
    assert (result.status, result.reason) == (Status.REJECTED, "Nobody approved the run in time.")


def test_cancelling_stops_the_job_and_deletes_nothing(aws: Aws) -> None:
    run = _started(aws)
    result = Run.model_validate(end_steps.cancel(run, bedrock=aws.bedrock, registry=aws.registry))
    assert result.status is Status.CANCELLED
    assert _job(aws, run).status in ("Stopping", "Stopped")
    assert aws.item(run.run_id)["status"] == "CANCELLED"
    listed = aws.s3.list_object_versions(Bucket="datasets", Prefix="jobs/summaries/")
    assert len(listed["Versions"]) == 2  # train.jsonl and job.json, untouched


def test_a_stopped_execution_cancels_its_run_once(aws: Aws) -> None:
    run = _started(aws)
    stopped_input = execution_input(run)
    result = end_steps.cancel_aborted(
        stopped_input, bedrock=aws.bedrock, registry=aws.registry, sns=aws.sns, config=aws.config
    )
    assert result is not None
    assert result["status"] == "CANCELLED"
    assert _job(aws, run).status in ("Stopping", "Stopped")
    assert aws.sns.published[-1]["Subject"].startswith("Bedrock customization CANCELLED")
    # Delivered again, or for a run that already ended: nothing more happens.
    again = end_steps.cancel_aborted(
        stopped_input, bedrock=aws.bedrock, registry=aws.registry, sns=aws.sns, config=aws.config
    )
    assert again is None
    assert len(aws.sns.published) == 1


def test_a_failed_execution_that_left_its_run_open_ends_it_failed_and_stops_the_job(
    aws: Aws,
) -> None:
    """The last resort: RecordFailure itself failed, the execution FAILED, the run was TRAINING."""
    run = _started(aws)
    failed_input = execution_input(run)
    result = end_steps.cancel_aborted(
        failed_input,
        bedrock=aws.bedrock,
        registry=aws.registry,
        sns=aws.sns,
        config=aws.config,
        failed_execution=True,
    )
    assert result is not None
    assert result["status"] == "FAILED"
    assert "before it could record" in result["reason"]
    assert _job(aws, run).status in ("Stopping", "Stopped")
    assert aws.sns.published[-1]["Subject"].startswith("Bedrock customization FAILED")
    # A run the workflow ended itself (FAILED, then the execution failed): left as it is.
    assert (
        end_steps.cancel_aborted(
            failed_input,
            bedrock=aws.bedrock,
            registry=aws.registry,
            sns=aws.sns,
            config=aws.config,
            failed_execution=True,
        )
        is None
    )
    assert len(aws.sns.published) == 1


def test_stopping_an_execution_that_never_claimed_a_run_does_nothing(aws: Aws) -> None:
    stopped_input = {"bucket": "datasets", "key": "jobs/never/job.json", "versionId": "v1"}
    assert (
        end_steps.cancel_aborted(
            stopped_input,
            bedrock=aws.bedrock,
            registry=aws.registry,
            sns=aws.sns,
            config=aws.config,
        )
        is None
    )
