"""After training, state by state: model Active, deployment, evaluation, end time, teardown, faults.

Bedrock deployments and invocations come from the emulator's patches of moto
(emulator/patches.py), installed for each test only.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.stub import Stubber

from customization_core import deployments, evaluate_step, steps
from customization_core.catalog import load_catalog
from customization_core.deployments import stamp
from customization_core.naming import OWNER_TAG, RUN_ID_TAG
from customization_core.run import PipelineConfig, Run, Status
from emulator import deployments as emulated_deployments
from emulator import patches
from emulator import runtime as emulated_runtime
from emulator.patches import BEDROCK, Scenario
from tests.handlers.conftest import ARTIFACTS, STACK, Aws
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


def _trained(aws: Aws, files: dict[str, str] | None = None, **manifest: Any) -> Run:
    """A run through RecordResult, with the manifest's deploy and evaluate blocks.

    ``files``: the dataset (``train_jsonl``, ``validation_jsonl``), summaries by default.
    """
    source = aws.start(
        "summaries",
        {**MANIFEST, **manifest},
        **(files or {"train_jsonl": _records(20), "validation_jsonl": _records(6)}),
    )
    run = Run.model_validate(aws.validate(source, EXECUTION))
    assert run.status is Status.VALIDATING, run.reason
    run = Run.model_validate(
        steps.validate_data(
            run,
            s3=aws.s3,
            registry=aws.registry,
            config=aws.config,
        )
    )
    assert run.status is Status.VALIDATING, run.reason
    run = Run.model_validate(
        steps.start_job(run, bedrock=aws.bedrock, registry=aws.registry, config=aws.config)
    )
    return Run.model_validate(
        steps.record_result(
            run,
            bedrock=aws.bedrock,
            s3=aws.s3,
            registry=aws.registry,
            config=aws.config,
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
    run = Run.model_validate(aws.validate(source, EXECUTION))
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
    run = Run.model_validate(aws.validate(source, EXECUTION))
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


@pytest.mark.parametrize(
    ("deploy", "model"),
    [
        (DEPLOY, None),  # Provisioned Throughput, the manifest's Titan model
        ({"mode": "on-demand", "ttlHours": 2}, "amazon.nova-micro-v1:0:128k"),
    ],
)
def test_every_deployment_carries_the_stacks_owner_tag(
    bedrock: Aws, deploy: dict[str, Any], model: str | None
) -> None:
    # Given a trained model, when StartDeployment creates its deployment, then the create
    # request tags it with the owner tag the handlers' policies require (stacks/workflow.py),
    # and the emulated Bedrock keeps the tags on the deployment, as Bedrock does.
    manifest: dict[str, Any] = {}
    files = None
    if model is not None:
        manifest["baseModelId"] = model
        files = {"train_jsonl": _conversations(20), "validation_jsonl": _conversations(6)}
    run = _deployed(bedrock, deploy, files=files, **manifest)
    assert run.deployment is not None
    assert run.deployment["status"] == "ACTIVE", run.reason
    found = emulated_deployments.find(run.deployment["arn"])
    assert found is not None
    assert found.tags == {OWNER_TAG: STACK, RUN_ID_TAG: run.run_id}


@pytest.mark.parametrize("mode", ["provisioned", "on-demand"])
def test_a_deployment_never_created_is_refused_and_there_is_nothing_to_delete(
    aws: Aws, mode: str
) -> None:
    # By name (no ARN recorded), a deployment never created carries no owner tag: Bedrock
    # refuses the delete, which means there is none. By its recorded ARN it exists: raise.
    operation = (
        "delete_provisioned_model_throughput"
        if mode == "provisioned"
        else "delete_custom_model_deployment"
    )
    stubber = Stubber(aws.bedrock)
    for _ in range(2):
        stubber.add_client_error(operation, service_error_code="AccessDeniedException")
    with stubber:
        assert deployments.delete_deployment(aws.bedrock, {"mode": mode, "name": "d"}) is False
        with pytest.raises(ClientError):
            deployments.delete_deployment(
                aws.bedrock, {"mode": mode, "name": "d", "arn": "arn:aws:bedrock:x"}
            )


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


def _runtime(calls: list[tuple[str, str]] | None = None) -> Any:
    """A Bedrock Runtime client; ``calls`` collects (operation, modelId) of each request."""
    # No SDK retries: the state machine's retry is what is tested.
    runtime = boto3.client(
        "bedrock-runtime", region_name="us-east-1", config=Config(retries={"total_max_attempts": 1})
    )
    if calls is not None:

        def record(params: dict[str, Any], model: Any, **_: Any) -> None:
            calls.append((model.name, unquote(str(params["url_path"]).split("/")[2])))

        runtime.meta.events.register("before-call.bedrock-runtime", record)
    return runtime


def _evaluate(
    aws: Aws,
    run: Run,
    remaining_ms: int = 900_000,
    *,
    region: str = "us-east-1",
    calls: list[tuple[str, str]] | None = None,
) -> Run:
    return Run.model_validate(
        evaluate_step.evaluate(
            run,
            s3=aws.s3,
            runtime=_runtime(calls),
            registry=aws.registry,
            config=aws.config,
            remaining_ms=lambda: remaining_ms,
            region=region,
        )
    )


def _conversations(n: int) -> str:
    """Records in Bedrock's conversation schema (Llama 3.2 / 3.3 and Nova fine-tuning)."""
    lines = [
        json.dumps(
            {
                "schemaVersion": "bedrock-conversation-2024",
                "system": [{"text": "You summarize conversations."}],
                "messages": [
                    {"role": "user", "content": [{"text": f"Summarize conversation {i}."}]},
                    {"role": "assistant", "content": [{"text": f"Summary {i}."}]},
                ],
            }
        )
        for i in range(n)
    ]
    return "\n".join(lines) + "\n"


