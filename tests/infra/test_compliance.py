"""The cdk-nag gate: every stage passes all packs, and an insecure change fails synth."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3

from stacks.compliance import acknowledge, finding_id, nag_rendering
from stacks.customization_stack import BedrockCustomizationStack
from stacks.nag_packs import PACKS
from tests.infra.synth import Synth, stage_settings, synthesize

# Every acknowledgement in the app, by rule. A new one shows up here in review.
EXPECTED_ACKNOWLEDGED = {
    "AwsSolutions-IAM5",
    "AwsSolutions-SQS3",
    "NIST.800.53.R5-S3BucketReplicationEnabled",
    "NIST.800.53.R5-S3DefaultEncryptionKMS",
    "NIST.800.53.R5-EC2RestrictedCommonPorts",
    "HIPAA.Security-S3BucketReplicationEnabled",
    "HIPAA.Security-S3DefaultEncryptionKMS",
    "HIPAA.Security-EC2RestrictedCommonPorts",
    "Serverless-SQSRedrivePolicy",
    "Serverless-LambdaDLQ",
    "NIST.800.53.R5-LambdaDLQ",
    "HIPAA.Security-LambdaDLQ",
    # The built-in RFT grader reserves no concurrency: Bedrock calls it in parallel.
    "NIST.800.53.R5-LambdaConcurrency",
    "HIPAA.Security-LambdaConcurrency",
}


def test_every_pack_passes_with_no_open_finding(every_variant: Synth) -> None:
    reports = {p["pluginName"]: p for p in every_variant.report["pluginReports"]}
    # Each of the four packs ran and reported, and each found something to judge.
    assert set(reports) == set(PACKS.values())
    for pack, report in reports.items():
        assert report["conclusion"] == "success", pack
        assert report["violations"] == [], pack
        assert report["suppressedViolations"], pack


def _acknowledgements(synth: Synth) -> set[tuple[str, str]]:
    """(construct path, finding id) of every acknowledgement of the packs in the assembly."""
    (metadata_file,) = synth.outdir.glob(f"{synth.settings.stack_name}.metadata.json")
    metadata: dict[str, list[dict[str, Any]]] = json.loads(metadata_file.read_text())
    packs = tuple(f"{pack}::" for pack in PACKS.values())
    return {
        (path.lstrip("/"), finding)
        for path, entries in metadata.items()
        for entry in entries
        if entry["type"] == "aws:cdk:acknowledged-rules"
        for finding in entry["data"]
        # aws-cdk-lib acknowledges findings of plugins this app does not run (e.g. the
        # CloudFormation-Validate rules on a FlowLog): only the packs' are this app's.
        if finding.startswith(packs)
    }


def test_every_acknowledgement_suppresses_a_finding(every_variant: Synth) -> None:
    # Given every acknowledgement made (by hand or from a grant's wildcard reason), when
    # the packs ran, then each one suppressed a finding at the construct it names
    suppressed = {
        (finding["acknowledgedAt"], finding["acknowledgedId"])
        for report in every_variant.report["pluginReports"]
        for finding in report["suppressedViolations"]
    }
    acknowledged = _acknowledgements(every_variant)
    assert len(acknowledged) > 100  # the metadata was read: about 170 per variant
    assert sorted(acknowledged - suppressed) == []


def test_every_acknowledgement_is_expected_and_has_a_reason(every_variant: Synth) -> None:
    acknowledged = [
        finding
        for report in every_variant.report["pluginReports"]
        for finding in report.get("suppressedViolations", [])
    ]
    assert {f["ruleName"].split("[")[0] for f in acknowledged} == EXPECTED_ACKNOWLEDGED
    for finding in acknowledged:
        assert len(finding["reason"]) >= 20
        # Each names the finding exactly, resource part included.
        assert finding["acknowledgedId"].endswith(finding["ruleName"])


def test_an_insecure_resource_fails_synth(tmp_path: Path) -> None:
    # Given a bucket with none of the protections, when synthesized, then nag refuses it
    def add_bad_bucket(stack: BedrockCustomizationStack) -> None:
        s3.Bucket(stack, "Careless", encryption=s3.BucketEncryption.UNENCRYPTED)

    with pytest.raises(RuntimeError, match=r"AwsSolutions-S10|AwsSolutions-S1"):
        synthesize(stage_settings("dev"), tmp_path, add_bad_bucket)


def test_finding_ids_name_pack_rule_and_resource() -> None:
    assert (
        finding_id("AwsSolutions-IAM5", "Resource::*")
        == "AwsSolutions::AwsSolutions-IAM5[Resource::*]"
    )
    assert finding_id("NIST.800.53.R5-S3BucketReplicationEnabled") == (
        "NIST.800.53.R5::NIST.800.53.R5-S3BucketReplicationEnabled"
    )
    with pytest.raises(ValueError, match="not a rule of the packs"):
        finding_id("PCI.DSS.321-S3BucketLoggingEnabled")


def test_an_acknowledgement_needs_a_real_reason() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "S")
    with pytest.raises(ValueError, match="reason"):
        acknowledge(stack, "AwsSolutions-S1", "because")


def test_nag_rendering_matches_how_findings_print_arns() -> None:
    app = cdk.App()
    agnostic = cdk.Stack(app, "Agnostic")
    pinned = cdk.Stack(app, "Pinned", env=cdk.Environment(region="eu-west-1"))
    for stack, region in ((agnostic, "<AWS::Region>"), (pinned, "eu-west-1")):
        arn = stack.format_arn(service="ec2", resource="network-interface", resource_name="*")
        rendered = nag_rendering(stack, arn)
        assert rendered.endswith(f":ec2:{region}:<AWS::AccountId>:network-interface/*")
