"""Evaluate: the base and the custom model on the same held-out records, per model family and API.

Bedrock deployments and invocations come from the emulator's patches of moto
(emulator/patches.py), installed for each test only (the ``bedrock`` fixture).
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from customization_core import (
    deployments,
    evaluate_step,
    faults,
)
from customization_core.catalog import load_catalog
from customization_core.run import Run, Status
from emulator.state import BEDROCK, Scenario
from tests.handlers.conftest import ARTIFACTS, Aws
from tests.handlers.deployed import (
    DEPLOY,
    NOW,
    _conversations,
    _deployed,
    _evaluate,
    _runtime,
    _watch,
)
from tests.handlers.runs import EXECUTION, _records


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
    with pytest.raises(faults.BedrockThrottledError):
        _evaluate(bedrock, run)
    partial = json.loads(
        bedrock.s3.get_object(Bucket=ARTIFACTS, Key=f"runs/{run.run_id}/evaluation-partial.json")[
            "Body"
        ].read()
    )
    assert partial[0]["base"]  # the base model answered before the custom model was throttled
    with pytest.raises(faults.BedrockThrottledError):
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
