"""StartJob, CheckJob and RecordResult against moto, including every fault path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from customization_core import dataset_step, end_steps, faults, job_steps
from customization_core.naming import OWNER_TAG
from customization_core.run import Run, Status
from tests.handlers.conftest import ARTIFACTS, STACK, Aws
from tests.handlers.runs import EXECUTION, MANIFEST, _job, _records, _started, _validated


def test_the_job_runs_in_the_vpc_with_the_model_key_and_lineage_tags(aws: Aws) -> None:
    run = _started(aws)
    assert run.status is Status.TRAINING
    job = _job(aws, run)
    assert job.custom_model_kms_key_id == aws.config.model_key_arn
    assert job.vpc_config == {
        "subnetIds": ["subnet-0a1b2c3d4e5f60718"],
        "securityGroupIds": ["sg-0a1b2c3d4e5f60718"],
    }
    assert job.output_data_config["s3Uri"] == f"s3://{ARTIFACTS}/runs/{run.run_id}/output/"
    assert job.hyper_parameters == {"epochCount": "2"}
    tags = {t["key"]: t["value"] for t in job.job_tags}
    assert tags["bedrock-customization:dataset-key"] == "jobs/summaries/job.json"
    assert tags["bedrock-customization:execution-arn"] == EXECUTION
    assert aws.item(run.run_id)["job_arn"] == run.job_arn


def test_the_job_and_its_model_carry_the_stacks_owner_tag(aws: Aws) -> None:
    # Given a manifest with tags of its own, when StartJob creates the job, then the job and
    # its custom model carry the owner tag the handlers' policies require (stacks/bedrock_arns.py)
    source = aws.start(
        "owned",
        {**MANIFEST, "tags": {"team": "support"}},
        train_jsonl=_records(20),
        validation_jsonl=_records(6),
    )
    run = Run.model_validate(aws.validate(source, EXECUTION))
    run = Run.model_validate(
        dataset_step.validate_data(run, s3=aws.s3, registry=aws.registry, config=aws.config)
    )
    run = Run.model_validate(
        job_steps.start_job(run, bedrock=aws.bedrock, registry=aws.registry, config=aws.config)
    )
    job = _job(aws, run)
    for tag_list in (job.job_tags, job.custom_model_tags):
        tags = {t["key"]: t["value"] for t in tag_list}
        assert tags[OWNER_TAG] == STACK
        assert tags["team"] == "support"  # the user's tags stay
    # Bedrock (here moto) keeps them on the job, where aws:ResourceTag reads them.
    kept = aws.bedrock.list_tags_for_resource(resourceARN=run.job_arn)["tags"]
    assert {"key": OWNER_TAG, "value": STACK} in kept


def test_a_job_never_created_is_refused_and_there_is_nothing_to_stop(aws: Aws) -> None:
    # Given a run whose job was never created (its name is known from ValidateRequest), when
    # the failure path stops it, then Bedrock refuses (no job carries the owner tag the
    # policy asks for) and that means no job: nothing to stop, nothing to retry.
    run = _validated(aws)
    assert run.job_name is not None
    assert run.job_arn is None
    with _stub_error(aws, "stop_model_customization_job", "AccessDeniedException"):
        assert job_steps.stop_job(run, bedrock=aws.bedrock, give_up=False) is None


def test_a_recorded_job_that_is_refused_is_reported_not_ignored(aws: Aws) -> None:
    # A job with its ARN recorded exists: refused, it lacks the owner tag (made before it was).
    run = _started(aws)
    with (
        _stub_error(aws, "stop_model_customization_job", "AccessDeniedException"),
        pytest.raises(ClientError),
    ):
        job_steps.stop_job(run, bedrock=aws.bedrock, give_up=False)
    with _stub_error(aws, "stop_model_customization_job", "AccessDeniedException"):
        sentence = job_steps.stop_job(run, bedrock=aws.bedrock, give_up=True)
    assert sentence is not None
    assert "could NOT be stopped (AccessDeniedException)" in sentence


def _stub_error(aws: Aws, operation: str, code: str) -> Stubber:
    stubber = Stubber(aws.bedrock)
    stubber.add_client_error(
        operation, service_error_code=code, service_message=f"{code} from Bedrock"
    )
    stubber.activate()
    return stubber


@pytest.mark.parametrize(
    ("code", "raised"),
    [
        ("ThrottlingException", faults.BedrockThrottledError),
        ("InternalServerException", faults.BedrockUnavailableError),
        ("ServiceQuotaExceededException", job_steps.RunQueuedError),
    ],
)
def test_bedrock_faults_raise_the_errors_the_state_machine_retries(
    aws: Aws, code: str, raised: type[Exception]
) -> None:
    run = _validated(aws)
    with _stub_error(aws, "create_model_customization_job", code), pytest.raises(raised):
        job_steps.start_job(run, bedrock=aws.bedrock, registry=aws.registry, config=aws.config)
    expected = "QUEUED" if raised is job_steps.RunQueuedError else "VALIDATING"
    assert aws.item(run.run_id)["status"] == expected


def test_a_user_error_from_bedrock_is_not_retried(aws: Aws) -> None:
    run = _validated(aws)
    with (
        _stub_error(aws, "create_model_customization_job", "ValidationException"),
        pytest.raises(ClientError) as raised,
    ):
        job_steps.start_job(run, bedrock=aws.bedrock, registry=aws.registry, config=aws.config)
    assert not isinstance(
        raised.value,
        faults.BedrockThrottledError | faults.BedrockUnavailableError | job_steps.RunQueuedError,
    )
    assert "ValidationException" in str(raised.value)


def test_the_job_is_polled_until_it_completes_and_the_result_recorded(aws: Aws) -> None:
    run = _started(aws)
    assert (
        Run.model_validate(job_steps.check_job(run, bedrock=aws.bedrock)).job_status == "InProgress"
    )
    job = _job(aws, run)
    job.status = "Completed"
    job.training_metrics = {"trainingLoss": 0.42}
    job.validation_metrics = [{"validationLoss": 0.5}]
    job.end_time = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    aws.s3.put_object(
        Bucket=ARTIFACTS,
        Key=f"runs/{run.run_id}/output/training_artifacts/step_wise_training_metrics.csv",
        Body=b"step_number,epoch_number,training_loss\n1,0,1.5\n2,1,0.75\n",
    )
    polled = Run.model_validate(job_steps.check_job(run, bedrock=aws.bedrock))
    assert polled.job_status == "Completed"
    done = Run.model_validate(
        job_steps.record_result(
            polled,
            bedrock=aws.bedrock,
            s3=aws.s3,
            registry=aws.registry,
            config=aws.config,
        )
    )
    assert done.status is Status.SUCCEEDED
    assert done.model_arn == job.output_model_arn
    assert done.metrics["training_loss"] == 0.42
    assert done.metrics["validation_loss"] == 0.5
    assert done.metrics["final_training_loss"] == 0.75
    assert aws.item(run.run_id)["status"] == "SUCCEEDED"


def test_a_failed_job_carries_bedrocks_failure_message(aws: Aws) -> None:
    run = _started(aws)
    job = _job(aws, run)
    job.status = "Failed"
    job.failure_message = "Data download failed: check the network configuration."
    polled = Run.model_validate(job_steps.check_job(run, bedrock=aws.bedrock))
    assert polled.job_status == "Failed"
    failed = Run.model_validate(
        end_steps.record_failure(
            polled, {"Error": "JobFailed"}, registry=aws.registry, bedrock=aws.bedrock
        )
    )
    assert failed.status is Status.FAILED
    assert "Data download failed" in (failed.reason or "")
    assert aws.item(run.run_id)["status"] == "FAILED"


def test_throttled_polls_raise_the_retried_error(aws: Aws) -> None:
    run = _started(aws)
    with (
        _stub_error(aws, "get_model_customization_job", "ThrottlingException"),
        pytest.raises(faults.BedrockThrottledError),
    ):
        job_steps.check_job(run, bedrock=aws.bedrock)
