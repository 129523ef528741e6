"""End to end on the emulator: deploy, evaluate, the end time, and every way a deployment ends."""

from __future__ import annotations

import json
from typing import Any

from emulator.cloud import LocalCloud
from emulator.state import BEDROCK, Scenario
from tests.e2e.conftest import TITAN_LITE, prompt_completion, submit, until
from tests.e2e.test_runs import FINE_TUNING, _finish

DEPLOYED = {**FINE_TUNING, "deploy": {"mode": "provisioned", "ttlHours": 2}}


def _submit(cloud: LocalCloud, name: str, manifest: dict[str, Any]) -> str:
    return submit(
        cloud,
        name,
        manifest,
        train_jsonl=prompt_completion(20),
        validation_jsonl=prompt_completion(10),
    )


def test_a_deployed_and_evaluated_model_is_deleted_at_its_end_time(cloud: LocalCloud) -> None:
    execution = _submit(cloud, "served", {**DEPLOYED, "evaluate": {"samples": 10}})
    described, item, notes = _finish(cloud, execution)
    assert (described["status"], item["status"]) == ("SUCCEEDED", "SUCCEEDED")
    assert [h["status"] for h in item["history"]][-4:] == [
        "EVALUATING",
        "EVALUATING",
        "DEPLOYED",
        "SUCCEEDED",
    ]
    deployment = item["deployment"]
    assert (deployment["mode"], deployment["status"]) == ("provisioned", "EXPIRED")
    assert item["reason"].startswith("The deployment reached its end time")
    assert BEDROCK.count("CreateProvisionedModelThroughput") == 1
    assert BEDROCK.count("DeleteProvisionedModelThroughput") == 1
    assert BEDROCK.deployments == {}
    # It waited for the notice, then for the end time: two waits, not a poll loop.
    assert cloud.states_entered(execution).count("WaitForEndTime") == 2

    assert item["verdict"] == "PROMOTED"
    report = json.loads(
        cloud.client("s3")
        .get_object(
            Bucket=cloud.output("ArtifactsBucketName"),
            Key=f"runs/{item['run_id']}/evaluation.json",
        )["Body"]
        .read()
    )
    assert len(report["samples"]) == 10
    assert report["overall"]["custom"]["rouge_l"] > report["overall"]["base"]["rouge_l"]

    subjects = [n["subject"] for n in notes]
    assert subjects == [
        f"Bedrock customization Deployed: {item['run_id']}",
        f"Bedrock customization Deployment ends in an hour: {item['run_id']}",
        f"Bedrock customization SUCCEEDED: {item['run_id']}",
    ]
    final = notes[-1]["message"]
    assert "Evaluation: ROUGE-L" in final
    assert "(provisioned, EXPIRED, deleted at" in final
    assert "Training tokens: " in final


def test_a_model_that_does_not_beat_its_base_is_not_promoted_and_torn_down(
    cloud: LocalCloud,
) -> None:
    BEDROCK.scenarios["jobs/no-gain/"] = Scenario(custom_quality="base")
    execution = _submit(
        cloud, "no-gain", {**DEPLOYED, "evaluate": {"samples": 5, "minImprovement": 0.05}}
    )
    described, item, notes = _finish(cloud, execution)
    assert (described["status"], item["status"], item["verdict"]) == (
        "SUCCEEDED",
        "SUCCEEDED",
        "NOT_PROMOTED",
    )
    assert item["deployment"]["status"] == "DELETED"
    assert "WaitForEndTime" not in cloud.states_entered(execution)
    assert BEDROCK.deployments == {}
    assert "verdict NOT_PROMOTED" in notes[-1]["message"]


def test_a_failed_deployment_fails_the_run_and_leaves_nothing_behind(cloud: LocalCloud) -> None:
    BEDROCK.scenarios["jobs/no-capacity/"] = Scenario(deployment_outcome="Failed")
    execution = _submit(cloud, "no-capacity", DEPLOYED)
    described, item, notes = _finish(cloud, execution)
    assert (described["status"], item["status"]) == ("FAILED", "FAILED")
    assert item["reason"].startswith("Deploying the custom model failed: The deployment is Failed")
    assert item["reason"].endswith("Its deployment was deleted.")
    assert BEDROCK.deployments == {}
    assert notes[-1]["subject"].startswith("Bedrock customization FAILED")


def test_throttled_evaluation_calls_are_retried(cloud: LocalCloud) -> None:
    BEDROCK.scenarios["jobs/busy/"] = Scenario(invoke_throttle_first=4)
    execution = _submit(cloud, "busy", {**DEPLOYED, "evaluate": {"samples": 3}})
    described, item, _ = _finish(cloud, execution)
    assert (described["status"], item["verdict"]) == ("SUCCEEDED", "PROMOTED")
    assert BEDROCK.invocations["jobs/busy/"] > 4
    assert cloud.states_entered(execution).count("Evaluate") == 1  # retried within the task


def test_cancelling_a_serving_run_deletes_its_deployment(cloud: LocalCloud) -> None:
    manifest = {**FINE_TUNING, "deploy": {"mode": "provisioned", "ttlHours": 48}}
    execution = _submit(cloud, "served-long", manifest)
    run_id = until(lambda: cloud.run_id_of(execution))
    until(lambda: (i := cloud.registry_item(run_id)) and i["status"] == "DEPLOYED")
    assert len(BEDROCK.deployments) == 1
    cloud.stop(execution)
    item = until(lambda: (i := cloud.registry_item(run_id)) and i["status"] == "CANCELLED" and i)
    assert item["reason"] == "Cancelled by request. Its deployment was deleted."
    assert BEDROCK.deployments == {}


def test_on_demand_is_refused_before_training_for_a_model_without_it(cloud: LocalCloud) -> None:
    manifest = {
        "customizationType": "FINE_TUNING",
        "baseModelId": TITAN_LITE,
        "deploy": {"mode": "on-demand"},
    }
    execution = _submit(cloud, "on-demand-titan", manifest)
    described, item, _ = _finish(cloud, execution)
    assert item["status"] == "REJECTED"
    assert "Amazon Nova Micro, Amazon Nova Lite, Amazon Nova Pro" in item["reason"]
    assert BEDROCK.count("CreateModelCustomizationJob") == 0
    assert described["status"] == "SUCCEEDED"  # a rejection is a handled outcome
