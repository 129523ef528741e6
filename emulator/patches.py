"""Every change the local emulator makes to moto, in one place, and why.

moto runs the synthesized state machine on its own ASL interpreter and serves
S3, DynamoDB, SNS, SQS, KMS and Bedrock in-process. These need help:

1. Lambda. Without Docker, moto's "simple" Lambda backend echoes the request
   instead of running code. The patched invoke imports the function's real
   handler (``lambdas.<name>.handler.main``) and calls it in this process,
   with the function's environment, as the Lambda runtime would; an exception
   becomes a function error whose type the state machine's Retry and Catch
   rules match, as in AWS. ``faults.FAULTS.crash`` makes it raise RuntimeError
   before the handler runs, or after (its side effects done, its answer lost).
2. Time. Wait states, retry intervals and the SDK's backoff between attempts
   would sleep for real (a 5-minute poll, a 15-minute queue retry, seconds per
   throttled call). ``TIME_SCALE`` shrinks them for local runs without touching
   the definition.
3. Bedrock. moto creates jobs but leaves them InProgress forever. The
   patched backend moves each job through the lifecycle its run's scenario
   asks for (Completed after N polls with the metrics files Bedrock writes,
   or Failed with a message), can answer the first N creates with
   throttling or quota errors, and records every call for tests and the demo.
   A job's outputModelArn is made the ARN of the model moto registers. The
   scenario is the one of the job folder its lineage tag names
   (emulator/lineage.py), wherever its training data was copied.
4. SendTaskFailure. moto's API layer drops the ``cause`` a caller gives
   (AWS passes it to the task's Catch); the patched handler passes it on.
5. Bedrock Runtime. moto answers InvokeModel with ``{}`` and has no Converse;
   emulator/runtime.py checks each family's body and answers in its shape.
6. GetExecutionHistory. moto's API layer drops ``reverseOrder``; the patched
   handler returns the newest event first when asked, as AWS does.
7. Deployments. moto has no Provisioned Throughput or custom model
   deployments, and no ``modelStatus``: emulator/deployments.py adds them,
   with the lifecycle the run's scenario asks for.
8. Injected faults (emulator/faults.py). Every Bedrock and Bedrock Runtime
   operation, and SNS Publish, can be made to fail N times with a chosen
   error; moto has no fault injection.
9. A second answer to a task token. moto accepts SendTaskSuccess again for
   a token already answered (and SendTaskFailure even once its execution
   has ended), and answers InvalidToken to SendTaskSuccess for an ended
   execution. AWS refuses both with TaskTimedOut ("the task associated with
   the token has already been closed", per the API reference:
   https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html);
   so do the patched handlers. A token moto never issued is still InvalidToken.
10. StopExecution of an execution waiting for a task token. moto marks it
   stopped but leaves the task waiting: the execution stays RUNNING until
   someone answers the token, then records the task's success and only then
   ends ABORTED. As in AWS, the patched stop ends it ABORTED at once and
   refuses its token later (9); a stopped execution records no task failure
   either (moto would log the interrupted wait as a timeout and run Catch).
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import threading
import time
import traceback
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import botocore.endpoint
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.bedrock.models import BedrockBackend
from moto.core.exceptions import AWSError, JsonRESTError
from moto.core.responses import ActionResult, EmptyResult
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import (
    WaitFunction,
)
from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackEndpoint
from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped
from moto.stepfunctions.parser.backend.execution import Execution as ParserExecution
from moto.stepfunctions.responses import StepFunctionResponse

from emulator import account, deployments, faults, lineage, runtime
from emulator.faults import CRASH_MESSAGE, FAULTS
from emulator.iam import hook as iam_hook
from emulator.iam import service_role

# Local seconds per definition second: a 300-second poll takes 0.3 s.
TIME_SCALE = 0.001
_LOCK = threading.RLock()
HANDLER_LOCK = _LOCK  # held while a handler runs with its function's environment
_ADDED: set[str] = set()  # handler variables the process did not have before


@dataclass
class Scenario:
    """How Bedrock behaves for one run (by job folder)."""

    polls_until_done: int = 2
    outcome: str = "Completed"  # or "Failed"
    failure_message: str = "Data download failed: check the training data's S3 location."
    throttle_first: int = 0  # the first N creates raise ThrottlingException
    quota_first: int = 0  # then the next N raise ServiceQuotaExceededException
    training_loss: float = 0.42
    validation_loss: float = 0.51
    # After training (emulator/deployments.py, emulator/runtime.py):
    model_creating_polls: int = 0  # GetCustomModel says Creating this many times first
    model_outcome: str = "Active"  # then this: "Active", or "Failed" (a model that cannot be used)
    deployment_polls: int = 2  # a deployment is Creating until this many Gets
    deployment_outcome: str = "ready"  # or "Failed"
    custom_quality: str = "learned"  # "learned": answers from its data; "base": like its base
    invoke_throttle_first: int = 0  # the first N invocations of the custom model are throttled


@dataclass
class BedrockLog:
    calls: list[tuple[str, str]] = field(default_factory=list)  # (operation, job name)
    scenarios: dict[str, Scenario] = field(default_factory=dict)  # job folder -> scenario
    polls: dict[str, int] = field(default_factory=dict)
    creates: dict[str, int] = field(default_factory=dict)  # job folder -> create attempts
    s3: Any = None  # the emulator's S3 client, to write metrics files
    deployments: dict[str, Any] = field(default_factory=dict)  # ARN -> deployments.Deployment
    model_polls: dict[str, int] = field(default_factory=dict)  # model ARN -> GetCustomModel calls
    invocations: dict[str, int] = field(default_factory=dict)  # job folder -> custom invocations
    denied_jobs: dict[str, str] = field(default_factory=dict)  # job -> the service role's denial

    def scenario(self, folder: str) -> Scenario:
        return self.scenarios.get(folder, Scenario())

    def reset(self) -> None:
        for kept in (
            self.calls,
            self.scenarios,
            self.polls,
            self.creates,
            self.deployments,
            self.model_polls,
            self.invocations,
            self.denied_jobs,
        ):
            kept.clear()

    def count(self, operation: str) -> int:
        return sum(1 for name, _ in self.calls if name == operation)


BEDROCK = BedrockLog()


class _ScaledClock:
    """``time`` for the retrier module, with sleeps shrunk by TIME_SCALE."""

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        time.sleep(seconds * TIME_SCALE)


class _Context:
    """The attributes of a Lambda context the handlers (and Powertools) read."""

    def __init__(self, function: Any) -> None:
        self.function_name = function.function_name
        self.memory_limit_in_mb = int(function.memory_size or 128)
        self.invoked_function_arn = function.function_arn
        self.aws_request_id = f"local-{time.time_ns()}"
        self._deadline = time.monotonic() + int(function.timeout or 3)

    def get_remaining_time_in_millis(self) -> int:
        """Time left of the function's timeout (Lambda's own clock, not scaled)."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def package_of(function: Any) -> str:
    """The handler's package: ``notify`` for ``lambdas.notify.handler.main``."""
    parts = str(function.handler).split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "lambdas" else ".".join(parts[:-1])


