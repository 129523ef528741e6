"""Fault injection at the Bedrock API, one operation at a time, through the synthesized workflow.

Each fault outlasts the SDK's retries and the state machine's (ALWAYS), or lasts a few
calls and is recovered from; each run is then held to its promise (tests/e2e/promise.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from customization_core.run import Status
from emulator.cloud import LocalCloud
from emulator.faults import FAULTS
from emulator.state import BEDROCK, Scenario
from tests.e2e.conftest import TITAN_LITE, prompt_completion
from tests.e2e.promise import assert_promise, dataset_versions, finish, start

ALWAYS = 10**9
FINE_TUNING: dict[str, Any] = {
    "customizationType": "FINE_TUNING",
    "baseModelId": TITAN_LITE,
    "hyperParameters": {"epochCount": 2},
}
# Every state after training too: deployed, evaluated, deleted at its end time (a short
# life: the emulator's waits are scaled, but an end time hours away still costs seconds).
DEPLOY: dict[str, Any] = {"mode": "provisioned", "ttlHours": 0.05}
EVERYTHING: dict[str, Any] = {**FINE_TUNING, "deploy": DEPLOY, "evaluate": {"samples": 2}}


@pytest.fixture
def cloud(fault_cloud: LocalCloud) -> LocalCloud:
    """The module's one stack, cleaned between scenarios (conftest.fault_cloud)."""
    return fault_cloud


def _run(cloud: LocalCloud, name: str, manifest: dict[str, Any]) -> tuple[Any, Any]:
    files = {"train_jsonl": prompt_completion(20), "validation_jsonl": prompt_completion(4)}
    execution = start(cloud, name, manifest, **files)
    return execution, dataset_versions(cloud, name)


THROTTLED = "ThrottlingException"
FAILING = "InternalServerException"


@pytest.mark.parametrize(
    ("operation", "state", "code"),
    [
        ("GetFoundationModel", "ValidateRequest", THROTTLED),
        ("CreateModelCustomizationJob", "StartJob", THROTTLED),
        ("CreateModelCustomizationJob", "StartJob", FAILING),
        ("GetModelCustomizationJob", "CheckJob", THROTTLED),
        ("GetCustomModel", "RecordResult", FAILING),
        ("CreateProvisionedModelThroughput", "StartDeployment", THROTTLED),
        ("GetProvisionedModelThroughput", "CheckDeployment", FAILING),
        ("InvokeModel", "Evaluate", THROTTLED),
    ],
)
def test_a_bedrock_fault_that_outlasts_every_retry_fails_the_run_and_ends_what_it_made(
    cloud: LocalCloud, operation: str, state: str, code: str
) -> None:
    FAULTS.add(operation, code, ALWAYS)
    execution, before = _run(cloud, "faulted", EVERYTHING)
    outcome = finish(cloud, execution)
    assert_promise(cloud, outcome, status=Status.FAILED, dataset_before=before, name="faulted")
    assert outcome.execution["status"] == "FAILED"
    assert state in cloud.states_entered(execution)
    assert (
        code in outcome.item["reason"]
        or "BedrockThrottledError" in outcome.item["reason"]
        or ("BedrockUnavailableError" in outcome.item["reason"])
    )
    # Retried by the state machine, not only by the SDK (4 attempts a call).
    assert FAULTS.calls(operation) > 4


def test_a_delete_bedrock_keeps_refusing_names_the_deployment_its_price_and_the_command(
    cloud: LocalCloud,
) -> None:
    FAULTS.add("DeleteProvisionedModelThroughput", "ServiceUnavailableException", ALWAYS)
    execution, before = _run(cloud, "undeletable", {**FINE_TUNING, "deploy": DEPLOY})
    outcome = finish(cloud, execution)
    assert_promise(cloud, outcome, status=Status.FAILED, dataset_before=before, name="undeletable")
    deployment = outcome.item["deployment"]
    assert deployment["status"] == "DELETE_FAILED"
    message = outcome.final[0]["message"]
    assert deployment["arn"] in message
    assert "billed by the hour per model unit" in message
    assert (
        f"aws bedrock delete-provisioned-model-throughput --provisioned-model-id {deployment['arn']}"
        in message
    )


@pytest.mark.parametrize(
    "operation",
    ["CreateModelCustomizationJob", "GetModelCustomizationJob", "CreateProvisionedModelThroughput"],
)
def test_a_few_5xx_are_retried_and_the_run_succeeds_with_one_job(
    cloud: LocalCloud, operation: str
) -> None:
    FAULTS.add(operation, "InternalServerException", 6)  # past the SDK's 4 attempts once
    execution, before = _run(cloud, "flaky", {**FINE_TUNING, "deploy": DEPLOY})
    outcome = finish(cloud, execution)
    assert_promise(cloud, outcome, status=Status.SUCCEEDED, dataset_before=before, name="flaky")
    assert FAULTS.calls(operation) >= 7


@pytest.mark.parametrize("deploy", [False, True])
def test_a_completed_job_whose_model_failed_ends_the_run_failed(
    cloud: LocalCloud, deploy: bool
) -> None:
    BEDROCK.scenarios["jobs/no-model/"] = Scenario(model_outcome="Failed")
    manifest = {**FINE_TUNING, "deploy": DEPLOY} if deploy else FINE_TUNING
    execution, before = _run(cloud, "no-model", manifest)
    outcome = finish(cloud, execution)
    assert_promise(cloud, outcome, status=Status.FAILED, dataset_before=before, name="no-model")
    assert "without a usable custom model" in outcome.item["reason"]
    assert "is Failed" in outcome.item["reason"]
    assert BEDROCK.count("CreateProvisionedModelThroughput") == 0


def test_a_run_without_epoch_count_counts_the_catalogs_default_everywhere(
    cloud: LocalCloud,
) -> None:
    manifest = {"customizationType": "FINE_TUNING", "baseModelId": TITAN_LITE}
    execution, before = _run(cloud, "default-epochs", manifest)
    outcome = finish(cloud, execution)
    assert_promise(
        cloud, outcome, status=Status.SUCCEEDED, dataset_before=before, name="default-epochs"
    )
    effective = outcome.item["effective_hyperparameters"]
    assert int(effective["epochCount"]) > 1  # the catalog's default, not "1"
    assert "epochCount" not in outcome.item["hyperparameters"]  # Bedrock applies its own