def _deployed_conversations(aws: Aws, model: str, *, validation: bool = True) -> Run:
    """A conversation-trained ``model``, deployed by Provisioned Throughput, to evaluate."""
    # Nova 2 Lite needs at least 200 training records (nova-2-sft-data-prep.html).
    files = {"train_jsonl": _conversations(200 if "nova-2" in model else 20)}
    if validation:
        files["validation_jsonl"] = _conversations(6)
    run = _deployed(
        aws,
        files=files,
        baseModelId=model,
        evaluate={"samples": 3, "minImprovement": 0.1},
    )
    assert run.deployment is not None
    assert run.deployment["status"] == "ACTIVE", run.reason
    return run


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


def test_a_model_without_on_demand_by_id_is_asked_through_its_inference_profile(
    bedrock: Aws,
) -> None:
    run = _deployed_conversations(bedrock, "amazon.nova-2-lite-v1:0:256k", validation=False)
    calls: list[tuple[str, str]] = []
    run = _evaluate(bedrock, run, calls=calls)
    assert run.deployment is not None
    custom = run.deployment["arn"]
    # Both through Converse (conversation data); the base by its US profile, the custom
    # model by its deployment, never by a profile.
    assert set(calls) == {("Converse", "us.amazon.nova-2-lite-v1:0"), ("Converse", custom)}
    assert run.verdict == "PROMOTED"
    document = json.loads(
        bedrock.s3.get_object(Bucket=ARTIFACTS, Key=f"runs/{run.run_id}/evaluation.json")[
            "Body"
        ].read()
    )
    assert document["base_model"] == "us.amazon.nova-2-lite-v1:0"
    assert (document["base_skipped"], document["api"]) == (None, "converse")
    assert all(s["base"] for s in document["samples"])


