"""Approvals that prove who approves (customization_core/approval.py) on moto.

A run held for approval stores only its token's ciphertext; an answer is judged by the
tags of what was uploaded: someone other than the submitter, once, well formed.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
from botocore.exceptions import ClientError

from customization_core import approval, approval_steps, layout
from customization_core.approval import AnswerUpload, answer_approval, approver_problem
from customization_core.run import PipelineConfig, Run, Source, Status
from tests.handlers.conftest import DATASETS, SUBMITTER, Aws, Context
from tests.handlers.runs import MANIFEST, _validated

TOKEN = "task-token-of-the-run"  # noqa: S105 - what Step Functions would issue
APPROVER = "AIDAAPPROVEREXAMPLE001"
ROLE_SESSION = "AROAAPPROVERROLE00001:alice@example.com"
ROLE_ARN = (
    "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Approvers_0123abcd/alice@example.com"
)


@dataclass
class FakeSfn:
    """Step Functions' task-token calls, recorded; ``closed`` makes them answer TaskTimedOut."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    closed: bool = False

    def _call(self, name: str, **kwargs: Any) -> dict[str, Any]:
        if self.closed:
            error = {"Error": {"Code": "TaskTimedOut", "Message": "Task Timed Out"}}
            raise ClientError(error, name)
        self.calls.append((name, kwargs))
        return {}

    def send_task_success(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("SendTaskSuccess", **kwargs)

    def send_task_failure(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("SendTaskFailure", **kwargs)


def _held(aws: Aws, name: str = "summaries") -> Run:
    """A validated run whose approval was requested with TOKEN."""
    run = _validated(aws, name=name)
    approval_steps.request_approval(
        run, TOKEN, registry=aws.registry, sns=aws.sns, kms=aws.kms, config=aws.config
    )
    return run


def _put_answer(
    aws: Aws, run_id: str, body: dict[str, Any] | bytes, *, by: str | None = APPROVER
) -> AnswerUpload:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    key = layout.answer_key(run_id)
    tags = {"Tagging": urlencode({approval.ANSWERED_BY: by})} if by else {}
    put = aws.s3.put_object(Bucket=DATASETS, Key=key, Body=data, **tags)
    return AnswerUpload(bucket=DATASETS, key=key, version_id=put["VersionId"])


def _judge(
    aws: Aws, upload: AnswerUpload, sfn: FakeSfn, config: PipelineConfig | None = None
) -> dict[str, Any]:
    return answer_approval(
        upload,
        s3=aws.s3,
        kms=aws.kms,
        sfn=sfn,
        registry=aws.registry,
        config=config or aws.config,
    )


def test_someone_else_approves_and_the_task_gets_its_token(aws: Aws) -> None:
    # Given a run held for approval, submitted by SUBMITTER
    run = _held(aws)
    sfn = FakeSfn()
    # When someone else uploads an approval
    upload = _put_answer(aws, run.run_id, {"answer": "approve", "reason": "Within budget"})
    outcome = _judge(aws, upload, sfn)
    # Then the workflow gets SendTaskSuccess with the run's token, and the registry says who
    assert outcome == {
        "run_id": run.run_id,
        "outcome": "approved",
        "reason": "Within budget",
        "answered_by": APPROVER,
    }
    ((call, kwargs),) = sfn.calls
    assert (call, kwargs["taskToken"]) == ("SendTaskSuccess", TOKEN)
    item = aws.item(run.run_id)
    assert item["submitted_by"] == SUBMITTER
    assert (item["answered_by"], item["answer"], item["answer_reason"]) == (
        APPROVER,
        "approve",
        "Within budget",
    )
    assert item["answered_at"] == item["answer_sent_at"]
    assert item["answer_version"] == upload.version_id
    # The ciphertext is gone once used; the token itself was never stored.
    assert "approval_token_ciphertext" not in item
    assert TOKEN not in json.dumps(item, default=str)
    assert TOKEN not in json.dumps(outcome)


def test_a_rejection_fails_the_task_with_the_reason(aws: Aws) -> None:
    run = _held(aws)
    sfn = FakeSfn()
    upload = _put_answer(aws, run.run_id, {"answer": "reject", "reason": "Budget is frozen"})
    assert _judge(aws, upload, sfn)["outcome"] == "rejected"
    ((call, kwargs),) = sfn.calls
    assert call == "SendTaskFailure"
    assert kwargs == {"taskToken": TOKEN, "error": "RunRejectedError", "cause": "Budget is frozen"}
    # The error RecordFailure records as REJECTED (end_steps.record_failure).
    assert kwargs["error"] == approval.RunRejectedError.__name__


def test_the_submitter_cannot_approve_their_own_run(aws: Aws) -> None:
    run = _held(aws)
    sfn = FakeSfn()
    upload = _put_answer(aws, run.run_id, {"answer": "approve"}, by=SUBMITTER)
    outcome = _judge(aws, upload, sfn)
    assert outcome["outcome"] == "refused"
    assert sfn.calls == []
    item = aws.item(run.run_id)
    assert "answered_by" not in item
    assert item["status"] == Status.AWAITING_APPROVAL.value
    refused = item["approval_refused"]
    assert (refused["by"], refused["answer_version"]) == (SUBMITTER, upload.version_id)
    assert refused["reason"] == (
        f"{SUBMITTER} submitted run {run.run_id}: someone else must approve or reject it."
    )
    # Someone else still can, afterwards.
    later = _put_answer(aws, run.run_id, {"answer": "approve"})
    assert _judge(aws, later, sfn)["outcome"] == "approved"


def test_the_manifest_tag_counts_even_when_the_registry_says_otherwise(aws: Aws) -> None:
    # Given a registry item whose submitter was rewritten (the table has more writers than
    # the manifest's tag has)
    run = _held(aws)
    aws.registry.annotate(run.run_id, submitted_by="AIDASOMEONEELSE000001")
    # When the real submitter answers, the manifest version's own tag still names them
    upload = _put_answer(aws, run.run_id, {"answer": "approve"}, by=SUBMITTER)
    sfn = FakeSfn()
    assert _judge(aws, upload, sfn)["outcome"] == "refused"
    assert sfn.calls == []


def test_a_second_answer_is_refused_and_only_the_first_is_sent(aws: Aws) -> None:
    run = _held(aws)
    sfn = FakeSfn()
    first = _put_answer(aws, run.run_id, {"answer": "approve"})
    assert _judge(aws, first, sfn)["outcome"] == "approved"
    second = _put_answer(
        aws, run.run_id, {"answer": "reject", "reason": "No"}, by="AIDATHIRD0000000000001"
    )
    outcome = _judge(aws, second, sfn)
    assert outcome["outcome"] == "refused"
    assert outcome["reason"].startswith(
        f"Run {run.run_id} was already answered (approve) by {APPROVER}"
    )
    assert [c for c, _ in sfn.calls] == ["SendTaskSuccess"]
    assert aws.item(run.run_id)["approval_refused"]["answer_version"] == second.version_id


def test_of_two_answers_racing_exactly_one_is_recorded(aws: Aws) -> None:
    run = _held(aws)
    fields = {"answered_at": "2026-12-02T10:00:00+00:00", "answer": "approve"}
    assert aws.registry.answer(run.run_id, answered_by="a", answer_version="v1", **fields)
    assert not aws.registry.answer(run.run_id, answered_by="b", answer_version="v2", **fields)
    assert aws.item(run.run_id)["answered_by"] == "a"


def test_a_retried_answer_is_sent_once_and_not_refused(aws: Aws) -> None:
    # Lambda retries an asynchronous invocation: the same answer version comes again.
    run = _held(aws)
    sfn = FakeSfn()
    upload = _put_answer(aws, run.run_id, {"answer": "approve"})
    assert _judge(aws, upload, sfn)["outcome"] == "approved"
    assert _judge(aws, upload, sfn)["outcome"] == "approved"
    assert len(sfn.calls) == 1
    assert "approval_refused" not in aws.item(run.run_id)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"approve", "The answer is not valid (Invalid JSON"),
        ({"answer": "yes"}, "answer: Input should be 'approve' or 'reject'"),
        ({"answer": "reject"}, "a rejection needs a reason"),
        ({"answer": "reject", "reason": "   "}, "a rejection needs a reason"),
        ({"answer": "approve", "by": "me"}, "by: Extra inputs are not permitted"),
        ({"answer": "approve", "reason": "x" * 1001}, "reason: String should have at most 1000"),
        (b" " * 5000, "larger than 4,096 bytes"),
    ],
)
def test_a_malformed_answer_is_refused_with_what_to_write(
    aws: Aws, body: dict[str, Any] | bytes, fragment: str
) -> None:
    run = _held(aws)
    sfn = FakeSfn()
    outcome = _judge(aws, _put_answer(aws, run.run_id, body), sfn)
    assert outcome["outcome"] == "refused"
    assert fragment in outcome["reason"]
    assert 'write {"answer": "approve"}' in outcome["reason"]
    assert sfn.calls == []
    assert fragment in aws.item(run.run_id)["approval_refused"]["reason"]


