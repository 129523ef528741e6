"""RecordResult after a completed, paid job: throttling is retried, a job without a model fails the run."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from customization_core import job_steps
from customization_core.faults import BedrockThrottledError
from customization_core.run import Run, Source, Status
from tests.handlers.conftest import ACCOUNT, REGION, Aws

JOB = "bc-summaries-0123456789ab"
JOB_ARN = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:model-customization-job/{JOB}"


def _run() -> Run:
    source = Source(bucket="datasets", key="jobs/summaries/job.json", version_id="v1")
    return Run(
        run_id="summaries-0123456789ab",
        source=source,
        execution_arn=f"arn:aws:states:{REGION}:{ACCOUNT}:execution:workflow:e1",
        status=Status.TRAINING,
        job_name=JOB,
        job_arn=JOB_ARN,
    )


def _bedrock(*responses: dict[str, Any] | str) -> Any:
    client = boto3.client("bedrock", region_name=REGION)
    stub = Stubber(client)
    for response in responses:
        if isinstance(response, str):
            stub.add_client_error("get_model_customization_job", service_error_code=response)
        else:
            stub.add_response("get_model_customization_job", response)
    stub.activate()
    return client


def _job(**extra: Any) -> dict[str, Any]:
    return {
        "jobArn": JOB_ARN,
        "jobName": JOB,
        "roleArn": f"arn:aws:iam::{ACCOUNT}:role/bedrock",
        "baseModelArn": f"arn:aws:bedrock:{REGION}::foundation-model/amazon.nova-micro-v1:0:128k",
        "creationTime": "2026-12-01T00:00:00Z",
        "status": "Completed",
        "trainingDataConfig": {"s3Uri": "s3://datasets/jobs/summaries/train.jsonl"},
        "outputDataConfig": {"s3Uri": "s3://artifacts/runs/summaries-0123456789ab/output/"},
        "outputModelName": "summaries",
        "validationDataConfig": {"validators": []},
        **extra,
    }


def test_a_throttled_lookup_after_a_paid_job_is_retried_not_failed(aws: Aws) -> None:
    run = _run()
    assert aws.registry.claim(run)
    with pytest.raises(BedrockThrottledError):
        job_steps.record_result(
            run,
            bedrock=_bedrock("ThrottlingException"),
            s3=aws.s3,
            registry=aws.registry,
            config=aws.config,
        )


def test_a_completed_job_without_a_custom_model_fails_the_run(aws: Aws) -> None:
    run = _run()
    assert aws.registry.claim(run)
    state = job_steps.record_result(
        run, bedrock=_bedrock(_job()), s3=aws.s3, registry=aws.registry, config=aws.config
    )
    run = Run.model_validate(state)
    assert run.status is Status.FAILED
    assert "no outputModelArn" in (run.reason or "")
    assert aws.item(run.run_id)["status"] == "FAILED"


def test_a_completed_job_whose_custom_model_failed_fails_the_run(aws: Aws) -> None:
    run = _run()
    assert aws.registry.claim(run)
    model_arn = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:custom-model/summaries/abcdefghijkl"
    client = boto3.client("bedrock", region_name=REGION)
    stub = Stubber(client)
    stub.add_response("get_model_customization_job", _job(outputModelArn=model_arn))
    stub.add_response(
        "get_custom_model",
        {
            "modelArn": model_arn,
            "modelName": "summaries",
            "creationTime": "2026-12-01T01:00:00Z",
            "modelStatus": "Failed",
            "failureMessage": "Model import failed (emulated).",
        },
        {"modelIdentifier": model_arn},
    )
    stub.activate()
    state = job_steps.record_result(
        run, bedrock=client, s3=aws.s3, registry=aws.registry, config=aws.config
    )
    run = Run.model_validate(state)
    assert run.status is Status.FAILED
    assert "is Failed (Model import failed (emulated).)" in (run.reason or "")
    assert run.model_arn is None  # not a usable model: nothing is deployed or reported from it
    stub.assert_no_pending_responses()
