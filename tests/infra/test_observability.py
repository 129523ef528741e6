"""Alarms to the topic, the dashboard, and what CloudWatch needs to publish to the encrypted topic."""

from __future__ import annotations

import json
from typing import Any

from tests.infra.synth import Synth, as_list
from tests.infra.test_workflow import HANDLERS


def _alarms(synth: Synth) -> dict[str, dict[str, Any]]:
    return {
        str(r["Properties"]["AlarmName"]): r["Properties"]
        for r in synth.resources("AWS::CloudWatch::Alarm").values()
    }


def test_every_failure_signal_has_an_alarm_that_notifies_the_topic(dev: Synth) -> None:
    alarms = _alarms(dev)
    prefix = "bedrock-customization-dev-"
    expected = {
        "ExecutionsFailed",
        "ExecutionsTimedOut",
        "OverdueDeployments",
        # A deployment with this stack's owner tag that no live run owns (the sweep).
        "OrphanedDeployments",
        "UndeliveredRunsWaiting",
        "UndeliveredNotificationsWaiting",
        # The last resort: a run whose end could not be recorded or notified.
        "UnendedRunsWaiting",
        # Answers to approvals AnswerApproval could not handle (stacks/approvals.py).
        "UnprocessedAnswersWaiting",
        *("".join(p.capitalize() for p in h.split("_")) + "Errors" for h in HANDLERS),
    }
    assert set(alarms) == {prefix + name for name in expected}
    topic = next(iter(dev.resources("AWS::SNS::Topic")))
    for name, alarm in alarms.items():
        assert alarm["AlarmActions"] == [{"Ref": topic}], name
        assert alarm["OKActions"] == [{"Ref": topic}], name
        assert alarm["Threshold"] == (3 if name.endswith("Errors") else 1)
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert alarm["AlarmDescription"]
    failed = alarms[prefix + "ExecutionsFailed"]
    assert (failed["Namespace"], failed["MetricName"]) == ("AWS/States", "ExecutionsFailed")
    overdue = alarms[prefix + "OverdueDeployments"]
    assert (overdue["Namespace"], overdue["MetricName"]) == (
        "BedrockCustomization",
        "OverdueDeployments",
    )
    # A sweep that stopped reporting is a problem too.
    assert overdue["TreatMissingData"] == "breaching"
    orphaned = alarms[prefix + "OrphanedDeployments"]
    assert (orphaned["Namespace"], orphaned["MetricName"]) == (
        "BedrockCustomization",
        "OrphanedDeployments",
    )
    # The sweep's own dimension, its 15-minute period, two sweeps in a row.
    assert {"Name": "service", "Value": "bedrock-customization"} in orphaned["Dimensions"]
    assert (orphaned["Statistic"], orphaned["Period"], orphaned["EvaluationPeriods"]) == (
        "Maximum",
        900,
        2,
    )
    # A sweep that cannot look at Bedrock publishes no count: that alarms too.
    assert orphaned["TreatMissingData"] == "breaching"
    assert "bedrock-customize spend" in orphaned["AlarmDescription"]


def test_cloudwatch_may_publish_to_the_topic_and_use_its_key_only_for_these_alarms(
    dev: Synth,
) -> None:
    (policy,) = dev.resources("AWS::SNS::TopicPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    (publish,) = [s for s in statements if s.get("Sid") == "AlarmsPublish"]
    assert publish["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert publish["Action"] == "sns:Publish"
    source = json.dumps(publish["Condition"]["ArnLike"]["aws:SourceArn"])
    assert "alarm:bedrock-customization-dev-*" in source
    key = dev.one("AWS::KMS::Key", "Storage/DataKey/")[1]
    (use,) = [
        s
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if s.get("Sid") == "AlarmsEncryptNotifications"
    ]
    assert set(as_list(use["Action"])) == {"kms:Decrypt", "kms:GenerateDataKey"}
    assert "aws:SourceAccount" in use["Condition"]["StringEquals"]


def test_the_dashboard_shows_runs_jobs_tokens_spend_errors_and_alarms(dev: Synth) -> None:
    (dashboard,) = dev.resources("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for metric in (
        "RunsEnded",
        "JobDurationSeconds",
        "TrainedTokensEstimate",
        "EstimatedSpendUsd",
        "OverdueDeployments",
        "OrphanedDeployments",
        "ExecutionsFailed",
        "Errors",
        "ApproximateNumberOfMessagesVisible",
    ):
        assert metric in body, metric
    assert "bedrock-customization" in body  # the service dimension the handlers emit
    assert "alarm" in body


def test_deployments_are_swept_on_a_schedule(dev: Synth) -> None:
    (rule,) = [
        r["Properties"]
        for r in dev.resources("AWS::Events::Rule").values()
        if "ScheduleExpression" in r["Properties"]
    ]
    assert rule["ScheduleExpression"] == "rate(15 minutes)"
    sweep = dev.one("AWS::Lambda::Function", "Workflow/Functions/SweepDeployments/")[0]
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [sweep, "Arn"]}
    assert "DeadLetterConfig" in target
