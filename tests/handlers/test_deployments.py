"""After training, state by state: model Active, deployment, evaluation, end time, teardown, faults.

Bedrock deployments and invocations come from the emulator's patches of moto
(emulator/patches.py), installed for each test only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.config import Config

from customization_core import deployments, evaluate_step, steps
from customization_core.run import PipelineConfig, Run, Status
from emulator import patches
from emulator.patches import BEDROCK, Scenario
from tests.handlers.conftest import ARTIFACTS, Aws
from tests.handlers.test_steps import EXECUTION, MANIFEST, _records

DEPLOY = {"mode": "provisioned", "modelUnits": 1, "ttlHours": 2}
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture
def bedrock(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    """The handlers' moto with the emulator's deployments and model answers (undone after)."""
    BEDROCK.reset()

    def assign(owner: Any, name: str, value: Any) -> None:
        monkeypatch.setattr(owner, name, value, raising=False)  # some operations are new

    patches.install(assign)
    yield aws
    BEDROCK.reset()


def _trained(aws: Aws, **manifest: Any) -> Run:
    """A run through RecordResult, with the manifest's deploy and evaluate blocks."""
    source = aws.start(
        "summaries",
        {**MANIFEST, **manifest},
        train_jsonl=_records(20),
        validation_jsonl=_records(6),
    )
    run = Run.model_validate(
        steps.validate_request(
            source, EXECUTION, s3=aws.s3, registry=aws.registry, config=aws.config
        )
    )
    assert run.status is Status.VALIDATING, run.reason
    run = Run.model_validate(
        steps.validate_data(run, s3=aws.s3, registry=aws.registry, config=aws.config)
    )
    run = Run.model_validate(
        steps.start_job(run, bedrock=aws.bedrock, registry=aws.registry, config=aws.config)
    )
    return Run.model_validate(
        steps.record_result(
            run, bedrock=aws.bedrock, s3=aws.s3, registry=aws.registry, config=aws.config
        )
    )


def _deployed(aws: Aws, deploy: dict[str, Any] = DEPLOY, **manifest: Any) -> Run:
    run = _trained(aws, deploy=deploy, **manifest)
    run = Run.model_validate(deployments.check_model(run, bedrock=aws.bedrock, config=aws.config))
    run = Run.model_validate(
        deployments.start_deployment(
            run, bedrock=aws.bedrock, registry=aws.registry, config=aws.config
        )
    )
    while run.deployment and run.deployment["status"] == "CREATING":
        run = Run.model_validate(
            deployments.check_deployment(run, bedrock=aws.bedrock, config=aws.config)
        )
    return run


# Requests that cannot be honoured are refused before training ----------------------------


def test_on_demand_for_a_model_without_it_is_rejected_with_the_models_that_have_it(
    aws: Aws,
) -> None:
    source = aws.start(
        "summaries", {**MANIFEST, "deploy": {"mode": "on-demand"}}, train_jsonl=_records(20)
    )
    run = Run.model_validate(
        steps.validate_request(
            source, EXECUTION, s3=aws.s3, registry=aws.registry, config=aws.config
        )
    )
    assert run.status is Status.REJECTED
    assert "deploy.mode on-demand is not available for amazon.titan-text-lite-v1:0:4k" in (
        run.reason or ""
    )
    assert "Amazon Nova Micro, Amazon Nova Lite, Amazon Nova Pro" in (run.reason or "")


def test_an_end_time_beyond_the_deployments_limit_is_rejected(aws: Aws) -> None:
    source = aws.start(
        "summaries",
        {**MANIFEST, "deploy": {"mode": "provisioned", "ttlHours": 500}},
        train_jsonl=_records(20),
    )
    run = Run.model_validate(
        steps.validate_request(
            source, EXECUTION, s3=aws.s3, registry=aws.registry, config=aws.config
        )
    )
    assert run.status is Status.REJECTED
    assert "deploy.ttlHours 500 is above this deployment's limit of 72 hours" in (run.reason or "")


