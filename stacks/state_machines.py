"""A standard state machine with its own role, policy, encrypted logs and tracing."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import aws_cdk as cdk
import jsii
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from stacks.grants import allow, managed_policy
from stacks.log_groups import Keeping, encrypted_log_group
from stacks.names import generated_name_pattern

# The longest state machine name (characters). Source, read 2026-12-02:
# https://docs.aws.amazon.com/step-functions/latest/apireference/API_CreateStateMachine.html
STATE_MACHINE_NAME_MAX = 80

# Log delivery and X-Ray actions take no resource. Source:
# https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html#cloudwatch-iam-policy
LOG_DELIVERY_ACTIONS = (
    "logs:CreateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:DescribeLogGroups",
    "logs:DescribeResourcePolicies",
    "logs:GetLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:UpdateLogDelivery",
)
TRACE_ACTIONS = (
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "xray:PutTelemetryRecords",
    "xray:PutTraceSegments",
)
NO_RESOURCE_REASON = (
    "CloudWatch Logs delivery and X-Ray actions support no resource-level permissions."
)


@jsii.implements(cdk.IStableStringProducer)
class _Later:
    """A string made at synth, once what it names exists (for cdk.Lazy.string)."""

    def __init__(self, produce: Callable[[], str]) -> None:
        self._produce = produce

    def produce(self) -> str | None:
        return self._produce()


def state_machine(
    scope: Construct,
    id_: str,
    definition: sfn.IChainable,
    *,
    key: kms.IKey,
    keeping: Keeping,
    unended_queue_arn: str,
    functions: Sequence[lambda_.IFunction],
    description: str,
    timeout: cdk.Duration,
) -> sfn.StateMachine:
    """A standard state machine; its role may invoke ``functions`` and fill the UnendedRuns queue."""
    stack = cdk.Stack.of(scope)
    prefix = "" if id_ == "StateMachine" else id_
    log_group = encrypted_log_group(scope, f"{prefix}ExecutionLogs", key=key, keeping=keeping)
    machine: sfn.StateMachine | None = None

    def machine_arn() -> str:
        assert machine is not None, "resolved at synth, after the machine is made"
        cfn = machine.node.default_child
        assert isinstance(cfn, sfn.CfnStateMachine)
        name = generated_name_pattern(cfn, max_length=STATE_MACHINE_NAME_MAX)
        return stack.format_arn(
            service="states",
            resource="stateMachine",
            resource_name=name,
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )

    # The confused-deputy guard Step Functions documents: aws:SourceAccount and
    # aws:SourceArn (ArnLike, the state machine's ARN). Source, read 2026-12-02:
    # https://docs.aws.amazon.com/step-functions/latest/dg/procedure-create-iam-role.html
    # The machine's own ARN would make Role -> StateMachine -> Role a cycle: its
    # generated name is matched by pattern instead (stacks/names.py).
    role = iam.Role(
        scope,
        f"{id_}Role",
        description=description,
        assumed_by=iam.ServicePrincipal(
            "states.amazonaws.com",
            conditions={
                "StringEquals": {"aws:SourceAccount": stack.account},
                "ArnLike": {"aws:SourceArn": cdk.Lazy.string(_Later(machine_arn))},
            },
        ),
    )
    function_arns = [f.function_arn for f in functions]
    policy = managed_policy(
        scope,
        f"{id_}Policy",
        description=description,
        roles=[role],
        grants=[
            allow(
                "InvokeHandlers",
                ["lambda:InvokeFunction"],
                [*function_arns, *[f"{arn}:*" for arn in function_arns]],
                wildcard_reason="Step Functions invokes a function's versions and aliases as "
                "ARN:*; these are the workflow's own functions.",
            ),
            allow("KeepUnendedRuns", ["sqs:SendMessage"], [unended_queue_arn]),
            allow("EncryptUnendedRuns", ["kms:Decrypt", "kms:GenerateDataKey"], [key.key_arn]),
            allow("DeliverLogs", LOG_DELIVERY_ACTIONS, ["*"], wildcard_reason=NO_RESOURCE_REASON),
            allow("Trace", TRACE_ACTIONS, ["*"], wildcard_reason=NO_RESOURCE_REASON),
        ],
    )
    machine = sfn.StateMachine(
        scope,
        id_,
        definition_body=sfn.DefinitionBody.from_chainable(definition),
        state_machine_type=sfn.StateMachineType.STANDARD,
        timeout=timeout,
        tracing_enabled=True,
        logs=sfn.LogOptions(
            # Events only, not their data: a task's input carries the task token of a
            # run held for approval (README, Approval). The token is still in the
            # execution history (states:GetExecutionHistory).
            destination=log_group,
            level=sfn.LogLevel.ALL,
            include_execution_data=False,
        ),
        role=role.without_policy_updates(),
    )
    # The policy must exist before the machine: Step Functions checks its log delivery
    # permissions at creation. The role itself is ordered by the RoleArn GetAtt.
    cfn_machine = machine.node.default_child
    cfn_policy = policy.node.default_child
    assert isinstance(cfn_machine, sfn.CfnStateMachine)
    assert isinstance(cfn_policy, iam.CfnManagedPolicy)
    cfn_machine.add_override("DependsOn", [stack.get_logical_id(cfn_policy)])
    return machine
