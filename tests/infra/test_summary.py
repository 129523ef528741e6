"""The demo's deployment summary reports what the template really holds."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from scripts.summary import (
    ALARM_MONTH,
    BUDGET_DAY,
    DASHBOARD_MONTH,
    DAYS_PER_MONTH,
    ENDPOINT_AZ_HOUR,
    HOURS_PER_MONTH,
    KMS_KEY_MONTH,
    main,
    summarize,
)
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
    assert "19 handlers (python3.14, arm64, in the VPC)" in text
    assert (
        "registry Runs: KMS-encrypted, point-in-time recovery on, deletion protection off" in text
    )
    assert "9 interface endpoints x 1 AZ(s): 9 endpoint-AZs" in text


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


def _idle(synth: Synth) -> list[str]:
    lines = summarize(synth.settings.stack_name, synth.template, synth.report)
    start = next(i for i, line in enumerate(lines) if line.startswith("Idle cost:"))
    return lines[start : lines.index("", start)]


UNCONFIRMED = "(price not confirmed in a stored AWS source: check {})"


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_the_idle_cost_comes_first_and_adds_up_what_the_template_holds(
    stage: str, request: pytest.FixtureRequest
) -> None:
    # Given a stage's template, counted here on its own
    synth: Synth = request.getfixturevalue(stage)
    settings = synth.settings
    count = {t: len(synth.resources(t)) for t in ("AWS::KMS::Key", "AWS::CloudWatch::Alarm")}
    budgets = len(synth.resources("AWS::Budgets::Budget"))
    assert budgets == (0 if settings.monthly_budget_usd is None else 1)
    interface, azs = len(settings.interface_endpoints), settings.az_count
    endpoints = interface * azs * ENDPOINT_AZ_HOUR.usd * HOURS_PER_MONTH
    keys = count["AWS::KMS::Key"] * KMS_KEY_MONTH.usd
    alarms = count["AWS::CloudWatch::Alarm"] * ALARM_MONTH.usd
    budget = budgets * BUDGET_DAY.usd * DAYS_PER_MONTH
    # When summarized
    lines = summarize(settings.stack_name, synth.template, synth.report)
    idle = _idle(synth)
    # Then the total is the summary's first statement, before keys and compliance
    assert lines[2] == idle[0]
    assert lines.index(idle[0]) < lines.index("KMS keys (customer managed)")
    assert lines.index(idle[0]) < lines.index("Compliance (cdk-nag, run at every synth)")
    total = endpoints + keys + alarms + DASHBOARD_MONTH.usd + budget
    assert idle[0].startswith(f"Idle cost: about ${total:,.2f}/month while deployed and unused")
    unconfirmed = endpoints + alarms + DASHBOARD_MONTH.usd
    assert idle[1].startswith(f"  ${unconfirmed:,.2f} of it rests on prices not confirmed")
    # And each part is on its line, with its count, price and whether the price is confirmed
    assert (
        f"  {interface} interface endpoints x {azs} AZ(s): {interface * azs} endpoint-AZs x "
        f"$0.01/hour x 730 hours = ${endpoints:,.2f}/month "
        + UNCONFIRMED.format("https://aws.amazon.com/privatelink/pricing/")
    ) in idle
    gateways = settings.gateway_endpoints
    assert f"  {len(gateways)} gateway endpoints ({', '.join(gateways)}): no charge" in idle
    keys_line = next(line for line in idle if "KMS keys" in line)
    assert keys_line.startswith(
        f"  {count['AWS::KMS::Key']} KMS keys x $1.00/month = ${keys:,.2f}/month;"
    )
    assert "not confirmed" not in keys_line
    alarms_line = next(line for line in idle if "CloudWatch alarms" in line)
    assert alarms_line.startswith(
        f"  {count['AWS::CloudWatch::Alarm']} CloudWatch alarms (standard resolution) x "
        f"$0.10/alarm-month = ${alarms:,.2f}/month; an account's first 10 alarm metrics are free"
    )
    assert alarms_line.endswith(UNCONFIRMED.format("https://aws.amazon.com/cloudwatch/pricing/"))
    assert any(line.startswith("  1 CloudWatch dashboard(s) x $3.00/month") for line in idle)
    budget_lines = [line for line in idle if "AWS Budgets" in line]
    if budgets:
        assert budget_lines == [
            "  1 AWS Budgets budget(s) x $0.02/day = $0.61/month; "
            "free while among the account's first 2 active budgets"
        ]
    else:
        assert budget_lines == []
    queues = len(synth.resources("AWS::SQS::Queue"))
    groups = len(synth.resources("AWS::Logs::LogGroup"))
    assert (
        f"  {queues} SQS queues: no charge while idle (billed per request); nothing polls them"
        in idle
    )
    assert f"  {groups} log groups: no charge until logs are written (ingestion, storage)" in idle
    assert (
        "  1 DynamoDB table(s), on demand: no charge while idle (billed per request, plus storage)"
        in idle
    )
    assert (
        "  schedule rate(15 minutes) -> SweepDeployments: 2,920 runs/month while idle; "
        "its Lambda, log and request charges: small, NOT PRICED"
    ) in idle
    assert not any("NOT ASSESSED" in line for line in idle)


def _endpoint(kind: str, subnets: int, service: str) -> dict[str, object]:
    properties: dict[str, object] = {
        "VpcEndpointType": kind,
        "ServiceName": f"com.amazonaws.us-east-1.{service}",
    }
    if kind == "Interface":
        properties["SubnetIds"] = [{"Ref": f"Subnet{i}"} for i in range(subnets)]
    return {"Type": "AWS::EC2::VPCEndpoint", "Properties": properties}


def test_the_idle_cost_of_a_made_up_template_to_the_cent() -> None:
    # Given a template with a part of every kind, and two this summary cannot price
    resources: dict[str, object] = {
        "A": _endpoint("Interface", 3, "sts"),
        "B": _endpoint("Interface", 2, "kms"),
        "C": _endpoint("Gateway", 0, "s3"),
        **{f"Key{i}": {"Type": "AWS::KMS::Key", "Properties": {}} for i in range(2)},
        **{
            f"Alarm{i}": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Period": 300}}
            for i in range(12)
        },
        "Fast": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Period": 10}},
        "Board": {"Type": "AWS::CloudWatch::Dashboard", "Properties": {}},
        **{f"Budget{i}": {"Type": "AWS::Budgets::Budget", "Properties": {}} for i in range(2)},
        "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {"BillingMode": "PROVISIONED"}},
        "Hourly": {
            "Type": "AWS::Events::Rule",
            "Properties": {"ScheduleExpression": "rate(1 hour)", "Targets": [{"Arn": "x"}]},
        },
        "Nat": {"Type": "AWS::EC2::NatGateway", "Properties": {}},
        "Role": {
            "Type": "AWS::IAM::Role",
            "Properties": {"AssumeRolePolicyDocument": {"Statement": [{"Principal": {}}]}},
        },
    }
    # When its idle cost is summarized
    lines = summarize("S", {"Resources": resources}, None)
    idle = lines[2 : lines.index("", 2)]
    # Then: 5 endpoint-AZs x $0.01 x 730 h = $36.50, 2 keys $2.00, 12 alarms $1.20,
    # a dashboard $3.00, 2 budgets x $0.02 x 730/24 days = $1.22: $43.92, $40.70 unconfirmed
    assert idle[0].startswith("Idle cost: about $43.92/month")
    assert idle[1].startswith("  $40.70 of it rests on prices not confirmed")
    assert idle[2].startswith(
        "  2 interface endpoints in 2 to 3 AZs: 5 endpoint-AZs x $0.01/hour x 730 hours "
        "= $36.50/month"
    )
    assert "  1 gateway endpoints (s3): no charge" in idle
    assert "  1 other CloudWatch alarms (high resolution or several metrics): NOT PRICED" in idle
    assert any(
        line.startswith("  2 AWS Budgets budget(s) x $0.02/day = $1.22/month") for line in idle
    )
    assert "  1 DynamoDB table(s), provisioned: NOT PRICED" in idle
    assert any(line.startswith("  schedule rate(1 hour) -> x: 730 runs/month") for line in idle)
    # What it cannot price is said, not guessed; configuration is not listed at all
    assert idle[-1] == "  NOT ASSESSED (billing unknown to this summary): AWS::EC2::NatGateway x1"
    assert not any("IAM" in line for line in idle)
