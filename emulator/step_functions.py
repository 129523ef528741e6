"""Emulated Step Functions: task tokens, stopped executions and history as AWS answers them.

moto runs the synthesized state machine on its own ASL interpreter; where its
API layer differs from AWS, the patched handlers answer as AWS does:

- SendTaskFailure: moto drops the ``cause`` a caller gives (AWS passes it to the
  task's Catch); the patched handler passes it on.
- GetExecutionHistory: moto drops ``reverseOrder``; the patched handler returns
  the newest event first when asked, as AWS does.
- A second answer to a task token. moto accepts SendTaskSuccess again for a token
  already answered (and SendTaskFailure even once its execution has ended), and
  answers InvalidToken to SendTaskSuccess for an ended execution. AWS refuses both
  with TaskTimedOut ("the task associated with the token has already been closed",
  per the API reference:
  https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html);
  so do the patched handlers. A token moto never issued is still InvalidToken.
- StopExecution of an execution waiting for a task token. moto marks it stopped but
  leaves the task waiting: the execution stays RUNNING until someone answers the
  token, then records the task's success and only then ends ABORTED. As in AWS, the
  patched stop ends it ABORTED at once and refuses its token later; a stopped
  execution records no task failure either (moto would log the interrupted wait as
  a timeout and run Catch).
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from moto.core.exceptions import AWSError
from moto.core.responses import ActionResult, EmptyResult
from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackEndpoint
from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped
from moto.stepfunctions.parser.backend.execution import Execution as ParserExecution
from moto.stepfunctions.responses import StepFunctionResponse


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
    """Answer as AWS does (``assign`` is setattr, or a test's monkeypatch.setattr)."""
    assign(StepFunctionResponse, "send_task_success", _send_task_success)
    assign(StepFunctionResponse, "send_task_failure", _send_task_failure)
    assign(StepFunctionResponse, "get_execution_history", _get_execution_history)
    assign(CallbackEndpoint, "interrupt_all", _interrupt_all)
    assign(ParserExecution, "stop", _stop)
    assign(ExecutionState, "_evaluate_with_timeout", _evaluate_with_timeout)
