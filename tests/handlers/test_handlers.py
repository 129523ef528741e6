"""The Lambda entry points: environment, clients and Powertools wired to the core."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from customization_core.approval import decrypt_token
from lambdas import common
from tests.handlers.conftest import Aws

EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:workflow:e1"


@dataclass
class Context:
    """The attributes Powertools reads from a Lambda context."""

    function_name: str = "handler"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:handler"
    aws_request_id: str = "request-1"


@pytest.fixture
def env(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    monkeypatch.setenv("PIPELINE_CONFIG", aws.config.model_dump_json())
    monkeypatch.setenv("REGISTRY_TABLE", aws.table.name)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    for cached in (common.config, common.client, common.registry):
        cached.cache_clear()
    monkeypatch.setattr(
        common, "client", lambda name: aws.sns if name == "sns" else boto3.client(name)
    )
    yield aws
    for cached in (common.config, common.client, common.registry):
        if hasattr(cached, "cache_clear"):
            cached.cache_clear()


def _handler(name: str) -> Callable[[dict[str, Any], Context], Any]:
    module: Any = importlib.import_module(f"lambdas.{name}.handler")
    module.client = common.client  # the test's client factory
    handler: Callable[[dict[str, Any], Context], Any] = module.main
    return handler


def _upload_event(aws: Aws, name: str) -> dict[str, str]:
    """Upload a small valid job; the event the state machine's first task receives."""
    records = "".join(
        json.dumps({"prompt": f"p{i}", "completion": f"c{i}"}) + "\n" for i in range(20)
    )
    manifest = {"customizationType": "FINE_TUNING", "baseModelId": "amazon.titan-text-lite-v1:0:4k"}
    source = aws.start(name, manifest, train_jsonl=records)
    return {
        "bucket": source.bucket,
        "key": source.key,
        "versionId": source.version_id,
        "etag": "e",
        "time": "t",
        "executionArn": EXECUTION,
    }


def test_a_run_goes_through_the_handlers_as_the_state_machine_calls_them(
    env: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    state = _handler("validate_request")(_upload_event(env, "glue"), Context())
    for name in ("validate_data", "estimate_cost", "start_job", "check_job"):
        state = _handler(name)(state, Context())
    assert state["status"] == "TRAINING"
    assert state["job_status"] == "InProgress"
    state = _handler("record_failure")(
        {**state, "error": {"Error": "States.TaskFailed", "Cause": "test"}}, Context()
    )
    state = _handler("notify")(state, Context())
    assert state["status"] == "FAILED"
    assert env.sns.published[-1]["Subject"].startswith("Bedrock customization FAILED")
    emitted = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line
    ]
    (metric,) = [m for m in emitted if "RunsEnded" in m]
    assert metric["Status"] == "FAILED"
    assert metric["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "BedrockCustomization"


def test_the_approval_handler_takes_the_run_and_the_task_token(env: Aws) -> None:
    state = _handler("validate_request")(_upload_event(env, "approve"), Context())
    assert _handler("request_approval")({"run": state, "taskToken": "tok"}, Context()) is None
    stored = env.item(state["run_id"])["approval_token_ciphertext"]
    key = str(env.config.approval_key_arn)
    assert decrypt_token(env.kms, key_arn=key, run_id=state["run_id"], ciphertext=stored) == "tok"
