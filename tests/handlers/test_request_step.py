"""ValidateRequest against moto: claims, the manifest, the catalog and the data keys."""

from __future__ import annotations

from typing import Any

import pytest

from customization_core.run import Status
from tests.handlers.conftest import MODEL, Aws
from tests.handlers.runs import EXECUTION, MANIFEST, _begin, _records


def test_a_good_request_pins_dataset_versions_and_records_the_run(aws: Aws) -> None:
    run = _begin(aws, train_jsonl=_records(20), validation_jsonl=_records(5))
    assert run.status is Status.VALIDATING
    assert run.model_id == MODEL
    assert run.hyperparameters == {"epochCount": "2"}
    assert run.training is not None
    assert run.training["key"] == "jobs/summaries/train.jsonl"
    assert run.validation is not None
    assert run.validation["version_id"]
    item = aws.item(run.run_id)
    assert item["status"] == "VALIDATING"
    assert [h["status"] for h in item["history"]] == ["RECEIVED", "VALIDATING"]
    assert item["training"]["version_id"] == run.training["version_id"]


def test_the_same_object_version_delivered_twice_is_handled_once(aws: Aws) -> None:
    source = aws.start("twice", MANIFEST, train_jsonl=_records(20))
    first = aws.validate(source, EXECUTION)
    second = aws.validate(source, EXECUTION + "-2")
    assert first["duplicate"] is False
    assert second["duplicate"] is True
    assert aws.item(first["run_id"])["execution_arn"] == EXECUTION


def test_a_new_version_of_job_json_is_a_new_run(aws: Aws) -> None:
    first = _begin(aws, name="again")
    second = _begin(aws, name="again")
    assert first.run_id != second.run_id


@pytest.mark.parametrize(
    ("manifest", "fragment"),
    [
        (b"{not json", "job.json is not valid JSON"),
        ({"baseModelId": MODEL}, "'customizationType' is missing"),
        (
            {**MANIFEST, "baseModelId": "amazon.titan-text-express-v2"},
            "is not a base model this tool can customize",
        ),
        (
            {
                **MANIFEST,
                "customizationType": "CONTINUED_PRE_TRAINING",
                "baseModelId": "meta.llama3-1-8b-instruct-v1:0:128k",
            },
            "does not support continued-pretraining",
        ),
        (
            {**MANIFEST, "hyperParameters": {"epochs": 3}},
            "'epochs' is not a hyperparameter of this model",
        ),
        (
            {**MANIFEST, "trainingData": "missing.jsonl"},
            "training file jobs/bad/missing.jsonl does not exist",
        ),
        (
            {**MANIFEST, "validationData": "val.jsonl"},
            "validation file jobs/bad/val.jsonl named by the manifest does not exist",
        ),
    ],
)
def test_a_bad_request_is_rejected_with_its_reason_before_data_is_read(
    aws: Aws, manifest: dict[str, Any] | bytes, fragment: str
) -> None:
    run = _begin(aws, manifest, name="bad")
    assert run.status is Status.REJECTED
    assert run.reason is not None
    assert fragment in run.reason
    item = aws.item(run.run_id)
    assert item["status"] == "REJECTED"
    assert fragment in item["reason"]


def test_models_outside_the_deployment_allow_list_are_rejected(aws: Aws) -> None:
    aws.config = aws.config.model_copy(update={"allowed_models": ("amazon.nova-micro-v1:0:128k",)})
    run = _begin(aws)
    assert run.status is Status.REJECTED
    assert "not allowed in this deployment; allowed: amazon.nova-micro-v1:0:128k" in (
        run.reason or ""
    )


def test_deployment_default_hyperparameters_fill_what_the_manifest_leaves_out(aws: Aws) -> None:
    aws.config = aws.config.model_copy(
        update={"default_hyperparameters": {MODEL: {"epochCount": "5", "batchSize": "2"}}}
    )
    run = _begin(aws)
    assert run.hyperparameters == {
        "epochCount": "2",
        "batchSize": "2",
    }  # the manifest's epochCount wins
