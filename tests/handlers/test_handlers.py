"""The Lambda entry points: environment, clients and Powertools wired to the core."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from customization_core.approval import decrypt_token
from emulator.events import envelope
from tests.handlers.conftest import Aws, Context

EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:workflow:e1"


Handler = Callable[[dict[str, Any], Context], Any]


@pytest.fixture
def handler(env: Aws, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], Handler]:
    """lambdas/<name>/handler.py's entry point, with the test's SNS and moto's other clients."""

    def client(name: str) -> Any:
        return env.sns if name == "sns" else boto3.client(name)

    def load(name: str) -> Handler:
        module: Any = importlib.import_module(f"lambdas.{name}.handler")
        if hasattr(module, "client"):  # EstimateCost calls no AWS service
            monkeypatch.setattr(module, "client", client)
        entry: Handler = module.main
        return entry

    return load


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
    env: Aws, handler: Callable[[str], Handler], capsys: pytest.CaptureFixture[str]
) -> None:
    state = handler("validate_request")(_upload_event(env, "glue"), Context())
    for name in ("validate_data", "estimate_cost", "start_job", "check_job"):
        state = handler(name)(state, Context())
    assert state["status"] == "TRAINING"
    assert state["job_status"] == "InProgress"
    state = handler("record_failure")(
        {**state, "error": {"Error": "States.TaskFailed", "Cause": "test"}}, Context()
    )
    state = handler("notify")(state, Context())
    assert state["status"] == "FAILED"
    assert env.sns.published[-1]["Subject"].startswith("Bedrock customization FAILED")
    emitted = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line
    ]
    (metric,) = [m for m in emitted if "RunsEnded" in m]
    assert metric["Status"] == "FAILED"
    assert metric["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "BedrockCustomization"


def test_the_approval_handler_takes_the_run_and_the_task_token(
    env: Aws, handler: Callable[[str], Handler]
) -> None:
    state = handler("validate_request")(_upload_event(env, "approve"), Context())
    assert handler("request_approval")({"run": state, "taskToken": "tok"}, Context()) is None
    stored = env.item(state["run_id"])["approval_token_ciphertext"]
    key = str(env.config.approval_key_arn)
    assert decrypt_token(env.kms, key_arn=key, run_id=state["run_id"], ciphertext=stored) == "tok"


def _status_change(execution_input: dict[str, str], status: str) -> dict[str, Any]:
    """The event Step Functions sends when an execution ends (emulator/events.py builds it)."""
    return envelope(
        "aws.states",
        "Step Functions Execution Status Change",
        EXECUTION,
        {
            "executionArn": EXECUTION,
            "stateMachineArn": EXECUTION.replace(":execution:", ":stateMachine:").rsplit(":", 1)[0],
            "status": status,
            "input": json.dumps(execution_input),
        },
    )


@pytest.mark.parametrize(
    ("status", "ended"), [("ABORTED", "CANCELLED"), ("TIMED_OUT", "FAILED"), ("FAILED", "FAILED")]
)
def test_the_cancel_handler_reads_the_status_change_event_endrun_passes_on(
    env: Aws, handler: Callable[[str], Handler], status: str, ended: str
) -> None:
    # Given a run that ValidateRequest claimed
    upload = _upload_event(env, f"stopped-{status.lower()}")
    state = handler("validate_request")(upload, Context())
    execution_input = {k: v for k, v in upload.items() if k != "executionArn"}
    # When EndRun passes its execution's status change on, in its last attempt
    ended_state = handler("cancel")(
        {"event": _status_change(execution_input, status), "last": True}, Context()
    )
    # Then the run ends with the status the change means, and people are told
    assert ended_state["run_id"] == state["run_id"]
    assert env.item(state["run_id"])["status"] == ended
    assert env.sns.published[-1]["Subject"].startswith(f"Bedrock customization {ended}")


def test_the_cancel_handler_leaves_another_executions_run_alone(
    env: Aws, handler: Callable[[str], Handler]
) -> None:
    # Given a run claimed by this execution, and a status change of another (a duplicate)
    upload = _upload_event(env, "duplicate")
    state = handler("validate_request")(upload, Context())
    change = _status_change({k: v for k, v in upload.items() if k != "executionArn"}, "ABORTED")
    change["detail"]["executionArn"] = EXECUTION + "-again"
    # When the status change reaches the handler directly (not through EndRun)
    # Then nothing is done: the run is still its own execution's
    assert handler("cancel")(change, Context()) is None
    assert env.item(state["run_id"])["status"] == state["status"]
