"""Notify against moto: what the notice says, once."""

from __future__ import annotations

import json

from customization_core import notify_step
from customization_core.run import Status
from tests.handlers.conftest import ACCOUNT, ARTIFACTS, MODEL, REGION, Aws
from tests.handlers.runs import _records, _validated


def test_the_notification_says_what_happened_and_where_to_look(aws: Aws) -> None:
    run = _validated(aws, train_jsonl=_records(20, bad_line=3))
    notify_step.notify(run, sns=aws.sns, config=aws.config, registry=aws.registry)
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
    notify_step.notify(run, sns=aws.sns, config=aws.config, registry=aws.registry)
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
    notify_step.notify(run, sns=aws.sns, config=aws.config, registry=aws.registry)
    (message,) = aws.sns.published
    assert f"x {epochs} epoch(s) = {run.tokens * epochs:,} billed" in message["Message"]
