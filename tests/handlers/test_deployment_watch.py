"""WatchDeployment: the notice before the end time, the end time from the registry, idle teardown, metric faults.

Bedrock deployments and invocations come from the emulator's patches of moto
(emulator/patches.py), installed for each test only (the ``bedrock`` fixture).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber

from customization_core import (
    deployment_end,
    deployment_watch,
    faults,
)
from customization_core.contract import stamp
from customization_core.run import Run, Status
from emulator import bedrock_runtime as emulated_runtime
from emulator.state import BEDROCK
from tests.handlers.conftest import Aws
from tests.handlers.deployed import NOW, _deployed, _evaluate, _watch


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
        deployment_end.tear_down(run, bedrock=bedrock.bedrock, registry=bedrock.registry)
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
        deployment_end.tear_down(
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
    for _ in range(deployment_watch.METRIC_ATTEMPTS):
        stubber.add_client_error(
            "get_metric_statistics", service_error_code="Throttling", http_status_code=400
        )
    with stubber:
        # When the watch is retried by the state machine (the same input each time), then
        # it raises the retryable error until its attempts are spent
        for _ in range(deployment_watch.METRIC_ATTEMPTS - 1):
            with pytest.raises(faults.BedrockThrottledError, match="CloudWatch"):
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
    with pytest.raises(faults.BedrockUnavailableError, match="CloudWatch"):
        _watch(bedrock, run, NOW + timedelta(hours=2), _Unreachable())
    assert len(BEDROCK.deployments) == 1


def test_the_metric_retries_fit_in_the_state_machines_transient_retries() -> None:
    from stacks.state_tasks import TRANSIENT_ATTEMPTS, TRANSIENT_ERRORS

    assert deployment_watch.METRIC_ATTEMPTS <= TRANSIENT_ATTEMPTS
    assert {faults.BedrockThrottledError.__name__, faults.BedrockUnavailableError.__name__} <= set(
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
    assert deployment_watch.metric_period(window) == period
    assert window.total_seconds() / period <= 1440


def test_no_end_time_keeps_the_deployment_and_ends_the_run(bedrock: Aws) -> None:
    run = _deployed(bedrock, deploy={"mode": "provisioned", "ttlHours": None})
    kept = _watch(bedrock, run, NOW)
    assert (kept.status, kept.next_action) == (Status.SUCCEEDED, "keep")
    assert "no end time (ttlHours: null)" in (kept.reason or "")
