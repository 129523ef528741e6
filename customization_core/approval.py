"""Approvals that prove who approves: who submitted a run, who answered it, and the task token.

The task token of a run held for approval never leaves the workflow: RequestApproval
encrypts it with the stack's approval key (encryption context ``run_id``) and the run's
registry item holds only the ciphertext, which only AnswerApproval's role may decrypt
(stacks/approvals.py). People prove who they are by the object tags of what they upload
to the datasets bucket:

- the manifest ``jobs/<name>/job.json`` is uploaded tagged ``submitted-by=<aws:userid>``;
- an answer ``approvals/<run-id>/answer.json`` is uploaded tagged ``answered-by=<aws:userid>``.

In AWS the bucket's policy refuses either upload tagged with anything but the uploader's
own ``aws:userid`` (and, where the stage names approvers, an answer from anyone else),
so a tag names who uploaded. ValidateRequest records the submitter; AnswerApproval
(``answer_approval`` here) judges an answer by these tags: the run waits for approval,
nobody answered it yet, the answerer is not the submitter, the answer is well formed. It
records who answered and when (or why the answer was refused, ``approval_refused``),
then answers Step Functions with the token.

An ``aws:userid`` is the IAM user's unique id, or ``<role id>:<session name>`` for an
assumed role (Identity Center sets the session name to the person's user name). Source:
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
"""

from __future__ import annotations

import base64
import fnmatch
import json
import re
from datetime import UTC, datetime
from typing import Any, Final, Literal
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from customization_core.contract import Status
from customization_core.faults import error_code
from customization_core.layout import ANSWER_NAME, APPROVALS_PREFIX, answer_key
from customization_core.naming import ObjectVersion, run_names
from customization_core.registry import Registry
from customization_core.run import PipelineConfig, Source

SUBMITTED_BY: Final = "submitted-by"  # the manifest's tag
ANSWERED_BY: Final = "answered-by"  # the answer's tag
# The encryption context of the token's ciphertext: it decrypts only for its own run.
CONTEXT_KEY: Final = "run_id"
# The IAM condition on the approval key's Encrypt and Decrypt: the request's encryption
# context has that key. AWS documents this form for requiring a context key; the other,
# Null on kms:EncryptionContext:run_id, is not seen by the emulator's iam-simulate
# (0.1.173), which would refuse every approval. Source:
# https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-encryption-context-keys
TOKEN_CONTEXT_CONDITION: Final = {
    "ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": [CONTEXT_KEY]}
}
MAX_ANSWER_BYTES: Final = 4096  # an answer is a few hundred bytes; anything larger is not one
MAX_REASON_CHARS: Final = 1000  # a reason is quoted in the registry and the notification
MAX_ARN_CHARS: Final = 2048  # IAM's longest ARN
APPROVE: Final = "approve"
REJECT: Final = "reject"
# Step Functions' answers to a token whose task has ended (stopped, timed out, answered).
# Source: https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html
CLOSED_TOKEN: Final = ("TaskTimedOut", "InvalidToken", "TaskDoesNotExist")
# KMS's answers to a ciphertext that is not this key's for this run.
NOT_OURS: Final = ("InvalidCiphertextException", "IncorrectKeyException")
# A run id (customization_core/naming.py): lower case, digits and '-'.
_ANSWER_KEY: Final = re.compile(
    rf"^{re.escape(APPROVALS_PREFIX)}([a-z0-9][a-z0-9-]{{0,80}})/{re.escape(ANSWER_NAME)}$"
)
_ASSUMED_ROLE: Final = re.compile(r"^arn:[\w-]+:sts::(\d{12}):assumed-role/([^/]+)/(.+)$")

HOW_TO_SUBMIT: Final = (
    "upload it with `bedrock-customize submit`, or with `aws s3api put-object --bucket <datasets "
    "bucket> --key jobs/<name>/job.json --body job.json --tagging "
    f"{SUBMITTED_BY}=<UserId from aws sts get-caller-identity>`"
)
HOW_TO_ANSWER: Final = (
    "answer with `bedrock-customize approve RUN_ID` or `reject RUN_ID --reason ...`, or upload "
    f"{APPROVALS_PREFIX}RUN_ID/{ANSWER_NAME} tagged "
    f"{ANSWERED_BY}=<UserId from aws sts get-caller-identity>"
)
UNTAGGED_MANIFEST: Final = (
    f"The manifest carries no {SUBMITTED_BY} tag, so who submitted the run cannot be proven "
    "(and nobody could approve it as someone else); "
    f"{HOW_TO_SUBMIT}."
)