class _Answers:
    """A Bedrock Runtime that answers every call and records (operation, modelId).

    For models customized only where the emulated account is not (Llama: us-west-2):
    the run is made by hand, and the call's shape is what is checked.
    """

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def converse(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("Converse", kwargs["modelId"]))
        return {"output": {"message": {"role": "assistant", "content": [{"text": "Summary 0."}]}}}

    def invoke_model(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("InvokeModel", kwargs["modelId"]))
        assert "prompt" in json.loads(kwargs["body"])  # Llama's native body
        body = json.dumps({"generation": "Summary 0.", "stop_reason": "stop"}).encode()
        return {"body": io.BytesIO(body), "ResponseMetadata": {"HTTPHeaders": {}}}


def _hand_made(aws: Aws, model_id: str, training: str) -> Run:
    """A trained and deployed run of ``model_id`` on ``training``, as the workflow leaves it."""
    key = "jobs/chats/train.jsonl"
    version = aws.upload(key, training)
    run = Run(
        run_id="chats-1",
        source={"bucket": "datasets", "key": "jobs/chats/job.json", "version_id": "v"},
        execution_arn=EXECUTION,
    )
    run.model_id, run.customization_type = model_id, "FINE_TUNING"
    run.training = {"key": key, "version_id": version}
    run.extra = {"evaluate": {"samples": 2}}
    run.deployment = {
        "arn": "arn:aws:bedrock:us-west-2:123456789012:provisioned-model/abc",
        "status": "ACTIVE",
    }
    run.evaluation = {"planned": True, "done": False, "next": 0}
    run.status = Status.DEPLOYING
    assert aws.registry.claim(run)
    return run


@pytest.mark.parametrize(
    ("model_id", "training", "operation", "base"),
    [
        # Trained on conversations: asked in messages, the base through its US profile.
        (
            "meta.llama3-3-70b-instruct-v1:0:128k",
            _conversations(4),
            "Converse",
            "us.meta.llama3-3-70b-instruct-v1:0",
        ),
        # Trained on prompt/completion pairs: Llama's native body, the base by the id the
        # catalog gives for us-west-2 (its model id, or a profile where one is listed).
        ("meta.llama3-1-8b-instruct-v1:0:128k", _records(4), "InvokeModel", None),
    ],
)
def test_llama_is_asked_through_the_api_of_its_training_data(
    aws: Aws, model_id: str, training: str, operation: str, base: str | None
) -> None:
    model = load_catalog().find(model_id)
    assert model is not None
    base = base or model.invocation_id("us-west-2")
    run = _hand_made(aws, model_id, training)
    runtime = _Answers()
    done = Run.model_validate(
        evaluate_step.evaluate(
            run,
            s3=aws.s3,
            runtime=runtime,
            registry=aws.registry,
            config=aws.config,
            remaining_ms=lambda: 900_000,
            region="us-west-2",
        )
    )
    assert done.deployment is not None
    custom = done.deployment["arn"]
    assert runtime.calls == [(operation, base), (operation, custom)] * 2
    assert done.evaluation is not None
    assert done.evaluation["done"] is True


def test_without_a_profile_in_the_region_the_custom_model_is_scored_alone(bedrock: Aws) -> None:
    run = _deployed_conversations(bedrock, "amazon.nova-2-lite-v1:0:256k", validation=False)
    calls: list[tuple[str, str]] = []
    run = _evaluate(bedrock, run, region="eu-west-1", calls=calls)
    assert run.deployment is not None
    assert {model for _, model in calls} == {run.deployment["arn"]}  # the base was not asked
    assert run.verdict == "INCONCLUSIVE"
    assert run.evaluation is not None
    assert run.evaluation["done"] is True
    assert "eu-west-1" in run.evaluation["base_skipped"]
    document = json.loads(
        bedrock.s3.get_object(Bucket=ARTIFACTS, Key=f"runs/{run.run_id}/evaluation.json")[
            "Body"
        ].read()
    )
    assert document["base_model"] is None
    assert "eu-west-1" in document["base_skipped"]
    assert document["overall"]["custom"]["rouge_l"] == 1.0
    assert all("base" not in s for s in document["samples"])
    item = bedrock.item(run.run_id)
    assert item["verdict"] == "INCONCLUSIVE"
    assert "eu-west-1" in item["evaluation"]["base_skipped"]
    # Not a loss to its base: the deployment is kept until its end time.
    assert _watch(bedrock, run, NOW).next_action == "wait"


