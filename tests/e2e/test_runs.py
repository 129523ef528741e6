"""End to end: uploads run the synthesized workflow on the local emulator with the real handlers.

Every test asserts the registry item, the Bedrock calls made, and the notification published.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from emulator import people
from emulator.account import FAULTS
from emulator.cloud import LocalCloud
from emulator.state import BEDROCK, Scenario
from tests.e2e.conftest import TITAN_EXPRESS, TITAN_LITE, prompt_completion, submit, until

FINE_TUNING = {
    "customizationType": "FINE_TUNING",
    "baseModelId": TITAN_LITE,
    "hyperParameters": {"epochCount": 2},
}


def _finish(
    cloud: LocalCloud, execution: str
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, str]]]:
    """The ended execution, its run's registry item, and the notifications it sent."""
    described = cloud.wait(execution)
    run = json.loads(described.get("output") or described.get("input") or "{}")
    run_id = run.get("run_id") or cloud.run_id_of(execution)
    assert run_id is not None
    item = cloud.registry_item(run_id)
    assert item is not None
    return described, item, cloud.notifications()


def _statuses(item: dict[str, Any]) -> list[str]:
    return [entry["status"] for entry in item["history"]]


def test_fine_tuning_runs_to_a_custom_model(cloud: LocalCloud) -> None:
    execution = submit(
        cloud,
        "summaries",
        FINE_TUNING,
        train_jsonl=prompt_completion(30),
        validation_jsonl=prompt_completion(5),
    )
    described, item, notes = _finish(cloud, execution)
    assert described["status"] == "SUCCEEDED"
    assert item["status"] == "SUCCEEDED"
    assert _statuses(item) == ["RECEIVED", "VALIDATING", "VALIDATING", "TRAINING", "SUCCEEDED"]
    assert item["model_arn"].startswith("arn:aws:bedrock:")
    assert float(item["metrics"]["final_training_loss"]) == 0.42
    assert (
        float(item["metrics"]["final_validation_loss"]) == 0.51
    )  # from the validation metrics file
    assert BEDROCK.count("CreateModelCustomizationJob") == 1
    assert BEDROCK.count("GetModelCustomizationJob") >= 2
    (note,) = notes
    assert note["subject"].startswith("Bedrock customization SUCCEEDED")
    assert item["model_arn"] in note["message"]
    report = cloud.client("s3").get_object(
        Bucket=cloud.output("ArtifactsBucketName"),
        Key=f"runs/{item['run_id']}/validation-report.json",
    )
    assert json.loads(report["Body"].read())["records"] == 30
    assert cloud.states_entered(execution)[:3] == [
        "ValidateRequest",
        "Duplicate?",
        "ValidateDataset",
    ]


def test_continued_pretraining_runs_to_a_custom_model(cloud: LocalCloud) -> None:
    text = "".join(
        json.dumps({"input": f"Chapter {i}. Revenue grew in every region this quarter."}) + "\n"
        for i in range(25)
    )
    manifest = {"customizationType": "CONTINUED_PRE_TRAINING", "baseModelId": TITAN_LITE}
    _, item, notes = _finish(
        cloud, submit(cloud, "domain-text", manifest, train_jsonl=text.encode())
    )
    assert item["status"] == "SUCCEEDED"
    assert item["customization_type"] == "CONTINUED_PRE_TRAINING"
    assert BEDROCK.count("CreateModelCustomizationJob") == 1
    assert notes[0]["subject"].startswith("Bedrock customization SUCCEEDED")


def test_an_invalid_dataset_is_rejected_before_any_job_with_its_report(cloud: LocalCloud) -> None:
    data = prompt_completion(20) + b'{"prompt": "no completion"}\n' + b"not json\n"
    described, item, notes = _finish(cloud, submit(cloud, "broken", FINE_TUNING, train_jsonl=data))
    assert described["status"] == "SUCCEEDED"  # the workflow did its job: it refused the data
    assert item["status"] == "REJECTED"
    assert "training:21 missing-field" in item["reason"]
    assert BEDROCK.count("CreateModelCustomizationJob") == 0
    assert "training:22 invalid-json" in notes[0]["message"]
    report = cloud.client("s3").get_object(
        Bucket=cloud.output("ArtifactsBucketName"),
        Key=f"runs/{item['run_id']}/validation-report.json",
    )
    assert json.loads(report["Body"].read())["error_count"] == 2


