"""Each workflow state against moto (S3, DynamoDB, Bedrock), including every fault path."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto.bedrock.models import bedrock_backends

from customization_core import steps, validator
from customization_core.approval import decrypt_token
from customization_core.catalog import load_catalog
from customization_core.naming import OWNER_TAG
from customization_core.run import PipelineConfig, Run, Status
from tests.handlers.conftest import ACCOUNT, ARTIFACTS, MODEL, REGION, STACK, Aws

EXECUTION = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:workflow:e1"
MANIFEST = {
    "customizationType": "FINE_TUNING",
    "baseModelId": MODEL,
    "hyperParameters": {"epochCount": 2},
}


def _records(n: int, *, bad_line: int | None = None) -> str:
    lines = [
        json.dumps({"prompt": f"Summarize conversation {i}.", "completion": f"Summary {i}."})
        for i in range(n)
    ]
    if bad_line is not None:
        lines[bad_line - 1] = '{"prompt": "no completion"}'
    return "\n".join(lines) + "\n"


def _begin(
    aws: Aws, manifest: dict[str, Any] | bytes = MANIFEST, name: str = "summaries", **files: str
) -> Run:
    files = files or {"train_jsonl": _records(20)}
    source = aws.start(name, manifest, **files)
    state = aws.validate(source, EXECUTION)
    return Run.model_validate(state)


def _validated(aws: Aws, config: PipelineConfig | None = None, **kwargs: Any) -> Run:
    run = _begin(aws, **kwargs)
    return Run.model_validate(
        steps.validate_data(
            run,
            s3=aws.s3,
            registry=aws.registry,
            config=config or aws.config,
        )
    )


def _started(aws: Aws) -> Run:
    run = _validated(aws)
    return Run.model_validate(
        steps.start_job(run, bedrock=aws.bedrock, registry=aws.registry, config=aws.config)
    )


def _job(aws: Aws, run: Run) -> Any:
    assert run.job_name is not None
    return bedrock_backends[ACCOUNT][REGION].model_customization_jobs[run.job_name]


# ValidateRequest ------------------------------------------------------------------


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


# ValidateDataset and EstimateCost ---------------------------------------------------


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
        steps.validate_data(
            run,
            s3=aws.s3,
            registry=aws.registry,
            config=aws.config,
        )
    )
    assert run.status is Status.VALIDATING


UNPRICED = "amazon.titan-text-express-v1:0:8k"  # priced nowhere, in these tests


def _without_prices(monkeypatch: pytest.MonkeyPatch, model_id: str) -> None:
    """The catalog, with no training price for ``model_id`` (as a model AWS prices nowhere)."""
    catalog = load_catalog()
    model = catalog.find(model_id)
    assert model is not None
    unpriced = model.model_copy(
        update={
            "customizations": {
                kind: custom.model_copy(update={"training_price_per_1k_tokens_usd": None})
                for kind, custom in model.customizations.items()
            }
        }
    )
    changed = catalog.model_copy(
        update={"models": tuple(unpriced if m is model else m for m in catalog.models)}
    )
    monkeypatch.setattr(validator, "load_catalog", lambda: changed)


@pytest.mark.parametrize(
    ("threshold", "model", "price", "needs"),
    [
        (None, UNPRICED, None, False),  # no threshold: no approval step
        (100.0, MODEL, None, False),  # the catalog's price, far under the threshold
        (1.0, MODEL, 1000.0, True),  # an overridden price above it
        (100.0, UNPRICED, None, True),  # no price: cannot be shown to be under it
    ],
)
def test_runs_over_the_threshold_or_without_a_price_wait_for_approval(
    aws: Aws,
    monkeypatch: pytest.MonkeyPatch,
    threshold: float | None,
    model: str,
    price: float | None,
    needs: bool,
) -> None:
    _without_prices(monkeypatch, UNPRICED)
    config = aws.config.model_copy(
        update={
            "approval_threshold_usd": threshold,
            "training_prices_usd": {model: price} if price else {},
        }
    )
    run = _validated(aws, config, manifest={**MANIFEST, "baseModelId": model})
    result = Run.model_validate(steps.estimate_cost(run, registry=aws.registry, config=config))
    assert result.needs_approval is needs


def test_a_run_over_its_own_budget_is_rejected(aws: Aws) -> None:
    config = aws.config.model_copy(update={"training_prices_usd": {MODEL: 1000.0}})
    run = _validated(aws, config, manifest={**MANIFEST, "budgetUsd": 1})
    result = Run.model_validate(steps.estimate_cost(run, registry=aws.registry, config=config))
    assert result.status is Status.REJECTED
    assert "above the manifest's budgetUsd $1.00" in (result.reason or "")


@pytest.mark.parametrize(
    ("deploy", "reason"),
    [
        ({"mode": "provisioned", "ttlHours": None}, "no end time"),
        ({"mode": "provisioned", "modelUnits": 2, "ttlHours": 1}, "2 model units"),
    ],
)
def test_a_deployment_without_an_end_or_with_more_units_waits_for_approval_whatever_the_threshold(
    aws: Aws, deploy: dict[str, Any], reason: str
) -> None:
    config = aws.config.model_copy(update={"approval_threshold_usd": None})
    run = _validated(aws, config, manifest={**MANIFEST, "deploy": deploy})
    result = Run.model_validate(steps.estimate_cost(run, registry=aws.registry, config=config))
    assert result.needs_approval is True
    assert any(reason in why for why in result.extra["approval_reasons"])


def test_a_deployment_within_the_limits_needs_no_approval(aws: Aws) -> None:
    config = aws.config.model_copy(
        update={"approval_threshold_usd": None, "max_unapproved_model_units": 2}
    )
    deploy = {"mode": "provisioned", "modelUnits": 2, "ttlHours": 1}
    run = _validated(aws, config, manifest={**MANIFEST, "deploy": deploy})
    result = Run.model_validate(steps.estimate_cost(run, registry=aws.registry, config=config))
    assert result.needs_approval is False


def test_the_estimate_prices_the_deployment_and_the_threshold_applies_to_the_total(
    aws: Aws,
) -> None:
    # Titan Lite: $7.10 per model unit per hour (the catalog); 3 hours of 1 unit is $21.30.
    config = aws.config.model_copy(update={"approval_threshold_usd": 20.0})
    deploy = {"mode": "provisioned", "modelUnits": 1, "ttlHours": 3}
    run = _validated(aws, config, manifest={**MANIFEST, "deploy": deploy})
    result = Run.model_validate(steps.estimate_cost(run, registry=aws.registry, config=config))
    assert result.estimate is not None
    parts = {p["name"]: p["usd"] for p in result.estimate["parts"]}
    assert parts["deployment"] == pytest.approx(21.30)
    assert parts["storage"] == pytest.approx(1.95)
    assert result.cost_usd == pytest.approx(sum(parts.values()))
    assert result.needs_approval is True  # $21.30 + storage + training > $20
    item = aws.item(run.run_id)
    assert float(item["cost_usd"]) == pytest.approx(result.cost_usd)
    assert [p["name"] for p in item["estimate"]["parts"]] == [
        "training",
        "storage",
        "deployment",
    ]


def test_a_run_whose_deployment_is_over_its_budget_is_rejected_before_training(aws: Aws) -> None:
    deploy = {"mode": "provisioned", "modelUnits": 1, "ttlHours": 10}  # $71 of Titan Lite
    run = _validated(aws, manifest={**MANIFEST, "deploy": deploy, "budgetUsd": 50})
    result = Run.model_validate(steps.estimate_cost(run, registry=aws.registry, config=aws.config))
    assert result.status is Status.REJECTED
    assert "budgetUsd $50.00" in (result.reason or "")
    assert "deployment: $71.00" in (result.reason or "")


def test_approval_stores_only_the_encrypted_token_and_says_how_to_answer(aws: Aws) -> None:
    config = aws.config.model_copy(update={"approval_threshold_usd": 0.5})
    run = Run.model_validate(
        steps.estimate_cost(_validated(aws), registry=aws.registry, config=config)
    )
    steps.request_approval(
        run, "token-123", registry=aws.registry, sns=aws.sns, kms=aws.kms, config=aws.config
    )
    item = aws.item(run.run_id)
    assert item["status"] == "AWAITING_APPROVAL"
    assert "approval_token" not in item
    assert "token-123" not in json.dumps(item, default=str)  # only its ciphertext is kept
    assert (
        decrypt_token(
            aws.kms,
            key_arn=str(aws.config.approval_key_arn),
            run_id=run.run_id,
            ciphertext=item["approval_token_ciphertext"],
        )
        == "token-123"
    )
    (message,) = aws.sns.published
    assert f"bedrock-customize approve {run.run_id}" in message["Message"]
    assert f"approvals/{run.run_id}/answer.json" in message["Message"]
    assert "token-123" not in message["Message"]
    assert len(message["Subject"]) <= 100
    # Why it is held, and the estimate in parts and in total.
    assert "above the approval threshold $0.50" in message["Message"]
    assert "  storage: $1.95 (the custom model's first month of storage)" in message["Message"]
    assert "  total: $" in message["Message"]


# StartJob, CheckJob, RecordResult -----------------------------------------------------


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
    # its custom model carry the owner tag the handlers' policies require (stacks/workflow.py)
    source = aws.start(
        "owned",
        {**MANIFEST, "tags": {"team": "support"}},
        train_jsonl=_records(20),
        validation_jsonl=_records(6),
    )
    run = Run.model_validate(aws.validate(source, EXECUTION))
    run = Run.model_validate(
        steps.validate_data(run, s3=aws.s3, registry=aws.registry, config=aws.config)
    )
    run = Run.model_validate(
        steps.start_job(run, bedrock=aws.bedrock, registry=aws.registry, config=aws.config)
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
        assert steps.stop_job(run, bedrock=aws.bedrock, give_up=False) is None


def test_a_recorded_job_that_is_refused_is_reported_not_ignored(aws: Aws) -> None:
    # A job with its ARN recorded exists: refused, it lacks the owner tag (made before it was).
    run = _started(aws)
    with (
        _stub_error(aws, "stop_model_customization_job", "AccessDeniedException"),
        pytest.raises(ClientError),
    ):
        steps.stop_job(run, bedrock=aws.bedrock, give_up=False)
    with _stub_error(aws, "stop_model_customization_job", "AccessDeniedException"):
        sentence = steps.stop_job(run, bedrock=aws.bedrock, give_up=True)
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
        ("ThrottlingException", steps.BedrockThrottledError),
        ("InternalServerException", steps.BedrockUnavailableError),
        ("ServiceQuotaExceededException", steps.RunQueuedError),
    ],
)
def test_bedrock_faults_raise_the_errors_the_state_machine_retries(
    aws: Aws, code: str, raised: type[Exception]
) -> None:
    run = _validated(aws)
    with _stub_error(aws, "create_model_customization_job", code), pytest.raises(raised):
        steps.start_job(run, bedrock=aws.bedrock, registry=aws.registry, config=aws.config)
    expected = "QUEUED" if raised is steps.RunQueuedError else "VALIDATING"
    assert aws.item(run.run_id)["status"] == expected


def test_a_user_error_from_bedrock_is_not_retried(aws: Aws) -> None:
    run = _validated(aws)
    with (
        _stub_error(aws, "create_model_customization_job", "ValidationException"),
        pytest.raises(ClientError) as raised,
    ):
        steps.start_job(run, bedrock=aws.bedrock, registry=aws.registry, config=aws.config)
    assert not isinstance(
        raised.value,
        steps.BedrockThrottledError | steps.BedrockUnavailableError | steps.RunQueuedError,
    )
    assert "ValidationException" in str(raised.value)


def test_the_job_is_polled_until_it_completes_and_the_result_recorded(aws: Aws) -> None:
    run = _started(aws)
    assert Run.model_validate(steps.check_job(run, bedrock=aws.bedrock)).job_status == "InProgress"
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
    polled = Run.model_validate(steps.check_job(run, bedrock=aws.bedrock))
    assert polled.job_status == "Completed"
    done = Run.model_validate(
        steps.record_result(
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
    polled = Run.model_validate(steps.check_job(run, bedrock=aws.bedrock))
    assert polled.job_status == "Failed"
    failed = Run.model_validate(
        steps.record_failure(
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
        pytest.raises(steps.BedrockThrottledError),
    ):
        steps.check_job(run, bedrock=aws.bedrock)


# Failures, notifications, cancellation --------------------------------------------------


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
        steps.record_failure(run, error, registry=aws.registry, bedrock=aws.bedrock)
    )
    assert result.status is status
    assert fragment in (result.reason or "")
    assert aws.item(run.run_id)["status"] == status.value


def test_an_approval_that_times_out_is_a_rejection(aws: Aws) -> None:
    run = _validated(aws)
    steps.request_approval(
        run, "t", registry=aws.registry, sns=aws.sns, kms=aws.kms, config=aws.config
    )
    result = Run.model_validate(
        steps.record_failure(
            run, {"Error": "States.Timeout"}, registry=aws.registry, bedrock=aws.bedrock
        )
    )
    assert (result.status, result.reason) == (Status.REJECTED, "Nobody approved the run in time.")


def test_the_notification_says_what_happened_and_where_to_look(aws: Aws) -> None:
    run = _validated(aws, train_jsonl=_records(20, bad_line=3))
    steps.notify(run, sns=aws.sns, config=aws.config, registry=aws.registry)
    (message,) = aws.sns.published
    assert message["TopicArn"] == aws.config.topic_arn
    assert message["Subject"].startswith("Bedrock customization REJECTED: summaries-")
    assert "Status: REJECTED" in message["Message"]
    assert "training:3 missing-field" in message["Message"]
    assert f"s3://{ARTIFACTS}/runs/{run.run_id}/validation-report.json" in message["Message"]


def test_a_trained_model_that_nothing_serves_is_told_how_to_deploy_it(aws: Aws) -> None:
    run = _validated(aws)
    run.status = Status.SUCCEEDED
    run.model_arn = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:custom-model/summaries"
    steps.notify(run, sns=aws.sns, config=aws.config, registry=aws.registry)
    (message,) = aws.sns.published
    # Titan Lite has no on-demand deployment: Provisioned Throughput is the way.
    expected = f"Deploy it later: bedrock-customize deploy {run.run_id} --provisioned --ttl-hours 2"
    assert expected in message["Message"]


def test_without_epoch_count_the_notice_report_and_registry_agree_on_the_default(
    aws: Aws,
) -> None:
    manifest = {"customizationType": "FINE_TUNING", "baseModelId": MODEL}  # no epochCount
    run = _validated(aws, manifest=manifest, name="defaults")
    report = json.loads(
        aws.s3.get_object(Bucket=ARTIFACTS, Key=f"runs/{run.run_id}/validation-report.json")[
            "Body"
        ].read()
    )
    epochs = report["cost"]["epochs"]
    assert epochs > 1  # the catalog's default for the model, not 1
    assert run.hyperparameters == {}  # what Bedrock is sent: only what the user gave
    assert run.effective_hyperparameters["epochCount"] == str(epochs)
    assert aws.item(run.run_id)["effective_hyperparameters"]["epochCount"] == str(epochs)
    steps.notify(run, sns=aws.sns, config=aws.config, registry=aws.registry)
    (message,) = aws.sns.published
    assert f"x {epochs} epoch(s) = {run.tokens * epochs:,} billed" in message["Message"]


def test_cancelling_stops_the_job_and_deletes_nothing(aws: Aws) -> None:
    run = _started(aws)
    result = Run.model_validate(steps.cancel(run, bedrock=aws.bedrock, registry=aws.registry))
    assert result.status is Status.CANCELLED
    assert _job(aws, run).status in ("Stopping", "Stopped")
    assert aws.item(run.run_id)["status"] == "CANCELLED"
    listed = aws.s3.list_object_versions(Bucket="datasets", Prefix="jobs/summaries/")
    assert len(listed["Versions"]) == 2  # train.jsonl and job.json, untouched


def test_a_stopped_execution_cancels_its_run_once(aws: Aws) -> None:
    run = _started(aws)
    stopped_input = {
        "bucket": run.source.bucket,
        "key": run.source.key,
        "versionId": run.source.version_id,
    }
    result = steps.cancel_aborted(
        stopped_input, bedrock=aws.bedrock, registry=aws.registry, sns=aws.sns, config=aws.config
    )
    assert result is not None
    assert result["status"] == "CANCELLED"
    assert _job(aws, run).status in ("Stopping", "Stopped")
    assert aws.sns.published[-1]["Subject"].startswith("Bedrock customization CANCELLED")
    # Delivered again, or for a run that already ended: nothing more happens.
    again = steps.cancel_aborted(
        stopped_input, bedrock=aws.bedrock, registry=aws.registry, sns=aws.sns, config=aws.config
    )
    assert again is None
    assert len(aws.sns.published) == 1


def test_a_failed_execution_that_left_its_run_open_ends_it_failed_and_stops_the_job(
    aws: Aws,
) -> None:
    """The last resort: RecordFailure itself failed, the execution FAILED, the run was TRAINING."""
    run = _started(aws)
    failed_input = {
        "bucket": run.source.bucket,
        "key": run.source.key,
        "versionId": run.source.version_id,
    }
    result = steps.cancel_aborted(
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
        steps.cancel_aborted(
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
        steps.cancel_aborted(
            stopped_input,
            bedrock=aws.bedrock,
            registry=aws.registry,
            sns=aws.sns,
            config=aws.config,
        )
        is None
    )