@pytest.mark.parametrize(
    "model_id",
    [
        "meta.llama3-3-70b-instruct-v1:0",
        "amazon.nova-2-lite-v1:0",
        "arn:aws:bedrock:us-east-1::foundation-model/meta.llama3-2-1b-instruct-v1:0",
    ],
)
def test_the_emulator_refuses_a_profile_only_model_by_its_bare_id(
    bedrock: Aws, model_id: str
) -> None:
    runtime = _runtime()
    messages = [{"role": "user", "content": [{"text": "Hi"}]}]
    with pytest.raises(ClientError) as refused:
        runtime.converse(modelId=model_id, messages=messages)
    error = refused.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert "on-demand throughput" in error["Message"]
    assert "inference profile" in error["Message"]
    with pytest.raises(ClientError, match="inference profile"):
        runtime.invoke_model(
            modelId=model_id, body=json.dumps({"prompt": "Hi"}), contentType="application/json"
        )


@pytest.mark.parametrize(
    "model_id",
    [
        "us.meta.llama3-3-70b-instruct-v1:0",
        "global.amazon.nova-2-lite-v1:0",
        "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-2-lite-v1:0",
        "amazon.titan-text-lite-v1",  # a model that answers by its id is unchanged
    ],
)
def test_the_emulator_answers_through_a_profile_as_its_base_model(
    bedrock: Aws, model_id: str
) -> None:
    answer = _runtime().converse(
        modelId=model_id,
        messages=[{"role": "user", "content": [{"text": "Summarize:\nAlice pays."}]}],
    )
    assert answer["output"]["message"]["content"][0]["text"] == "Alice pays."


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


