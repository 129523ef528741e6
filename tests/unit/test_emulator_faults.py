"""The emulator's fault injection and its Step Functions fixes, on moto directly.

Bedrock/SNS faults by operation and count, handler crashes, task tokens answered
twice, executions stopped while waiting for a token, and the scenario a job
follows found from its lineage tag (emulator/faults.py, lambda_service.py, step_functions.py,
bedrock_jobs.py, state.py).
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws

from emulator import account, clock, lambda_service, patches
from emulator.faults import ALWAYS, CRASH_MESSAGE, FAULTS
from emulator.state import BEDROCK, Scenario

REGION = "us-east-1"
ACCOUNT = "123456789012"
MODEL = "amazon.titan-text-lite-v1:0:4k"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/bedrock"
NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})
# As lambdas/common.py configures the handlers' clients: max_attempts counts retries (4 attempts).
SDK_RETRIES = Config(retries={"mode": "standard", "max_attempts": 3})
MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
DATASET_KEY = "bedrock-customization:dataset-key"
HANDLER = "cancel"  # any lambdas/<name>/handler.py: the tests replace its main


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)

    def assign(owner: Any, name: str, value: Any) -> None:
        monkeypatch.setattr(owner, name, value, raising=False)  # some operations are new

    patches.install(assign)
    BEDROCK.reset()
    monkeypatch.setattr(clock, "TIME_SCALE", 0.0)
    with mock_aws(config=MOTO_CONFIG):  # type: ignore[call-overload]
        yield
    FAULTS.reset()
    account.FAULTS.reset()
    BEDROCK.reset()


def _client(service: str, config: Config = NO_RETRIES) -> Any:
    return boto3.client(service, region_name=REGION, config=config)


def _error(call: Callable[[], Any]) -> tuple[str, int]:
    with pytest.raises(ClientError) as raised:
        call()
    response = raised.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def _until(condition: Callable[[], Any], timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


# Faults at the Bedrock API ---------------------------------------------------------


@pytest.mark.usefixtures("aws")
def test_a_throttle_fails_exactly_its_count_then_bedrock_answers() -> None:
    bedrock = _client("bedrock")
    FAULTS.add("GetFoundationModel", "ThrottlingException", 2)
    for _ in range(2):
        assert _error(lambda: bedrock.get_foundation_model(modelIdentifier=MODEL)) == (
            "ThrottlingException",
            429,
        )
    assert bedrock.get_foundation_model(modelIdentifier=MODEL)["modelDetails"]["modelId"] == MODEL
    assert FAULTS.calls("GetFoundationModel") == 3


@pytest.mark.usefixtures("aws")
def test_the_sdk_retries_use_up_the_count_and_ten_outlast_them() -> None:
    bedrock = _client("bedrock", SDK_RETRIES)
    FAULTS.add("StopModelCustomizationJob", "ThrottlingException", 10)
    assert _error(lambda: bedrock.stop_model_customization_job(jobIdentifier="j"))[0] == (
        "ThrottlingException"
    )
    assert FAULTS.calls("StopModelCustomizationJob") == 4  # one call, four attempts
    once = _client("bedrock")
    for _ in range(6):  # what the SDK left of the ten
        assert _error(lambda: once.stop_model_customization_job(jobIdentifier="j"))[0] == (
            "ThrottlingException"
        )
    # Spent: moto answers (there is no such job).
    assert _error(lambda: once.stop_model_customization_job(jobIdentifier="j"))[0] == (
        "ResourceNotFoundException"
    )
    assert FAULTS.calls("StopModelCustomizationJob") == 11


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("ThrottlingException", 429),
        ("InternalServerException", 500),
        ("ServiceUnavailableException", 503),
        ("ValidationException", 400),
        ("AccessDeniedException", 403),
        ("ResourceNotFoundException", 404),
    ],
)
def test_an_injected_error_has_the_status_aws_gives_it(code: str, status: int) -> None:
    FAULTS.add("ListModelCustomizationJobs", code, 1, message="Injected.")
    with pytest.raises(ClientError) as raised:
        _client("bedrock").list_model_customization_jobs()
    assert raised.value.response["Error"] == {"Code": code, "Message": "Injected."}
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == status


CONTROL_PLANE: dict[str, Callable[[Any], Any]] = {
    "CreateModelCustomizationJob": lambda c: c.create_model_customization_job(
        jobName="j",
        customModelName="m",
        roleArn=ROLE,
        baseModelIdentifier=MODEL,
        trainingDataConfig={"s3Uri": "s3://b/k"},
        outputDataConfig={"s3Uri": "s3://b/o/"},
        hyperParameters={},
    ),
    "GetModelCustomizationJob": lambda c: c.get_model_customization_job(jobIdentifier="j"),
    "StopModelCustomizationJob": lambda c: c.stop_model_customization_job(jobIdentifier="j"),
    "ListModelCustomizationJobs": lambda c: c.list_model_customization_jobs(),
    "GetCustomModel": lambda c: c.get_custom_model(modelIdentifier="m"),
    "CreateProvisionedModelThroughput": lambda c: c.create_provisioned_model_throughput(
        modelUnits=1, provisionedModelName="p", modelId="m"
    ),
    "GetProvisionedModelThroughput": lambda c: c.get_provisioned_model_throughput(
        provisionedModelId="p"
    ),
    "DeleteProvisionedModelThroughput": lambda c: c.delete_provisioned_model_throughput(
        provisionedModelId="p"
    ),
    "CreateCustomModelDeployment": lambda c: c.create_custom_model_deployment(
        modelDeploymentName="d", modelArn=f"arn:aws:bedrock:{REGION}:{ACCOUNT}:custom-model/m"
    ),
    "GetCustomModelDeployment": lambda c: c.get_custom_model_deployment(
        customModelDeploymentIdentifier="d"
    ),
    "DeleteCustomModelDeployment": lambda c: c.delete_custom_model_deployment(
        customModelDeploymentIdentifier="d"
    ),
    "GetFoundationModel": lambda c: c.get_foundation_model(modelIdentifier=MODEL),
    "GetFoundationModelAvailability": lambda c: c.get_foundation_model_availability(modelId=MODEL),
    "ListFoundationModels": lambda c: c.list_foundation_models(),
}
RUNTIME: dict[str, Callable[[Any], Any]] = {
    "InvokeModel": lambda c: c.invoke_model(modelId=MODEL, body=b'{"inputText": "Hi"}'),
    "Converse": lambda c: c.converse(
        modelId=MODEL, messages=[{"role": "user", "content": [{"text": "Hi"}]}]
    ),
}


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize(
    ("service", "operation"),
    [("bedrock", name) for name in CONTROL_PLANE] + [("bedrock-runtime", name) for name in RUNTIME],
)
def test_every_operation_the_emulator_serves_can_be_faulted(service: str, operation: str) -> None:
    call = (CONTROL_PLANE | RUNTIME)[operation]
    client = _client(service)
    FAULTS.add(operation, "AccessDeniedException", 1)
    assert _error(lambda: call(client)) == ("AccessDeniedException", 403)
    assert FAULTS.calls(operation) == 1
    assert _answer_code(lambda: call(client)) != "AccessDeniedException"  # spent
    assert FAULTS.calls(operation) == 2


def _answer_code(call: Callable[[], Any]) -> str | None:
    """The error code of the emulator's own answer (None: it succeeded)."""
    try:
        call()
    except ClientError as error:
        return str(error.response["Error"]["Code"])
    return None