class RunRejectedError(Exception):
    """A human or a rule refused the run: the error a rejection fails the approval task with.

    The definition's Catch records it REJECTED (customization_core/end_steps.py).
    """


class Answer(BaseModel):
    """``approvals/<run-id>/answer.json``: what a person decided, and why."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    answer: Literal["approve", "reject"]
    reason: str | None = Field(default=None, max_length=MAX_REASON_CHARS)
    # The answerer's ARN as sts:GetCallerIdentity told the CLI: what the person says of
    # themselves, checked against the stage's approvers (the bucket policy proves it in AWS).
    arn: str | None = Field(default=None, max_length=MAX_ARN_CHARS)

    @model_validator(mode="after")
    def _a_rejection_says_why(self) -> Answer:
        if self.answer == REJECT and not (self.reason or "").strip():
            raise ValueError("a rejection needs a reason")
        return self


class AnswerUpload(BaseModel):
    """The answer object version an Object Created event names.

    Validated by its field names, or as the AnswerUploaded rule's input: {"bucket", "key",
    "versionId"} (stacks/approvals.py).
    """

    model_config = ConfigDict(frozen=True, validate_by_name=True, validate_by_alias=True)

    bucket: str
    key: str
    version_id: str = Field(alias="versionId")


def run_of_answer(key: str) -> str | None:
    """The run id of ``approvals/<run-id>/answer.json``; None for any other key."""
    found = _ANSWER_KEY.match(key)
    return found.group(1) if found else None


def tagging(tag: str, user_id: str) -> str:
    """PutObject's ``Tagging`` for one tag (URL-query encoded, as S3 takes it)."""
    return urlencode({tag: user_id})


def tags_of(s3: Any, bucket: str, key: str, version_id: str) -> dict[str, str]:
    """The tags of one object version (s3:GetObjectVersionTagging)."""
    found = s3.get_object_tagging(Bucket=bucket, Key=key, VersionId=version_id)
    return {str(t["Key"]): str(t["Value"]) for t in found.get("TagSet", [])}


def submitter_of(s3: Any, source: Source) -> str | None:
    """Who uploaded the manifest version that started a run (its tag); None when untagged."""
    return tags_of(s3, source.bucket, source.key, source.version_id).get(SUBMITTED_BY) or None


# The task token ---------------------------------------------------------------------


def encrypt_token(kms: Any, *, key_arn: str, run_id: str, token: str) -> str:
    """The task token encrypted for ``run_id`` with the approval key, base64 for the registry."""
    blob = kms.encrypt(
        KeyId=key_arn, Plaintext=token.encode(), EncryptionContext={CONTEXT_KEY: run_id}
    )["CiphertextBlob"]
    return base64.b64encode(blob).decode()


def decrypt_token(kms: Any, *, key_arn: str, run_id: str, ciphertext: str) -> str:
    """The task token of ``run_id``; KMS refuses a ciphertext made for another run."""
    plain = kms.decrypt(
        KeyId=key_arn,
        CiphertextBlob=base64.b64decode(ciphertext),
        EncryptionContext={CONTEXT_KEY: run_id},
    )["Plaintext"]
    return bytes(plain).decode()


# Who may answer -----------------------------------------------------------------------


