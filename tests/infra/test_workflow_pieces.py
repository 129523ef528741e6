"""The workflow's pieces on a bare stack: grants and their acknowledgements, a state machine, the definition, alarms."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.assertions import Template

from customization_core.contract import JobStatus, Status
from stacks.grants import Grant, acknowledge_wildcards, allow, managed_policy
from stacks.notifications import Notifications
from stacks.state_machines import state_machine
from stacks.state_tasks import Tasks
from tests.infra.bare import ACCOUNT, DESTROY, REGION, acknowledged, bare_stack, one
from tests.infra.definitions import parse_definition


def test_a_wildcard_without_a_reason_is_refused() -> None:
    stack = bare_stack()
    grant = allow("ReadEverything", ["s3:GetObject"], ["arn:aws:s3:::bucket/*"])
    with pytest.raises(ValueError, match="ReadEverything grants Resource::arn:aws:s3:::bucket/\\*"):
        managed_policy(stack, "Policy", roles=[], grants=[grant])


def test_grants_sharing_a_wildcard_give_one_acknowledgement_with_both_reasons() -> None:
    stack = bare_stack()
    policy = cdk.Resource(stack, "Holder")
    grants: list[Grant] = [
        allow("A", ["s3:GetObject"], ["*"], wildcard_reason="The first reason, long enough."),
        allow("B", ["s3:ListBucket"], ["*"], wildcard_reason="The second reason, long enough."),
        allow("C", ["s3:PutObject"], ["*"], wildcard_reason="The first reason, long enough."),
        allow("Named", ["s3:GetObject"], ["arn:aws:s3:::bucket/key"]),
    ]
    acknowledge_wildcards(policy, grants)
    assert acknowledged(policy) == {
        "AwsSolutions::AwsSolutions-IAM5[Resource::*]": (
            "The first reason, long enough. The second reason, long enough."
        )
    }


def _pieces(stack: cdk.Stack) -> tuple[dict[str, lambda_.IFunction], sqs.Queue]:
    functions = {
        name: lambda_.Function.from_function_arn(
            stack, name, f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
        )
        for name in ("cancel",)
    }
    return functions, sqs.Queue(stack, "Unended")


def test_a_state_machine_may_invoke_only_its_functions_and_fill_its_queue() -> None:
    # Given EndRun's definition and a state machine around it, on a bare stack
    stack = bare_stack()
    functions, unended = _pieces(stack)
    states = Tasks(stack, functions=functions, unended=unended)
    state_machine(
        stack,
        "EndRun",
        states.end_run(),
        key=kms.Key(stack, "Key"),
        keeping=DESTROY,
        unended_queue_arn=unended.queue_arn,
        functions=list(functions.values()),
        description="A test machine",
        timeout=cdk.Duration.hours(2),
    )
    template = Template.from_stack(stack)
    machine = one(template, "AWS::StepFunctions::StateMachine")
    definition = parse_definition(machine["Properties"]["DefinitionString"])
    # Then its definition starts with the cancel handler and ends in its own states
    assert definition["StartAt"] == "EndStoppedRun"
    assert definition["TimeoutSeconds"] == 2 * 3600
    assert definition["States"]["EndStoppedRun"]["Next"] == "RunEndRecorded"
    # and its role may invoke the one function (and its versions) and nothing else
    policy = one(template, "AWS::IAM::ManagedPolicy")
    by_sid = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:cancel"
    assert by_sid["InvokeHandlers"]["Resource"] == [arn, f"{arn}:*"]
    assert set(by_sid) == {
        "InvokeHandlers",
        "KeepUnendedRuns",
        "EncryptUnendedRuns",
        "DeliverLogs",
        "Trace",
    }
    # created after its policy: Step Functions checks log delivery at creation
    (policy_id,) = template.find_resources("AWS::IAM::ManagedPolicy")
    assert machine["DependsOn"] == [policy_id]


def test_the_run_definition_routes_on_the_contracts_values_alone() -> None:
    from stacks.definition import run_definition

    stack = bare_stack()
    names = (
        "validate_request", "validate_data", "estimate_cost", "request_approval", "start_job",
        "check_job", "record_result", "record_failure", "notify", "check_model",
        "start_deployment", "check_deployment", "evaluate", "watch_deployment", "tear_down",
    )  # fmt: skip
    functions: dict[str, lambda_.IFunction] = {
        name: lambda_.Function.from_function_arn(
            stack, name, f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
        )
        for name in names
    }
    states = Tasks(stack, functions=functions, unended=sqs.Queue(stack, "Unended"))
    chain = run_definition(
        states, poll_interval_seconds=120, approval_timeout_hours=2, queue_retry_hours=1
    )
    sfn.StateMachine(stack, "Machine", definition_body=sfn.DefinitionBody.from_chainable(chain))
    machine = one(Template.from_stack(stack), "AWS::StepFunctions::StateMachine")
    definition = parse_definition(machine["Properties"]["DefinitionString"])
    st = definition["States"]
    assert st["WaitForJob"]["Seconds"] == 120
    assert st["RequestApproval"]["TimeoutSeconds"] == 2 * 3600
    (queued,) = [r for r in st["StartJob"]["Retry"] if r["ErrorEquals"] == ["RunQueuedError"]]
    assert queued["IntervalSeconds"] * queued["MaxAttempts"] == 3600
    routes = {c["StringEquals"]: c["Next"] for c in st["JobStatus?"]["Choices"]}
    assert routes == {
        JobStatus.IN_PROGRESS.value: "WaitForJob",
        JobStatus.COMPLETED.value: "RecordResult",
    }
    assert st["Outcome?"]["Choices"] == [
        {"Variable": "$.status", "StringEquals": Status.FAILED.value, "Next": "RunFailed"}
    ]


def test_observability_alarms_on_each_function_and_queue_it_is_given() -> None:
    from stacks.observability import Observability

    stack = bare_stack()
    functions, unended = _pieces(stack)
    machine = sfn.StateMachine(
        stack, "Machine", definition_body=sfn.DefinitionBody.from_chainable(sfn.Pass(stack, "P"))
    )
    Observability(
        stack,
        "Observability",
        stage="t",
        topic=Notifications(
            stack,
            "Notifications",
            stage="t",
            emails=(),
            key=kms.Key(stack, "Key"),
            removal_policy=cdk.RemovalPolicy.DESTROY,
        ).topic,
        key=kms.Key(stack, "AlarmKey"),
        state_machine=machine,
        functions=functions,
        queues={"Unended": unended},
    )
    template = Template.from_stack(stack)
    names = {
        a["Properties"]["AlarmName"]
        for a in template.find_resources("AWS::CloudWatch::Alarm").values()
    }
    assert {
        "bedrock-customization-t-CancelErrors",
        "bedrock-customization-t-UnendedWaiting",
    } <= names
    assert one(template, "AWS::CloudWatch::Dashboard")["Properties"]["DashboardName"] == (
        "bedrock-customization-t"
    )
