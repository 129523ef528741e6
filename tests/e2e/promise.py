"""The run's promise, checked after a fault: what every fault-injection scenario asserts.

- exactly one terminal status in the registry, and it is the last of the history;
- one final notification (or, when SNS itself failed, the run in the UnendedRuns queue);
- at most one Bedrock job for the object version, and none still training;
- no deployment alive after the run ended, unless the run says DELETE_FAILED and its
  notification names the deployment and the command that deletes it;
- no dataset object changed, added or deleted by the pipeline;
- the same epochs, tokens and cost in the report, the registry and the notification.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from customization_core.contract import TERMINAL, Status
from customization_core.estimate import Estimate
from emulator.cloud import LocalCloud
from emulator.state import BEDROCK
from tests.e2e.conftest import submit, until

TERMINAL_NAMES = {s.value for s in TERMINAL}
FINAL_NOTE_WAIT = 5.0  # seconds


@dataclass
class Outcome:
    execution: dict[str, Any]
    item: dict[str, Any]
    final: list[dict[str, str]]  # the final notifications ("<STATUS>: <run id>")
    notes: list[dict[str, str]]  # every notification of the run
    unended: list[dict[str, Any]]  # messages in the UnendedRuns queue


def dataset_versions(cloud: LocalCloud, name: str) -> list[tuple[str, str, str]]:
    """Every version and delete marker under the job folder: (key, version id, ETag)."""
    listing = cloud.client("s3").list_object_versions(
        Bucket=cloud.output("DatasetsBucketName"), Prefix=f"jobs/{name}/"
    )
    versions = [(v["Key"], v["VersionId"], v["ETag"]) for v in listing.get("Versions", [])]
    markers = [(m["Key"], m["VersionId"], "delete") for m in listing.get("DeleteMarkers", [])]
    return sorted(versions + markers)


def start(cloud: LocalCloud, name: str, manifest: dict[str, Any], **files: bytes) -> str:
    return submit(cloud, name, manifest, **files)


def unended(cloud: LocalCloud) -> list[dict[str, Any]]:
    sqs = cloud.client("sqs")
    url = cloud.output("UnendedRunsQueueUrl")
    found = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for message in batch:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


def finish(cloud: LocalCloud, execution: str, run_id: str | None = None) -> Outcome:
    """Wait for the execution (and the EndRun it starts), then gather what the run left."""
    described = cloud.wait(execution, timeout=120)
    run_id = run_id or until(lambda: cloud.run_id_of(execution) or _claimed(cloud, execution))
    item = until(lambda: cloud.registry_item(run_id))
    # The end's notification can trail the execution's end on a loaded machine: gather
    # for a few seconds until it is there (a run that could not notify has none).
    notes: list[dict[str, str]] = []
    deadline = time.monotonic() + FINAL_NOTE_WAIT
    while True:
        notes += [n for n in cloud.notifications() if run_id in n["subject"]]
        final = [
            n for n in notes if n["subject"].split(": ")[0].rsplit(" ", 1)[-1] in TERMINAL_NAMES
        ]
        if final or time.monotonic() > deadline:
            return Outcome(described, item, final, notes, unended(cloud))
        time.sleep(0.1)


def _claimed(cloud: LocalCloud, execution: str) -> str | None:
    """The run an execution claimed, from the registry (when no task reported a run id)."""
    table = cloud.client("dynamodb")
    name = cloud.output("RegistryTableName")
    for item in table.scan(TableName=name)["Items"]:
        if item.get("execution_arn", {}).get("S") == execution:
            return str(item["run_id"]["S"])
    return None


def assert_promise(
    cloud: LocalCloud,
    outcome: Outcome,
    *,
    status: Status,
    dataset_before: list[tuple[str, str, str]],
    name: str,
    notified: bool = True,
) -> None:
    item = outcome.item
    history = [h["status"] for h in item["history"]]
    assert item["status"] == status.value, (item["status"], item.get("reason"))
    assert [s for s in history if s in TERMINAL_NAMES] == [status.value], history
    assert history[-1] == status.value, history
    if notified:
        assert len(outcome.final) == 1, [n["subject"] for n in outcome.final]
        assert outcome.final[0]["subject"] == (
            f"Bedrock customization {status.value}: {item['run_id']}"
        )
    # At most one job for this object version, and none left training.
    jobs = [
        j
        for j in cloud.client("bedrock").list_model_customization_jobs()[
            "modelCustomizationJobSummaries"
        ]
        if j["jobName"] == item.get("job_name")
    ]
    assert len(jobs) <= 1, jobs
    for job in jobs:
        assert job["status"] != "InProgress", job
    # Nothing billed by the hour left alive, or the run names it and how to end it.
    deployment = item.get("deployment") or {}
    alive = [d for d in BEDROCK.deployments.values() if d.name == deployment.get("name")]
    if deployment.get("status") == "DELETE_FAILED":
        assert alive, "DELETE_FAILED, but nothing is alive"
        assert item.get("deployment_live") == "LIVE"  # the sweep's alarm counts it
        if notified:
            assert "delete-provisioned-model-throughput" in outcome.final[0]["message"]
    else:
        assert alive == [], alive
    # The user's dataset is exactly as uploaded.
    assert dataset_versions(cloud, name) == dataset_before
    _assert_same_figures(cloud, outcome)


def _assert_same_figures(cloud: LocalCloud, outcome: Outcome) -> None:
    """Epochs, tokens and cost agree in the report, the registry and the notification."""
    item = outcome.item
    if not item.get("tokens"):
        return
    report_key = str(item["report"]).split("/", 3)[3]
    report = json.loads(
        cloud.client("s3")
        .get_object(Bucket=cloud.output("ArtifactsBucketName"), Key=report_key)["Body"]
        .read()
    )
    tokens = int(item["tokens"])
    assert report["tokens"]["total"] == tokens
    epochs = int(item["effective_hyperparameters"]["epochCount"])
    cost = report.get("cost") or {}
    if cost:
        assert (cost["training_tokens"], cost["epochs"]) == (tokens, epochs)
        assert cost["billed_tokens"] == tokens * epochs
    # The run's estimate (EstimateCost): its training part is the report's, and its total
    # is the registry's cost_usd and what the notification prints.
    estimate = Estimate.from_dict(item["estimate"]) if item.get("estimate") else None
    if estimate is not None and cost:
        training = estimate.part("training")
        assert training is not None
        assert training.usd == cost["estimated_usd"]
        total = estimate.total_usd
        assert (None if item.get("cost_usd") is None else float(item["cost_usd"])) == total, (
            item.get("cost_usd"),
            item["estimate"],
        )
    if outcome.final:
        message = outcome.final[0]["message"]
        line = f"Training tokens: {tokens:,} per epoch x {epochs} epoch(s) = {tokens * epochs:,}"
        assert line in message, message
        if estimate is not None:
            assert f"  {estimate.total_line()}" in message, message