def approver_problem(
    arn: str | None, user_id: str, approvers: tuple[str, ...] | None
) -> str | None:
    """Why the answerer is not one of the stage's approvers, or None.

    ``arn`` is what the answer says of its author; in AWS the bucket policy refuses an
    answer from a principal that is not an approver (aws:PrincipalArn) before it is
    stored, so this check matters where no bucket policy runs (the emulator, an old
    stack). It accepts ``arn`` only when it agrees with the proven ``user_id``: an
    assumed-role session must carry the same session name.
    """
    if approvers is None:
        return None
    listed = ", ".join(approvers)
    if not arn:
        return (
            "This stage names its approvers, and the answer does not say who wrote it "
            f"(no arn); {HOW_TO_ANSWER}."
        )
    assumed = _ASSUMED_ROLE.match(arn)
    if assumed and not user_id.endswith(f":{assumed.group(3)}"):
        return f"The answer's arn {arn} is not the identity that uploaded it ({user_id})."
    if not any(_principal_matches(pattern, arn) for pattern in approvers):
        return f"{arn} is not one of this stage's approvers ({listed}); ask one of them to answer."
    return None


def _principal_matches(pattern: str, arn: str) -> bool:
    """``arn`` (a user, or an assumed-role session) matches an approver ARN pattern.

    A session's ARN names its role without the role's path (arn:aws:sts::ACCOUNT:
    assumed-role/NAME/SESSION), so a role pattern is matched by account and name.
    """
    assumed = _ASSUMED_ROLE.match(arn)
    if not assumed:
        return fnmatch.fnmatchcase(arn, pattern)
    head, _, path = pattern.partition(":role/")
    if not path:
        return False
    account, name = assumed.group(1), assumed.group(2)
    return fnmatch.fnmatchcase(account, head.rsplit(":", 1)[-1]) and fnmatch.fnmatchcase(
        name, path.rsplit("/", 1)[-1]
    )


# AnswerApproval ---------------------------------------------------------------------


