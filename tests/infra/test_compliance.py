"""The cdk-nag gate: every stage passes all packs, and an insecure change fails synth."""

from __future__ import annotations

from pathlib import Path

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
}


def test_every_pack_passes_with_no_open_finding(every_variant: Synth) -> None:
    reports = {p["pluginName"]: p for p in every_variant.report["pluginReports"]}
    assert set(reports) <= set(PACKS.values())
    for pack, report in reports.items():
        assert report["conclusion"] == "success", pack
        assert report["violations"] == [], pack


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