def run_handler(function: Any, event: Any) -> tuple[str, bool]:
    """Call a function's real handler in-process: (JSON result, errored)."""
    module_name, attribute = str(function.handler).rsplit(".", 1)
    crash = FAULTS.take_crash(package_of(function))
    with _LOCK:  # one environment at a time: handlers read os.environ
        own = {k: str(v) for k, v in (function.environment_vars or {}).items()}
        own["AWS_LAMBDA_FUNCTION_NAME"] = function.function_name
        # Only the function's own variables are set, and none is removed while the cloud
        # runs: another thread (a test's CLI making a client) may be iterating os.environ,
        # and a key deleted under it raises KeyError there. Variables the process lacked
        # stay until the cloud ends (clear_handler_environment); every function of this
        # app has the same names, so a stale one is only removed when a function lacks it.
        for stale in _ADDED - own.keys():
            os.environ.pop(stale, None)
            _ADDED.discard(stale)
        saved = {k: os.environ[k] for k in own if k in os.environ and k not in _ADDED}
        _ADDED.update(k for k in own if k not in os.environ)
        os.environ.update(own)
        try:
            common = importlib.import_module("lambdas.common")
            for cached in (common.config, common.client, common.registry):
                cached.cache_clear()  # each function has its own settings
            handler = getattr(importlib.import_module(module_name), attribute)
            running = iam_hook.running(function.function_name)  # its clients are judged
            # An injected crash is a plain RuntimeError: the error path below reports it as
            # Lambda reports an unhandled exception, so Retry and Catch see "RuntimeError".
            if crash == "before":
                raise RuntimeError(CRASH_MESSAGE)
            with running:
                result = handler(event, _Context(function))
            if crash == "after":  # the handler's side effects happened; its answer is lost
                raise RuntimeError(CRASH_MESSAGE)
            return json.dumps(result), False
        except Exception as error:
            return json.dumps(
                {
                    "errorType": type(error).__name__,
                    "errorMessage": str(error),
                    "stackTrace": traceback.format_exc().splitlines()[-5:],
                }
            ), True
        finally:
            os.environ.update(saved)  # assignment only: see above


