"""The report page and what feeds it, against moto: written as the run moves on, linked once.

ValidateDataset writes the dataset card and the first page; StartJob records the training
ETA; RecordResult records the loss diagnosis; Notify rewrites the page and links to it with
a short presigned URL. A page that cannot be written never fails the run.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import boto3
import pytest

from customization_core import dataset_step, job_steps, notify_step, report_publish
from customization_core.layout import dataset_card_key, report_page_key
from customization_core.run import Run, Status
from customization_core.training_eta import eta_of, training_eta
from lambdas import common
from tests.handlers.conftest import ARTIFACTS, MODEL, REGION, Aws
from tests.handlers.runs import _begin, _job, _records, _validated

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
TRAINING = "training_artifacts/step_wise_training_metrics.csv"
VALIDATION = "validation_artifacts/post_fine_tuning_validation/validation/validation_metrics.csv"


def _page(aws: Aws, run_id: str) -> str:
    body = aws.s3.get_object(Bucket=ARTIFACTS, Key=report_page_key(run_id))["Body"]
    return str(body.read().decode())


def test_validation_writes_the_dataset_card_and_the_first_page(aws: Aws) -> None:
    run = _validated(aws)
    item = aws.item(run.run_id)
    assert item["dataset_card"] == f"s3://{ARTIFACTS}/{dataset_card_key(run.run_id)}"
    card = json.loads(
        aws.s3.get_object(Bucket=ARTIFACTS, Key=dataset_card_key(run.run_id))["Body"].read()
    )
    files = {f["role"]: f for f in card["files"]}
    assert files["training"]["version_id"] == run.training["version_id"]  # type: ignore[index]
    assert len(files["training"]["sha256"]) == 64
    assert set(item["risk_summary"]) == {"leakage", "duplicates", "pii", "secrets", "outliers"}
    assert run.run_id in _page(aws, run.run_id)


def test_a_stage_that_blocks_personal_data_rejects_the_run_naming_the_line(aws: Aws) -> None:
    lines = _records(20).splitlines()
    lines[4] = json.dumps({"prompt": "Mail jane.doe@example.com today.", "completion": "Done."})
    blocking = aws.config.model_copy(update={"data_risk": {"pii": "block"}})
    run = _validated(aws, config=blocking, train_jsonl="\n".join(lines) + "\n")
    assert run.status is Status.REJECTED
    assert "risk-pii" in (run.reason or "")
    assert "jane.doe@example.com" not in (run.reason or "")  # masked, never printed
    # The same data under the default (warn) policy goes on, with a warning.
    warned = _validated(aws, name="warned", train_jsonl="\n".join(lines) + "\n")
    assert warned.status is Status.VALIDATING
    assert aws.item(warned.run_id)["risk_summary"]["pii"] == 1


def test_start_job_records_an_eta_from_the_catalog_default_without_history(aws: Aws) -> None:
    run = _validated(aws)
    started = Run.model_validate(
        job_steps.start_job(
            run, bedrock=aws.bedrock, registry=aws.registry, config=aws.config, s3=aws.s3, now=NOW
        )
    )
    eta = started.training_eta
    assert eta is not None
    assert "catalog default" in eta["basis"]
    assert eta["started_at"] == "2026-12-02T09:00:00Z"
    item = aws.item(run.run_id)
    assert item["training_eta"] == eta
    seen = eta_of(item, now=NOW + timedelta(seconds=1))
    assert seen is not None
    assert "estimate" in seen.label
    assert not seen.overdue
    assert "Estimated finish" in _page(aws, run.run_id)


def test_start_job_reads_the_throughput_of_past_runs_of_the_same_model(aws: Aws) -> None:
    # A finished run of the same model: 1M tokens x 2 epochs in an hour.
    aws.table.put_item(
        Item={
            "run_id": "past-000000000001",
            "status": "SUCCEEDED",
            "updated_at": "2026-12-01T09:00:00+00:00",
            "model_id": MODEL,
            "customization_type": "FINE_TUNING",
            "tokens": 1_000_000,
            "effective_hyperparameters": {"epochCount": "2"},
            "metrics": {"duration_seconds": 3600},
        }
    )
    run = _begin(aws, name="now")
    run = Run.model_validate(
        dataset_step.validate_data(run, s3=aws.s3, registry=aws.registry, config=aws.config)
    )
    started = Run.model_validate(
        job_steps.start_job(
            run, bedrock=aws.bedrock, registry=aws.registry, config=aws.config, now=NOW
        )
    )
    assert started.training_eta is not None
    assert started.training_eta["basis"] == "1 past run of this model, median 2.0M tokens/h"


def test_a_rising_validation_loss_is_diagnosed_recorded_and_told(aws: Aws) -> None:
    run = Run.model_validate(
        job_steps.start_job(
            _validated(aws), bedrock=aws.bedrock, registry=aws.registry, config=aws.config
        )
    )
    job = _job(aws, run)
    job.status, job.end_time = "Completed", NOW.isoformat()
    prefix = f"runs/{run.run_id}/output/"
    steps = ["step_number,epoch_number,training_loss,perplexity"]
    steps += [f"{s},{s // 2},{2.0 - 0.2 * s:.2f},1" for s in range(6)]
    checks = [
        "step_number,epoch_number,validation_loss,perplexity",
        "1,0,1.2,1",
        "3,1,0.9,1",
        "5,2,1.1,1",
    ]
    aws.s3.put_object(Bucket=ARTIFACTS, Key=prefix + TRAINING, Body="\n".join(steps).encode())
    aws.s3.put_object(Bucket=ARTIFACTS, Key=prefix + VALIDATION, Body="\n".join(checks).encode())
    run = Run.model_validate(job_steps.check_job(run, bedrock=aws.bedrock))
    done = Run.model_validate(
        job_steps.record_result(
            run, bedrock=aws.bedrock, s3=aws.s3, registry=aws.registry, config=aws.config
        )
    )
    assert done.metrics["best_epoch_count"] == 2
    assert "epochCount=2" in done.metrics["diagnosis"]
    notify_step.notify(done, sns=aws.sns, config=aws.config, registry=aws.registry, s3=aws.s3)
    (message,) = aws.sns.published
    assert f"Diagnosis: {done.metrics['diagnosis']}" in message["Message"]
    assert done.metrics["diagnosis"] in _page(aws, run.run_id)


def test_the_notice_links_to_the_page_for_an_hour(aws: Aws) -> None:
    run = _validated(aws, train_jsonl=_records(20, bad_line=3))
    s3 = boto3.client("s3", region_name=REGION, config=common.S3_CONFIG)  # as Notify's
    notify_step.notify(run, sns=aws.sns, config=aws.config, registry=aws.registry, s3=s3)
    (message,) = aws.sns.published
    (line,) = [x for x in message["Message"].splitlines() if x.startswith("Report: ")]
    url = urlparse(line.split()[1])
    assert url.path.endswith(report_page_key(run.run_id))
    query = parse_qs(url.query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]  # SigV4: the page is SSE-KMS
    assert query["X-Amz-Expires"] == [str(report_publish.LINK_SECONDS)]
    assert f"bedrock-customize report {run.run_id}" in line
    assert "REJECTED" in _page(aws, run.run_id)


def test_a_page_that_cannot_be_written_never_fails_the_run(
    aws: Aws, caplog: pytest.LogCaptureFixture
) -> None:
    run = _validated(aws)
    written = report_publish.publish_quietly(
        run.run_id, s3=aws.s3, registry=aws.registry, bucket="no-such-bucket", now=NOW
    )
    assert written is None
    assert "was not written" in caplog.text
    notify_step.notify(
        run,
        sns=aws.sns,
        config=aws.config.model_copy(update={"artifacts_bucket": "no-such-bucket"}),
        registry=aws.registry,
        s3=aws.s3,
    )
    (message,) = aws.sns.published  # told anyway: the page is drawn after the notice
    assert message["Subject"].startswith("Bedrock customization VALIDATING")
    assert aws.item(run.run_id)["notified_at"]


def _past(aws: Aws, run_id: str, *, tokens: int, seconds: int, kind: str = "FINE_TUNING") -> None:
    aws.table.put_item(
        Item={
            "run_id": run_id,
            "status": "SUCCEEDED",
            "updated_at": "2026-12-01T09:00:00+00:00",
            "model_id": MODEL,
            "customization_type": kind,
            "tokens": tokens,
            "effective_hyperparameters": {"epochCount": "1"},
            "metrics": {"duration_seconds": seconds},
        }
    )


def test_the_eta_ignores_smoke_tests_and_other_types_and_never_fails_a_start(aws: Aws) -> None:
    # A 3,000-token smoke test that took an hour (its start-up), and a continued
    # pre-training run of the same model: neither says how fast this fine-tuning trains.
    _past(aws, "smoke-000000000001", tokens=3_000, seconds=3600)
    _past(aws, "cpt-000000000001", tokens=5_000_000, seconds=60, kind="CONTINUED_PRE_TRAINING")
    assert (
        training_eta(
            model_id=MODEL,
            tokens=1_000_000,
            epochs=1,
            registry=aws.registry,
            started_at=NOW,
            customization_type="FINE_TUNING",
        )
        or {}
    ).get("basis") == "catalog default 2.0M tokens/h, no past runs"
    # Unknown tokens: no estimate (not "overdue" at once); one past the calendar: none either.
    assert (
        training_eta(model_id=MODEL, tokens=0, epochs=2, registry=aws.registry, started_at=NOW)
        is None
    )
    _past(aws, "slow-000000000001", tokens=100_000, seconds=36_000_000)
    assert (
        training_eta(
            model_id=MODEL,
            tokens=10**12,
            epochs=10,
            registry=aws.registry,
            started_at=NOW,
            customization_type="FINE_TUNING",
        )
        is None
    )


class _ListOnly:
    """An S3 client that lists nothing and must not be asked for an object (as AWS answers
    a GET of a missing key with AccessDenied to a role that may not list it)."""

    def list_objects_v2(self, **request: object) -> dict[str, object]:
        return {"KeyCount": 0}

    def get_object(self, **request: object) -> dict[str, object]:
        raise AssertionError(f"GetObject of an unlisted key: {request}")


def test_a_document_a_run_has_not_written_is_absent_without_a_get() -> None:
    assert report_publish.read_listed(_ListOnly(), ARTIFACTS, "runs/r/evaluation.json") is None