@pytest.mark.usefixtures("aws")
def test_faults_on_one_operation_leave_the_others_alone() -> None:
    FAULTS.add("GetCustomModel", "ThrottlingException", ALWAYS)
    assert _client("bedrock").list_foundation_models()["modelSummaries"]


@pytest.mark.usefixtures("aws")
def test_the_lookup_faults_of_the_account_still_work() -> None:
    account.FAULTS.throttle_first = 1
    bedrock = _client("bedrock")
    assert _error(lambda: bedrock.get_foundation_model(modelIdentifier=MODEL))[0] == (
        "ThrottlingException"
    )
    assert bedrock.get_foundation_model(modelIdentifier=MODEL)
    assert account.FAULTS.calls == 2


@pytest.mark.usefixtures("aws")
def test_sns_publish_fails_for_its_count() -> None:
    sns = _client("sns")
    topic = sns.create_topic(Name="runs")["TopicArn"]
    FAULTS.add("Publish", "InternalError", 2)
    for _ in range(2):
        assert _error(lambda: sns.publish(TopicArn=topic, Message="m")) == ("InternalError", 500)
    assert sns.publish(TopicArn=topic, Message="m")["MessageId"]
    assert FAULTS.calls("Publish") == 3


@pytest.mark.parametrize("operation", ["PutItem", "GetFoundationModels", "publish"])
def test_an_operation_the_emulator_cannot_fault_is_refused(operation: str) -> None:
    with pytest.raises(ValueError, match=operation):
        FAULTS.add(operation, "ThrottlingException", 1)


