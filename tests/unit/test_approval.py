"""The pure parts of approvals: answer keys, tags, the answer document, approvers, settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from pydantic import ValidationError

from customization_core import approval, layout
from customization_core.approval import Answer, approver_problem, run_of_answer
from stacks.settings import CONTEXT_KEY, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]
SSO_ROLE = (
    "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_Approvers_*"
)
SESSION = "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Approvers_0a1b/bob@example.com"


def test_an_answer_key_names_its_run_and_nothing_else_does() -> None:
    assert layout.answer_key("summaries-0123456789ab") == (
        "approvals/summaries-0123456789ab/answer.json"
    )
    assert run_of_answer("approvals/summaries-0123456789ab/answer.json") == "summaries-0123456789ab"
    for key in (
        "approvals/answer.json",
        "approvals/a/b/answer.json",
        "approvals/Summaries/answer.json",
        "approvals/x/answer.json.bak",
        "jobs/x/answer.json",
    ):
        assert run_of_answer(key) is None, key


def test_a_tag_is_encoded_as_s3_takes_it() -> None:
    # An assumed role's id holds a ':' and a session name may hold '@' or '+'.
    tagging = approval.tagging(approval.ANSWERED_BY, "AROAEXAMPLE:bob+ml@example.com")
    assert parse_qs(tagging) == {"answered-by": ["AROAEXAMPLE:bob+ml@example.com"]}


def test_an_answer_is_approve_or_reject_with_a_reason() -> None:
    assert Answer.model_validate({"answer": "approve"}).reason is None
    assert Answer.model_validate({"answer": "reject", "reason": "Too big"}).reason == "Too big"
    for bad in (
        {"answer": "reject"},
        {"answer": "maybe"},
        {"answer": "approve", "extra": 1},
        {"answer": "approve", "reason": "x" * (approval.MAX_REASON_CHARS + 1)},
        {},
    ):
        with pytest.raises(ValidationError):
            Answer.model_validate(bad)


@pytest.mark.parametrize(
    ("arn", "user_id", "problem"),
    [
        (SESSION, "AROAAPPROVERS:bob@example.com", None),
        (SESSION, "AROAAPPROVERS:eve@example.com", "is not the identity that uploaded it"),
        (
            "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admins_0a1b/bob@example.com",
            "AROAADMINS:bob@example.com",
            "is not one of this stage's approvers",
        ),
        (  # the same role name in another account
            "arn:aws:sts::444455556666:assumed-role/AWSReservedSSO_Approvers_0a1b/bob@example.com",
            "AROAAPPROVERS:bob@example.com",
            "is not one of this stage's approvers",
        ),
        ("arn:aws:iam::111122223333:user/release-manager", "AIDARELEASE", None),
        ("arn:aws:iam::111122223333:user/release-manager-2", "AIDARELEASE2", "is not one of"),
        (None, "AIDARELEASE", "does not say who wrote it"),
    ],
)
def test_approvers_are_matched_by_principal(
    arn: str | None, user_id: str, problem: str | None
) -> None:
    approvers = (SSO_ROLE, "arn:aws:iam::111122223333:user/release-manager")
    found = approver_problem(arn, user_id, approvers)
    assert (found is None) if problem is None else (problem in (found or "")), found


def _stage(**overrides: Any) -> Any:
    context = json.loads((ROOT / "cdk.json").read_text())["context"][CONTEXT_KEY]
    dev = {**context["stages"]["dev"], **overrides}
    return load_settings({**context, "stages": {**context["stages"], "dev": dev}}, stage="dev")


def test_approvers_are_role_or_user_arn_patterns() -> None:
    assert _stage().approvers is None
    assert _stage(approvers=[SSO_ROLE]).approvers == (SSO_ROLE,)
    for bad in (
        ["arn:aws:iam::111122223333:group/approvers"],  # a group is not a request's principal
        ["AWSReservedSSO_Approvers"],
        ["arn:aws:iam::111122223333:role/"],
        [],
    ):
        with pytest.raises(SettingsError) as raised:
            _stage(approvers=bad)
        message = str(raised.value)
        assert message.startswith("Setting 'bedrock-customization.stages.dev.approvers'")
        assert "a group is named by the role its members assume" in message
