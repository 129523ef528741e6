"""The Bedrock service role trains on the run's copy of the validated data, never on the inbox.

A file in jobs/ can be replaced after ValidateDataset judged it; the role may read only
what the snapshot (customization_core/snapshot.py) copied under runs/<run-id>/input/.
The statements are evaluated here (action and resource wildcards, as IAM matches them)
against the keys the pipeline actually writes.
"""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from typing import Any

import pytest

from customization_core.layout import TRAINING_FOLDER, VALIDATION_FOLDER, media_copy_key
from customization_core.naming import ObjectVersion, run_names
from customization_core.snapshot import data_copy_key
from stacks.intrinsics import angle_get_att, as_text
from tests.infra.synth import Synth, as_list, statements

RUN = run_names(ObjectVersion("inbox", "jobs/support/job.json", "v1"))
S3_ACTIONS = (
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:ListBucket",
    "s3:ListBucketVersions",
)


def _role_statements(synth: Synth) -> list[dict[str, Any]]:
    role_id, _ = synth.one("AWS::IAM::Role", "Identity/BedrockCustomizationRole/")
    found = []
    for type_ in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
        for policy in synth.resources(type_).values():
            if {"Ref": role_id} in policy["Properties"].get("Roles", []):
                found.extend(statements(policy["Properties"]["PolicyDocument"]))
    assert found, "the role has a policy"
    return found


def _bucket(synth: Synth, name: str) -> str:
    return synth.one("AWS::S3::Bucket", f"Storage/{name}/")[0]


def _render(value: Any) -> str:
    """A resource as a plain ARN: a bucket's Arn attribute becomes arn:aws:s3:::<logical id>."""
    return as_text(
        value,
        get_att=lambda logical_id, attribute: (
            f"arn:aws:s3:::{logical_id}"
            if attribute == "Arn"
            else angle_get_att(logical_id, attribute)
        ),
    )


def _allows(found: list[dict[str, Any]], action: str, arn: str) -> bool:
    """Whether an Allow statement matches ``action`` on ``arn`` (conditions aside)."""
    return any(
        s["Effect"] == "Allow"
        and any(fnmatchcase(action.lower(), a.lower()) for a in as_list(s["Action"]))
        and any(fnmatchcase(arn, _render(r)) for r in as_list(s["Resource"]))
        for s in found
    )


def test_no_statement_of_the_role_grants_anything_on_the_datasets_bucket(dev: Synth) -> None:
    # Given the synthesized role, when its statements are read, then none names the inbox
    datasets = _bucket(dev, "Datasets")
    found = _role_statements(dev)
    assert not [s for s in found if datasets in json.dumps(s)]
    for action in S3_ACTIONS:
        for arn in (
            f"arn:aws:s3:::{datasets}",
            f"arn:aws:s3:::{datasets}/jobs/support/train.jsonl",
            f"arn:aws:s3:::{datasets}/jobs/support/images/cat.png",
        ):
            assert not _allows(found, action, arn), (action, arn)


def test_no_bucket_policy_lets_the_role_into_the_datasets_bucket(dev: Synth) -> None:
    datasets = _bucket(dev, "Datasets")
    (policy,) = [
        p["Properties"]["PolicyDocument"]
        for p in dev.resources("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": datasets}
    ]
    assert all(s["Effect"] == "Deny" for s in statements(policy))


@pytest.mark.parametrize(
    "key",
    [
        data_copy_key(RUN.run_id, TRAINING_FOLDER, "jobs/support/train.jsonl"),
        data_copy_key(RUN.run_id, VALIDATION_FOLDER, "jobs/support/eval/validation.jsonl"),
        media_copy_key(RUN.run_id, "jobs/support/images/cat.png"),
    ],
)
def test_the_role_reads_the_snapshot_but_cannot_change_it(dev: Synth, key: str) -> None:
    artifacts = _bucket(dev, "Artifacts")
    found = _role_statements(dev)
    assert key.startswith(f"runs/{RUN.run_id}/input/")
    assert _allows(found, "s3:GetObject", f"arn:aws:s3:::{artifacts}/{key}")
    # A job writes its output, not over the data it trains on.
    assert not _allows(found, "s3:PutObject", f"arn:aws:s3:::{artifacts}/{key}")
    assert not _allows(found, "s3:DeleteObject", f"arn:aws:s3:::{artifacts}/{key}")


def test_the_role_writes_only_under_the_run_output_prefix(dev: Synth) -> None:
    artifacts = _bucket(dev, "Artifacts")
    found = _role_statements(dev)
    output = f"arn:aws:s3:::{artifacts}/{RUN.output_prefix}model/step_wise_training_metrics.csv"
    assert _allows(found, "s3:PutObject", output)
    assert _allows(found, "s3:GetObject", output)
    report = f"arn:aws:s3:::{artifacts}/{RUN.report_key}"
    assert not _allows(found, "s3:PutObject", report)
    assert not _allows(found, "s3:GetObject", report)


def test_the_role_lists_only_the_runs_prefix_of_the_artifacts_bucket(dev: Synth) -> None:
    artifacts = _bucket(dev, "Artifacts")
    listing = [s for s in _role_statements(dev) if "s3:ListBucket" in as_list(s["Action"])]
    assert [(_render(s["Resource"]), s["Condition"]) for s in listing] == [
        (f"arn:aws:s3:::{artifacts}", {"StringLike": {"s3:prefix": ["runs/*"]}})
    ]


def test_the_role_s_wildcards_are_acknowledged_for_the_run_prefixes_only(dev: Synth) -> None:
    # Given the nag report, when the role policy's IAM5 acknowledgements are read,
    # then the object wildcards they accept are the run input and output, nothing in jobs/
    artifacts, datasets = _bucket(dev, "Artifacts"), _bucket(dev, "Datasets")
    names = {
        finding["ruleName"]
        for report in dev.report["pluginReports"]
        for finding in report.get("suppressedViolations", [])
        if finding["ruleName"].startswith("AwsSolutions-IAM5[")
        and any(
            "Identity/BedrockCustomizationPolicy" in c["constructPath"]
            for c in finding["violatingConstructs"]
        )
    }
    buckets = {n for n in names if artifacts in n or datasets in n}
    assert buckets == {
        f"AwsSolutions-IAM5[Resource::<{artifacts}.Arn>/runs/*/input/*]",
        f"AwsSolutions-IAM5[Resource::<{artifacts}.Arn>/runs/*/output/*]",
    }
