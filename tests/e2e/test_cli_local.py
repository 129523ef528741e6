"""Every bedrock-customize command against the served emulator (`make emulator`), through --local."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from bedrock_customize import uploads
from bedrock_customize.cli import main
from bedrock_customize.stack import LOCAL_STATE_ENV, connect_local
from emulator.state import BEDROCK, Scenario
from tests.e2e.conftest import until

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TEMPLATE = "Summarize the following conversation.\\n\\n{dialogue}"
NOVA_MICRO = "amazon.nova-micro-v1:0:128k"  # the examples' model (us-east-1, as the emulator)


def _turns(record: dict[str, Any]) -> tuple[str, str]:
    """A conversation record's user prompt and the answer it trains."""
    user, assistant = record["messages"]
    return user["content"][0]["text"], assistant["content"][0]["text"]


def _cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _line_with(output: str, *facts: str) -> str:
    """The first line of ``output`` that carries every fact (a run id, a status, an option)."""
    lines = [line for line in output.splitlines() if all(fact in line for fact in facts)]
    assert lines, f"no line carries {facts}: {output}"
    return lines[0]


def _json(*args: str) -> Any:
    result = _cli(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _submit(name: str, train: Path, *extra: str) -> Result:
    return _cli(
        "submit", "--local", "--name", name, "--model", NOVA_MICRO, "--type", "fine-tuning",
        "--train", str(train), *extra,
    )  # fmt: skip


def _status(run_id: str) -> str:
    """The run's status (the command exits 1 for runs that ended without succeeding)."""
    result = _cli("status", "--local", run_id, "--json")
    return str(json.loads(result.stdout)["status"]) if result.stdout else ""  # "": no run yet


def test_prepare_submit_follow_and_compare(served: Path, tmp_path: Path) -> None:
    prepared = _cli(
        "prepare", str(EXAMPLES / "dialogue-summaries" / "dialogues.csv"), "--model", NOVA_MICRO,
        "--prompt-template", TEMPLATE, "--completion-field", "summary",
        "--split", "0.2", "-o", str(tmp_path / "train.jsonl"),
    )  # fmt: skip
    assert prepared.exit_code == 0, prepared.output
    submitted = _submit(
        "summaries", tmp_path / "train.jsonl", "--validation", str(tmp_path / "validation.jsonl"),
        "--epochs", "2", "--deploy", "provisioned", "--ttl-hours", "24", "--idle-hours", "24", "--evaluate-samples", "3",
        "--wait",
    )  # fmt: skip
    assert submitted.exit_code == 0, submitted.output
    run_id = submitted.stdout.strip()  # the run id alone on stdout, for RUN_ID=$(...)
    assert run_id.startswith("summaries-")
    assert "Valid: " in submitted.stderr
    assert "SSE-KMS" in submitted.stderr
    assert (
        f"Run {run_id} is DEPLOYED: its model serves from" in submitted.stderr
    )  # --wait ends here

    # The uploads carry the stack's key, and job.json was written last.
    stack = connect_local()
    s3, bucket = stack.client("s3"), stack.output("DatasetsBucketName")
    heads = {
        key: s3.head_object(Bucket=bucket, Key=f"jobs/summaries/{key}")
        for key in ("train.jsonl", "validation.jsonl", "job.json")
    }
    assert {h["SSEKMSKeyId"] for h in heads.values()} == {stack.output("DataKeyArn")}
    assert heads["job.json"]["LastModified"] >= heads["train.jsonl"]["LastModified"]

    assert _status(run_id) == "DEPLOYED"
    in_progress = _json("status", "--local")
    assert [r["state"] for r in in_progress if r["run_id"] == run_id] == ["WaitForEndTime"]
    assert run_id in _cli("list", "--local").stdout
    shown = _json("show", "--local", run_id)
    assert shown["hyperparameters"] == {"epochCount": "2"}
    assert [h["status"] for h in shown["history"]][-2:] == ["EVALUATING", "DEPLOYED"]
    assert shown["verdict"] == "PROMOTED"
    deployment = shown["deployment"]["arn"]
    states = [
        e["stateEnteredEventDetails"]["name"]
        for e in _json("logs", "--local", run_id)
        if "stateEnteredEventDetails" in e
    ]
    assert states[:3] == ["ValidateRequest", "Duplicate?", "ValidateDataset"]
    assert "RecordResult" in states
    (model,) = [m for m in _json("models", "--local") if m["run_id"] == run_id]
    assert model["base_model_id"] == NOVA_MICRO
    assert model["metrics"]["validation_loss"] == pytest.approx(0.51)

    training = [json.loads(line) for line in (tmp_path / "train.jsonl").read_text().splitlines()]
    prompt, completion = _turns(training[0])
    answer = _json("invoke", "--local", run_id, "--prompt", prompt)
    assert answer["family"] == "nova"
    assert answer["answers"][0]["text"] == completion  # the emulated model learned it

    compared = _json(
        "compare", "--local", "--base", "amazon.nova-micro-v1:0", "--custom", run_id,
        "--prompt-file", str(tmp_path / "validation.jsonl"), "--limit", "3",
    )  # fmt: skip
    assert len(compared["results"]) == 3
    assert compared["custom"]["model_id"] == deployment  # the custom model, through its deployment
    for result in compared["results"]:
        assert result["reference"]
        assert result["base"]["text"].startswith("#Person1#")
        # The emulated custom model answers from its training and validation data.
        assert result["custom"]["text"] == result["reference"]
    human = _cli(
        "compare", "--local", "--base", "amazon.nova-micro-v1:0", "--custom", run_id,
        "--prompt", _turns(training[1])[0],
    )  # fmt: skip
    assert human.exit_code == 0, human.output
    assert "== Prompt 1 of 1" in human.stdout
    assert "\x1b[" not in human.stdout  # no colour or cursor codes when not on a terminal
    assert _turns(training[1])[1] in human.stdout

    # Its deployment would serve for 24 emulated hours (about 90 s): end it now, so that no
    # execution of this module outlives the served emulator and publishes into the next test.
    assert _cli("cancel", "--local", run_id).exit_code == 0
    until(lambda: _status(run_id) == "CANCELLED")


def test_invalid_data_is_refused_before_anything_is_uploaded(served: Path) -> None:
    refused = _submit("refused", EXAMPLES / "broken-dataset" / "train.jsonl")
    assert refused.exit_code == 1
    assert "training:3: missing-field" in refused.stderr
    assert "--force" in refused.stderr  # the way to let the pipeline judge it
    assert refused.stdout == ""
    stack = connect_local()
    listed = stack.client("s3").list_objects_v2(
        Bucket=stack.output("DatasetsBucketName"), Prefix="jobs/refused/"
    )
    assert listed.get("KeyCount", 0) == 0


def test_forced_invalid_data_is_rejected_by_the_pipeline(served: Path) -> None:
    forced = _submit("forced", EXAMPLES / "broken-dataset" / "train.jsonl", "--force", "--wait")
    assert forced.exit_code == 1
    run_id = forced.stdout.strip()
    assert _line_with(forced.stderr, run_id, "REJECTED")
    assert f"bedrock-customize logs {run_id} --local" in forced.stderr
    assert _cli("status", "--local", run_id).exit_code == 1


def test_a_failed_job_fails_wait_and_status(served: Path) -> None:
    BEDROCK.scenarios["jobs/doomed/"] = Scenario(outcome="Failed")
    failed = _submit("doomed", EXAMPLES / "dialogue-summaries" / "train.jsonl", "--wait")
    assert failed.exit_code == 1
    run_id = failed.stdout.strip()
    assert _line_with(failed.stderr, run_id, "FAILED", "Data download failed")  # with its reason
    assert _status(run_id) == "FAILED"
    invoked = _cli("invoke", "--local", run_id, "--prompt", "hello")
    assert invoked.exit_code == 1
    assert _line_with(invoked.stderr, run_id, "FAILED")


def test_cancel_stops_a_training_run(served: Path) -> None:
    BEDROCK.scenarios["jobs/stopped/"] = Scenario(polls_until_done=10_000)
    submitted = _submit(
        "stopped", EXAMPLES / "dialogue-summaries" / "train.jsonl", "--wait", "--timeout", "0.02"
    )
    assert submitted.exit_code == 1, submitted.output  # it gave up following; the run goes on
    run_id = submitted.stdout.strip()
    assert _line_with(submitted.stderr, "0.02", f"bedrock-customize status {run_id} --local")
    until(lambda: _cli("status", "--local", run_id, "--json").stdout.count("TRAINING"))
    (in_progress,) = [r for r in _json("status", "--local") if r["run_id"] == run_id]
    assert in_progress["status"] == "TRAINING"
    assert in_progress["state"] in ("CheckJob", "JobStatus?", "WaitForJob")
    approved = _cli("approve", "--local", run_id)
    assert approved.exit_code == 1
    assert _line_with(approved.stderr, run_id, "TRAINING")
    cancelled = _cli("cancel", "--local", run_id)
    assert cancelled.exit_code == 0, cancelled.output
    until(lambda: _status(run_id) == "CANCELLED")
    assert BEDROCK.count("StopModelCustomizationJob") >= 1


def test_models_are_named_by_run_arn_or_id(served: Path) -> None:
    unknown = _cli("invoke", "--local", "vendor.mystery-model-v1", "--prompt", "hi")
    assert unknown.exit_code == 2
    assert _line_with(unknown.output, "vendor.mystery-model-v1")
    missing = _cli(
        "invoke",
        "--local",
        "arn:aws:bedrock:us-east-1:123456789012:custom-model/nope",
        "--prompt",
        "hi",
    )
    assert missing.exit_code == 3
    assert "bedrock:GetCustomModel" in missing.stderr
    both = _cli(
        "invoke", "--local", "amazon.nova-lite-v1:0", "--prompt", "a", "--prompt-file", __file__
    )
    assert both.exit_code == 2
    assert _line_with(both.output, "--prompt", "--prompt-file")
    for model in (
        "amazon.nova-lite-v1:0",
        "meta.llama3-1-8b-instruct-v1:0",
        "cohere.command-light-text-v14",
    ):
        answered = _json("invoke", "--local", model, "--prompt", "Say hello.")
        assert answered["answers"][0]["text"] == "Say hello."
    no_run = _cli("show", "--local", "no-such-run")
    assert no_run.exit_code == 1
    plain = _submit("undeployed", EXAMPLES / "dialogue-summaries" / "train.jsonl", "--wait")
    assert plain.exit_code == 0, plain.output
    refused = _cli("invoke", "--local", plain.stdout.strip(), "--prompt", "hi")
    assert refused.exit_code == 1  # as in Bedrock: a custom model answers through a deployment
    assert _line_with(refused.stderr, plain.stdout.strip(), "bedrock-customize deploy")


def test_local_without_a_running_emulator_says_how_to_start_it(
    served: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(LOCAL_STATE_ENV, str(tmp_path / "absent.json"))
    absent = _cli("list", "--local")
    assert absent.exit_code == 3
    assert _line_with(absent.stderr, str(tmp_path / "absent.json"), "make emulator")
    stale = tmp_path / "stale.json"
    state = json.loads(served.read_text())
    stale.write_text(json.dumps({**state, "pid": 2**22 + 1}))  # above Linux's pid_max default
    monkeypatch.setenv(LOCAL_STATE_ENV, str(stale))
    gone = _cli("status", "--local")
    assert gone.exit_code == 3
    assert _line_with(gone.stderr, str(stale), "make emulator")


def test_an_unknown_profile_is_an_access_error(
    served: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    result = _cli("models", "--profile", "no-such-profile", "--region", "us-east-1")
    assert result.exit_code == 3
    assert "no-such-profile" in result.stderr
    assert "check --profile" in result.stderr
    assert os.environ.get(LOCAL_STATE_ENV)  # the module's emulator is still configured


def test_large_files_go_up_in_parts_each_under_the_stack_key(
    served: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(uploads, "MULTIPART_BYTES", 5 * uploads.MIB)  # S3's smallest part
    big = tmp_path / "big.jsonl"
    big.write_bytes(b'{"input": "' + b"x" * (11 * uploads.MIB) + b'"}\n')
    stack = connect_local()
    bucket, key_arn = stack.output("DatasetsBucketName"), stack.output("DataKeyArn")
    encryption = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": key_arn}
    uploads.upload(stack.client("s3"), big, bucket, "uploads/big.jsonl", encryption)
    head = stack.client("s3").head_object(Bucket=bucket, Key="uploads/big.jsonl")
    assert head["ETag"].strip('"').endswith("-3")  # three parts: 5 + 5 + 1 MiB
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", key_arn)
    assert head["ContentLength"] == big.stat().st_size


def test_a_deployed_model_is_invoked_through_its_deployment_and_its_end_time_extended(
    served: Path,
) -> None:
    submitted = _submit(
        "deployed", EXAMPLES / "dialogue-summaries" / "train.jsonl",
        "--validation", str(EXAMPLES / "dialogue-summaries" / "validation.jsonl"),
        "--deploy", "provisioned", "--ttl-hours", "2", "--evaluate-samples", "3",
    )  # fmt: skip
    assert submitted.exit_code == 0, submitted.output
    run_id = submitted.stdout.strip()
    until(lambda: _status(run_id) == "DEPLOYED", timeout=60)
    shown = _json("show", "--local", run_id)
    deployment = shown["deployment"]
    assert (deployment["mode"], deployment["status"]) == ("provisioned", "ACTIVE")
    assert shown["verdict"] == "PROMOTED"
    current = _json("status", "--local", run_id)
    assert (current["deployment_status"], current["deployment_ends_at"]) == (
        "ACTIVE",
        deployment["expires_at"],
    )
    human = _cli("show", "--local", run_id).stdout
    assert '"mode": "provisioned"' in human  # nested values as JSON, not Python repr

    answer = _json("invoke", "--local", run_id, "--prompt", "Summarize: hi")
    assert answer["model"] == deployment["arn"]  # a custom model answers through its deployment
    (listed,) = [m for m in _json("models", "--local") if m["run_id"] == run_id]
    assert listed["deployment"]["status"] == "ACTIVE"

    extended = _cli("extend", "--local", run_id, "--hours", "1")
    assert extended.exit_code == 0, extended.output
    later = _json("show", "--local", run_id)["deployment"]["expires_at"]
    assert later > deployment["expires_at"]
    too_far = _cli("extend", "--local", run_id, "--hours", "500")
    assert too_far.exit_code == 1
    assert _line_with(too_far.stderr, deployment["max_expires_at"], "maxDeploymentTtlHours")

    until(lambda: _status(run_id) == "SUCCEEDED", timeout=60)
    ended = _json("show", "--local", run_id)
    assert ended["deployment"]["status"] == "EXPIRED"
    assert ended["deployment"]["expires_at"] == later  # deleted at the extended end time
    assert any("Extended by 1 h" in (h.get("reason") or "") for h in ended["history"])
    again = _cli("extend", "--local", run_id, "--hours", "1")
    assert again.exit_code == 1
    assert _line_with(again.stderr, run_id, "SUCCEEDED")


def test_deploy_options_without_a_deployment_are_a_usage_error(served: Path) -> None:
    result = _submit(
        "mixed-up", EXAMPLES / "dialogue-summaries" / "train.jsonl", "--ttl-hours", "2"
    )
    assert result.exit_code == 2
    assert _line_with(result.output, "--ttl-hours", "--deploy provisioned or on-demand")


def test_report_saves_the_stored_page_of_an_ended_run_or_draws_it_again(
    served: Path, tmp_path: Path
) -> None:
    # Given a run the pipeline rejected (its page was written when it ended)
    forced = _submit("reported", EXAMPLES / "broken-dataset" / "train.jsonl", "--force", "--wait")
    run_id = forced.stdout.strip()
    until(lambda: _status(run_id) == "REJECTED")
    # When its report is asked for, then the stored page is saved
    stored = _cli("report", "--local", run_id, "-o", str(tmp_path / "stored.html"))
    assert stored.exit_code == 0, stored.output
    assert "s3://" in stored.stdout
    assert "report.html" in stored.stdout
    page = (tmp_path / "stored.html").read_text()
    assert 'data-value="REJECTED"' in page
    assert "missing-field" in page  # the validation findings, line by line
    # And --render draws the same run again from its record
    drawn = _cli("report", "--local", run_id, "--render", "-o", str(tmp_path / "drawn.html"))
    assert drawn.exit_code == 0, drawn.output
    assert "drawn now from the registry" in drawn.stdout
    assert 'data-value="REJECTED"' in (tmp_path / "drawn.html").read_text()
    # A run that does not exist is one sentence and exit 1
    missing = CliRunner().invoke(main, ["report", "--local", "nope-000000000000"])
    assert missing.exit_code == 1
    assert "bedrock-customize list" in missing.output