def clear_handler_environment() -> None:
    """Remove the variables handlers set that the process did not have (the cloud ended)."""
    with _LOCK:
        for name in _ADDED:
            os.environ.pop(name, None)
        _ADDED.clear()


def _invoke(
    self: Any,
    function_name: str,
    qualifier: str | None,
    body: Any,
    headers: Any,
    response_headers: Any,
) -> bytes:
    function = self.get_function(function_name, qualifier)
    event = json.loads(body) if body else {}
    result, errored = run_handler(function, event)
    if errored:
        response_headers["x-amz-function-error"] = "Unhandled"
    return result.encode()


def _scaled_wait(self: Any, env: Any, wait_seconds: int) -> None:
    env.program_state_event.wait(wait_seconds * TIME_SCALE)


class _ClientError(JsonRESTError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)


_original_create = BedrockBackend.create_model_customization_job
_original_get = BedrockBackend.get_model_customization_job
_original_stop = BedrockBackend.stop_model_customization_job


def _create(self: Any, *args: Any, **kwargs: Any) -> Any:
    arguments = inspect.signature(_original_create).bind(self, *args, **kwargs).arguments
    folder = lineage.folder(
        arguments.get("job_tags") or arguments.get("custom_model_tags"),
        arguments.get("training_data_config"),
    )
    scenario = BEDROCK.scenario(folder)
    attempt = BEDROCK.creates.get(folder, 0) + 1
    BEDROCK.creates[folder] = attempt
    name = str(arguments.get("job_name"))
    BEDROCK.calls.append(("CreateModelCustomizationJob", name))
    if attempt <= scenario.throttle_first:
        raise _ClientError("ThrottlingException", "Rate exceeded (emulated).")
    if attempt <= scenario.throttle_first + scenario.quota_first:
        raise _ClientError(
            "ServiceQuotaExceededException",
            "Concurrent customization jobs quota reached (emulated).",
        )
    refused = account.refusal(
        self.region_name,
        str(arguments.get("base_model_identifier")),
        str(arguments.get("customization_type") or "FINE_TUNING"),
    )
    if refused:
        raise _ClientError("ValidationException", refused)
    if name in self.model_customization_jobs:
        # The same job (its name and client request token follow from the run): Bedrock
        # answers an idempotent retry with the existing job.
        return self.model_customization_jobs[name].job_arn
    created = _original_create(self, *args, **kwargs)
    # Bedrock reads the data, writes the output and uses the model key and the VPC as
    # the service role: a permission it lacks fails the job, as in AWS.
    denied = service_role.denial(arguments)
    if denied:
        BEDROCK.denied_jobs[name] = denied
    # moto names the job's output model "<model>-<job>" but registers the model as "<model>";
    # in AWS outputModelArn is the custom model's ARN, which is what gets invoked.
    job = self.model_customization_jobs[name]
    model = self.custom_models[job.custom_model_name]
    job.output_model_name, job.output_model_arn = model.model_name, model.model_arn
    return created