def test_an_untagged_answer_is_refused_because_nobody_is_proven(aws: Aws) -> None:
    run = _held(aws)
    sfn = FakeSfn()
    outcome = _judge(aws, _put_answer(aws, run.run_id, {"answer": "approve"}, by=None), sfn)
    assert outcome["outcome"] == "refused"
    assert "carries no answered-by tag" in outcome["reason"]
    assert "bedrock-customize approve" in outcome["reason"]
    assert sfn.calls == []


@pytest.mark.parametrize(
    ("arn", "user_id", "taken"),
    [
        (ROLE_ARN, ROLE_SESSION, True),  # an Identity Center approver
        (None, ROLE_SESSION, False),  # says nobody
        (  # another permission set's role
            "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_DataScientists_0123/alice@example.com",
            "AROADATASCIENTISTS001:alice@example.com",
            False,
        ),
        (ROLE_ARN, "AROAAPPROVERROLE00001:mallory@example.com", False),  # not their session
        ("arn:aws:iam::123456789012:user/bob", "AIDABOB00000000000001", True),
        ("arn:aws:iam::123456789012:user/eve", "AIDAEVE00000000000001", False),
    ],
)
def test_with_approvers_only_they_may_answer(
    aws: Aws, arn: str | None, user_id: str, taken: bool
) -> None:
    config = aws.config.model_copy(
        update={
            "approvers": (
                "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_Approvers_*",
                "arn:aws:iam::123456789012:user/bob",
            )
        }
    )
    run = _held(aws)
    sfn = FakeSfn()
    body: dict[str, Any] = {"answer": "approve", **({"arn": arn} if arn else {})}
    outcome = _judge(aws, _put_answer(aws, run.run_id, body, by=user_id), sfn, config)
    assert (outcome["outcome"] == "approved") is taken, outcome
    assert len(sfn.calls) == int(taken)