def test_a_malformed_manifest_is_rejected_before_data_is_read(cloud: LocalCloud) -> None:
    _, item, notes = _finish(
        cloud,
        submit(
            cloud,
            "typo",
            {"customizationType": "FINE_TUNING", "baseModel": TITAN_LITE},
            train_jsonl=prompt_completion(20),
        ),
    )
    assert item["status"] == "REJECTED"
    assert "'baseModel' is not a known manifest field" in item["reason"]
    assert "training" not in item  # no data was looked at
    assert BEDROCK.calls == []
    assert "REJECTED" in notes[0]["subject"]


def test_a_failed_job_is_recorded_with_bedrocks_message(cloud: LocalCloud) -> None:
    BEDROCK.scenarios["jobs/fails/"] = Scenario(
        outcome="Failed",
        failure_message="Data download failed: worker nodes cannot reach each other.",
    )
    described, item, notes = _finish(
        cloud, submit(cloud, "fails", FINE_TUNING, train_jsonl=prompt_completion(20))
    )
    assert described["status"] == "FAILED"  # alarms watch failed executions
    assert item["status"] == "FAILED"
    assert "worker nodes cannot reach each other" in item["reason"]
    assert "worker nodes cannot reach each other" in notes[0]["message"]


def test_throttling_is_retried_until_the_job_starts(cloud: LocalCloud) -> None:
    BEDROCK.scenarios["jobs/busy/"] = Scenario(throttle_first=2)
    _, item, _ = _finish(
        cloud, submit(cloud, "busy", FINE_TUNING, train_jsonl=prompt_completion(20))
    )
    assert item["status"] == "SUCCEEDED"
    assert BEDROCK.count("CreateModelCustomizationJob") == 3


def test_a_full_quota_queues_the_run_until_a_slot_frees(cloud: LocalCloud) -> None:
    BEDROCK.scenarios["jobs/queued/"] = Scenario(quota_first=2)
    _, item, _ = _finish(
        cloud, submit(cloud, "queued", FINE_TUNING, train_jsonl=prompt_completion(20))
    )
    assert item["status"] == "SUCCEEDED"
    assert _statuses(item).count("QUEUED") == 2
    assert _statuses(item)[-2:] == ["TRAINING", "SUCCEEDED"]


def test_the_same_event_delivered_twice_starts_one_job(cloud: LocalCloud) -> None:
    cloud.upload("jobs/twice/train.jsonl", prompt_completion(20))
    uploaded = people.submit_manifest(
        cloud, "jobs/twice/job.json", json.dumps(FINE_TUNING).encode()
    )
    event = {**uploaded["event"], "id": "redelivered-" + uploaded["event"]["id"]}
    (second,) = cloud.deliver(event)  # EventBridge delivers at least once
    (first,) = uploaded["executions"]
    for execution in (first, second):
        assert cloud.wait(execution)["status"] == "SUCCEEDED"
    # Whichever execution claimed the object version first did the work; the other ended quietly.
    quiet = [e for e in (first, second) if "AlreadyHandled" in cloud.states_entered(e)]
    assert len(quiet) == 1
    (worker,) = {first, second} - set(quiet)
    _, item, notes = _finish(cloud, worker)
    assert item["status"] == "SUCCEEDED"
    assert BEDROCK.count("CreateModelCustomizationJob") == 1
    assert len(notes) == 1


def _awaiting_approval(cloud: LocalCloud, name: str) -> tuple[str, dict[str, Any]]:
    manifest = {"customizationType": "FINE_TUNING", "baseModelId": TITAN_EXPRESS}
    execution = submit(cloud, name, manifest, train_jsonl=prompt_completion(20))
    run_id = until(
        lambda: (
            cloud.run_id_of(execution)
            if cloud.states_entered(execution).count("RequestApproval")
            else None
        )
    )
    item = until(
        lambda: (i := cloud.registry_item(run_id)) and i["status"] == "AWAITING_APPROVAL" and i
    )
    return execution, item