def _get(self: Any, job_identifier: str) -> Any:
    job = _original_get(self, job_identifier)
    BEDROCK.calls.append(("GetModelCustomizationJob", job.job_name))
    if job.status != "InProgress":
        return job
    scenario = BEDROCK.scenario(lineage.job_folder(job))
    polls = BEDROCK.polls.get(job.job_name, 0) + 1
    BEDROCK.polls[job.job_name] = polls
    if job.job_name in BEDROCK.denied_jobs:
        job.status, job.failure_message = "Failed", BEDROCK.denied_jobs[job.job_name]
        job.end_time = datetime.now(UTC).isoformat()
        return job
    if polls >= scenario.polls_until_done:
        job.status = scenario.outcome
        job.end_time = datetime.now(UTC).isoformat()
        if scenario.outcome == "Completed":
            job.training_metrics = {"trainingLoss": scenario.training_loss}
            # Bedrock reports validation loss only for jobs given validation data.
            job.validation_metrics = (
                [{"validationLoss": scenario.validation_loss}] if job.validation_data_config else []
            )
            _write_metrics(job, scenario)
        else:
            job.failure_message = scenario.failure_message
    return job


def _stop_job(self: Any, job_identifier: str) -> Any:
    BEDROCK.calls.append(("StopModelCustomizationJob", job_identifier))
    return _original_stop(self, job_identifier)


def _write_metrics(job: Any, scenario: Scenario) -> None:
    """The step-wise training metrics Bedrock writes under the output URI."""
    if BEDROCK.s3 is None:
        return
    bucket, prefix = str(job.output_data_config["s3Uri"]).removeprefix("s3://").split("/", 1)
    rows = ["step_number,epoch_number,training_loss"]
    loss = scenario.training_loss * 3
    for step in range(1, 7):
        loss = max(scenario.training_loss, loss * 0.7)
        rows.append(f"{step},{(step - 1) // 3},{loss:.4f}")
    BEDROCK.s3.put_object(
        Bucket=bucket,
        Key=f"{prefix.rstrip('/')}/training_artifacts/step_wise_training_metrics.csv",
        Body="\n".join(rows).encode(),
    )
    if job.validation_data_config:
        validation = ["step_number,epoch_number,validation_loss,perplexity"]
        validation.append(
            f"6,1,{scenario.validation_loss:.4f},{2.718**scenario.validation_loss:.4f}"
        )
        BEDROCK.s3.put_object(
            Bucket=bucket,
            Key=f"{prefix.rstrip('/')}/validation_artifacts/post_fine_tuning_validation/validation/validation_metrics.csv",
            Body="\n".join(validation).encode(),
        )


class TaskTimedOutError(AWSError):
    """AWS's answer to a token whose task was already answered, timed out or stopped."""

    TYPE = "TaskTimedOut"
    STATUS = 400


# Waiting tasks that are done with their token (answered, timed out, stopped): CallbackEndpoint
# objects, weakly held so ended executions are not kept alive.
_CLOSED: weakref.WeakSet[Any] = weakref.WeakSet()
_ANSWERS = threading.Lock()  # one answer at a time: a second one sees the first


def _callback(backend: Any, token: str) -> tuple[Any, Any] | None:
    """The (callback endpoint, execution) of a token, in any execution, ended or not."""
    for machine in list(backend.state_machines):
        for execution in list(machine.executions):
            env = getattr(getattr(execution, "exec_worker", None), "env", None)
            endpoint = env.callback_pool_manager.get(token) if env is not None else None
            if endpoint is not None:
                return endpoint, execution
    return None


def _answer(self: Any, token: str, send: Callable[[], Any]) -> Any:
    """Send an answer to a token, unless its task was already closed (as AWS refuses it)."""
    with _ANSWERS:
        found = _callback(self.stepfunction_backend, token)
        if found is not None:
            endpoint, execution = found
            if (
                endpoint.get_outcome() is not None
                or endpoint in _CLOSED
                or execution.status != "RUNNING"
            ):
                raise TaskTimedOutError("Provided task does not exist anymore")
        return send()  # a token moto never issued: moto's InvalidToken