def test_without_approvers_anyone_but_the_submitter_may_answer() -> None:
    assert approver_problem(None, "AIDAANYONE", None) is None
    assert approver_problem("arn:aws:iam::1:user/x", "AIDAANYONE", None) is None


def test_a_run_not_waiting_for_approval_refuses_an_answer(aws: Aws) -> None:
    run = _validated(aws)  # never held
    sfn = FakeSfn()
    outcome = _judge(aws, _put_answer(aws, run.run_id, {"answer": "approve"}), sfn)
    assert (outcome["outcome"], outcome["run_id"]) == ("refused", run.run_id)
    assert "(it is VALIDATING)" in outcome["reason"]
    assert sfn.calls == []


def test_an_answer_to_an_ended_task_is_refused_and_says_so(aws: Aws) -> None:
    # Given a run whose execution was stopped while it waited (its token is closed)
    run = _held(aws)
    sfn = FakeSfn(closed=True)
    outcome = _judge(aws, _put_answer(aws, run.run_id, {"answer": "approve"}), sfn)
    assert outcome["outcome"] == "refused"
    assert "approval request has ended" in outcome["reason"]


def test_another_runs_ciphertext_does_not_decrypt_for_this_run(aws: Aws) -> None:
    # Given two held runs, and the first's item given the second's ciphertext
    first, second = _held(aws, "first"), _held(aws, "second")
    theirs = aws.item(second.run_id)["approval_token_ciphertext"]
    aws.registry.annotate(first.run_id, approval_token_ciphertext=theirs)
    sfn = FakeSfn()
    outcome = _judge(aws, _put_answer(aws, first.run_id, {"answer": "approve"}), sfn)
    assert outcome["reason"] == (
        f"Run {first.run_id}'s approval request was not made by this stack for this run."
    )
    assert sfn.calls == []