# Handler crashes ------------------------------------------------------------------


def _function(name: str = HANDLER) -> Any:
    return SimpleNamespace(
        handler=f"lambdas.{name}.handler.main",
        environment_vars={},
        function_name=f"local-{name}",
        function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:local-{name}",
        memory_size=128,
        timeout=3,
    )


@pytest.fixture
def handled(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """The events the handler of ``HANDLER`` was called with (it answers ``{"ok": true}``)."""
    import importlib

    module = importlib.import_module(f"lambdas.{HANDLER}.handler")
    seen: list[dict[str, Any]] = []

    def main(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.append(event)
        return {"ok": True, **event}

    monkeypatch.setattr(module, "main", main)
    yield seen
    FAULTS.reset()
    lambda_service.clear_handler_environment()


def test_a_crash_before_the_handler_runs_leaves_no_side_effect(
    handled: list[dict[str, Any]],
) -> None:
    FAULTS.crash(HANDLER, 2, "before")
    for _ in range(2):
        result, errored = lambda_service.run_handler(_function(), {"n": 1})
        assert errored
        assert json.loads(result)["errorType"] == "RuntimeError"
        assert json.loads(result)["errorMessage"] == CRASH_MESSAGE
    assert handled == []
    assert lambda_service.run_handler(_function(), {"n": 1}) == ('{"ok": true, "n": 1}', False)
    assert handled == [{"n": 1}]


def test_a_crash_after_the_handler_ran_loses_its_answer(handled: list[dict[str, Any]]) -> None:
    FAULTS.crash(HANDLER, 1, "after")
    result, errored = lambda_service.run_handler(_function(), {"n": 1})
    assert errored
    assert json.loads(result)["errorType"] == "RuntimeError"
    assert handled == [{"n": 1}]  # it ran: what it created exists, its answer is gone
    assert lambda_service.run_handler(_function(), {"n": 2})[1] is False


def test_a_crash_is_for_its_function_only(handled: list[dict[str, Any]]) -> None:
    FAULTS.crash("notify", ALWAYS, "before")
    assert lambda_service.run_handler(_function(), {})[1] is False


def test_a_crash_of_a_function_that_does_not_exist_is_refused() -> None:
    with pytest.raises(ValueError, match=r"lambdas/no_such/handler\.py"):
        FAULTS.crash("no_such", 1)


def _lambda_function() -> str:
    iam, lambda_ = boto3.client("iam"), boto3.client("lambda", region_name=REGION)
    role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("placeholder.py", "")
    return str(
        lambda_.create_function(
            FunctionName=f"local-{HANDLER}",
            Runtime="python3.12",
            Role=role,
            Handler=f"lambdas.{HANDLER}.handler.main",
            Code={"ZipFile": archive.getvalue()},
        )["FunctionArn"]
    )


def _machine(states: dict[str, Any], start: str) -> str:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    return str(
        sfn.create_state_machine(
            name=f"m{time.time_ns()}",
            definition=json.dumps({"StartAt": start, "States": states}),
            roleArn=ROLE,
        )["stateMachineArn"]
    )


def _ended(execution: str) -> dict[str, Any]:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    described: dict[str, Any] = _until(
        lambda: (d := sfn.describe_execution(executionArn=execution))["status"] != "RUNNING" and d
    )
    return described


def _history(execution: str) -> list[dict[str, Any]]:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    events: list[dict[str, Any]] = sfn.get_execution_history(executionArn=execution)["events"]
    return events


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("when", ["before", "after"])
def test_a_crash_reaches_the_state_machine_as_a_runtime_error(
    handled: list[dict[str, Any]], when: str
) -> None:
    function = _lambda_function()
    machine = _machine(
        {
            "Call": {
                "Type": "Task",
                "Resource": function,
                "Catch": [{"ErrorEquals": ["RuntimeError"], "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
        "Call",
    )
    FAULTS.crash(HANDLER, 1, when)  # type: ignore[arg-type]
    sfn = boto3.client("stepfunctions", region_name=REGION)
    execution = sfn.start_execution(stateMachineArn=machine, input='{"n": 1}')["executionArn"]
    described = _ended(execution)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"])["Error"] == "RuntimeError"
    assert len(handled) == (1 if when == "after" else 0)


# Task tokens ----------------------------------------------------------------------


def _waiting_machine(
    kind: str, catch: bool, handled: list[dict[str, Any]]
) -> tuple[str, Callable[[], str]]:
    """A machine that waits for a token in its first task; and how to read the token."""
    task: dict[str, Any]
    if kind == "lambda":  # as the app's RequestApproval: the handler is given the token
        task = {
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {
                "FunctionName": _lambda_function(),
                "Payload": {"token.$": "$$.Task.Token"},
            },
        }

        def read() -> str:
            return str(handled[-1]["token"]) if handled else ""

    else:
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(QueueName=f"q{time.time_ns()}")["QueueUrl"]
        task = {
            "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {"QueueUrl": url, "MessageBody": {"token.$": "$$.Task.Token"}},
        }

        def read() -> str:
            messages = sqs.receive_message(QueueUrl=url).get("Messages", [])
            return str(json.loads(messages[0]["Body"])["token"]) if messages else ""

    states: dict[str, Any] = {
        "Wait": {"Type": "Task", **task, "Next": "After"},
        "After": {"Type": "Pass", "End": True},
        "Caught": {"Type": "Pass", "End": True},
    }
    if catch:
        states["Wait"]["Catch"] = [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]
    return _machine(states, "Wait"), read


@pytest.fixture(params=["sqs", "lambda"])
def waiting(
    request: pytest.FixtureRequest, aws: None, handled: list[dict[str, Any]]
) -> Callable[..., tuple[str, str]]:
    """Start an execution waiting for a token: (execution ARN, token)."""

    def start(catch: bool = False) -> tuple[str, str]:
        machine, read = _waiting_machine(request.param, catch, handled)
        sfn = boto3.client("stepfunctions", region_name=REGION)
        execution = sfn.start_execution(stateMachineArn=machine)["executionArn"]
        return str(execution), str(_until(read))

    return start


def test_a_second_success_for_a_token_is_refused_as_aws_refuses_it(
    waiting: Callable[..., tuple[str, str]],
) -> None:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    execution, token = waiting()
    sfn.send_task_success(taskToken=token, output='{"answer": 1}')
    assert _error(lambda: sfn.send_task_success(taskToken=token, output="{}")) == (
        "TaskTimedOut",
        400,
    )
    described = _ended(execution)
    assert (described["status"], json.loads(described["output"])) == ("SUCCEEDED", {"answer": 1})
    # Once the execution has ended, too; and a failure after a success.
    assert _error(lambda: sfn.send_task_success(taskToken=token, output="{}"))[0] == "TaskTimedOut"
    assert _error(lambda: sfn.send_task_failure(taskToken=token, error="X"))[0] == "TaskTimedOut"


def test_a_success_after_a_failure_is_refused_and_the_cause_is_passed_on(
    waiting: Callable[..., tuple[str, str]],
) -> None:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    execution, token = waiting(catch=True)
    sfn.send_task_failure(taskToken=token, error="RunRejectedError", cause="Too expensive")
    assert _error(lambda: sfn.send_task_success(taskToken=token, output="{}"))[0] == "TaskTimedOut"
    described = _ended(execution)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {
        "Error": "RunRejectedError",
        "Cause": "Too expensive",
    }


@pytest.mark.usefixtures("aws")
def test_a_token_never_issued_is_still_invalid() -> None:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    assert _error(lambda: sfn.send_task_success(taskToken="nope", output="{}"))[0] == "InvalidToken"


@pytest.mark.parametrize("catch", [False, True])
def test_a_stopped_execution_waiting_for_a_token_ends_aborted_and_never_resumes(
    waiting: Callable[..., tuple[str, str]], catch: bool
) -> None:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    execution, token = waiting(catch=catch)
    sfn.stop_execution(executionArn=execution, cause="Cancelled")
    assert sfn.describe_execution(executionArn=execution)["status"] == "ABORTED"  # at once
    assert _error(lambda: sfn.send_task_success(taskToken=token, output="{}"))[0] == "TaskTimedOut"
    time.sleep(0.2)
    events = [event["type"] for event in _history(execution)]
    assert events[-1] == "ExecutionAborted"
    # The waiting task neither resumed nor failed (no Catch ran).
    assert not {"TaskSucceeded", "TaskFailed", "TaskTimedOut", "TaskStateExited"} & set(events)
    assert "PassStateEntered" not in events


# The scenario a job follows ----------------------------------------------------------


def _records(n: int) -> str:
    return "".join(
        json.dumps({"prompt": f"Summarize call {i}.", "completion": f"Call {i} was short."}) + "\n"
        for i in range(n)
    )


def _job(training_uri: str, tags: dict[str, str]) -> dict[str, Any]:
    bedrock = _client("bedrock")
    tag_list = [{"key": k, "value": v} for k, v in tags.items()]
    name = f"job-{time.time_ns()}"
    bedrock.create_model_customization_job(
        jobName=name,
        customModelName=f"model-{name}",
        roleArn=ROLE,
        baseModelIdentifier=MODEL,
        customizationType="FINE_TUNING",
        trainingDataConfig={"s3Uri": training_uri},
        outputDataConfig={"s3Uri": "s3://artifacts/runs/r1/output/"},
        hyperParameters={},
        jobTags=tag_list,
        customModelTags=tag_list,
    )
    return dict(bedrock.get_model_customization_job(jobIdentifier=name))


@pytest.mark.usefixtures("aws")
def test_the_scenario_is_the_one_of_the_folder_the_lineage_tag_names() -> None:
    """Bedrock trains from a copy of the data in the artifacts bucket: the tag still finds the run."""
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="artifacts")
    s3.put_object(Bucket="artifacts", Key="runs/r1/input/train.jsonl", Body=_records(5).encode())
    BEDROCK.scenarios["jobs/tagged/"] = Scenario(
        polls_until_done=1, model_creating_polls=1, deployment_polls=1
    )
    job = _job("s3://artifacts/runs/r1/input/train.jsonl", {DATASET_KEY: "jobs/tagged/job.json"})
    assert job["status"] == "Completed"  # after one poll, as the folder's scenario asks
    bedrock = _client("bedrock")
    model_arn = job["outputModelArn"]
    assert bedrock.get_custom_model(modelIdentifier=model_arn)["modelStatus"] == "Creating"
    assert bedrock.get_custom_model(modelIdentifier=model_arn)["modelStatus"] == "Active"
    arn = bedrock.create_provisioned_model_throughput(
        modelUnits=1, provisionedModelName="p", modelId=model_arn
    )["provisionedModelArn"]
    assert bedrock.get_provisioned_model_throughput(provisionedModelId=arn)["status"] == "InService"
    answer = _client("bedrock-runtime").invoke_model(
        modelId=arn, body=json.dumps({"inputText": "Summarize call 3."}).encode()
    )
    # The custom model answers from its training data, read from the copy Bedrock was given.
    assert json.loads(answer["body"].read())["results"][0]["outputText"] == "Call 3 was short."


@pytest.mark.usefixtures("aws")
def test_a_job_without_the_tag_follows_its_training_data_folder() -> None:
    BEDROCK.scenarios["jobs/untagged/"] = Scenario(
        polls_until_done=1, outcome="Failed", failure_message="Bad data (emulated)."
    )
    job = _job("s3://datasets/jobs/untagged/train.jsonl", {})
    assert (job["status"], job["failureMessage"]) == ("Failed", "Bad data (emulated).")
    tagged = _job("s3://datasets/jobs/untagged/train.jsonl", {DATASET_KEY: "jobs/other/job.json"})
    assert tagged["status"] == "InProgress"  # the tag wins: jobs/other/ has the default scenario


def test_a_thread_reading_the_environment_never_sees_a_handler_remove_a_variable(
    handled: list[dict[str, Any]],
) -> None:
    # A test's CLI makes boto3 clients (which iterate os.environ) while handlers run in
    # the emulator's threads; a variable removed mid-iteration raised KeyError there.
    import os
    import threading

    function = _function()
    function.environment_vars = {"EMULATOR_TEST_ONLY": "1"}
    failures: list[BaseException] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            try:
                dict(os.environ.items())
            except BaseException as error:  # any error here is the failure
                failures.append(error)
                return

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for n in range(3000):
            assert lambda_service.run_handler(function, {"n": n})[1] is False
    finally:
        done.set()
        reader.join()
    assert failures == []
    assert os.environ["EMULATOR_TEST_ONLY"] == "1"  # kept until the cloud ends
    lambda_service.clear_handler_environment()
    assert "EMULATOR_TEST_ONLY" not in os.environ