def test_without_a_deploy_block_the_run_ends_at_record_result(bedrock: Aws) -> None:
    run = _trained(bedrock)
    assert (run.status, run.deployment) == (Status.SUCCEEDED, None)


# Model, deployment ---------------------------------------------------------------------


def test_the_model_is_deployed_once_active_and_the_deployment_polled_until_it_serves(
    bedrock: Aws,
) -> None:
    run = _trained(bedrock, deploy=DEPLOY)
    assert run.status is Status.DEPLOYING
    assert run.deployment is not None
    assert run.deployment["status"] == "WAITING_FOR_MODEL"
    run = _deployed(bedrock)
    assert run.deployment is not None
    assert run.deployment["status"] == "ACTIVE"
    assert run.deployment["arn"].startswith(
        "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/"
    )
    assert BEDROCK.count("CreateProvisionedModelThroughput") == 1
    item = bedrock.item(run.run_id)
    assert item["deployment"]["arn"] == run.deployment["arn"]
    assert "Creating the Provisioned Throughput, 1 model unit(s)." in [
        h.get("reason") for h in item["history"]
    ]


def test_a_model_that_never_becomes_active_times_out(bedrock: Aws) -> None:
    BEDROCK.scenarios["jobs/summaries/"] = Scenario(model_creating_polls=10**6)
    config = bedrock.config.model_copy(update={"poll_interval_seconds": 3600})  # 6 polls in 6 h
    run = _trained(bedrock, deploy=DEPLOY)
    for _ in range(6):
        run = Run.model_validate(
            deployments.check_model(run, bedrock=bedrock.bedrock, config=config)
        )
        assert run.deployment is not None
        assert run.deployment["status"] == "WAITING_FOR_MODEL"
    run = Run.model_validate(deployments.check_model(run, bedrock=bedrock.bedrock, config=config))
    assert run.deployment is not None
    assert run.deployment["status"] == "TIMED_OUT"
    assert run.reason == "The custom model was not ready within 6 hours."


def test_a_failed_deployment_fails_the_run_and_is_deleted(bedrock: Aws) -> None:
    BEDROCK.scenarios["jobs/summaries/"] = Scenario(deployment_outcome="Failed")
    run = _deployed(bedrock)
    assert run.deployment is not None
    assert run.deployment["status"] == "FAILED"
    failed = Run.model_validate(
        steps.record_failure(
            run, {"Error": "DeploymentFailed"}, registry=bedrock.registry, bedrock=bedrock.bedrock
        )
    )
    assert failed.status is Status.FAILED
    assert failed.reason == (
        "Deploying the custom model failed: The deployment is Failed: Capacity for this model "
        "is not available (emulated). Its deployment was deleted."
    )
    assert BEDROCK.deployments == {}  # nothing left billing by the hour
    assert bedrock.item(run.run_id)["deployment"]["status"] == "DELETED"


def test_cancelling_a_deployed_run_deletes_its_deployment(bedrock: Aws) -> None:
    run = _deployed(bedrock)
    cancelled = Run.model_validate(
        steps.cancel(run, bedrock=bedrock.bedrock, registry=bedrock.registry)
    )
    assert cancelled.status is Status.CANCELLED
    assert cancelled.reason == "Cancelled by request. Its deployment was deleted."
    assert BEDROCK.count("DeleteProvisionedModelThroughput") == 1
    assert BEDROCK.deployments == {}


# Evaluation ------------------------------------------------------------------------------


def _evaluate(aws: Aws, run: Run, remaining_ms: int = 900_000) -> Run:
    return Run.model_validate(
        evaluate_step.evaluate(
            run,
            s3=aws.s3,
            # No SDK retries: the state machine's retry is what is tested.
            runtime=boto3.client(
                "bedrock-runtime",
                region_name="us-east-1",
                config=Config(retries={"total_max_attempts": 1}),
            ),
            registry=aws.registry,
            config=aws.config,
            remaining_ms=lambda: remaining_ms,
        )
    )


