"""Faults around approval: a cancel while waiting for it, and data replaced meanwhile.

The run is held to its promise (tests/e2e/promise.py); these need the stage whose
approval threshold holds every run (``approval_cloud``), one stack per test.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from customization_core.approval import decrypt_token
from customization_core.run import Status
from emulator import people
from emulator.cloud import LocalCloud
from emulator.state import BEDROCK
from tests.e2e.conftest import TITAN_EXPRESS, prompt_completion, until
from tests.e2e.promise import assert_promise, dataset_versions, finish, start

NAME = "approval"


def test_a_cancel_while_waiting_for_approval_refuses_a_later_answer(
    approval_cloud: LocalCloud,
) -> None:
    manifest = {"customizationType": "FINE_TUNING", "baseModelId": TITAN_EXPRESS}
    execution = start(approval_cloud, NAME, manifest, train_jsonl=prompt_completion(20))
    before = dataset_versions(approval_cloud, NAME)
    run_id = until(lambda: approval_cloud.run_id_of(execution))
    item = until(
        lambda: (
            (i := approval_cloud.registry_item(run_id)) and i["status"] == "AWAITING_APPROVAL" and i
        )
    )
    approval_cloud.stop(execution)
    outcome = finish(approval_cloud, execution, run_id)
    assert outcome.execution["status"] == "ABORTED"
    assert_promise(
        approval_cloud, outcome, status=Status.CANCELLED, dataset_before=before, name=NAME
    )
    # An answer after the cancel is refused, and says why; the token itself is closed too.
    people.answer(approval_cloud, run_id, "approve")
    ended = approval_cloud.registry_item(run_id) or {}
    assert ended["status"] == "CANCELLED"
    assert "answered_by" not in ended
    assert ended["approval_refused"]["reason"] == (
        f"Run {run_id} is not waiting for approval (it is CANCELLED)."
    )
    sfn = approval_cloud.client("stepfunctions")
    with pytest.raises(sfn.exceptions.TaskTimedOut):
        sfn.send_task_success(taskToken=_token(approval_cloud, item), output="{}")
    assert BEDROCK.count("CreateModelCustomizationJob") == 0


def _token(cloud: LocalCloud, item: dict[str, Any]) -> str:
    """The task token of a held run: only the approval key's decrypter can read it."""
    (key,) = [lid for lid, arn in cloud.arns.items() if lid.startswith("ApprovalsApprovalKey")]
    return decrypt_token(
        cloud.client("kms"),
        key_arn=cloud.arns[key],
        run_id=item["run_id"],
        ciphertext=item["approval_token_ciphertext"],
    )


def test_data_replaced_after_validation_is_not_what_trains(approval_cloud: LocalCloud) -> None:
    manifest = {"customizationType": "FINE_TUNING", "baseModelId": TITAN_EXPRESS}
    validated = prompt_completion(20)
    execution = start(approval_cloud, NAME, manifest, train_jsonl=validated)
    run_id = until(lambda: approval_cloud.run_id_of(execution))
    item = until(
        lambda: (
            (i := approval_cloud.registry_item(run_id)) and i["status"] == "AWAITING_APPROVAL" and i
        )
    )
    # While the run waits for approval, the user replaces the training file.
    s3 = approval_cloud.client("s3")
    datasets = approval_cloud.output("DatasetsBucketName")
    s3.put_object(Bucket=datasets, Key=f"jobs/{NAME}/train.jsonl", Body=b'{"prompt": "x"}\n')
    before = dataset_versions(approval_cloud, NAME)
    people.answer(approval_cloud, run_id, "approve")  # by someone other than the submitter
    outcome = finish(approval_cloud, execution, run_id)
    assert_promise(
        approval_cloud, outcome, status=Status.SUCCEEDED, dataset_before=before, name=NAME
    )
    bedrock = approval_cloud.client("bedrock")
    job = bedrock.get_model_customization_job(jobIdentifier=outcome.item["job_name"])
    artifacts = approval_cloud.output("ArtifactsBucketName")
    uri = job["trainingDataConfig"]["s3Uri"]
    assert uri.startswith(f"s3://{artifacts}/runs/{run_id}/input/")
    trained = s3.get_object(Bucket=artifacts, Key=uri.split("/", 3)[3])["Body"].read()
    assert trained == validated  # the version validated, not the replacement
    tags = {
        t["key"]: t["value"]
        for t in bedrock.list_tags_for_resource(resourceARN=job["jobArn"])["tags"]
    }
    assert tags["bedrock-customization:training-version"] == item["training"]["version_id"]
    snapshot = outcome.item["snapshot"]
    assert (
        json.loads(json.dumps(snapshot, default=str))["training_version"]
        == (item["training"]["version_id"])
    )