def _send_task_success(self: Any) -> Any:
    token = self._get_param("taskToken")
    _answer(
        self,
        token,
        lambda: self.stepfunction_backend.send_task_success(token, self._get_param("output")),
    )
    return EmptyResult()


def _send_task_failure(self: Any) -> Any:
    token = self._get_param("taskToken")
    _answer(
        self,
        token,
        lambda: self.stepfunction_backend.send_task_failure(
            token, error=self._get_param("error"), cause=self._get_param("cause")
        ),
    )
    return EmptyResult()


_original_interrupt_all = CallbackEndpoint.interrupt_all


def _interrupt_all(self: Any) -> None:
    # moto calls this once the waiting task is done with its token, whatever the outcome.
    _CLOSED.add(self)
    _original_interrupt_all(self)


_original_execution_stop = ParserExecution.stop


def _stop(self: Any, stop_date: Any, error: str | None, cause: str | None) -> None:
    """Stop the execution; a task waiting for a token stops waiting, and the execution ends."""
    _original_execution_stop(self, stop_date=stop_date, error=error, cause=cause)
    env = getattr(getattr(self, "exec_worker", None), "env", None)
    if env is None:
        return
    waiting = [
        endpoint
        for endpoint in list(env.callback_pool_manager._pool.values())
        if endpoint not in _CLOSED
    ]
    for endpoint in waiting:
        endpoint.interrupt_all()  # its wait returns; _evaluate_with_timeout ends the state quietly
    if waiting:
        # The execution unwinds at once (no handler runs): answer as AWS does, ABORTED already.
        deadline = time.monotonic() + 2
        while self.status == "RUNNING" and time.monotonic() < deadline:
            time.sleep(0.005)


_original_evaluate_with_timeout = ExecutionState._evaluate_with_timeout


def _evaluate_with_timeout(self: Any, env: Any) -> None:
    try:
        _original_evaluate_with_timeout(self, env)
    except Exception:
        # A stopped execution records no task failure, and its Retry and Catch do not run:
        # the state ends as it is, and the execution records ExecutionAborted.
        if isinstance(env.program_state(), ProgramStopped):
            return
        raise


def _get_execution_history(self: Any) -> Any:
    history = self.stepfunction_backend.get_execution_history(self._get_param("executionArn"))
    if self._get_param("reverseOrder"):
        history = {**history, "events": list(reversed(history["events"]))}
    return ActionResult(history)


def install(assign: Callable[[Any, str, Any], None] = setattr) -> None:
    """Apply the patches (idempotent; ``assign`` is setattr, or a test's monkeypatch.setattr)."""
    assign(LambdaSimpleBackend, "invoke", _invoke)
    assign(WaitFunction, "_wait_interval", _scaled_wait)
    assign(retrier_decl, "time", _ScaledClock())
    # The SDK's own retry backoff (botocore sleeps between attempts in endpoint.py) is a
    # wait like the others: scaled, so a fault outlasting the SDK costs milliseconds.
    assign(botocore.endpoint, "time", _ScaledClock())
    assign(StepFunctionResponse, "send_task_success", _send_task_success)
    assign(StepFunctionResponse, "send_task_failure", _send_task_failure)
    assign(StepFunctionResponse, "get_execution_history", _get_execution_history)
    assign(CallbackEndpoint, "interrupt_all", _interrupt_all)
    assign(ParserExecution, "stop", _stop)
    assign(ExecutionState, "_evaluate_with_timeout", _evaluate_with_timeout)
    assign(BedrockBackend, "create_model_customization_job", _create)
    assign(BedrockBackend, "get_model_customization_job", _get)
    assign(BedrockBackend, "stop_model_customization_job", _stop_job)
    runtime.install(assign)
    deployments.install(assign)
    account.install(assign)
    faults.install(assign)
    iam_hook.install(assign)


__all__ = ["BEDROCK", "FAULTS", "Scenario", "install", "run_handler"]