def test_evaluation_scores_both_models_on_held_out_records_and_writes_the_report(
    bedrock: Aws,
) -> None:
    run = _deployed(bedrock, evaluate={"samples": 4, "minImprovement": 0.1})
    assert run.evaluation == {"planned": True, "done": False, "next": 0}
    run = _evaluate(bedrock, run)
    assert run.verdict == "PROMOTED"
    assert run.evaluation is not None
    assert run.evaluation["done"] is True
    key = f"runs/{run.run_id}/evaluation.json"
    document = json.loads(bedrock.s3.get_object(Bucket=ARTIFACTS, Key=key)["Body"].read())
    assert [s["prompt"] for s in document["samples"]] == [
        f"Summarize conversation {i}." for i in range(4)
    ]  # the first records of the validation file
    assert document["overall"]["custom"]["rouge_l"] == 1.0
    assert document["base_model"] == "amazon.titan-text-lite-v1"
    assert bedrock.item(run.run_id)["verdict"] == "PROMOTED"


def test_a_throttled_evaluation_keeps_its_answers_and_continues(bedrock: Aws) -> None:
    BEDROCK.scenarios["jobs/summaries/"] = Scenario(invoke_throttle_first=2)
    run = _deployed(bedrock, evaluate={"samples": 3})
    with pytest.raises(steps.BedrockThrottledError):
        _evaluate(bedrock, run)
    partial = json.loads(
        bedrock.s3.get_object(Bucket=ARTIFACTS, Key=f"runs/{run.run_id}/evaluation-partial.json")[
            "Body"
        ].read()
    )
    assert partial[0]["base"]  # the base model answered before the custom model was throttled
    with pytest.raises(steps.BedrockThrottledError):
        _evaluate(bedrock, run)  # the workflow's retry, throttled once more
    done = _evaluate(bedrock, run)
    assert done.verdict == "PROMOTED"


def test_an_evaluation_out_of_time_returns_to_go_on_later(bedrock: Aws) -> None:
    run = _deployed(bedrock, evaluate={"samples": 3})
    waiting = _evaluate(bedrock, run, remaining_ms=1000)  # under the safety margin at once
    assert waiting.evaluation is not None
    assert (waiting.evaluation["done"], waiting.evaluation["next"]) == (False, 0)
    assert _evaluate(bedrock, waiting).verdict == "PROMOTED"


def test_continued_pretraining_is_evaluated_only_on_given_prompts(bedrock: Aws) -> None:
    run = Run(run_id="r", source={"bucket": "b", "key": "k", "version_id": "v"}, execution_arn="e")
    run.customization_type = "CONTINUED_PRE_TRAINING"
    run.extra = {"deploy": DEPLOY, "evaluate": {"samples": 5}}
    deployments.plan(run)
    assert run.evaluation == {"planned": False, "done": True, "next": 0}
    run.extra["evaluate"]["prompts"] = ["What is the X200's battery life?"]
    deployments.plan(run)
    assert run.evaluation is not None
    assert run.evaluation["planned"] is True


# The end time -------------------------------------------------------------------------------


def _watch(aws: Aws, run: Run, now: datetime) -> Run:
    return Run.model_validate(
        deployments.watch(run, registry=aws.registry, sns=aws.sns, config=aws.config, now=now)
    )


def test_a_deployment_gets_notice_an_hour_before_its_end_time_and_is_then_deleted(
    bedrock: Aws,
) -> None:
    run = _watch(bedrock, _deployed(bedrock), NOW)
    assert (run.status, run.next_action, run.wait_until) == (
        Status.DEPLOYED,
        "wait",
        "2026-11-24T13:00:00Z",
    )
    assert run.deployment is not None
    assert run.deployment["expires_at"] == "2026-11-24T14:00:00Z"
    assert "Deployed: " in bedrock.sns.published[-1]["Subject"]
    run = _watch(bedrock, run, NOW + timedelta(hours=1))
    assert (run.next_action, run.wait_until) == ("wait", "2026-11-24T14:00:00Z")
    assert "ends in an hour" in bedrock.sns.published[-1]["Subject"]
    run = _watch(bedrock, run, NOW + timedelta(hours=2))
    assert run.next_action == "teardown"
    ended = Run.model_validate(
        deployments.tear_down(run, bedrock=bedrock.bedrock, registry=bedrock.registry)
    )
    assert ended.status is Status.SUCCEEDED
    assert ended.deployment is not None
    assert ended.deployment["status"] == "EXPIRED"
    assert (
        ended.reason
        == "The deployment reached its end time (2026-11-24T14:00:00Z) and was deleted."
    )
    assert BEDROCK.deployments == {}