def _watch(aws: Aws, run: Run, now: datetime, cloudwatch: Any = None) -> Run:
    return Run.model_validate(
        deployments.watch(
            run,
            registry=aws.registry,
            sns=aws.sns,
            cloudwatch=cloudwatch or boto3.client("cloudwatch", region_name="us-east-1"),
            config=aws.config,
            now=now,
        )
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


def test_an_end_time_edited_past_the_limit_is_capped_by_the_watch(bedrock: Aws) -> None:
    # Given a deployment whose end time in the registry was edited past its latest allowed
    # end time (maxDeploymentTtlHours, 72 hours after it became ready)
    run = _watch(bedrock, _deployed(bedrock), NOW)
    assert run.deployment is not None
    assert run.deployment["max_expires_at"] == "2026-11-27T12:00:00Z"
    bedrock.table.update_item(
        Key={"run_id": run.run_id},
        UpdateExpression="SET deployment.expires_at = :later",
        ExpressionAttributeValues={":later": "2026-12-24T12:00:00Z"},
    )
    # When the watch wakes, then it keeps the limit, and the registry says so
    run = _watch(bedrock, run, NOW + timedelta(hours=1))
    assert run.next_action == "wait"
    assert run.deployment is not None
    assert run.deployment["expires_at"] == "2026-11-27T12:00:00Z"
    item = bedrock.item(run.run_id)
    assert item["deployment"]["expires_at"] == "2026-11-27T12:00:00Z"
    assert item["history"][-1]["reason"] == (
        "The registry's end time 2026-12-24T12:00:00Z is past this deployment's latest, "
        "2026-11-27T12:00:00Z (maxDeploymentTtlHours 72): it is deleted at 2026-11-27T12:00:00Z."
    )
    # and at the limit it is deleted, whatever the registry says then
    bedrock.table.update_item(
        Key={"run_id": run.run_id},
        UpdateExpression="SET deployment.expires_at = :later",
        ExpressionAttributeValues={":later": "2026-12-24T12:00:00Z"},
    )
    run = _watch(bedrock, run, datetime(2026, 11, 27, 12, 0, tzinfo=UTC))
    assert run.next_action == "teardown"
    assert run.deployment is not None
    assert run.deployment["end_reason"] == "EXPIRED"


# Idle teardown -------------------------------------------------------------------------------

IDLE_DEPLOY = {"mode": "provisioned", "modelUnits": 1, "ttlHours": 6, "idleHours": 2}


@pytest.fixture
def cloudwatch(bedrock: Aws) -> Any:
    return boto3.client("cloudwatch", region_name="us-east-1")


def _invoked(model_id: str, at: datetime) -> None:
    """One invocation of ``model_id`` at ``at``, as the emulated Bedrock counts it in CloudWatch."""
    emulated_runtime.count_invocation("123456789012", "us-east-1", model_id, at)


def test_an_unused_deployment_is_deleted_after_its_idle_hours_before_its_end_time(
    bedrock: Aws, cloudwatch: Any
) -> None:
    # Given a deployment of 6 hours that may idle for 2 (deploy.idleHours)
    run = _watch(bedrock, _deployed(bedrock, deploy=IDLE_DEPLOY), NOW, cloudwatch)
    assert run.deployment is not None
    # When it becomes ready, then the watch wakes first to look for invocations, 2 hours on
    assert (run.next_action, run.wait_until) == ("wait", "2026-11-24T14:00:00Z")
    assert run.deployment["expires_at"] == "2026-11-24T18:00:00Z"
    assert (
        "nobody invokes it for 2 hours (deploy.idleHours)" in bedrock.sns.published[-1]["Message"]
    )
    # and when only another deployment was invoked meanwhile, it is idle: torn down early
    _invoked(
        "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/other", NOW + timedelta(hours=1)
    )
    run = _watch(bedrock, run, NOW + timedelta(hours=2), cloudwatch)
    assert run.next_action == "teardown"
    assert run.deployment is not None
    assert run.deployment["end_reason"] == "IDLE"
    ended = Run.model_validate(
        deployments.tear_down(
            run, bedrock=bedrock.bedrock, registry=bedrock.registry, now=NOW + timedelta(hours=2)
        )
    )
    assert ended.status is Status.SUCCEEDED
    assert ended.deployment is not None
    assert (ended.deployment["status"], ended.deployment["deleted_at"]) == (
        "DELETED",
        "2026-11-24T14:00:00Z",
    )
    assert ended.reason == (
        "The deployment was deleted at 2026-11-24T14:00:00Z, before its end time "
        "(2026-11-24T18:00:00Z): nobody invoked it for 2 hours (deploy.idleHours)."
    )
    assert BEDROCK.count("DeleteProvisionedModelThroughput") == 1
    assert BEDROCK.deployments == {}
    assert bedrock.item(run.run_id)["deployment"]["end_reason"] == "IDLE"


def test_invocations_keep_a_deployment_until_its_end_time(bedrock: Aws, cloudwatch: Any) -> None:
    # Given a deployment of 3 hours that may idle for 2
    deploy = {**IDLE_DEPLOY, "ttlHours": 3}
    run = _watch(bedrock, _deployed(bedrock, deploy=deploy), NOW, cloudwatch)
    assert run.wait_until == "2026-11-24T14:00:00Z"  # the idle check and the notice
    assert run.deployment is not None
    # When it is invoked an hour in, then the check at 2 hours finds it used: the notice
    # goes out, and the next check would come 2 hours after that use, past the end time
    _invoked(run.deployment["arn"], NOW + timedelta(hours=1))
    run = _watch(bedrock, run, NOW + timedelta(hours=2), cloudwatch)
    assert (run.next_action, run.wait_until) == ("wait", "2026-11-24T15:00:00Z")
    assert "ends in an hour" in bedrock.sns.published[-1]["Subject"]
    # and at its end time it expires as planned
    run = _watch(bedrock, run, NOW + timedelta(hours=3), cloudwatch)
    assert run.next_action == "teardown"
    assert run.deployment is not None
    assert run.deployment["end_reason"] == "EXPIRED"


def test_the_next_idle_check_comes_idle_hours_after_the_last_invocation(
    bedrock: Aws, cloudwatch: Any
) -> None:
    deploy = {**IDLE_DEPLOY, "ttlHours": 12}
    run = _watch(bedrock, _deployed(bedrock, deploy=deploy), NOW, cloudwatch)
    assert run.deployment is not None
    _invoked(run.deployment["arn"], NOW + timedelta(minutes=90))
    run = _watch(bedrock, run, NOW + timedelta(hours=2), cloudwatch)
    # The invocation's minute ends at 13:31; 2 hours without one after that: 15:31.
    assert (run.next_action, run.wait_until) == ("wait", "2026-11-24T15:31:00Z")
    run = _watch(bedrock, run, datetime(2026, 11, 24, 15, 31, tzinfo=UTC), cloudwatch)
    assert run.next_action == "teardown"
    assert run.deployment is not None
    assert run.deployment["end_reason"] == "IDLE"


def test_the_stages_idle_hours_apply_when_the_manifest_gives_none(
    bedrock: Aws, cloudwatch: Any
) -> None:
    deploy = {"mode": "provisioned", "modelUnits": 1, "ttlHours": 24}
    run = _watch(bedrock, _deployed(bedrock, deploy=deploy), NOW, cloudwatch)
    assert bedrock.config.idle_hours == 4
    assert run.wait_until == "2026-11-24T16:00:00Z"
    assert (
        "nobody invokes it for 4 hours (deploymentIdleHours)"
        in bedrock.sns.published[-1]["Message"]
    )


def test_the_evaluations_invocations_are_counted_and_the_idle_clock_starts_after_them(
    bedrock: Aws, cloudwatch: Any
) -> None:
    # Given a deployment evaluated on 3 records: the emulated Bedrock counts the 3 calls of
    # the deployment in CloudWatch, as Bedrock does (the base model's are not its)
    run = _evaluate(bedrock, _deployed(bedrock, deploy=IDLE_DEPLOY, evaluate={"samples": 3}))
    assert run.deployment is not None
    ready = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    counted = cloudwatch.get_metric_statistics(
        Namespace="AWS/Bedrock",
        MetricName="Invocations",
        Dimensions=[{"Name": "ModelId", "Value": run.deployment["arn"]}],
        StartTime=ready - timedelta(hours=1),
        EndTime=ready,
        Period=3600,
        Statistics=["Sum"],
    )["Datapoints"]
    assert sum(point["Sum"] for point in counted) == 3
    # When the watch starts after the evaluation, then its idle clock starts then: the check
    # comes 2 hours on, and finds no use since
    run = _watch(bedrock, run, ready, cloudwatch)
    assert run.wait_until == stamp(ready + timedelta(hours=2))
    run = _watch(bedrock, run, ready + timedelta(hours=2), cloudwatch)
    assert run.deployment is not None
    assert (run.next_action, run.deployment["end_reason"]) == ("teardown", "IDLE")


def _due(bedrock: Aws, cloudwatch: Any) -> Run:
    """A deployment whose idle check is due (NOW + 2 hours)."""
    run = _watch(bedrock, _deployed(bedrock, deploy=IDLE_DEPLOY), NOW, cloudwatch)
    assert run.wait_until == "2026-11-24T14:00:00Z"
    return run


def test_a_throttled_metric_is_retried_then_the_watch_keeps_waiting(
    bedrock: Aws, cloudwatch: Any
) -> None:
    # Given a deployment whose idle check is due, and CloudWatch throttling every read
    run = _due(bedrock, cloudwatch)
    due = NOW + timedelta(hours=2)
    stubber = Stubber(cloudwatch)
    for _ in range(deployments.METRIC_ATTEMPTS):
        stubber.add_client_error(
            "get_metric_statistics", service_error_code="Throttling", http_status_code=400
        )
    with stubber:
        # When the watch is retried by the state machine (the same input each time), then
        # it raises the retryable error until its attempts are spent
        for _ in range(deployments.METRIC_ATTEMPTS - 1):
            with pytest.raises(steps.BedrockThrottledError, match="CloudWatch"):
                _watch(bedrock, run, due, cloudwatch)
        # and then it keeps waiting: never idle for want of a metric, and it says so
        waiting = _watch(bedrock, run, due, cloudwatch)
    assert (waiting.next_action, waiting.wait_until) == ("wait", "2026-11-24T14:15:00Z")
    assert waiting.deployment is not None
    assert "end_reason" not in waiting.deployment
    assert len(BEDROCK.deployments) == 1
    assert bedrock.item(run.run_id)["history"][-1]["reason"] == (
        "CloudWatch did not answer for the Invocations metric (Throttling): the idle check is "
        "tried again at 2026-11-24T14:15:00Z; the deployment is kept meanwhile."
    )
    # When CloudWatch answers again, then the idle check resumes (no use: torn down)
    resumed = _watch(bedrock, waiting, NOW + timedelta(hours=2, minutes=15), cloudwatch)
    assert resumed.deployment is not None
    assert (resumed.next_action, resumed.deployment["end_reason"]) == ("teardown", "IDLE")


def test_a_denied_metric_never_tears_the_deployment_down(bedrock: Aws, cloudwatch: Any) -> None:
    run = _due(bedrock, cloudwatch)
    stubber = Stubber(cloudwatch)
    stubber.add_client_error(
        "get_metric_statistics", service_error_code="AccessDeniedException", http_status_code=403
    )
    with stubber:
        waiting = _watch(bedrock, run, NOW + timedelta(hours=2), cloudwatch)  # no retry: no raise
    assert (waiting.next_action, waiting.wait_until) == ("wait", "2026-11-24T14:15:00Z")
    assert len(BEDROCK.deployments) == 1
    history = bedrock.item(run.run_id)["history"]
    assert "(AccessDeniedException)" in history[-1]["reason"]
    # Denied again a quarter of an hour later: still kept, and not said twice
    stubber.add_client_error(
        "get_metric_statistics", service_error_code="AccessDeniedException", http_status_code=403
    )
    with stubber:
        again = _watch(bedrock, waiting, NOW + timedelta(hours=2, minutes=15), cloudwatch)
    assert (again.next_action, again.wait_until) == ("wait", "2026-11-24T14:30:00Z")
    assert bedrock.item(run.run_id)["history"] == history


class _Unreachable:
    """A CloudWatch client whose endpoint cannot be reached (no route, no endpoint)."""

    def get_metric_statistics(self, **_: Any) -> dict[str, Any]:
        raise EndpointConnectionError(endpoint_url="https://monitoring.us-east-1.amazonaws.com/")


def test_an_unreachable_metric_is_retried_as_unavailable(bedrock: Aws, cloudwatch: Any) -> None:
    run = _due(bedrock, cloudwatch)
    with pytest.raises(steps.BedrockUnavailableError, match="CloudWatch"):
        _watch(bedrock, run, NOW + timedelta(hours=2), _Unreachable())
    assert len(BEDROCK.deployments) == 1


def test_the_metric_retries_fit_in_the_state_machines_transient_retries() -> None:
    from stacks.workflow import TRANSIENT_ATTEMPTS, TRANSIENT_ERRORS

    assert deployments.METRIC_ATTEMPTS <= TRANSIENT_ATTEMPTS
    assert {steps.BedrockThrottledError.__name__, steps.BedrockUnavailableError.__name__} <= set(
        TRANSIENT_ERRORS
    )


@pytest.mark.parametrize(
    ("window", "period"),
    [
        (timedelta(minutes=30), 60),
        (timedelta(hours=24), 60),
        (timedelta(hours=25), 300),
        (timedelta(days=20), 3600),
        (timedelta(days=90), 7200),
    ],
)
def test_the_metric_period_keeps_a_read_within_cloudwatchs_limits(
    window: timedelta, period: int
) -> None:
    # At most 1,440 data points a call; older data only at 5-minute or hourly periods.
    assert deployments.metric_period(window) == period
    assert window.total_seconds() / period <= 1440


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


def test_the_sweep_finds_deployments_that_should_be_gone() -> None:
    def item(run_id: str, run_status: str, **deployment: Any) -> dict[str, Any]:
        return {"run_id": run_id, "status": run_status, "deployment": deployment}

    items: list[dict[str, Any]] = [
        item("late", "DEPLOYED", status="ACTIVE", expires_at="2026-11-24T10:00:00Z"),
        item("grace", "DEPLOYED", status="ACTIVE", expires_at="2026-11-24T11:45:00Z"),
        item("future", "DEPLOYED", status="ACTIVE", expires_at="2026-11-24T15:00:00Z"),
        # Alive after its run ended: a cancel or failure that could not delete it.
        item("orphan", "CANCELLED", status="ACTIVE", ttl_hours=2),
        item("refused", "FAILED", status="DELETE_FAILED", ttl_hours=2),
        # A create in flight of a run that failed: it may exist by name.
        item("in-flight", "FAILED", status="REQUESTED", ttl_hours=2),
        # Kept on purpose (ttlHours: null), deleted, or never created: not flagged.
        item("kept", "SUCCEEDED", status="ACTIVE", ttl_hours=None),
        item("deleted", "CANCELLED", status="DELETED", ttl_hours=2),
        item("planned", "FAILED", status="WAITING_FOR_MODEL", ttl_hours=2),
        {"run_id": "none", "status": "FAILED"},
        # Open for longer than the workflow can run: no execution is left to end it.
        {
            **item("stuck", "DEPLOYING", status="CREATING", ttl_hours=2),
            "updated_at": "2026-11-01T00:00:00+00:00",
        },
        {
            **item("working", "DEPLOYING", status="CREATING", ttl_hours=2),
            "updated_at": "2026-11-24T11:00:00+00:00",
        },
        # A job a lost race could not stop.
        {"run_id": "job-left", "status": "CANCELLED", "orphan_job": "bc-x-1"},
    ]
    assert deployments.overdue(items, NOW) == [
        "late",
        "orphan",
        "refused",
        "in-flight",
        "stuck",
        "job-left",
    ]


def test_the_polling_limit_follows_the_poll_interval() -> None:
    config = PipelineConfig.model_validate(
        {
            "artifacts_bucket": "a",
            "topic_arn": "t",
            "bedrock_role_arn": "r",
            "model_key_arn": "k",
            "subnet_ids": [],
            "security_group_ids": [],
            "stack_name": "s",
            "poll_interval_seconds": 300,
        }
    )
    assert deployments._max_polls(config) == 72  # 6 hours of 5-minute polls


def test_the_registry_lists_the_serving_runs_for_the_sweep(bedrock: Aws) -> None:
    run = _watch(bedrock, _deployed(bedrock), NOW)
    serving = bedrock.registry.with_live_deployment()
    assert [item["run_id"] for item in serving] == [run.run_id]
    assert deployments.overdue(serving, NOW + timedelta(hours=3)) == [run.run_id]
    assert deployments.overdue(serving, NOW + timedelta(hours=2)) == []  # within the grace