def test_an_answer_to_no_run_is_ignored_and_creates_nothing(aws: Aws) -> None:
    sfn = FakeSfn()
    upload = _put_answer(aws, "no-such-run-0123456789ab", {"answer": "approve"})
    assert _judge(aws, upload, sfn)["outcome"] == "ignored"
    assert aws.registry.get("no-such-run-0123456789ab") is None
    other = aws.s3.put_object(Bucket=DATASETS, Key="approvals/notes.txt", Body=b"x")
    upload = AnswerUpload(bucket=DATASETS, key="approvals/notes.txt", version_id=other["VersionId"])
    assert _judge(aws, upload, sfn)["outcome"] == "ignored"


def test_a_manifest_without_its_submitter_tag_is_rejected_with_how_to_upload(aws: Aws) -> None:
    # Given job.json uploaded untagged (only a bucket without the upload rule accepts it)
    aws.upload("jobs/untagged/train.jsonl", "\n")
    put = aws.s3.put_object(
        Bucket=DATASETS, Key="jobs/untagged/job.json", Body=json.dumps(MANIFEST)
    )
    source = Source(bucket=DATASETS, key="jobs/untagged/job.json", version_id=put["VersionId"])
    run = Run.model_validate(aws.validate(source, "arn:aws:states:us-east-1:1:execution:w:u"))
    assert run.status is Status.REJECTED
    assert run.reason == approval.UNTAGGED_MANIFEST
    assert "--tagging submitted-by=<UserId from aws sts get-caller-identity>" in run.reason
    assert "bedrock-customize submit" in run.reason


def test_validation_records_who_submitted(aws: Aws) -> None:
    run = _validated(aws)
    assert run.submitted_by == SUBMITTER
    assert aws.item(run.run_id)["submitted_by"] == SUBMITTER


def test_the_approval_message_names_the_submitter(aws: Aws) -> None:
    run = _held(aws)
    (message,) = aws.sns.published
    assert f"Submitted by: {SUBMITTER} (who may not answer it)" in message["Message"]
    assert run.run_id in message["Subject"]


def test_the_handler_takes_the_rules_input_and_returns_no_token(
    env: Aws, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the function's environment, as the stack sets it (env), and a held run
    aws = env
    run = _held(aws)
    sfn = FakeSfn()
    module: Any = importlib.import_module("lambdas.answer_approval.handler")
    monkeypatch.setattr(
        module, "client", lambda name: sfn if name == "stepfunctions" else boto3.client(name)
    )
    upload = _put_answer(aws, run.run_id, {"answer": "approve"})
    # When the AnswerUploaded rule's input reaches it
    event = {"bucket": upload.bucket, "key": upload.key, "versionId": upload.version_id}
    outcome = module.main(event, Context())
    # Then it answered the run, and neither its answer nor its log holds the token
    assert outcome["outcome"] == "approved"
    assert sfn.calls[0][1]["taskToken"] == TOKEN
    assert TOKEN not in json.dumps(outcome)
    assert TOKEN not in capsys.readouterr().out