def test_an_extended_end_time_is_read_from_the_registry_when_the_watch_wakes(bedrock: Aws) -> None:
    run = _watch(bedrock, _deployed(bedrock), NOW)
    bedrock.table.update_item(  # what `bedrock-customize extend --hours 3` writes
        Key={"run_id": run.run_id},
        UpdateExpression="SET deployment.expires_at = :later",
        ExpressionAttributeValues={":later": "2026-11-24T17:00:00Z"},
    )
    run = _watch(bedrock, run, NOW + timedelta(hours=1))
    assert (run.next_action, run.wait_until) == ("wait", "2026-11-24T16:00:00Z")
    assert run.deployment is not None
    assert run.deployment["expires_at"] == "2026-11-24T17:00:00Z"


def test_no_end_time_keeps_the_deployment_and_ends_the_run(bedrock: Aws) -> None:
    run = _deployed(bedrock, deploy={"mode": "provisioned", "ttlHours": None})
    kept = _watch(bedrock, run, NOW)
    assert (kept.status, kept.next_action) == (Status.SUCCEEDED, "keep")
    assert "no end time (ttlHours: null)" in (kept.reason or "")


def test_a_model_that_does_not_beat_its_base_is_torn_down_at_once(bedrock: Aws) -> None:
    BEDROCK.scenarios["jobs/summaries/"] = Scenario(custom_quality="base")
    run = _evaluate(bedrock, _deployed(bedrock, evaluate={"samples": 3, "minImprovement": 0.05}))
    assert run.verdict == "NOT_PROMOTED"
    run = _watch(bedrock, run, NOW)
    assert run.next_action == "teardown"
    ended = Run.model_validate(
        deployments.tear_down(run, bedrock=bedrock.bedrock, registry=bedrock.registry)
    )
    assert ended.status is Status.SUCCEEDED
    assert ended.deployment is not None
    assert ended.deployment["status"] == "DELETED"
    assert "did not beat its base model" in (ended.reason or "")


def test_the_sweep_finds_deployments_alive_past_their_end_time() -> None:
    items: list[dict[str, Any]] = [
        {"run_id": "late", "deployment": {"expires_at": "2026-11-24T10:00:00Z"}},
        {"run_id": "grace", "deployment": {"expires_at": "2026-11-24T11:45:00Z"}},
        {"run_id": "future", "deployment": {"expires_at": "2026-11-24T15:00:00Z"}},
        {"run_id": "none"},
    ]
    assert deployments.overdue(items, NOW) == ["late"]


def test_the_polling_limit_follows_the_poll_interval() -> None:
    config = PipelineConfig.model_validate(
        {
            "artifacts_bucket": "a",
            "topic_arn": "t",
            "bedrock_role_arn": "r",
            "model_key_arn": "k",
            "subnet_ids": [],
            "security_group_ids": [],
            "poll_interval_seconds": 300,
        }
    )
    assert deployments._max_polls(config) == 72  # 6 hours of 5-minute polls


def test_the_registry_lists_the_serving_runs_for_the_sweep(bedrock: Aws) -> None:
    run = _watch(bedrock, _deployed(bedrock), NOW)
    serving = bedrock.registry.by_status(Status.DEPLOYED)
    assert [item["run_id"] for item in serving] == [run.run_id]
    assert deployments.overdue(serving, NOW + timedelta(hours=3)) == [run.run_id]
    assert deployments.overdue(serving, NOW + timedelta(hours=2)) == []  # within the grace