def answer_approval(
    upload: AnswerUpload,
    *,
    s3: Any,
    kms: Any,
    sfn: Any,
    registry: Registry,
    config: PipelineConfig,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Judge one uploaded answer; record it and answer the workflow, or record why not.

    Returns ``{"run_id", "outcome", "reason", "answered_by"}`` with outcome ``approved``,
    ``rejected``, ``refused`` (recorded as ``approval_refused`` on the run) or ``ignored``
    (not an answer's key, or no such run: nothing to record it on). Never the token.
    """
    at = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    run_id = run_of_answer(upload.key)
    if run_id is None:
        return _outcome(None, "ignored", f"{upload.key!r} is not {answer_key('<run-id>')}.")
    item = registry.get(run_id)
    if item is None:
        return _outcome(run_id, "ignored", f"There is no run {run_id}.")
    by = tags_of(s3, upload.bucket, upload.key, upload.version_id).get(ANSWERED_BY) or None

    def refuse(reason: str) -> dict[str, Any]:
        refusal = {"answer_version": upload.version_id, "by": by, "at": at, "reason": reason}
        registry.annotate(run_id, approval_refused=refusal)
        return _outcome(run_id, "refused", reason, by)

    if by is None:
        return refuse(
            f"The answer carries no {ANSWERED_BY} tag, so who answered cannot be proven; "
            f"{HOW_TO_ANSWER}."
        )
    answer, problem = _read_answer(s3, upload)
    if answer is None:
        return refuse(problem)
    again = item.get("answer_version") == upload.version_id  # a retry of this very answer
    if item.get("answered_by") and not again:
        return refuse(_answered(run_id, item))
    if again and item.get("answer_sent_at"):
        return _outcome(run_id, _decided(str(item.get("answer"))), item.get("answer_reason"), by)
    if not again and item.get("status") != Status.AWAITING_APPROVAL.value:
        return refuse(f"Run {run_id} is not waiting for approval (it is {item.get('status')}).")
    submitters, problem = _submitters(s3, run_id, item)
    if problem:
        return refuse(problem)
    if by in submitters:
        return refuse(f"{by} submitted run {run_id}: someone else must approve or reject it.")
    refusal = approver_problem(answer.arn, by, config.approvers)
    if refusal:
        return refuse(refusal)
    ciphertext = item.get("approval_token_ciphertext")
    if not ciphertext or not config.approval_key_arn:
        return refuse(f"Run {run_id} has no approval request to answer.")
    try:
        token = decrypt_token(
            kms, key_arn=config.approval_key_arn, run_id=run_id, ciphertext=str(ciphertext)
        )
    except Exception as error:
        if error_code(error) not in NOT_OURS:
            raise  # access or availability: the invocation is retried, then dead-lettered
        return refuse(f"Run {run_id}'s approval request was not made by this stack for this run.")
    if not again and not registry.answer(
        run_id,
        answered_by=by,
        answered_at=at,
        answer=answer.answer,
        answer_reason=answer.reason,
        answered_by_arn=answer.arn,
        answer_version=upload.version_id,
    ):
        # Another answer (or a cancel) came first: exactly one answer is recorded.
        return refuse(_answered(run_id, registry.get(run_id) or {}))
    try:
        if answer.answer == APPROVE:
            sfn.send_task_success(taskToken=token, output=json.dumps({"approved_by": by}))
        else:
            sfn.send_task_failure(
                taskToken=token,
                error=RunRejectedError.__name__,
                cause=str(answer.reason).strip(),
            )
    except Exception as error:
        if error_code(error) not in CLOSED_TOKEN:
            raise
        if again:
            # This answer's first attempt most likely delivered it before it was lost.
            registry.annotate(run_id, remove=("approval_token_ciphertext",))
            return _outcome(run_id, _decided(answer.answer), answer.reason, by)
        return refuse(
            f"Run {run_id}'s approval request has ended (the run was cancelled, timed out or "
            "answered meanwhile); the answer changed nothing."
        )
    registry.annotate(run_id, remove=("approval_token_ciphertext",), answer_sent_at=at)
    return _outcome(run_id, _decided(answer.answer), answer.reason, by)


def _read_answer(s3: Any, upload: AnswerUpload) -> tuple[Answer | None, str]:
    """The answer the object version holds, or why it is not one."""
    hint = f'write {{"answer": "{APPROVE}"}} or {{"answer": "{REJECT}", "reason": "why"}}'
    body = s3.get_object(Bucket=upload.bucket, Key=upload.key, VersionId=upload.version_id)
    data = body["Body"].read(MAX_ANSWER_BYTES + 1)
    if len(data) > MAX_ANSWER_BYTES:
        return None, f"The answer is larger than {MAX_ANSWER_BYTES:,} bytes; {hint}."
    try:
        return Answer.model_validate_json(data), ""
    except ValidationError as error:
        problems = "; ".join(
            ".".join(str(p) for p in e["loc"]) + (": " if e["loc"] else "") + str(e["msg"])
            for e in error.errors()[:5]
        )
        return None, f"The answer is not valid ({problems[:500]}); {hint}."


def _submitters(s3: Any, run_id: str, item: dict[str, Any]) -> tuple[set[str], str]:
    """Who submitted the run: as ValidateRequest recorded it and as its manifest's tag says.

    Both count: the registry item may be written by more principals than the manifest's
    tag, and the manifest version is the run's own (its id is derived from it).
    """
    recorded = item.get("submitted_by")
    if not recorded:
        return set(), (
            f"Run {run_id} has no recorded submitter, so an answer cannot be shown to come "
            f"from someone else; submit it again ({HOW_TO_SUBMIT})."
        )
    source = item.get("source") or {}
    try:
        origin = ObjectVersion(str(source["bucket"]), str(source["key"]), str(source["version_id"]))
    except KeyError:
        return set(), f"Run {run_id} has no recorded manifest version."
    if run_names(origin).run_id != run_id:
        return set(), f"Run {run_id}'s recorded manifest version is not the one it came from."
    tagged = tags_of(s3, origin.bucket, origin.key, origin.version_id).get(SUBMITTED_BY)
    return {str(recorded), *([tagged] if tagged else [])}, ""


def _answered(run_id: str, item: dict[str, Any]) -> str:
    if item.get("answered_by"):
        return (
            f"Run {run_id} was already answered ({item.get('answer')}) by "
            f"{item['answered_by']} at {item.get('answered_at')}."
        )
    return f"Run {run_id} is not waiting for approval (it is {item.get('status')})."


def _decided(answer: str) -> str:
    return "approved" if answer == APPROVE else "rejected"


def _outcome(
    run_id: str | None, outcome: str, reason: str | None, by: str | None = None
) -> dict[str, Any]:
    return {"run_id": run_id, "outcome": outcome, "reason": reason, "answered_by": by}
