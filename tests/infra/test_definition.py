"""The workflow's definitions, parsed from the template: routes, retries, catches, timeouts.

Values the handlers share with the definition are read from the run contract
(customization_core/contract.py), so a test fails when the two disagree.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from customization_core.contract import (
    DeploymentStatus,
    Errors,
    JobStatus,
    NextAction,
    Status,
)
from stacks.workflow import END_RUN_TIMEOUT_HOURS
from tests.infra.definitions import definition_of, parse_definition
from tests.infra.synth import Synth


def test_the_state_machine_logs_everything_traces_and_times_out(dev: Synth, prod: Synth) -> None:
    for synth, machine_id in ((dev, "StateMachine"), (prod, "StateMachine"), (dev, "EndRun")):
        _, machine = synth.one("AWS::StepFunctions::StateMachine", f"Workflow/{machine_id}/")
        props = machine["Properties"]
        assert props["StateMachineType"] == "STANDARD"
        assert props["TracingConfiguration"] == {"Enabled": True}
        assert props["LoggingConfiguration"]["Level"] == "ALL"
        group_arn = props["LoggingConfiguration"]["Destinations"][0]["CloudWatchLogsLogGroup"][
            "LogGroupArn"
        ]
        group = synth.template["Resources"][group_arn["Fn::GetAtt"][0]]["Properties"]
        assert "KmsKeyId" in group
    # workflowTimeoutHours plus maxDeploymentTtlHours: the workflow outlives any deployment.
    for synth in (dev, prod):
        settings = synth.settings
        limit = settings.workflow_timeout_hours + settings.max_deployment_ttl_hours
        assert definition_of(synth)["TimeoutSeconds"] == limit * 3600
    # EndRun retries the cancel handler for about 5 hours, within its own limit.
    assert definition_of(dev, "EndRun")["TimeoutSeconds"] == END_RUN_TIMEOUT_HOURS * 3600


def _invokes_a_handler(state: dict[str, Any]) -> bool:
    """A Task state that calls one of the handlers (not the last resort's SQS message)."""
    return state["Type"] == "Task" and ":sqs:" not in json.dumps(state["Resource"])


def test_every_task_is_caught_and_recorded(dev: Synth) -> None:
    states = definition_of(dev)["States"]
    tasks = {name: s for name, s in states.items() if _invokes_a_handler(s)}
    assert set(tasks) == {
        "ValidateRequest", "ValidateDataset", "EstimateCost", "RequestApproval", "StartJob",
        "CheckJob", "RecordResult", "RecordFailure", "RecordFailureLastAttempt", "Notify",
        "CheckModel", "StartDeployment",
        "CheckDeployment", "Evaluate", "WatchDeployment", "TearDown",
    }  # fmt: skip
    ended_elsewhere = {"ErrorEquals": ["RunEndedError"], "Next": "EndedElsewhere"}
    for name, task in tasks.items():
        if name in ("RecordFailure", "RecordFailureLastAttempt", "Notify"):
            continue  # the failure path itself: its last resort is below
        assert task["Catch"] == [
            # A handler that finds its run ended by the cancel path stops quietly.
            ended_elsewhere,
            {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "RecordFailure"},
        ], name
    assert states["EndedElsewhere"]["Type"] == "Succeed"
    assert states["RecordFailure"]["Next"] == "Notify"
    # RecordFailure and Notify: retried on anything; RecordFailure then has a last attempt,
    # told so; then the last resort, the original error kept.
    last_resort = {
        "ErrorEquals": ["States.ALL"],
        "ResultPath": "$.last_resort_error",
        "Next": "KeepUnendedRun",
    }
    assert states["RecordFailure"]["Catch"] == [
        ended_elsewhere,
        {"ErrorEquals": ["States.ALL"], "ResultPath": None, "Next": "RecordFailureLastAttempt"},
    ]
    assert states["RecordFailureLastAttempt"]["Catch"] == [ended_elsewhere, last_resort]
    assert states["RecordFailureLastAttempt"]["Next"] == "Notify"
    assert states["Notify"]["Catch"] == [last_resort]
    for name in ("RecordFailure", "Notify"):
        anything = [r for r in states[name]["Retry"] if r["ErrorEquals"] == ["States.ALL"]]
        assert [r["MaxAttempts"] for r in anything] == [4], name
    # RecordFailure takes whatever a Catch hands it; only the last attempt gives up.
    for name, last in (("RecordFailure", False), ("RecordFailureLastAttempt", True)):
        assert states[name]["Parameters"] == {
            "run.$": "$",
            "executionArn.$": "$$.Execution.Id",
            "last": last,
        }
    keep = states["KeepUnendedRun"]
    assert keep["Resource"].endswith(":states:::sqs:sendMessage")
    assert keep["Next"] == "RunEndUnrecorded"
    assert keep["Catch"] == [{"ErrorEquals": ["States.ALL"], "Next": "RunEndUnrecorded"}]
    assert states["RunEndUnrecorded"]["Type"] == "Fail"
    assert states["JobFailed"]["Next"] == "RecordFailure"
    assert states["DeploymentFailed"]["Next"] == "RecordFailure"


def test_bedrock_faults_and_a_full_quota_are_retried_with_backoff(dev: Synth) -> None:
    states = definition_of(dev)["States"]
    retries = {tuple(r["ErrorEquals"]): r for r in states["StartJob"]["Retry"]}
    transient = retries[("BedrockThrottledError", "BedrockUnavailableError")]
    assert (transient["IntervalSeconds"], transient["BackoffRate"], transient["MaxAttempts"]) == (
        30,
        2,
        6,
    )
    queued = retries[("RunQueuedError",)]
    assert queued["IntervalSeconds"] * queued["MaxAttempts"] == 24 * 3600  # queueRetryHours
    # ValidateRequest asks Bedrock about the model; RecordResult reads the paid job.
    for state in ("CheckJob", "ValidateRequest", "RecordResult"):
        retried = {tuple(r["ErrorEquals"]) for r in states[state]["Retry"]}
        assert ("BedrockThrottledError", "BedrockUnavailableError") in retried, state


def test_the_job_loop_waits_polls_and_routes_on_status(dev: Synth) -> None:
    states = definition_of(dev)["States"]
    assert states["StartJob"]["Next"] == "WaitForJob"
    assert states["WaitForJob"] == {"Type": "Wait", "Seconds": 300, "Next": "CheckJob"}
    routes = {c["StringEquals"]: c["Next"] for c in states["JobStatus?"]["Choices"]}
    assert routes == {"InProgress": "WaitForJob", "Completed": "RecordResult"}
    assert states["JobStatus?"]["Default"] == "JobFailed"
    # A completed job without a usable model ends FAILED, deploy block or not.
    assert states["RecordResult"]["Next"] == "ModelUsable?"
    assert states["ModelUsable?"]["Choices"] == [
        {"Variable": "$.status", "StringEquals": "FAILED", "Next": "Notify"}
    ]
    assert states["ModelUsable?"]["Default"] == "Deploy?"


def test_approval_waits_for_a_task_token_and_times_out(dev: Synth) -> None:
    states = definition_of(dev)["States"]
    approval = states["RequestApproval"]
    assert approval["Resource"].endswith(":states:::lambda:invoke.waitForTaskToken")
    assert approval["Parameters"]["Payload"] == {"run.$": "$", "taskToken.$": "$$.Task.Token"}
    assert approval["TimeoutSeconds"] == 72 * 3600
    assert approval["ResultPath"] is None  # the run document passes through unchanged
    choices = states["Approval?"]["Choices"]
    assert {
        "Variable": "$.needs_approval",
        "BooleanEquals": True,
        "Next": "RequestApproval",
    } in choices


def _all_states(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every state, those of Map and Parallel branches included."""
    found: dict[str, dict[str, Any]] = {}
    for name, state in definition["States"].items():
        found[name] = state
        for branch in state.get("Branches", []):
            found.update(_all_states(branch))
        if "ItemProcessor" in state:
            found.update(_all_states(state["ItemProcessor"]))
    return found


def test_every_task_retries_a_throttled_lambda_invocation(dev: Synth) -> None:
    """Reserved concurrency is two runs: a third waits instead of failing (RecordFailure too)."""
    tasks = {
        n: s
        for machine in ("StateMachine", "EndRun")
        for n, s in _all_states(definition_of(dev, machine)).items()
        if _invokes_a_handler(s)
    }
    assert {"RecordFailure", "Notify", "ValidateDataset", "Evaluate", "EndStoppedRun"} <= set(tasks)
    for name, state in tasks.items():
        retried = [
            r
            for r in state.get("Retry", [])
            if "Lambda.TooManyRequestsException" in r["ErrorEquals"]
        ]
        assert len(retried) == 1, name
        assert retried[0]["MaxAttempts"] >= 5, name


def test_a_duplicate_delivery_ends_quietly_and_rejections_are_notified(dev: Synth) -> None:
    states = definition_of(dev)["States"]
    duplicate = states["Duplicate?"]["Choices"]
    assert {"Variable": "$.duplicate", "BooleanEquals": True, "Next": "AlreadyHandled"} in duplicate
    for choice in ("DatasetValid?", "Approval?"):
        assert {"Variable": "$.status", "StringEquals": "REJECTED", "Next": "Notify"} in states[
            choice
        ]["Choices"]
    # ValidateRequest also ends a run FAILED itself (Bedrock denied the model look-up): told.
    ended = {
        "Or": [
            {"Variable": "$.status", "StringEquals": "REJECTED"},
            {"Variable": "$.status", "StringEquals": "FAILED"},
        ],
        "Next": "Notify",
    }
    assert ended in duplicate
    outcome = states["Outcome?"]
    assert outcome["Choices"] == [
        {"Variable": "$.status", "StringEquals": "FAILED", "Next": "RunFailed"}
    ]


def test_stopping_an_execution_cancels_its_run_until_it_lands(dev: Synth) -> None:
    rules = [r["Properties"] for r in dev.resources("AWS::Events::Rule").values()]
    (stopped,) = [r for r in rules if r.get("EventPattern", {}).get("source") == ["aws.states"]]
    machine = dev.one("AWS::StepFunctions::StateMachine", "Workflow/StateMachine/")[0]
    assert stopped["EventPattern"]["detail"] == {
        "status": ["ABORTED", "TIMED_OUT", "FAILED"],
        "stateMachineArn": [{"Ref": machine}],
    }
    # Through EndRun, which retries the cancel handler with backoff, then keeps the event.
    (target,) = stopped["Targets"]
    end_run = dev.one("AWS::StepFunctions::StateMachine", "Workflow/EndRun/")[0]
    assert target["Arn"] == {"Ref": end_run}
    assert "DeadLetterConfig" in target
    states = definition_of(dev, "EndRun")["States"]
    end = states["EndStoppedRun"]
    assert end["Parameters"] == {"event.$": "$", "last": False}
    assert states["EndStoppedRunLastAttempt"]["Parameters"] == {"event.$": "$", "last": True}
    (anything,) = [r for r in end["Retry"] if r["ErrorEquals"] == ["States.ALL"]]
    assert (anything["MaxAttempts"], anything["BackoffRate"], anything["MaxDelaySeconds"]) == (
        10,
        2,
        1800,
    )
    assert end["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": None, "Next": "EndStoppedRunLastAttempt"}
    ]
    assert states["EndStoppedRunLastAttempt"]["Catch"] == [
        {
            "ErrorEquals": ["States.ALL"],
            "ResultPath": "$.last_resort_error",
            "Next": "KeepUnendedExecution",
        }
    ]
    assert states["KeepUnendedExecution"]["Resource"].endswith(":states:::sqs:sendMessage")


def test_a_deploy_only_run_skips_the_dataset_and_training_but_not_the_gates(dev: Synth) -> None:
    # Given the definition, when a run trains nothing (``trains`` False: deployModel)
    states = definition_of(dev)["States"]
    deploy_only = {"Variable": "$.trains", "BooleanEquals": False}

    # Then after ValidateRequest it goes to EstimateCost, not ValidateDataset ...
    duplicate = states["Duplicate?"]["Choices"]
    assert {**deploy_only, "Next": "EstimateCost"} in duplicate
    ended = next(i for i, c in enumerate(duplicate) if c["Next"] == "Notify")
    # (a refused one is told first, like a refused training run)
    assert ended < duplicate.index({**deploy_only, "Next": "EstimateCost"})
    assert states["Duplicate?"]["Default"] == "ValidateDataset"

    # ... through the same approval gate, then to the after-training branch, not StartJob
    assert states["EstimateCost"]["Next"] == "Approval?"
    assert states["RequestApproval"]["Next"] == "Trains?"
    assert states["Approval?"]["Default"] == "Trains?"
    assert states["Trains?"]["Type"] == "Choice"
    assert states["Trains?"]["Choices"] == [{**deploy_only, "Next": "Deploy?"}]
    assert states["Trains?"]["Default"] == "StartJob"
    # Deploy? is the after-training branch RecordResult leads to as well
    assert states["ModelUsable?"]["Default"] == "Deploy?"
    assert states["Deploy?"]["Default"] == "WaitForModel"
    # Nothing else reaches StartJob: a deploy-only run cannot train
    into_start_job = [
        name
        for name, state in states.items()
        if state.get("Next") == "StartJob"
        or state.get("Default") == "StartJob"
        or any(c.get("Next") == "StartJob" for c in state.get("Choices", []))
    ]
    assert into_start_job == ["Trains?"]


def _choices(definition: dict[str, Any]) -> list[dict[str, Any]]:
    """Every comparison of every Choice state, those inside And/Or/Not included."""
    found: list[dict[str, Any]] = []

    def walk(rule: dict[str, Any]) -> None:
        found.append(rule)
        for nested in rule.get("And", []) + rule.get("Or", []) + [rule.get("Not", {})]:
            if nested:
                walk(nested)

    for state in definition["States"].values():
        for rule in state.get("Choices", []):
            walk(rule)
    return found


def test_the_definition_compares_only_the_contracts_values(dev: Synth) -> None:
    # Given both definitions, when a Choice compares a field of the run document,
    # then the value is one the contract names for that field
    from customization_core.faults import BedrockThrottledError, BedrockUnavailableError
    from customization_core.job_steps import RunQueuedError
    from customization_core.media import MediaUnavailableError
    from customization_core.registry import RunEndedError
    from customization_core.snapshot import SnapshotUnavailableError

    fields: dict[str, set[str]] = {
        "$.status": {s.value for s in Status},
        "$.job_status": {s.value for s in JobStatus},
        "$.deployment.status": {s.value for s in DeploymentStatus},
        "$.next_action": {a.value for a in NextAction},
    }
    raised = {
        error.__name__
        for error in (
            BedrockThrottledError,
            BedrockUnavailableError,
            MediaUnavailableError,
            RunEndedError,
            RunQueuedError,
            SnapshotUnavailableError,
        )
    }
    # CDK's LambdaInvoke adds its own retry of Lambda's service errors, this one included.
    cdk_default = {"Lambda.ClientExecutionTimeoutException"}
    known_errors = {Errors.ALL, *Errors.LAMBDA_TRANSIENT, *raised, *cdk_default}
    compared: dict[str, set[str]] = {field: set() for field in fields}
    for machine in ("StateMachine", "EndRun"):
        definition = definition_of(dev, machine)
        for rule in _choices(definition):
            if "StringEquals" in rule:
                assert rule["Variable"] in fields, rule
                assert rule["StringEquals"] in fields[rule["Variable"]], rule
                compared[rule["Variable"]].add(rule["StringEquals"])
        for state in definition["States"].values():
            for handler in state.get("Retry", []) + state.get("Catch", []):
                assert set(handler["ErrorEquals"]) <= known_errors, handler
    # The routes that decide a run's path compare exactly these (JobStatus.FAILED is the
    # Default of JobStatus?, DeploymentStatus failures the Default of the deployment checks).
    assert compared["$.status"] == {Status.FAILED.value, Status.REJECTED.value}
    assert compared["$.job_status"] == {JobStatus.IN_PROGRESS.value, JobStatus.COMPLETED.value}
    assert compared["$.next_action"] == {NextAction.WAIT.value, NextAction.TEARDOWN.value}
    assert compared["$.deployment.status"] == {
        DeploymentStatus.ACTIVE.value,
        DeploymentStatus.CREATING.value,
        DeploymentStatus.MODEL_ACTIVE.value,
        DeploymentStatus.WAITING_FOR_MODEL.value,
    }
    # The Pass states hand RecordFailure the contract's error names.
    states = definition_of(dev)["States"]
    assert states["JobFailed"]["Result"]["Error"] == Errors.JOB_FAILED
    assert states["DeploymentFailed"]["Result"]["Error"] == Errors.DEPLOYMENT_FAILED


def test_the_definition_parser_puts_tokens_back_and_refuses_a_stray_one() -> None:
    # Given a definition whose Resource is a token inside a string, and one that is whole
    body = {
        "Fn::Join": [
            "",
            [
                '{"States":{"A":{"Resource":"arn:',
                {"Ref": "AWS::Partition"},
                ':states:::sqs:sendMessage","Next":"',
                {"Fn::GetAtt": ["Fn", "Arn"]},
                '"}}}',
            ],
        ]
    }
    # When parsed, then each token is where the template put it
    state = parse_definition(body)["States"]["A"]
    assert state["Resource"] == "arn:<Ref:AWS::Partition>:states:::sqs:sendMessage"
    assert state["Next"] == {"Fn::GetAtt": ["Fn", "Arn"]}
    # and a token outside any JSON string is refused, not skipped
    stray = {"Fn::Join": ["", ['{"TimeoutSeconds":', {"Ref": "Hours"}, "}"]]}
    with pytest.raises(AssertionError, match="outside a JSON string"):
        parse_definition(stray)
