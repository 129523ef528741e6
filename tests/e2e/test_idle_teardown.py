"""End to end on the emulator: a deployment nobody invokes is deleted early; one in use is kept.

The watch reads Bedrock's invocation metric from CloudWatch (GetMetricStatistics, judged by
the watch's policy and the monitoring endpoint's); the emulated Bedrock puts one data point
per call through a deployment (emulator/bedrock_runtime.py). Wait states are shortened 1000-fold,
so half an hour of idleness passes in under two seconds.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from emulator.cloud import LocalCloud
from emulator.state import BEDROCK
from tests.e2e.conftest import prompt_completion, submit, until
from tests.e2e.test_runs import FINE_TUNING, _finish

IDLE_HOURS = 0.5
DEPLOY = {"mode": "provisioned", "ttlHours": 2, "idleHours": IDLE_HOURS}


def _submit(cloud: LocalCloud, name: str) -> str:
    return submit(
        cloud,
        name,
        {**FINE_TUNING, "deploy": DEPLOY},
        train_jsonl=prompt_completion(20),
        validation_jsonl=prompt_completion(10),
    )


def _function(cloud: LocalCloud, handler: str) -> str:
    """The emulated name of the function that runs ``lambdas.<handler>.handler.main``."""
    (name,) = [
        cloud.physical[logical_id]
        for logical_id, resource in cloud.template["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function"
        and resource["Properties"].get("Handler") == f"lambdas.{handler}.handler.main"
    ]
    return name


def test_a_deployment_nobody_invokes_is_deleted_early_as_idle(cloud: LocalCloud) -> None:
    # Given a provisioned deployment of 2 hours that may idle for half an hour, which
    # nobody invokes
    execution = _submit(cloud, "idle")
    # When the run ends
    described, item, notes = _finish(cloud, execution)
    # Then it was deleted at its first idle check, before its notice and its end time
    assert (described["status"], item["status"]) == ("SUCCEEDED", "SUCCEEDED")
    deployment = item["deployment"]
    assert (deployment["status"], deployment["end_reason"]) == ("DELETED", "IDLE")
    assert deployment["deleted_at"] < deployment["expires_at"]
    reason = "nobody invoked it for 0.5 hours (deploy.idleHours)."
    assert item["reason"].endswith(reason), item["reason"]
    assert BEDROCK.count("DeleteProvisionedModelThroughput") == 1
    assert BEDROCK.deployments == {}
    assert cloud.states_entered(execution).count("WaitForEndTime") == 1
    # and people were told why, and were never told it ends in an hour
    run_id = item["run_id"]
    assert [n["subject"] for n in notes] == [
        f"Bedrock customization Deployed: {run_id}",
        f"Bedrock customization SUCCEEDED: {run_id}",
    ]
    assert (
        "or earlier if nobody invokes it for 0.5 hours (deploy.idleHours)" in (notes[0]["message"])
    )
    assert f"Reason: {item['reason']}" in notes[-1]["message"]
    assert "(provisioned, DELETED, deleted at" in notes[-1]["message"]
    # The metric was read as in AWS: allowed by the watch's policy and the endpoint's.
    assert cloud.enforcer is not None
    assert [d for d in cloud.enforcer.denials if "cloudwatch" in d.action] == []


def test_invocations_keep_a_deployment_until_its_end_time(cloud: LocalCloud) -> None:
    # Given the same deployment, invoked all along by someone trying it out
    runtime = cloud.client("bedrock-runtime")
    execution = _submit(cloud, "in-use")
    run_id = until(lambda: cloud.run_id_of(execution))
    arn = until(
        lambda: (
            (i := cloud.registry_item(run_id))
            and i["status"] == "DEPLOYED"
            and i["deployment"]["arn"]
        ),
        timeout=60,
    )
    stop = threading.Event()
    answered: list[Any] = []

    def use() -> None:
        body = json.dumps({"inputText": "Summarize: #Person1#: Item 3?\n#Person2#: Yes."})
        while not stop.wait(0.05):
            try:
                answered.append(runtime.invoke_model(modelId=arn, body=body))
            except Exception:  # deleted at its end time: nothing left to invoke
                return

    user = threading.Thread(target=use, name="someone-trying-it", daemon=True)
    user.start()
    try:
        # When the run ends
        described, item, notes = _finish(cloud, execution)
    finally:
        stop.set()
        user.join(5)
    # Then it lived until its end time, the idle check finding it used each time
    assert answered
    assert (described["status"], item["status"]) == ("SUCCEEDED", "SUCCEEDED")
    deployment = item["deployment"]
    assert (deployment["status"], deployment["end_reason"]) == ("EXPIRED", "EXPIRED")
    assert item["reason"].startswith("The deployment reached its end time")
    assert BEDROCK.deployments == {}
    # Checks at 0.5, 1 (with the notice) and 1.5 hours, then the end time at 2.
    assert cloud.states_entered(execution).count("WaitForEndTime") == 4
    assert [n["subject"] for n in notes] == [
        f"Bedrock customization Deployed: {run_id}",
        f"Bedrock customization Deployment ends in an hour: {run_id}",
        f"Bedrock customization SUCCEEDED: {run_id}",
    ]


def test_the_metric_read_is_judged_by_the_functions_policy(cloud: LocalCloud) -> None:
    # The emulator maps GetMetricStatistics to its IAM request: the watch may make it,
    # a function without the statement may not.
    enforcer = cloud.enforcer
    assert enforcer is not None
    params = {"Namespace": "AWS/Bedrock", "MetricName": "Invocations"}
    watch = enforcer.authorize_call(
        _function(cloud, "watch_deployment"), "cloudwatch", "GetMetricStatistics", params
    )
    assert watch.allowed, watch.why
    tear_down = enforcer.authorize_call(
        _function(cloud, "tear_down"), "cloudwatch", "GetMetricStatistics", params
    )
    assert not tear_down.allowed
    assert tear_down.action == "cloudwatch:GetMetricStatistics"
