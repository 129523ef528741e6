"""parliament, an IAM policy linter, over every policy document of every stage (issue 13).

Given each synthesized variant (every stage in cdk.json, and prod on an existing VPC), when
every policy document of its template is linted against AWS's current permissions reference
(scripts/iam_database.py), then each finding is acknowledged, with a reason, in
iam-lint-acknowledgements.yaml, and each acknowledgement there still matches a finding.

CloudFormation intrinsics are resolved to placeholders of the shape CloudFormation returns
(``{"Fn::GetAtt": ["Data", "Arn"]}`` on a bucket is ``arn:aws:s3:::bucket-Data``), so the
linter matches actions to resource types as IAM will.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from fnmatch import fnmatchcase
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from scripts import iam_database
from tests.infra.iam_lint import (
    ACKNOWLEDGEMENTS,
    IDENTITY,
    KEY,
    PENDING_REASON,
    RESOURCE,
    TRUST,
    VARIANTS,
    Document,
    Finding,
    documents,
    lint,
    policy_like,
)
from tests.infra.synth import Synth


@dataclass(frozen=True)
class Acknowledgement:
    """Findings accepted with a reason: every field given must match (globs; actions and
    condition keys in any case, as IAM reads them)."""

    issue: str
    policy: tuple[str, ...]
    reason: str
    section: str
    property: str | None = None
    sid: str | None = None
    action: str | None = None
    resource: str | None = None
    condition: str | None = None
    detail: str | None = None
    variants: tuple[str, ...] | None = None

    def matches(self, finding: Finding) -> bool:
        if self.issue != finding.issue:
            return False
        if not any(fnmatchcase(finding.policy, pattern) for pattern in self.policy):
            return False
        if self.variants is not None and finding.variant not in self.variants:
            return False
        for name in ("property", "sid", "resource", "detail"):
            pattern = getattr(self, name)
            if pattern is not None and not fnmatchcase(getattr(finding, name) or "", pattern):
                return False
        for name in ("action", "condition"):
            pattern = getattr(self, name)
            value = (getattr(finding, name) or "").lower()
            if pattern is not None and not fnmatchcase(value, pattern.lower()):
                return False
        return True

    def label(self) -> str:
        given = {k: v for k, v in asdict(self).items() if v is not None and k != "reason"}
        return json.dumps(given)


_FIELDS = {f.name for f in fields(Acknowledgement)} - {"section"}


def acknowledgements() -> list[Acknowledgement]:
    """iam-lint-acknowledgements.yaml, checked for its own shape."""
    loaded = yaml.safe_load(ACKNOWLEDGEMENTS.read_text(encoding="utf-8"))
    assert set(loaded) <= {"acknowledged", "pending"}, f"unknown sections: {set(loaded)}"
    found = []
    for section in ("acknowledged", "pending"):
        for entry in loaded.get(section) or []:
            assert not set(entry) - _FIELDS, f"{entry}: unknown fields {set(entry) - _FIELDS}"
            assert entry.get("issue"), f"{entry}: an issue"
            assert entry.get("policy"), f"{entry}: a policy"
            assert str(entry.get("reason", "")).strip(), f"{entry}: a reason"
            if section == "pending":
                assert entry["reason"] == PENDING_REASON, f"{entry}: pending's reason"
            values = dict(entry)
            for name in ("policy", "variants"):
                if name in values:
                    given = values[name]
                    values[name] = tuple(given) if isinstance(given, list) else (given,)
            found.append(Acknowledgement(**values, section=section))
    return found


@dataclass(frozen=True)
class Linted:
    documents: list[Document]
    findings: list[Finding]


@pytest.fixture(scope="module")
def linted(request: pytest.FixtureRequest) -> Linted:
    every: list[Document] = []
    for variant in VARIANTS:
        synth: Synth = request.getfixturevalue(variant)
        found = documents(variant, synth)
        unseen = policy_like(synth.template) - {(d.policy, d.property) for d in found}
        assert not unseen, f"{variant}: policy documents the lint does not see: {unseen}"
        every.extend(found)
    return Linted(every, [finding for document in every for finding in lint(document)])


def _as_yaml(findings: list[Finding]) -> str:
    """Findings once each (with the variants they are in), in the file's entry format."""
    by_key: dict[tuple[Any, ...], tuple[Finding, list[str]]] = {}
    for finding in findings:
        by_key.setdefault(finding.key(), (finding, []))[1].append(finding.variant)
    entries = [
        {**{k: v for k, v in asdict(f).items() if v and k != "variant"}, "variants": variants}
        for f, variants in by_key.values()
    ]
    dumped: str = yaml.safe_dump(entries, sort_keys=False, width=100)
    return dumped


def test_every_kind_of_policy_of_every_variant_is_linted(linted: Linted) -> None:
    # Given every variant, then identity, trust, key and resource policies are all linted,
    for variant in VARIANTS:
        kinds = {d.kind for d in linted.documents if d.variant == variant}
        assert kinds == {IDENTITY, RESOURCE, TRUST, KEY}, variant
    # and no intrinsic is left for parliament to read as a malformed ARN.
    for document in linted.documents:
        text = json.dumps(document.document)
        assert "Fn::" not in text, document.policy
        assert '"Ref"' not in text, document.policy


def test_the_database_is_the_current_service_authorization_reference() -> None:
    database = iam_database.current()
    assert database.version == iam_database.IAM_DATA_VERSION
    # The custom-model-deployment actions are in the reference, not in parliament's own file.
    assert database.privilege("bedrock:CreateCustomModelDeployment")
    assert "aws:ViaAWSService" in database.global_condition_keys


def test_the_lint_reports_a_wrong_action_resource_and_condition() -> None:
    # Given a policy with an action that does not exist, a bucket ARN for a key action and a
    # condition key the action does not take,
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Made",
                "Effect": "Allow",
                "Action": "bedrock:CreateCustomModelDeploy",
                "Resource": "*",
            },
            {
                "Sid": "Key",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": "arn:aws:s3:::bucket-Data",
            },
            {
                "Sid": "Cond",
                "Effect": "Allow",
                "Action": "sqs:SendMessage",
                "Resource": "arn:aws:sqs:us-east-1:111122223333:queue-Q",
                "Condition": {"StringEquals": {"kms:ViaService": "sqs.us-east-1.amazonaws.com"}},
            },
        ],
    }
    # When it is linted,
    found = lint(Document("test", "Made", "PolicyDocument", IDENTITY, policy))
    # Then each is a finding on its statement.
    assert {(f.sid, f.issue, f.action) for f in found} >= {
        ("Made", "UNKNOWN_ACTION", "bedrock:CreateCustomModelDeploy"),
        ("Key", "RESOURCE_MISMATCH", "kms:Decrypt"),
        ("Cond", "UNKNOWN_CONDITION_FOR_ACTION", "sqs:SendMessage"),
    }


def test_every_finding_is_fixed_or_acknowledged(linted: Linted) -> None:
    acknowledged = acknowledgements()
    open_ = [f for f in linted.findings if not any(a.matches(f) for a in acknowledged)]
    assert not open_, (
        f"{len(open_)} IAM lint findings are neither fixed nor acknowledged in "
        f"{ACKNOWLEDGEMENTS.name}:\n{_as_yaml(open_)}"
    )


def test_no_acknowledgement_is_stale(linted: Linted) -> None:
    stale = [a.label() for a in acknowledgements() if not any(map(a.matches, linted.findings))]
    assert not stale, "acknowledgements that match no finding any more:\n" + "\n".join(stale)
