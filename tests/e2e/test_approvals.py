"""Approvals that prove who approves, end to end on the served emulator, through --local.

A run held for approval is answered with the CLI: its submitter's own approval is
refused and the refusal recorded; someone else's approval lets it train. No command
prints its task token. Who is who: moto's STS answers GetCallerIdentity with the IAM
user whose access key signed the call; the submitter uses the CLI's default key.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from bedrock_customize import stack as stacks
from bedrock_customize.cli import main
from tests.e2e.conftest import TITAN_EXPRESS, prompt_completion, serving, until


@pytest.fixture(scope="module")
def served_approvals(
    approval_assembly: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    """The stage that holds every Titan Express run for approval, served as `make emulator`."""
    with serving(approval_assembly, tmp_path_factory.mktemp("served-approvals")) as state:
        yield state


def _cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _json(*args: str) -> Any:
    result = _cli(*args, "--json")
    return json.loads(result.stdout)


def _user_id(name: str) -> str:
    """The UserId of the emulated IAM user ``name`` (what GetCallerIdentity says for them)."""
    return str(stacks.connect_local().client("iam").get_user(UserName=name)["User"]["UserId"])


def _task_token(execution_arn: str) -> str:
    """The token Step Functions gave RequestApproval (in the execution history only)."""
    history = (
        stacks.connect_local()
        .client("stepfunctions")
        .get_execution_history(executionArn=execution_arn, maxResults=1000)
    )
    for event in history["events"]:
        parameters = event.get("taskScheduledEventDetails", {}).get("parameters")
        if parameters and "taskToken" in parameters:
            return str(json.loads(parameters)["Payload"]["taskToken"])
    raise AssertionError("RequestApproval was not scheduled with a token")


def test_a_held_run_is_approved_by_someone_else_never_by_its_submitter(
    served_approvals: Path, tmp_path: Path
) -> None:
    # Given a run submitted with the CLI and held for approval (no price: a person decides)
    train = tmp_path / "train.jsonl"
    train.write_bytes(prompt_completion(20))
    submitted = _cli(
        "submit", "--local", "--name", "held", "--model", TITAN_EXPRESS, "--type", "fine-tuning",
        "--train", str(train),
    )  # fmt: skip
    assert submitted.exit_code == 0, submitted.output
    run_id = submitted.stdout.strip()
    submitter = stacks.connect_local().client("sts").get_caller_identity()["UserId"]
    assert f"as {submitter}: run {run_id}" in submitted.stderr
    until(lambda: _cli("status", "--local", run_id, "--json").stdout.count("AWAITING_APPROVAL"))

    # When its submitter approves it, then the answer is refused, and the refusal recorded
    own = _cli("approve", "--local", run_id)
    assert own.exit_code == 1, own.output
    assert own.stderr.strip() == (
        f"Your answer to {run_id} was refused: {submitter} submitted run {run_id}: "
        "someone else must approve or reject it."
    )
    shown = _json("show", "--local", run_id)
    assert shown["status"] == "AWAITING_APPROVAL"
    assert shown["submitted_by"] == submitter
    assert shown["approval_refused"]["by"] == submitter
    assert "answered_by" not in shown
    status = _json("status", "--local", run_id)
    assert status["approval_refused"].startswith(f"{submitter} submitted run {run_id}")

    # No command prints the task token, nor its ciphertext.
    token = _task_token(shown["execution_arn"])
    for args in (
        ("status", "--local", run_id),
        ("status", "--local", run_id, "--json"),
        ("status", "--local"),
        ("show", "--local", run_id),
        ("show", "--local", run_id, "--json"),
        ("list", "--local", "--json"),
        ("logs", "--local", run_id),
        ("logs", "--local", run_id, "--json"),
    ):
        printed = _cli(*args).output
        assert token not in printed, args
        assert "approval_token" not in printed, args
    assert "<redacted>" in _cli("logs", "--local", run_id, "--json").output

    # When someone else (locally: --profile names another emulated person) approves it, then it trains and the registry says who and when
    approved = _cli(
        "approve", "--local", "--profile", "approver", run_id,
        "--reason", "Within this quarter's budget",
    )  # fmt: skip
    assert approved.exit_code == 0, approved.output
    approver = _user_id("approver")
    assert approver != submitter
    assert approved.stdout.startswith(
        f"Approved {run_id}: it goes on to train (answered by {approver} at "
    )
    until(lambda: _cli("status", "--local", run_id, "--json").stdout.count("SUCCEEDED"), 60)
    done = _json("show", "--local", run_id)
    assert (done["answered_by"], done["answer"], done["answer_reason"]) == (
        approver,
        "approve",
        "Within this quarter's budget",
    )
    assert done["answered_at"]
    # A second answer finds the run answered.
    again = _cli("reject", "--local", run_id, "--reason", "Too late")
    assert again.exit_code == 1
    assert f"Run {run_id} is not waiting for approval (it is SUCCEEDED)." in again.stderr
