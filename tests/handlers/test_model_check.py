"""ValidateRequest asks Bedrock (the emulated account, emulator/account.json) before reading data."""

from __future__ import annotations

import json
from typing import Any

import pytest

from customization_core import dataset_step
from customization_core.faults import BedrockThrottledError
from customization_core.run import Run, Status
from emulator.account import FAULTS
from tests.handlers.conftest import ACCOUNT, REGION, Aws

EXECUTION = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:workflow:check"
CONVERSATION = json.dumps(
    {
        "schemaVersion": "bedrock-conversation-2024",
        "messages": [
            {"role": "user", "content": [{"text": "Summarize: the call was short."}]},
            {"role": "assistant", "content": [{"text": "A short call."}]},
        ],
    }
)


def _validate(aws: Aws, model_id: str, name: str = "check", **extra: Any) -> Run:
    manifest = {"customizationType": "FINE_TUNING", "baseModelId": model_id, **extra}
    source = aws.start(name, manifest, train_jsonl="\n".join([CONVERSATION] * 10) + "\n")
    state = aws.validate(source, EXECUTION)
    return Run.model_validate(state)


def test_a_model_offered_here_goes_on_with_what_bedrock_said_recorded(aws: Aws) -> None:
    run = _validate(aws, "amazon.nova-micro-v1:0:128k")
    assert run.status is Status.VALIDATING
    item = aws.item(run.run_id)
    assert item["model_check"]["region"] == REGION
    assert "FINE_TUNING" in item["model_check"]["customizations_supported"]


def test_llama_sent_to_the_us_east_1_stack_is_rejected_with_region_advice(aws: Aws) -> None:
    run = _validate(aws, "meta.llama3-3-70b-instruct-v1:0:128k")
    assert run.status is Status.REJECTED
    assert run.reason is not None
    assert f"Bedrock in {REGION}" in run.reason
    assert "us-west-2" in run.reason  # where it can run instead
    assert run.training is None  # refused before any data was looked at
    assert aws.item(run.run_id)["model_check"] == {"region": REGION, "offered": False}


def test_a_model_the_account_offers_that_the_catalog_does_not_know_is_rejected(
    aws: Aws,
) -> None:
    run = _validate(aws, "amazon.nova-canvas-v1:0")
    assert run.status is Status.REJECTED
    assert "captions" in (run.reason or "")


def test_throttled_lookups_raise_the_error_the_state_machine_retries(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(FAULTS, "throttle_first", 10)
    with pytest.raises(BedrockThrottledError):
        _validate(aws, "amazon.nova-micro-v1:0:128k")


def test_the_retry_of_a_throttled_lookup_goes_on_with_the_same_run(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The state machine retries ValidateRequest: the same execution keeps its claim."""
    monkeypatch.setattr(FAULTS, "throttle_first", 10)  # past the SDK's own retries
    manifest = {"customizationType": "FINE_TUNING", "baseModelId": "amazon.nova-micro-v1:0:128k"}
    source = aws.start("retried", manifest, train_jsonl=CONVERSATION + "\n")

    def attempt(execution: str) -> dict[str, Any]:
        return aws.validate(source, execution)

    with pytest.raises(BedrockThrottledError):
        attempt(EXECUTION)
    monkeypatch.setattr(
        FAULTS, "throttle_first", 0
    )  # Bedrock answers again by the time the state machine retries
    retried = Run.model_validate(attempt(EXECUTION))
    assert retried.duplicate is False
    assert retried.status is Status.VALIDATING
    # Another execution for the same object version (a re-delivered event) is still a duplicate.
    assert attempt(EXECUTION + "-again")["duplicate"] is True


def test_denied_lookups_end_the_run_failed_naming_the_action(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(FAULTS, "denied", True)
    run = _validate(aws, "amazon.nova-micro-v1:0:128k")
    assert run.status is Status.FAILED
    assert "bedrock:GetFoundationModel" in (run.reason or "")
    assert aws.item(run.run_id)["status"] == "FAILED"


@pytest.mark.parametrize(
    ("folder", "fragment"),
    [("my job", "'my job'"), ("a+b", "'a+b'"), ("d\u00e9j\u00e0", "d\u00e9j\u00e0")],
)
def test_a_job_folder_bedrock_cannot_read_is_rejected_before_the_lookup(
    aws: Aws, folder: str, fragment: str
) -> None:
    run = _validate(aws, "amazon.nova-micro-v1:0:128k", name=folder)
    assert run.status is Status.REJECTED
    assert fragment in (run.reason or "")
    assert FAULTS.calls == 0


def test_a_data_key_bedrock_cannot_read_is_rejected(aws: Aws) -> None:
    run = _validate(aws, "amazon.nova-micro-v1:0:128k", trainingData="train@v2.jsonl")
    assert run.status is Status.REJECTED
    assert "train@v2.jsonl" in (run.reason or "")


def test_a_model_missing_from_the_catalog_is_rejected_by_default(aws: Aws) -> None:
    run = _validate(aws, "amazon.nova-premier-v1:0:300k")
    assert run.status is Status.REJECTED


def test_with_unknown_models_warn_bedrock_decides_and_the_format_is_still_checked(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    from emulator import account

    offered = {**account.offer()}
    extra = {
        "modelId": "amazon.nova-premier-v1:0:300k",
        "customizationsSupported": ["FINE_TUNING"],
        "modelLifecycle": {"status": "ACTIVE"},
    }
    offered[REGION] = [*offered[REGION], extra]
    monkeypatch.setattr(account, "offer", lambda: offered)
    config = aws.config.model_copy(update={"unknown_models": "warn"})
    manifest = {"customizationType": "FINE_TUNING", "baseModelId": extra["modelId"]}
    source = aws.start("premier", manifest, train_jsonl=CONVERSATION + "\nnot json\n")
    state = aws.validate(source, EXECUTION, config=config)
    run = Run.model_validate(state)
    assert run.status is Status.VALIDATING
    assert any("catalog" in w for w in run.warnings)
    checked = Run.model_validate(
        dataset_step.validate_data(run, s3=aws.s3, registry=aws.registry, config=config)
    )
    assert checked.status is Status.REJECTED  # line 2 is not JSON
    assert "invalid-json" in (checked.reason or "")
