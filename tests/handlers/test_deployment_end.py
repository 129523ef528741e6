"""TearDown, the clean-up on cancel, and the sweep's check that nothing billed outlived its run.

Bedrock deployments and invocations come from the emulator's patches of moto
(emulator/patches.py), installed for each test only (the ``bedrock`` fixture).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from customization_core import (
    deployment_end,
    end_steps,
)
from customization_core.run import Run, Status
from emulator.state import BEDROCK, Scenario
from tests.handlers.conftest import Aws
from tests.handlers.deployed import NOW, _deployed, _evaluate, _watch


def test_cancelling_a_deployed_run_deletes_its_deployment(bedrock: Aws) -> None:
    run = _deployed(bedrock)
    cancelled = Run.model_validate(
        end_steps.cancel(run, bedrock=bedrock.bedrock, registry=bedrock.registry)
    )
    assert cancelled.status is Status.CANCELLED
    assert cancelled.deployment is not None
    assert cancelled.deployment["status"] == "DELETED"
    assert BEDROCK.count("DeleteProvisionedModelThroughput") == 1
    assert BEDROCK.deployments == {}


def test_a_model_that_does_not_beat_its_base_is_torn_down_at_once(bedrock: Aws) -> None:
    BEDROCK.scenarios["jobs/summaries/"] = Scenario(custom_quality="base")
    run = _evaluate(bedrock, _deployed(bedrock, evaluate={"samples": 3, "minImprovement": 0.05}))
    assert run.verdict == "NOT_PROMOTED"
    run = _watch(bedrock, run, NOW)
    assert run.next_action == "teardown"
    ended = Run.model_validate(
        deployment_end.tear_down(run, bedrock=bedrock.bedrock, registry=bedrock.registry)
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
    assert deployment_end.overdue(items, NOW) == [
        "late",
        "orphan",
        "refused",
        "in-flight",
        "stuck",
        "job-left",
    ]


def test_the_registry_lists_the_serving_runs_for_the_sweep(bedrock: Aws) -> None:
    run = _watch(bedrock, _deployed(bedrock), NOW)
    serving = bedrock.registry.with_live_deployment()
    assert [item["run_id"] for item in serving] == [run.run_id]
    assert deployment_end.overdue(serving, NOW + timedelta(hours=3)) == [run.run_id]
    assert deployment_end.overdue(serving, NOW + timedelta(hours=2)) == []  # within the grace
