"""The demo's deployment summary reports what the template really holds."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from scripts.summary import main, summarize
from tests.infra.synth import Synth


def test_summary_lists_keys_buckets_endpoints_roles_and_the_nag_result(dev: Synth) -> None:
    text = "\n".join(summarize("BedrockCustomization-dev", dev.template, dev.report))
    assert "alias/bedrock-customization/dev/data" in text
    assert "rotation on" in text
    assert "Datasets   SSE-KMS (DataKey)" in text
    assert "EventBridge events on" in text
    assert "AccessLogs SSE-S3" in text
    assert "internet gateway: none, NAT: none" in text
    assert "bedrock-runtime (private DNS, policy)" in text
    assert (
        "BedrockCustomizationRole: assumed by bedrock.amazonaws.com with aws:SourceAccount, aws:SourceArn"
        in text
    )
    assert "AwsSolutions     pass: 0 open" in text
    assert (
        "rule: uploads matching jobs/*/job.json -> StateMachine (with a dead-letter queue)" in text
    )
    assert "state machine StateMachine: STANDARD, logs ALL, X-Ray on" in text
    assert "18 handlers (python3.14, arm64, in the VPC)" in text
    assert (
        "registry Runs: KMS-encrypted, point-in-time recovery on, deletion protection off" in text
    )
    assert "7 interface endpoints x 1 AZ(s): about $51.10/month" in text


def test_summary_shows_a_weakened_template_as_such(dev: Synth) -> None:
    # Given a template whose key rotation and endpoint policy were removed
    template = copy.deepcopy(dev.template)
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::KMS::Key":
            resource["Properties"]["EnableKeyRotation"] = False
        if resource["Type"] == "AWS::EC2::VPCEndpoint":
            resource["Properties"].pop("PolicyDocument")
    report = copy.deepcopy(dev.report)
    report["pluginReports"][0]["violations"] = [{"ruleName": "AwsSolutions-S1"}]
    # When summarized, then the summary says so
    text = "\n".join(summarize("S", template, report))
    assert "ROTATION OFF" in text
    assert "NO POLICY" in text
    assert "FAIL: 1 open" in text


def test_main_reads_a_cloud_assembly_and_explains_a_missing_one(
    dev: Synth, tmp_path: Path, capsys
) -> None:
    assert main([str(tmp_path / "nowhere")]) == 1
    assert "run `make synth` first" in capsys.readouterr().err
    (tmp_path / "S.template.json").write_text(json.dumps(dev.template))
    manifest = {
        "artifacts": {
            "S": {
                "type": "aws:cloudformation:stack",
                "properties": {"templateFile": "S.template.json"},
            }
        }
    }
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    assert main([str(tmp_path)]) == 0
    assert "no validation-report.json" in capsys.readouterr().out
