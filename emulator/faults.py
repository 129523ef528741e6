"""Injected faults, for fault-injection tests: one registry, ``FAULTS``.

- ``FAULTS.add(operation, code, count)``: the next ``count`` calls of a Bedrock or
  Bedrock Runtime operation (whatever the emulator answers it with: moto, or
  emulator/account.py, bedrock_deployments.py, bedrock_runtime.py), or of SNS ``Publish``, fail
  with ``code`` and the HTTP status AWS's service model gives it (429 for
  ThrottlingException...), so boto3 raises the ClientError AWS would cause.
- ``FAULTS.crash(function, count, when)``: the next ``count`` invocations of the
  handler ``lambdas/<function>/handler.py`` raise RuntimeError, before it runs or
  after (its side effects done, its answer lost); emulator/lambda_service.py run_handler.
- ``FAULTS.calls(operation)``: the calls that reached the emulator, faulted or not.

The handlers' clients retry throttling and 5xx answers themselves (standard mode,
``max_attempts`` 3 in lambdas/common.py: botocore counts retries there, so up to
4 attempts a call): a fault meant to reach the handler as an error needs a count
of 4 per call, so 10 or more to outlast the SDK and then a state machine retry;
``ALWAYS`` never runs out. DynamoDB is not faulted.
"""

from __future__ import annotations

import importlib.util
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, Final, Literal, TypeVar

import botocore.session
from moto.bedrock.responses import BedrockResponse
from moto.bedrockruntime.responses import BedrockRuntimeResponse
from moto.core.exceptions import JsonRESTError
from moto.core.responses import BaseResponse
from moto.sns.exceptions import SNSException
from moto.sns.models import SNSBackend

When = Literal["before", "after"]
ALWAYS: Final = 10**9  # a count no test exhausts
CRASH_MESSAGE: Final = "Injected crash (emulated)"
# The services faults apply to, by the botocore name of their model; SNS only for Publish.
SERVICES: Final = ("bedrock", "bedrock-runtime")
SNS_OPERATIONS: Final = frozenset({"Publish"})


@dataclass
class _Fault:
    code: str
    remaining: int
    message: str | None


@dataclass
class _Crash:
    remaining: int
    when: When


@cache
def _model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


@cache
def known_operations() -> frozenset[str]:
    """Every operation a fault can be added to (a typo fails at ``add``, not silently)."""
    names = {name for service in SERVICES for name in _model(service).operation_names}
    return frozenset(names | SNS_OPERATIONS)


@cache
def status_of(service: str, code: str) -> int:
    """The HTTP status of ``code`` in the service's model (400 for a code it does not list)."""
    for shape in _model(service).error_shapes:
        if code in (shape.name, shape.error_code):
            return int(shape.metadata.get("error", {}).get("httpStatusCode", 400))
    return 400


def _is_handler(function: str) -> bool:
    try:
        return importlib.util.find_spec(f"lambdas.{function}.handler") is not None
    except ModuleNotFoundError:  # no package lambdas.<function>
        return False


_Due = TypeVar("_Due", _Fault, _Crash)


def _use(due: list[_Due]) -> _Due | None:
    """The first of ``due`` with uses left, one use taken (None: all used up)."""
    while due and due[0].remaining <= 0:
        due.pop(0)
    if not due:
        return None
    due[0].remaining -= 1
    return due[0]


class FaultPlan:
    """The faults still due, by operation and by handler, and the calls seen."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # handlers run on the executions' threads
        self._faults: dict[str, list[_Fault]] = {}
        self._crashes: dict[str, list[_Crash]] = {}
        self._calls: Counter[str] = Counter()

    def add(self, operation: str, code: str, count: int, message: str | None = None) -> None:
        """The next ``count`` calls of ``operation`` fail with ``code`` (after faults added before)."""
        if operation not in known_operations():
            raise ValueError(
                f"{operation!r} is not a Bedrock or Bedrock Runtime operation, nor SNS Publish"
            )
        if count < 1:
            raise ValueError(f"count must be at least 1, not {count}")
        with self._lock:
            self._faults.setdefault(operation, []).append(_Fault(code, count, message))

    def crash(self, function: str, count: int, when: When = "before") -> None:
        """The next ``count`` invocations of ``lambdas/<function>/handler.py`` raise RuntimeError."""
        if when not in ("before", "after"):
            raise ValueError(f"when is 'before' or 'after', not {when!r}")
        if count < 1:
            raise ValueError(f"count must be at least 1, not {count}")
        if not _is_handler(function):
            raise ValueError(f"there is no lambdas/{function}/handler.py")
        with self._lock:
            self._crashes.setdefault(function, []).append(_Crash(count, when))

    def reset(self) -> None:
        """No faults due, no calls counted."""
        with self._lock:
            self._faults.clear()
            self._crashes.clear()
            self._calls.clear()

    def calls(self, operation: str) -> int:
        """Calls of ``operation`` that reached the emulator since the last reset, faulted or not."""
        with self._lock:
            return self._calls[operation]

    def take(self, operation: str) -> tuple[str, str] | None:
        """Count one call of ``operation``: the (code, message) it fails with, if one is due."""
        with self._lock:
            self._calls[operation] += 1
            fault = _use(self._faults.get(operation, []))
        if fault is None:
            return None
        return fault.code, fault.message or f"{fault.code}: injected into {operation} (emulated)."

    def take_crash(self, function: str) -> When | None:
        """Count one invocation of the handler: when it crashes, if a crash is due."""
        with self._lock:
            crash = _use(self._crashes.get(function, []))
        return crash.when if crash is not None else None


FAULTS = FaultPlan()


class InjectedFaultError(JsonRESTError):
    """A Bedrock or Bedrock Runtime error with the status AWS answers it with."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(code, message)
        self.code = status


class InjectedSnsFaultError(SNSException):
    """An SNS error (query protocol: moto serializes it with the model's status)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)


def _faulted(service: str) -> Callable[[Any], Any]:
    def call_action(self: Any) -> Any:
        # Every operation of the service passes here, whichever patch or moto method answers
        # it. An error raised before dispatch reaches the client as moto's own errors do.
        operation = self._get_action()
        if operation:
            due = FAULTS.take(str(operation))
            if due is not None:
                code, message = due
                raise InjectedFaultError(code, message, status_of(service, code))
        return BaseResponse.call_action(self)

    return call_action


_original_publish = SNSBackend.publish


def _publish(self: Any, *args: Any, **kwargs: Any) -> Any:
    # The backend, not the API layer: any publisher (a handler, a state machine task) is faulted.
    due = FAULTS.take("Publish")
    if due is not None:
        raise InjectedSnsFaultError(*due)
    return _original_publish(self, *args, **kwargs)


def install(assign: Callable[[Any, str, Any], None] = setattr) -> None:
    """Apply the faults (idempotent; no faults due after; ``assign`` as in patches.install)."""
    FAULTS.reset()
    assign(BedrockResponse, "call_action", _faulted("bedrock"))
    assign(BedrockRuntimeResponse, "call_action", _faulted("bedrock-runtime"))
    assign(SNSBackend, "publish", _publish)


__all__ = ["ALWAYS", "CRASH_MESSAGE", "FAULTS", "FaultPlan", "InjectedFaultError", "install"]
