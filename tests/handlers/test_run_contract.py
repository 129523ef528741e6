"""The run contract under faults, handler by handler: guarded transitions, lost races undone,
the failure and cancel paths ending what exists (found by name), and giving up loudly.

Bedrock faults come from the emulator's fault plan (emulator/faults.py); the end-to-end
suite (tests/e2e/test_faults_*.py) runs the same faults through the synthesized workflow.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from customization_core import (
    approval_steps,
    dataset_step,
    deployment_end,
    deployments,
    end_steps,
    faults,
    job_steps,
    notify_step,
)
from customization_core.approval import decrypt_token
from customization_core.registry import RunEndedError, TransitionRefusedError
from customization_core.run import Run, Status
from emulator.faults import FAULTS
from tests.handlers.conftest import Aws
from tests.handlers.runs import EXECUTION, MANIFEST, _records, execution_input

DEPLOY = {"mode": "provisioned", "modelUnits": 1, "ttlHours": 2}
ALWAYS = 50  # more failures than the SDK's and the state machine's retries together


@pytest.fixture(autouse=True)
def _no_faults_left() -> Iterator[None]:
    FAULTS.reset()
    yield
    FAULTS.reset()


def _validated(aws: Aws, **manifest: Any) -> Run:
    source = aws.start(
        "summaries",
        {**MANIFEST, **manifest},
        train_jsonl=_records(20),
        validation_jsonl=_records(6),
    )
    run = Run.model_validate(aws.validate(source, EXECUTION))
    run = Run.model_validate(
        dataset_step.validate_data(run, s3=aws.s3, registry=aws.registry, config=aws.config)
    )
    assert run.status is Status.VALIDATING, run.reason
    return run


def _trained(aws: Aws, **manifest: Any) -> Run:
    run = _validated(aws, **manifest)
    run = Run.model_validate(
        job_steps.start_job(run, bedrock=aws.bedrock, registry=aws.registry, config=aws.config)
    )
    return Run.model_validate(
        job_steps.record_result(
            run, bedrock=aws.bedrock, s3=aws.s3, registry=aws.registry, config=aws.config
        )
    )


def _cancel_behind(aws: Aws, run: Run) -> None:
    """The cancel handler ends the run while ``run`` (a handler's copy) is still going."""
    held = Run.model_validate(run.state())
    aws.registry.update(held, Status.CANCELLED, reason="Cancelled by request.")


def _job_status(aws: Aws, name: str) -> str:
    return str(aws.bedrock.get_model_customization_job(jobIdentifier=name)["status"])


def _history(aws: Aws, run_id: str) -> list[str]:
    return [h["status"] for h in aws.item(run_id)["history"]]


# The registry refuses what the contract does not allow ---------------------------------


def test_nothing_follows_a_terminal_status(aws: Aws) -> None:
    run = _validated(aws)
    _cancel_behind(aws, run)
    with pytest.raises(RunEndedError) as refused:
        aws.registry.update(run, Status.TRAINING, job_arn="arn:job")
    assert refused.value.held is Status.CANCELLED
    item = aws.item(run.run_id)
    assert _history(aws, run.run_id) == ["RECEIVED", "VALIDATING", "VALIDATING", "CANCELLED"]
    assert "job_arn" not in item


def test_a_transition_the_contract_does_not_list_is_refused(aws: Aws) -> None:
    run = _validated(aws)
    with pytest.raises(TransitionRefusedError) as refused:
        aws.registry.update(run, Status.DEPLOYED)
    assert not isinstance(refused.value, RunEndedError)
    assert aws.item(run.run_id)["status"] == "VALIDATING"


# A handler that loses a race with a cancel undoes what it created ------------------------


def test_a_job_created_after_the_cancel_landed_is_stopped(aws: Aws) -> None:
    run = _validated(aws)
    _cancel_behind(aws, run)
    with pytest.raises(RunEndedError):
        job_steps.start_job(run, bedrock=aws.bedrock, registry=aws.registry, config=aws.config)
    assert run.job_name
    assert _job_status(aws, run.job_name) in ("Stopping", "Stopped")
    item = aws.item(run.run_id)
    assert item["status"] == "CANCELLED"
    assert _history(aws, run.run_id)[-1] == "CANCELLED"  # never [..., CANCELLED, TRAINING]
    (note,) = item["cleanup"]
    assert "StartJob created" in note["what"]
    assert "stopped" in note["what"]


def test_a_deployment_created_after_the_cancel_landed_is_deleted(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = _trained(aws, deploy=DEPLOY)
    run = Run.model_validate(deployments.check_model(run, bedrock=aws.bedrock, config=aws.config))
    assert run.deployment is not None
    # The cancel lands while the create is in flight: after the intent, before the answer.
    create = aws.bedrock.create_provisioned_model_throughput

    def cancelled_meanwhile(**kwargs: Any) -> Any:
        _cancel_behind(aws, run)
        return create(**kwargs)

    monkeypatch.setattr(aws.bedrock, "create_provisioned_model_throughput", cancelled_meanwhile)
    with pytest.raises(RunEndedError):
        deployments.start_deployment(
            run, bedrock=aws.bedrock, registry=aws.registry, config=aws.config
        )
    item = aws.item(run.run_id)
    assert item["status"] == "CANCELLED"
    assert item["deployment"]["status"] == "DELETED"
    assert "deployment_live" not in item  # nothing left for the sweep to flag
    with pytest.raises(aws.bedrock.exceptions.ResourceNotFoundException):
        aws.bedrock.get_provisioned_model_throughput(provisionedModelId=item["deployment"]["arn"])
    assert "deleted" in item["cleanup"][0]["what"]


# The failure path ends what exists, even when a crash lost its ARN ------------------------


def test_a_crash_before_validate_request_returned_is_recorded_from_the_execution_input(
    aws: Aws,
) -> None:
    source = aws.start("summaries", MANIFEST, train_jsonl=_records(20))
    raw = {
        "bucket": source.bucket,
        "key": source.key,
        "versionId": source.version_id,
        "etag": "e",
        "time": "2026-12-01T00:00:00Z",
    }
    run = end_steps.run_from_execution_input(raw, EXECUTION, registry=aws.registry)
    error = {"Error": "RuntimeError", "Cause": json.dumps({"errorMessage": "boom"})}
    state = end_steps.record_failure(run, error, registry=aws.registry, bedrock=aws.bedrock)
    assert state["status"] == "FAILED"
    item = aws.item(run.run_id)
    assert (item["status"], item["reason"]) == ("FAILED", "RuntimeError: boom")
    # A re-delivery of the same event is a duplicate of a run that ended, and told.
    assert not aws.registry.claim(Run.model_validate({**state, "execution_arn": "other"}))


def test_a_run_claimed_by_another_execution_is_not_failed_by_this_one(aws: Aws) -> None:
    run = _validated(aws)
    raw = execution_input(run)
    with pytest.raises(RunEndedError):
        end_steps.run_from_execution_input(raw, EXECUTION + "-again", registry=aws.registry)
    assert aws.item(run.run_id)["status"] == "VALIDATING"


def test_the_failure_path_stops_a_job_whose_arn_a_crash_lost(aws: Aws) -> None:
    run = _validated(aws)
    before = Run.model_validate(run.state())  # the state document the Catch hands on
    job_steps.start_job(run, bedrock=aws.bedrock, registry=aws.registry, config=aws.config)
    assert before.job_arn is None
    state = end_steps.record_failure(
        before, {"Error": "RuntimeError"}, registry=aws.registry, bedrock=aws.bedrock
    )
    assert state["status"] == "FAILED"
    assert run.job_name
    assert _job_status(aws, run.job_name) in ("Stopping", "Stopped")
    assert "Its Bedrock job was stopped" in aws.item(run.run_id)["reason"]


def test_the_failure_path_deletes_a_deployment_known_only_by_name(aws: Aws) -> None:
    run = _trained(aws, deploy=DEPLOY)
    run = Run.model_validate(deployments.check_model(run, bedrock=aws.bedrock, config=aws.config))
    before = Run.model_validate(run.state())
    # The create is answered, but the handler crashes before recording the ARN.
    live = deployments.start_deployment(
        run, bedrock=aws.bedrock, registry=aws.registry, config=aws.config
    )
    arn = live["deployment"]["arn"]
    aws.registry.note(run, "test: forget the ARN", deployment={**live["deployment"], "arn": None})
    assert before.deployment is not None
    assert "arn" not in before.deployment
    end_steps.record_failure(
        before, {"Error": "RuntimeError"}, registry=aws.registry, bedrock=aws.bedrock
    )
    item = aws.item(run.run_id)
    assert item["status"] == "FAILED"
    assert item["deployment"]["status"] == "DELETED"
    with pytest.raises(aws.bedrock.exceptions.ResourceNotFoundException):
        aws.bedrock.get_provisioned_model_throughput(provisionedModelId=arn)


def test_a_delete_bedrock_keeps_refusing_is_retried_then_named_with_its_command(
    aws: Aws,
) -> None:
    run = _deployed(aws)
    FAULTS.add("DeleteProvisionedModelThroughput", "ThrottlingException", ALWAYS)
    error = {"Error": "DeploymentFailed"}
    with pytest.raises(faults.BedrockThrottledError):  # not the last attempt: retried
        end_steps.record_failure(
            run, error, registry=aws.registry, bedrock=aws.bedrock, give_up=False
        )
    assert aws.item(run.run_id)["status"] == "DEPLOYING"
    state = end_steps.record_failure(
        run, error, registry=aws.registry, bedrock=aws.bedrock, give_up=True
    )
    item = aws.item(run.run_id)
    assert item["status"] == "FAILED" == state["status"]
    arn = item["deployment"]["arn"]
    assert item["deployment"]["status"] == "DELETE_FAILED"
    assert (
        f"aws bedrock delete-provisioned-model-throughput --provisioned-model-id {arn}"
        in (item["reason"])
    )
    assert "billed by the hour" in item["reason"]
    # What waiting costs: 1 model unit of Titan Lite at the catalog's $7.10 an hour.
    assert "about $7.10 an hour at the catalog's no-commitment price" in item["reason"]
    # Still owned by the run: the sweep finds it, in any status.
    live = aws.registry.with_live_deployment()
    assert [i["run_id"] for i in live] == [run.run_id]
    assert deployment_end.overdue(live) == [run.run_id]


def _deployed(aws: Aws) -> Run:
    run = _trained(aws, deploy=DEPLOY)
    run = Run.model_validate(deployments.check_model(run, bedrock=aws.bedrock, config=aws.config))
    return Run.model_validate(
        deployments.start_deployment(
            run, bedrock=aws.bedrock, registry=aws.registry, config=aws.config
        )
    )


# Cancel: retried until it lands, idempotent -----------------------------------------------


def _cancel(aws: Aws, run: Run, **options: Any) -> dict[str, Any] | None:
    """The cancel handler for ``run``'s stopped execution (EndRun's call)."""
    return end_steps.cancel_aborted(
        execution_input(run),
        bedrock=aws.bedrock,
        registry=aws.registry,
        sns=aws.sns,
        config=aws.config,
        **options,
    )


def test_a_throttled_stop_is_retried_until_the_cancel_lands(aws: Aws) -> None:
    run = _validated(aws)
    run = Run.model_validate(
        job_steps.start_job(run, bedrock=aws.bedrock, registry=aws.registry, config=aws.config)
    )
    FAULTS.add("StopModelCustomizationJob", "ThrottlingException", 10)
    with pytest.raises(faults.BedrockThrottledError):
        _cancel(aws, run, give_up=False)
    # The end is recorded first (a handler still running loses to it); the clean-up is due.
    item = aws.item(run.run_id)
    assert (item["status"], item["cleanup_pending"]) == ("CANCELLED", True)
    assert aws.sns.published == []
    FAULTS.reset()
    state = _cancel(aws, run, give_up=False)
    assert state is not None
    assert state["status"] == "CANCELLED"
    assert run.job_name
    assert _job_status(aws, run.job_name) in ("Stopping", "Stopped")
    item = aws.item(run.run_id)
    assert item["cleanup_pending"] is False
    assert item["reason"] == "Cancelled by request. Its Bedrock job was stopped."
    # A second delivery of the stop event does nothing more, and tells nobody again.
    assert _cancel(aws, run) is None
    assert [m["Subject"] for m in aws.sns.published].count(
        f"Bedrock customization CANCELLED: {run.run_id}"
    ) == 1


def test_on_its_last_attempt_cancel_names_the_job_it_could_not_stop(aws: Aws) -> None:
    run = _validated(aws)
    job_steps.start_job(run, bedrock=aws.bedrock, registry=aws.registry, config=aws.config)
    FAULTS.add("StopModelCustomizationJob", "ServiceUnavailableException", ALWAYS)
    state = _cancel(aws, run, give_up=True)
    assert state is not None
    assert state["status"] == "CANCELLED"
    reason = aws.item(run.run_id)["reason"]
    assert f"aws bedrock stop-model-customization-job --job-identifier {run.job_name}" in reason


# The sweep: any run, in any status, that still owns a live deployment ----------------------


def test_the_sweep_flags_a_deployment_alive_after_its_run_ended(aws: Aws) -> None:
    run = _deployed(aws)
    assert deployment_end.overdue(aws.registry.with_live_deployment()) == []  # still its run's
    aws.registry.update(Run.model_validate(run.state()), Status.FAILED, reason="test")
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert deployment_end.overdue(aws.registry.with_live_deployment(), later) == [run.run_id]


# A handler whose answer was lost after it wrote the run's end --------------------------------


def test_a_run_this_execution_ended_is_notified_once_when_the_answer_was_lost(aws: Aws) -> None:
    run = _trained(aws)  # RecordResult wrote SUCCEEDED; say its answer was lost (a crash)
    assert aws.item(run.run_id)["status"] == "SUCCEEDED"
    before = Run.model_validate({**run.state(), "status": "TRAINING"})
    state = end_steps.record_failure(
        before, {"Error": "RuntimeError"}, registry=aws.registry, bedrock=aws.bedrock
    )
    assert state["status"] == "SUCCEEDED"  # the end stands; Notify tells it
    for _ in range(2):  # Notify retried after its publish went out: told once
        notify_step.notify(
            Run.model_validate(state), sns=aws.sns, config=aws.config, registry=aws.registry
        )
    assert [m["Subject"] for m in aws.sns.published] == [
        f"Bedrock customization SUCCEEDED: {run.run_id}"
    ]
    # A later failure path finds it ended and told: it ends quietly.
    with pytest.raises(RunEndedError):
        end_steps.record_failure(
            before, {"Error": "RuntimeError"}, registry=aws.registry, bedrock=aws.bedrock
        )


def test_the_same_execution_writing_the_same_end_again_is_a_no_op(aws: Aws) -> None:
    run = _validated(aws)
    aws.registry.update(run, Status.FAILED, reason="first")
    aws.registry.update(Run.model_validate(run.state()), Status.FAILED, reason="again")
    item = aws.item(run.run_id)
    assert (item["reason"], _history(aws, run.run_id).count("FAILED")) == ("first", 1)


def test_a_retried_approval_request_stores_its_new_token(aws: Aws) -> None:
    run = _validated(aws)
    tokens = ("task-1", "task-2")
    for token in tokens:
        approval_steps.request_approval(
            Run.model_validate(run.state()),
            token,
            registry=aws.registry,
            sns=aws.sns,
            kms=aws.kms,
            config=aws.config,
        )
    stored = aws.item(run.run_id)["approval_token_ciphertext"]
    key = str(aws.config.approval_key_arn)
    assert decrypt_token(aws.kms, key_arn=key, run_id=run.run_id, ciphertext=stored) == tokens[-1]


def test_a_retried_validate_request_of_the_same_execution_keeps_its_claim(aws: Aws) -> None:
    run = _validated(aws)
    assert aws.registry.claim(Run.model_validate({**run.state(), "status": "RECEIVED"}))
    assert not aws.registry.claim(
        Run.model_validate({**run.state(), "execution_arn": EXECUTION + "-duplicate"})
    )


def test_a_cancel_whose_notification_failed_notifies_on_its_retry(aws: Aws) -> None:
    run = _validated(aws)

    class Down:
        def publish(self, **kwargs: Any) -> None:
            raise RuntimeError("SNS is down (test)")

    arguments: dict[str, Any] = {"bedrock": aws.bedrock, "registry": aws.registry}
    with pytest.raises(RuntimeError):
        end_steps.cancel_aborted(execution_input(run), sns=Down(), config=aws.config, **arguments)
    assert aws.item(run.run_id)["status"] == "CANCELLED"
    state = end_steps.cancel_aborted(
        execution_input(run), sns=aws.sns, config=aws.config, **arguments
    )
    assert state is not None
    assert [m["Subject"] for m in aws.sns.published] == [
        f"Bedrock customization CANCELLED: {run.run_id}"
    ]


def test_stopping_a_duplicate_execution_leaves_the_real_run_alone(aws: Aws) -> None:
    run = _validated(aws)
    state = _cancel(aws, run, execution_arn=EXECUTION + "-duplicate")
    assert state is None
    assert aws.item(run.run_id)["status"] == "VALIDATING"
