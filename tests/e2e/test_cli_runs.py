"""The run commands of bedrock-customize against the workflow running on the emulator."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError, NoCredentialsError
from click.testing import CliRunner
from moto import mock_aws

from bedrock_customize import stack as stacks
from bedrock_customize.cli import main
from emulator.cloud import LocalCloud
from emulator.state import BEDROCK, Scenario
from tests.e2e.conftest import TITAN_EXPRESS, TITAN_LITE, prompt_completion, submit, until


def _use(monkeypatch: pytest.MonkeyPatch, cloud: LocalCloud) -> None:
    outputs = {name: cloud.output(name) for name in cloud.template["Outputs"]}
    monkeypatch.setattr(
        stacks, "connect", lambda name, **_: stacks.Stack(name, outputs, cloud.client)
    )


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def _waiting(cloud: LocalCloud, name: str) -> tuple[str, str]:
    execution = submit(
        cloud,
        name,
        {"customizationType": "FINE_TUNING", "baseModelId": TITAN_EXPRESS},
        train_jsonl=prompt_completion(20),
    )
    run_id = until(lambda: cloud.run_id_of(execution))
    until(lambda: (i := cloud.registry_item(run_id)) and i["status"] == "AWAITING_APPROVAL")
    return execution, run_id


def test_list_and_show_tell_what_the_registry_knows(
    cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use(monkeypatch, cloud)
    execution = submit(
        cloud,
        "listed",
        {"customizationType": "FINE_TUNING", "baseModelId": TITAN_LITE},
        train_jsonl=prompt_completion(20),
    )
    cloud.wait(execution)
    run_id = cloud.run_id_of(execution)
    assert run_id is not None
    code, out = _cli("list")
    assert code == 0
    assert run_id in out
    assert "SUCCEEDED" in out
    code, out = _cli("list", "--status", "SUCCEEDED", "--json")
    assert code == 0
    assert [r["run_id"] for r in json.loads(out)] == [run_id]
    assert json.loads(_cli("list", "--status", "FAILED", "--json")[1]) == []
    code, out = _cli("show", run_id)
    assert code == 0
    assert re.search(r"^status\s+SUCCEEDED", out, re.M)
    assert "TRAINING" in out  # the history
    document: dict[str, Any] = json.loads(_cli("show", run_id, "--json")[1])
    assert document["model_arn"].startswith("arn:aws:bedrock:")


@pytest.fixture
def watched(approval_cloud: LocalCloud) -> Iterator[LocalCloud]:
    """The stack turning the CLI's uploads (its answers) into events, as S3 and EventBridge do."""
    stop = threading.Event()
    watcher = threading.Thread(target=approval_cloud.watch, args=(stop,), daemon=True)
    watcher.start()
    yield approval_cloud
    stop.set()
    watcher.join(timeout=5)


def test_approve_lets_a_waiting_run_train(
    watched: LocalCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    approval_cloud = watched
    _use(monkeypatch, approval_cloud)
    execution, run_id = _waiting(approval_cloud, "cli-approve")
    # The CLI answers as the stack's default identity; the job was submitted by another.
    code, out = _cli("approve", run_id)
    assert code == 0, out
    # (The output also holds the handlers' log lines: they run in this process meanwhile.)
    (said,) = [line for line in out.splitlines() if line.startswith(f"Approved {run_id}")]
    assert "to train" in said  # what the run does next
    assert approval_cloud.wait(execution)["status"] == "SUCCEEDED"
    assert BEDROCK.count("CreateModelCustomizationJob") == 1
    code, out = _cli("approve", run_id)  # no longer waiting
    assert code == 1
    assert any(run_id in line and "SUCCEEDED" in line for line in out.splitlines())


def test_reject_ends_the_run_with_the_reason(
    watched: LocalCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    approval_cloud = watched
    _use(monkeypatch, approval_cloud)
    execution, run_id = _waiting(approval_cloud, "cli-reject")
    assert _cli("reject", run_id, "--reason", "Budget is frozen")[0] == 0
    approval_cloud.wait(execution)
    item = approval_cloud.registry_item(run_id)
    assert item is not None
    assert (item["status"], item["reason"]) == ("REJECTED", "Rejected: Budget is frozen")


def test_cancel_stops_the_execution_of_a_running_job(
    cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use(monkeypatch, cloud)
    BEDROCK.scenarios["jobs/cli-cancel/"] = Scenario(polls_until_done=10_000)
    execution = submit(
        cloud,
        "cli-cancel",
        {"customizationType": "FINE_TUNING", "baseModelId": TITAN_LITE},
        train_jsonl=prompt_completion(20),
    )
    run_id = until(lambda: cloud.run_id_of(execution))
    until(lambda: (i := cloud.registry_item(run_id)) and i["status"] == "TRAINING")
    code, out = _cli("cancel", run_id)
    assert code == 0, out
    assert (
        cloud.wait(execution)["status"] == "ABORTED"
    )  # in AWS its ABORTED event then stops the job


def test_an_unknown_run_says_how_to_find_the_runs(
    cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use(monkeypatch, cloud)
    code, out = _cli("show", "no-such-run")
    assert code == 1
    assert any(
        "'no-such-run'" in line and "bedrock-customize list" in line for line in out.splitlines()
    )


def test_a_missing_stack_is_an_access_error_with_the_fix() -> None:
    with mock_aws():
        with pytest.raises(
            stacks.AccessError, match="Stack Nope was not found in us-east-1: deploy it"
        ):
            stacks.connect("Nope", region="us-east-1")
        code, out = _cli("list", "--stack", "Nope", "--region", "us-east-1")
    assert code == stacks.EXIT_ACCESS
    assert "Stack Nope was not found" in out


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (NoCredentialsError(), "No AWS credentials were found"),
        (
            ClientError({"Error": {"Code": "ExpiredToken", "Message": "x"}}, "DescribeStacks"),
            "Your AWS credentials have expired",
        ),
        (
            ClientError(
                {"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}}, "Query"
            ),
            "Access denied to dynamodb:Query: your role needs that permission",
        ),
    ],
)
def test_aws_access_problems_are_one_sentence(error: Exception, expected: str) -> None:
    assert stacks.describe(error, "dynamodb:Query").startswith(expected)


def test_expired_credentials_are_one_sentence_and_exit_code_3(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import boto3
    from botocore.stub import Stubber

    dynamodb = boto3.client(
        "dynamodb",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",  # noqa: S106 - the stubber answers; nothing is sent
    )
    stubber = Stubber(dynamodb)
    stubber.add_client_error(
        "scan", service_error_code="ExpiredTokenException", http_status_code=400
    )
    stubber.activate()
    monkeypatch.setattr(
        stacks,
        "connect",
        lambda name, **_: stacks.Stack(name, {"RegistryTableName": "runs"}, lambda _: dynamodb),
    )
    code, out = _cli("list")
    assert code == stacks.EXIT_ACCESS
    assert (
        out.strip()
        == "Your AWS credentials have expired: sign in again (for example `aws sso login`)."
    )
