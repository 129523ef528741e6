"""Alarms to the notification topic, and a dashboard of runs, jobs, tokens and spend.

Alarms: failed and timed-out executions, errors of each handler, messages in
each dead-letter queue, deployments alive past their end time (the sweep's
OverdueDeployments metric), and deployments with this stack's owner tag that no
live run owns (its OrphanedDeployments metric). Each alarm notifies when it fires
and when it clears. The handlers' own metrics (customization_core/telemetry.py) are
embedded-metric-format log lines, so the dashboard costs no API calls from the VPC.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from customization_core import telemetry
from customization_core.orphans import ORPHANED_DEPLOYMENTS
from customization_core.run import Status
from stacks.names import pascal
from stacks.workflow import SWEEP_MINUTES

PERIOD = cdk.Duration.minutes(5)  # alarm evaluation period
SWEEP_PERIOD = cdk.Duration.minutes(SWEEP_MINUTES)  # the sweep's schedule
# Bedrock throttling is raised by a handler and retried by the workflow: one retried fault
# should not page anyone; a handler failing again and again should (errors per period).
HANDLER_ERRORS = 3
ENDED = (Status.SUCCEEDED, Status.FAILED, Status.REJECTED, Status.CANCELLED)


def _metric(name: str, statistic: str, period: cdk.Duration, **dimensions: str) -> cw.Metric:
    return cw.Metric(
        namespace=telemetry.METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map={"service": telemetry.SERVICE, **dimensions},
        statistic=statistic,
        period=period,
    )


class Observability(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        stage: str,
        topic: sns.ITopic,
        key: kms.IKey,
        state_machine: sfn.StateMachine,
        functions: Mapping[str, lambda_.IFunction],
        queues: Mapping[str, sqs.IQueue],
    ) -> None:
        super().__init__(scope, id_)
        stack = cdk.Stack.of(self)
        self.prefix = f"bedrock-customization-{stage}"
        self._action = cw_actions.SnsAction(topic)
        self.alarms: list[cw.Alarm] = []
        self._allow_alarms_to_publish(stack, topic, key)

        self._alarm(
            "ExecutionsFailed",
            state_machine.metric_failed(period=PERIOD, statistic="Sum"),
            "A customization workflow execution failed: see the run's notification and `bedrock-customize logs`.",
        )
        self._alarm(
            "ExecutionsTimedOut",
            state_machine.metric_timed_out(period=PERIOD, statistic="Sum"),
            "A customization workflow execution ran past its time limit; its run is recorded FAILED.",
        )
        for name, function in sorted(functions.items()):
            self._alarm(
                f"{pascal(name)}Errors",
                function.metric_errors(period=PERIOD, statistic="Sum"),
                f"The {name} handler raised {HANDLER_ERRORS} or more errors in 5 minutes: see its log group.",
                threshold=HANDLER_ERRORS,
            )
        for name, queue in sorted(queues.items()):
            self._alarm(
                f"{name}Waiting",
                queue.metric_approximate_number_of_messages_visible(
                    period=PERIOD, statistic="Maximum"
                ),
                f"Messages wait in the dead-letter queue {name}: something could not be delivered "
                "or ended; see README, What happens when something fails.",
            )
        self._alarm(
            "OverdueDeployments",
            _metric(telemetry.OVERDUE_DEPLOYMENTS, "Maximum", SWEEP_PERIOD),
            "A deployment should be gone (alive past its end time, alive after its run ended, or "
            "its delete failed): see the sweep's log for the runs; delete it, or extend it on purpose.",
            # Two sweeps without a count mean the sweep itself stopped: that is a problem too.
            missing=cw.TreatMissingData.BREACHING,
            periods=2,
        )
        self._alarm(
            "OrphanedDeployments",
            _metric(ORPHANED_DEPLOYMENTS, "Maximum", SWEEP_PERIOD),
            "A Provisioned Throughput or custom model deployment carries this stack's owner tag "
            "but no live run owns it (its run's record was lost, or a crash left it), and it may "
            "be billed by the hour: see the sweep's log or `bedrock-customize spend` for it and "
            "the command that deletes it.",
            # As OverdueDeployments: two sweeps in a row (30 minutes) see it, or two sweeps
            # published no count (the sweep, or its look at Bedrock, stopped working).
            missing=cw.TreatMissingData.BREACHING,
            periods=2,
        )
        self.dashboard = self._dashboard(state_machine, functions, queues)

    def _allow_alarms_to_publish(self, stack: cdk.Stack, topic: sns.ITopic, key: kms.IKey) -> None:
        """CloudWatch publishes to the CMK-encrypted topic: the topic and the key must allow it.

        Source: https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
        """
        alarms = stack.format_arn(
            service="cloudwatch",
            resource="alarm",
            resource_name=f"{self.prefix}-*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        conditions = {
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnLike": {"aws:SourceArn": alarms},
        }
        principal = iam.ServicePrincipal("cloudwatch.amazonaws.com")
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AlarmsPublish",
                principals=[principal],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions=conditions,
            )
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AlarmsEncryptNotifications",
                principals=[principal],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],
                conditions=conditions,
            )
        )

    def _alarm(
        self,
        id_: str,
        metric: cw.IMetric,
        description: str,
        *,
        missing: cw.TreatMissingData = cw.TreatMissingData.NOT_BREACHING,
        periods: int = 1,
        threshold: int = 1,
    ) -> None:
        alarm = cw.Alarm(
            self,
            id_,
            alarm_name=f"{self.prefix}-{id_}",
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=periods,
            treat_missing_data=missing,
        )
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
        self.alarms.append(alarm)

    def _dashboard(
        self,
        state_machine: sfn.StateMachine,
        functions: Mapping[str, lambda_.IFunction],
        queues: Mapping[str, sqs.IQueue],
    ) -> cw.Dashboard:
        hour, day = cdk.Duration.hours(1), cdk.Duration.days(1)
        ended: Sequence[cw.IMetric] = [
            _metric(telemetry.RUNS_ENDED, "Sum", hour, Status=s.value).with_(label=s.value)
            for s in ENDED
        ]
        dashboard = cw.Dashboard(self, "Dashboard", dashboard_name=self.prefix)
        dashboard.add_widgets(
            cw.GraphWidget(title="Runs ended, by status (per hour)", left=list(ended), width=12),
            cw.GraphWidget(
                title="Workflow executions (per hour)",
                left=[
                    state_machine.metric_started(period=hour, statistic="Sum"),
                    state_machine.metric_succeeded(period=hour, statistic="Sum"),
                    state_machine.metric_failed(period=hour, statistic="Sum"),
                    state_machine.metric_timed_out(period=hour, statistic="Sum"),
                ],
                width=12,
            ),
        )
        dashboard.add_widgets(
            cw.GraphWidget(
                title="Bedrock job duration (seconds)",
                left=[
                    _metric(telemetry.JOB_DURATION, "Average", day).with_(label="average"),
                    _metric(telemetry.JOB_DURATION, "Maximum", day).with_(label="longest"),
                ],
                width=8,
            ),
            cw.GraphWidget(
                title="Tokens trained per day (validator's estimate, per epoch)",
                left=[_metric(telemetry.TRAINED_TOKENS, "Sum", day)],
                width=8,
            ),
            cw.GraphWidget(
                title="Estimated training spend per day (USD)",
                left=[_metric(telemetry.ESTIMATED_SPEND, "Sum", day)],
                width=8,
            ),
        )
        dashboard.add_widgets(
            cw.GraphWidget(
                title="Handler errors",
                left=[
                    f.metric_errors(period=cdk.Duration.minutes(5), statistic="Sum").with_(
                        label=name
                    )
                    for name, f in sorted(functions.items())
                ],
                width=12,
            ),
            cw.GraphWidget(
                title="Dead-letter queues (messages waiting)",
                left=[
                    q.metric_approximate_number_of_messages_visible(statistic="Maximum").with_(
                        label=name
                    )
                    for name, q in sorted(queues.items())
                ],
                width=6,
            ),
            cw.SingleValueWidget(
                title="Deployments past their end time",
                metrics=[_metric(telemetry.OVERDUE_DEPLOYMENTS, "Maximum", SWEEP_PERIOD)],
                width=6,
            ),
        )
        dashboard.add_widgets(
            cw.SingleValueWidget(
                title="Deployments of this stack no live run owns",
                metrics=[_metric(ORPHANED_DEPLOYMENTS, "Maximum", SWEEP_PERIOD)],
                width=6,
            ),
        )
        dashboard.add_widgets(
            cw.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms), width=24)
        )
        return dashboard