def test_an_approved_run_goes_on_to_train(approval_cloud: LocalCloud) -> None:
    execution, item = _awaiting_approval(approval_cloud, "approve-me")
    asked = until(approval_cloud.notifications)
    assert f"bedrock-customize approve {item['run_id']}" in asked[0]["message"]
    # Someone other than the submitter answers (emulator/people.py), as `approve` does.
    people.answer(approval_cloud, item["run_id"], "approve")
    _, final, notes = _finish(approval_cloud, execution)
    assert final["status"] == "SUCCEEDED"
    assert final["answered_by"] == people.person(approval_cloud, people.APPROVER).user_id
    assert "AWAITING_APPROVAL" in _statuses(final)
    assert BEDROCK.count("CreateModelCustomizationJob") == 1
    assert notes[0]["subject"].startswith("Bedrock customization SUCCEEDED")


def test_a_rejected_run_never_trains(approval_cloud: LocalCloud) -> None:
    execution, item = _awaiting_approval(approval_cloud, "reject-me")
    until(approval_cloud.notifications)  # the approval request
    people.answer(approval_cloud, item["run_id"], "reject", "Too expensive this quarter")
    _, final, notes = _finish(approval_cloud, execution)
    assert final["status"] == "REJECTED"
    assert final["reason"] == "Rejected: Too expensive this quarter"
    assert BEDROCK.count("CreateModelCustomizationJob") == 0
    assert "REJECTED" in notes[0]["subject"]


def test_cancelling_stops_the_bedrock_job(cloud: LocalCloud) -> None:
    BEDROCK.scenarios["jobs/long/"] = Scenario(polls_until_done=10_000)
    execution = submit(cloud, "long", FINE_TUNING, train_jsonl=prompt_completion(20))
    run_id = until(lambda: cloud.run_id_of(execution))
    until(lambda: (i := cloud.registry_item(run_id)) and i["status"] == "TRAINING")
    cloud.stop(execution)
    item = until(lambda: (i := cloud.registry_item(run_id)) and i["status"] == "CANCELLED" and i)
    assert BEDROCK.count("StopModelCustomizationJob") == 1
    notes = until(cloud.notifications)
    assert notes[-1]["subject"].startswith("Bedrock customization CANCELLED")
    assert cloud.client("s3").list_object_versions(
        Bucket=cloud.output("DatasetsBucketName"), Prefix="jobs/long/"
    )["Versions"]
    assert item["reason"] == "Cancelled by request. Its Bedrock job was stopped."


def test_throttled_model_lookups_are_retried_by_the_state_machine(
    cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GetFoundationModel throttled 4 times: past the handler's 3 SDK attempts, so the state
    # machine retries ValidateRequest, whose second attempt keeps the run's claim.
    monkeypatch.setattr(FAULTS, "throttle_first", 4)
    execution = submit(cloud, "throttled-lookup", FINE_TUNING, train_jsonl=prompt_completion(30))
    described, item, _ = _finish(cloud, execution)
    assert described["status"] == "SUCCEEDED"
    assert item["status"] == "SUCCEEDED"
    assert FAULTS.calls >= 6  # four throttled, then both look-ups answered
    assert _statuses(item)[:2] == ["RECEIVED", "VALIDATING"]
    assert item["model_check"]["offered"] is True


def test_a_denied_model_lookup_fails_the_run_and_the_execution(
    cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(FAULTS, "denied", True)
    execution = submit(cloud, "denied-lookup", FINE_TUNING, train_jsonl=prompt_completion(30))
    described, item, notes = _finish(cloud, execution)
    assert described["status"] == "FAILED"  # the failed-executions alarm sees it
    assert item["status"] == "FAILED"
    assert "bedrock:GetFoundationModel" in item["reason"]
    assert BEDROCK.count("CreateModelCustomizationJob") == 0
    (note,) = notes
    assert note["subject"].startswith("Bedrock customization FAILED")


def test_a_model_the_region_does_not_offer_is_rejected_before_its_data_is_read(
    cloud: LocalCloud,
) -> None:
    llama = {**FINE_TUNING, "baseModelId": "meta.llama3-1-8b-instruct-v1:0:128k"}
    execution = submit(cloud, "wrong-region", llama, train_jsonl=prompt_completion(30))
    _, item, notes = _finish(cloud, execution)
    assert item["status"] == "REJECTED"
    assert _statuses(item) == ["RECEIVED", "REJECTED"]
    assert "us-west-2" in item["reason"]
    (note,) = notes
    assert "us-west-2" in note["message"]
