"""Fault injection in the handlers, SNS and the user's hands, through the synthesized workflow.

An unexpected exception in every handler (before it ran, or after, its answer lost), the
failure path and the final notification failing, cancels landing in each state, and data
replaced after validation. Each run is held to its promise (tests/e2e/promise.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from customization_core.run import Status
from emulator.cloud import LocalCloud
from emulator.faults import FAULTS
from emulator.state import BEDROCK, Scenario
from tests.e2e.conftest import prompt_completion, until
from tests.e2e.promise import assert_promise, dataset_versions, finish, start
from tests.e2e.test_faults_bedrock import ALWAYS, DEPLOY, EVERYTHING, FINE_TUNING

NAME = "crashing"


@pytest.fixture
def cloud(fault_cloud: LocalCloud) -> LocalCloud:
    """The module's one stack, cleaned between scenarios (conftest.fault_cloud)."""
    return fault_cloud


def _run(cloud: LocalCloud, manifest: dict[str, Any] = EVERYTHING) -> tuple[str, Any]:
    files = {"train_jsonl": prompt_completion(20), "validation_jsonl": prompt_completion(4)}
    execution = start(cloud, NAME, manifest, **files)
    return execution, dataset_versions(cloud, NAME)


@pytest.mark.parametrize(
    "handler",
    [
        "validate_request",
        "validate_data",
        "estimate_cost",
        "start_job",
        "check_job",
        "record_result",
        "check_model",
        "start_deployment",
        "check_deployment",
        "evaluate",
        "watch_deployment",
        "tear_down",
    ],
)
def test_a_handler_that_always_crashes_fails_the_run_and_ends_what_it_made(
    cloud: LocalCloud, handler: str
) -> None:
    FAULTS.crash(handler, ALWAYS)
    execution, before = _run(cloud)
    outcome = finish(cloud, execution)
    assert_promise(cloud, outcome, status=Status.FAILED, dataset_before=before, name=NAME)
    # The cause first, then what the failure path ended ("Its Bedrock job was stopped.").
    assert outcome.item["reason"].startswith("RuntimeError: Injected crash (emulated)")
    assert outcome.unended == []


@pytest.mark.parametrize("handler", ["start_job", "start_deployment", "record_result"])
def test_a_crash_after_a_create_or_an_end_loses_only_the_answer(
    cloud: LocalCloud, handler: str
) -> None:
    """The handler did its work (a job, a deployment, the run's end), then its answer was lost."""
    FAULTS.crash(handler, 1, when="after")
    execution, before = _run(cloud, EVERYTHING if handler != "record_result" else FINE_TUNING)
    outcome = finish(cloud, execution)
    # RecordResult had already written SUCCEEDED: that end stands, and is told once.
    expected = Status.SUCCEEDED if handler == "record_result" else Status.FAILED
    assert_promise(cloud, outcome, status=expected, dataset_before=before, name=NAME)
    assert BEDROCK.count("CreateModelCustomizationJob") == 1


def test_a_crashing_failure_path_is_retried(cloud: LocalCloud) -> None:
    FAULTS.crash("validate_data", ALWAYS)
    FAULTS.crash("record_failure", 2)
    execution, before = _run(cloud)
    outcome = finish(cloud, execution)
    assert_promise(cloud, outcome, status=Status.FAILED, dataset_before=before, name=NAME)


def test_when_the_failure_path_cannot_record_the_end_the_last_resort_does(
    cloud: LocalCloud,
) -> None:
    FAULTS.crash("validate_data", ALWAYS)
    FAULTS.crash("record_failure", ALWAYS)
    execution, before = _run(cloud)
    outcome = finish(cloud, execution)
    assert outcome.execution["status"] == "FAILED"
    # The run waits in UnendedRuns (an alarm), and EndRun recorded and told its end.
    (kept,) = outcome.unended
    assert kept["executionArn"] == execution
    assert_promise(cloud, outcome, status=Status.FAILED, dataset_before=before, name=NAME)
    assert "The workflow failed before it could record the run's end" in outcome.item["reason"]


def test_sns_failing_a_few_times_still_tells_people_once(cloud: LocalCloud) -> None:
    FAULTS.add("Publish", "InternalError", 5)  # past the SDK's 4 attempts once
    execution, before = _run(cloud, FINE_TUNING)
    outcome = finish(cloud, execution)
    assert_promise(cloud, outcome, status=Status.SUCCEEDED, dataset_before=before, name=NAME)


def test_sns_down_for_good_leaves_the_run_recorded_and_in_the_unended_queue(
    cloud: LocalCloud,
) -> None:
    FAULTS.add("Publish", "InternalError", ALWAYS)
    execution, before = _run(cloud, FINE_TUNING)
    outcome = finish(cloud, execution)
    assert outcome.execution["status"] == "FAILED"  # the ExecutionsFailed alarm
    assert_promise(
        cloud,
        outcome,
        status=Status.SUCCEEDED,
        dataset_before=before,
        name=NAME,
        notified=False,
    )
    # Notify's last resort keeps the run; EndRun, trying to tell it too, keeps its event.
    assert outcome.unended
    assert any(m["state"].get("run_id") == outcome.item["run_id"] for m in outcome.unended)
    assert "notified_at" not in outcome.item


@pytest.mark.parametrize(
    ("state", "scenario"),
    [
        ("TRAINING", Scenario(polls_until_done=10_000)),
        ("DEPLOYING", Scenario(deployment_polls=10_000)),
        ("DEPLOYED", Scenario()),
    ],
)
def test_a_cancel_in_each_state_ends_the_run_cancelled_with_nothing_left(
    cloud: LocalCloud, state: str, scenario: Scenario
) -> None:
    BEDROCK.scenarios[f"jobs/{NAME}/"] = scenario
    manifest = {**EVERYTHING, "deploy": {"mode": "provisioned", "ttlHours": 48}}
    execution, before = _run(cloud, manifest)
    run_id = until(lambda: cloud.run_id_of(execution))
    until(lambda: (i := cloud.registry_item(run_id)) and i["status"] == state, timeout=60)
    cloud.stop(execution)
    outcome = finish(cloud, execution, run_id)
    assert_promise(cloud, outcome, status=Status.CANCELLED, dataset_before=before, name=NAME)
    assert outcome.item["cleanup_pending"] is False


def test_a_deploy_block_with_a_short_life_is_still_deleted_on_time(cloud: LocalCloud) -> None:
    """The fault suite's short deployments (DEPLOY) take the normal path to their end."""
    execution, before = _run(cloud, {**EVERYTHING, "deploy": DEPLOY})
    outcome = finish(cloud, execution)
    assert_promise(cloud, outcome, status=Status.SUCCEEDED, dataset_before=before, name=NAME)
    assert outcome.item["deployment"]["status"] == "EXPIRED"
