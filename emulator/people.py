"""People who use the emulated stack, each with credentials of their own.

moto's STS tells callers apart by their access key (GetCallerIdentity answers an IAM
user's id for that user's keys), as AWS tells them apart by their signature. A manifest
names who submitted it (tag ``submitted-by``) and an answer who answered (``answered-by``),
with the uploader's UserId (customization_core/approval.py). In AWS the datasets bucket's
policy refuses any other tag (stacks/approvals.py); the emulator does not enforce bucket
policies, so these helpers upload the way a person (or the CLI) does: as themselves,
tagged with their own id, and then deliver the Object Created event as
``LocalCloud.upload`` does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from customization_core import approval, layout
from emulator.cloud import LocalCloud
from emulator.events import object_created
from emulator.lambda_service import cached_client

SUBMITTER = "data-scientist"  # who uploads job folders, unless a test says otherwise
APPROVER = "approver"  # someone else, who may answer


@dataclass
class Person:
    """An IAM user of the emulated account, with an access key."""

    name: str
    user_id: str
    arn: str
    credentials: dict[str, str]
    clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        return cached_client(self.clients, service, **self.credentials)


# Per cloud (by identity) and name.
_PEOPLE: dict[tuple[int, str], Person] = {}


def person(cloud: LocalCloud, name: str) -> Person:
    """The IAM user ``name`` with an access key, made the first time a cloud is asked."""
    known = _PEOPLE.get((id(cloud), name))
    iam = cloud.client("iam")
    if known is not None:
        try:
            iam.get_user(UserName=name)
            return known
        except iam.exceptions.NoSuchEntityException:
            pass  # another cloud (a new moto) at the same address
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    credentials = {
        "aws_access_key_id": key["AccessKeyId"],
        "aws_secret_access_key": key["SecretAccessKey"],
    }
    clients: dict[str, Any] = {}
    me = cached_client(clients, "sts", **credentials).get_caller_identity()
    found = Person(
        name=name, user_id=me["UserId"], arn=me["Arn"], credentials=credentials, clients=clients
    )
    _PEOPLE[(id(cloud), name)] = found
    return found


def upload_as(
    cloud: LocalCloud, who: Person, key: str, body: bytes, *, tags: dict[str, str] | None = None
) -> dict[str, Any]:
    """Put an object into the datasets bucket as ``who`` and deliver its Object Created event."""
    bucket = cloud.output("DatasetsBucketName")
    s3 = who.client("s3")
    extra = {"Tagging": "&".join(approval.tagging(k, v) for k, v in tags.items())} if tags else {}
    with cloud.lock:
        put = s3.put_object(Bucket=bucket, Key=key, Body=body, **extra)
        cloud.delivered.add((key, put["VersionId"]))
    event = object_created(bucket, key, len(body), put["ETag"], put["VersionId"])
    return {"event": event, "executions": cloud.deliver(event), "version_id": put["VersionId"]}


def submit_manifest(
    cloud: LocalCloud, key: str, body: bytes, *, by: Person | None = None
) -> dict[str, Any]:
    """Upload ``jobs/<name>/job.json`` as its submitter, tagged with their id (as `submit` does)."""
    who = by or person(cloud, SUBMITTER)
    return upload_as(cloud, who, key, body, tags={approval.SUBMITTED_BY: who.user_id})


def answer(
    cloud: LocalCloud,
    run_id: str,
    decision: str,
    reason: str | None = None,
    *,
    by: Person | None = None,
) -> dict[str, Any]:
    """Answer a run held for approval as ``by`` (default: the approver), as `approve` does."""
    who = by or person(cloud, APPROVER)
    body = approval.Answer.model_validate(
        {"answer": decision, "reason": reason, "arn": who.arn}
    ).model_dump_json(exclude_none=True)
    return upload_as(
        cloud,
        who,
        layout.answer_key(run_id),
        body.encode(),
        tags={approval.ANSWERED_BY: who.user_id},
    )
