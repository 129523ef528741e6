"""ValidateDataset against moto: the report, line numbers, and the pinned versions."""

from __future__ import annotations

import json

from customization_core import dataset_step
from customization_core.run import Run, Status
from tests.handlers.conftest import ARTIFACTS, Aws
from tests.handlers.runs import _begin, _records, _validated


def test_valid_data_writes_the_report_and_keeps_the_run_going(aws: Aws) -> None:
    run = _validated(aws)
    assert run.status is Status.VALIDATING
    assert run.tokens
    assert run.tokens > 0
    report = json.loads(aws.s3.get_object(Bucket=ARTIFACTS, Key=run.report_key)["Body"].read())
    assert report["valid"] is True
    assert report["records"] == 20
    assert aws.item(run.run_id)["report"] == f"s3://{ARTIFACTS}/{run.report_key}"


def test_invalid_data_is_rejected_with_line_numbers_in_the_reason(aws: Aws) -> None:
    run = _validated(aws, train_jsonl=_records(20, bad_line=7))
    assert run.status is Status.REJECTED
    assert "training:7 missing-field" in (run.reason or "")
    report = json.loads(aws.s3.get_object(Bucket=ARTIFACTS, Key=run.report_key)["Body"].read())
    assert report["errors"][0]["line"] == 7


def test_the_pinned_version_is_validated_even_if_the_file_changes_afterwards(aws: Aws) -> None:
    run = _begin(aws, train_jsonl=_records(20))
    aws.upload("jobs/summaries/train.jsonl", "this is not json\n")  # a later upload
    run = Run.model_validate(
        dataset_step.validate_data(
            run,
            s3=aws.s3,
            registry=aws.registry,
            config=aws.config,
        )
    )
    assert run.status is Status.VALIDATING
