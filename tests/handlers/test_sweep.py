"""SweepDeployments: overdue deployments from the registry, orphans from Bedrock's side.

Bedrock is moto with the emulator's deployments (emulator/bedrock_deployments.py: Provisioned
Throughput, custom model deployments, their lists and tags); the registry is moto's
DynamoDB with the live-deployments index. The metrics are the embedded-metric-format
lines the handler prints.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from typing import Any

import pytest

from customization_core.naming import OWNER_TAG, RUN_ID_TAG
from customization_core.orphans import ORPHANED_DEPLOYMENTS
from customization_core.registry import LIVE, LIVE_ATTRIBUTE
from customization_core.telemetry import METRICS_NAMESPACE, OVERDUE_DEPLOYMENTS, SERVICE
from emulator.faults import ALWAYS, FAULTS
from emulator.state import BEDROCK
from lambdas import common
from tests.handlers.conftest import ARTIFACTS, MODEL, STACK, Aws, Context


@pytest.fixture
def sweep(env: Aws, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The handler with the stack's environment, its clients made in this moto."""
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", SERVICE)  # as stacks/functions.py sets it
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    common.reset()
    FAULTS.reset()
    yield importlib.import_module("lambdas.sweep_deployments.handler").main
    FAULTS.reset()
    common.reset()


def _custom_model(aws: Aws, name: str) -> str:
    """A custom model (moto registers one with its job)."""
    aws.bedrock.create_model_customization_job(
        jobName=f"job-{name}",
        customModelName=name,
        roleArn=aws.config.bedrock_role_arn,
        baseModelIdentifier=MODEL,
        trainingDataConfig={"s3Uri": f"s3://{ARTIFACTS}/train.jsonl"},
        outputDataConfig={"s3Uri": f"s3://{ARTIFACTS}/out/"},
        hyperParameters={},
    )
    return str(aws.bedrock.get_custom_model(modelIdentifier=name)["modelArn"])


def _provisioned(aws: Aws, name: str, model: str, **tags: str) -> str:
    return str(
        aws.bedrock.create_provisioned_model_throughput(
            modelUnits=1,
            provisionedModelName=name,
            modelId=model,
            tags=[{"key": k, "value": v} for k, v in tags.items()],
        )["provisionedModelArn"]
    )


def _on_demand(aws: Aws, name: str, model: str, **tags: str) -> str:
    return str(
        aws.bedrock.create_custom_model_deployment(
            modelDeploymentName=name,
            modelArn=model,
            tags=[{"key": k, "value": v} for k, v in tags.items()],
        )["customModelDeploymentArn"]
    )


def _live_run(aws: Aws, run_id: str, **deployment: Any) -> None:
    """A run in the live-deployments index, as StartDeployment records one."""
    aws.table.put_item(
        Item={
            "run_id": run_id,
            "status": "DEPLOYED",
            "updated_at": "2026-12-02T10:00:00+00:00",
            LIVE_ATTRIBUTE: LIVE,
            "deployment": {"mode": "provisioned", "status": "ACTIVE", **deployment},
        }
    )


def _metrics(printed: str) -> dict[str, float]:
    """The embedded-metric-format lines: metric name -> value."""
    found: dict[str, float] = {}
    for line in printed.splitlines():
        if not line.startswith("{") or '"_aws"' not in line:
            continue
        document = json.loads(line)
        for directive in document["_aws"]["CloudWatchMetrics"]:
            # The namespace and dimension the alarms read (stacks/observability.py).
            assert directive["Namespace"] == METRICS_NAMESPACE
            assert (directive["Dimensions"], document["service"]) == ([["service"]], SERVICE)
            for metric in directive["Metrics"]:
                (value,) = document[metric["Name"]]
                found[metric["Name"]] = value
    return found


def test_the_sweep_counts_this_stacks_deployments_no_live_run_owns(
    aws: Aws, sweep: Any, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    model = _custom_model(aws, "m1")
    owned = {OWNER_TAG: STACK}
    live = _provisioned(aws, "bc-run-a", model, **owned, **{RUN_ID_TAG: "run-a"})
    # A run whose create was in flight: its record names the deployment, not yet its ARN.
    _provisioned(aws, "bc-run-b", model, **owned, **{RUN_ID_TAG: "run-b"})
    lost = _provisioned(aws, "bc-run-lost", model, **owned, **{RUN_ID_TAG: "run-lost"})
    stray = _on_demand(aws, "left-by-a-crash", model, **owned)
    _provisioned(aws, "theirs", model, **{OWNER_TAG: "AnotherStack", RUN_ID_TAG: "x"})
    _on_demand(aws, "untagged", model)
    _live_run(aws, "run-a", arn=live, name="bc-run-a")
    _live_run(aws, "run-b", name="bc-run-b", status="REQUESTED")

    result = sweep({}, Context())

    assert sorted(result["orphaned"]) == sorted([lost, stray])
    assert (result["live"], result["overdue"]) == (2, [])
    printed = capsys.readouterr().out
    assert _metrics(printed) == {OVERDUE_DEPLOYMENTS: 0, ORPHANED_DEPLOYMENTS: 2}
    # The log names each orphan and the command that deletes it.
    (warning,) = [r for r in caplog.records if hasattr(r, "orphans")]
    deletes = sorted(o["delete"] for o in warning.orphans)
    assert deletes == [
        f"aws bedrock delete-custom-model-deployment --custom-model-deployment-identifier {stray}",
        f"aws bedrock delete-provisioned-model-throughput --provisioned-model-id {lost}",
    ]


def test_nothing_orphaned_is_a_zero_so_that_the_alarm_has_data(
    aws: Aws, sweep: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    model = _custom_model(aws, "m2")
    arn = _provisioned(aws, "bc-run-c", model, **{OWNER_TAG: STACK})
    _live_run(aws, "run-c", arn=arn, name="bc-run-c")
    assert sweep({}, Context())["orphaned"] == []
    assert _metrics(capsys.readouterr().out)[ORPHANED_DEPLOYMENTS] == 0


def test_a_deleted_deployment_is_no_longer_counted(aws: Aws, sweep: Any) -> None:
    model = _custom_model(aws, "m3")
    arn = _provisioned(aws, "bc-run-gone", model, **{OWNER_TAG: STACK})
    assert sweep({}, Context())["orphaned"] == [arn]
    aws.bedrock.delete_provisioned_model_throughput(provisionedModelId=arn)
    assert BEDROCK.deployments == {}
    assert sweep({}, Context())["orphaned"] == []


def test_a_bedrock_fault_still_publishes_the_overdue_count_then_raises(
    aws: Aws, sweep: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    FAULTS.add("ListProvisionedModelThroughputs", "AccessDeniedException", ALWAYS)
    with pytest.raises(aws.bedrock.exceptions.AccessDeniedException):
        sweep({}, Context())
    # No orphan count: two sweeps without one alarm (stacks/observability.py).
    assert _metrics(capsys.readouterr().out) == {OVERDUE_DEPLOYMENTS: 0}
