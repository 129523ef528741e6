"""Emulated Lambda: an invocation runs the function's real handler in this process.

Without Docker, moto's "simple" Lambda backend echoes the request instead of
running code. The patched invoke imports the function's real handler
(``lambdas.<name>.handler.main``) and calls it in this process, with the
function's environment, as the Lambda runtime would; an exception becomes a
function error whose type the state machine's Retry and Catch rules match, as
in AWS. ``faults.FAULTS.crash`` makes it raise RuntimeError before the handler
runs, or after (its side effects done, its answer lost). A function invoked by a
qualified ARN or name (an alias) sees that ARN in ``context.invoked_function_arn``,
as in Lambda. A handler may be invoked while another runs on the same thread (an
emulated Bedrock job invoking its grader during the poll of a handler): the outer
one gets its own environment back afterwards, as its container would keep it.
CreateAlias of an alias that exists answers ResourceConflictException (409), as Lambda
does (moto says ConflictException). Source, read 2026-12-02:
https://docs.aws.amazon.com/lambda/latest/api/API_CreateAlias.html
"""

from __future__ import annotations

import importlib
import json
import os
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

import boto3
from moto.awslambda.exceptions import ConflictException, LambdaClientError
from moto.awslambda.models import LambdaStorage
from moto.awslambda_simple.models import LambdaSimpleBackend

from emulator.faults import CRASH_MESSAGE, FAULTS
from emulator.iam import hook as iam_hook
from emulator.state import REGION

HANDLER_LOCK = threading.RLock()  # held while a handler runs with its function's environment
_ADDED: set[str] = set()  # handler variables the process did not have before
_RUNNING: list[dict[str, str]] = []  # the variables of each handler running, outermost first


class _Context:
    """The attributes of a Lambda context the handlers (and Powertools) read."""

    def __init__(self, function: Any, invoked_arn: str | None = None) -> None:
        self.function_name = function.function_name
        self.memory_limit_in_mb = int(function.memory_size or 128)
        # The ARN the caller named, with its qualifier (an alias) if it gave one.
        self.invoked_function_arn = invoked_arn or function.function_arn
        self.aws_request_id = f"local-{time.time_ns()}"
        self._deadline = time.monotonic() + int(function.timeout or 3)

    def get_remaining_time_in_millis(self) -> int:
        """Time left of the function's timeout (Lambda's own clock, not scaled)."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def package_of(function: Any) -> str:
    """The handler's package: ``notify`` for ``lambdas.notify.handler.main``."""
    parts = str(function.handler).split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "lambdas" else ".".join(parts[:-1])


def run_handler(function: Any, event: Any, invoked_arn: str | None = None) -> tuple[str, bool]:
    """Call a function's real handler in-process: (JSON result, errored)."""
    module_name, attribute = str(function.handler).rsplit(".", 1)
    crash = FAULTS.take_crash(package_of(function))
    with HANDLER_LOCK:  # one environment at a time: handlers read os.environ
        own = {k: str(v) for k, v in (function.environment_vars or {}).items()}
        own["AWS_LAMBDA_FUNCTION_NAME"] = function.function_name
        saved = _enter(own)
        _RUNNING.append(own)
        try:
            # Each function has its own settings: forget the last one's, as a new container would.
            importlib.import_module("lambdas.common").reset()
            handler = getattr(importlib.import_module(module_name), attribute)
            running = iam_hook.running(function.function_name)  # its clients are judged
            # An injected crash is a plain RuntimeError: the error path below reports it as
            # Lambda reports an unhandled exception, so Retry and Catch see "RuntimeError".
            if crash == "before":
                raise RuntimeError(CRASH_MESSAGE)
            with running:
                result = handler(event, _Context(function, invoked_arn))
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
            os.environ.update(saved)  # assignment only: see _enter
            _RUNNING.pop()
            if _RUNNING:  # invoked inside another handler: give the outer one its own back
                _enter(_RUNNING[-1])
                importlib.import_module("lambdas.common").reset()


def _enter(own: dict[str, str]) -> dict[str, str]:
    """Set a function's variables; the values they replaced that the process had before.

    Only the function's own variables are set, and none is removed while the cloud
    runs: another thread (a test's CLI making a client) may be iterating os.environ,
    and a key deleted under it raises KeyError there. Variables the process lacked
    stay until the cloud ends (clear_handler_environment); every function of this
    app has the same names, so a stale one is only removed when a function lacks it.
    """
    for stale in _ADDED - own.keys():
        os.environ.pop(stale, None)
        _ADDED.discard(stale)
    saved = {k: os.environ[k] for k in own if k in os.environ and k not in _ADDED}
    _ADDED.update(k for k in own if k not in os.environ)
    os.environ.update(own)
    return saved


def clear_handler_environment() -> None:
    """Remove the variables handlers set that the process did not have (the cloud ended)."""
    with HANDLER_LOCK:
        for name in _ADDED:
            os.environ.pop(name, None)
        _ADDED.clear()


def cached_client(clients: dict[str, Any], service: str, **credentials: str) -> Any:
    """``clients[service]``, made the first time while no handler runs.

    run_handler holds HANDLER_LOCK while it sets its function's environment, which client
    creation reads.
    """
    with HANDLER_LOCK:
        if service not in clients:
            clients[service] = boto3.client(service, region_name=REGION, **credentials)
        return clients[service]


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
    result, errored = run_handler(function, event, _invoked_arn(function, function_name, qualifier))
    if errored:
        response_headers["x-amz-function-error"] = "Unhandled"
    return result.encode()


def _invoked_arn(function: Any, named: str, qualifier: str | None) -> str:
    """The ARN the caller invoked: the function's, with the alias or version it named."""
    if named.startswith("arn:"):
        return named
    _, _, in_name = named.partition(":")  # "name:alias"
    chosen = in_name or qualifier
    return f"{function.function_arn}:{chosen}" if chosen else str(function.function_arn)


class _ResourceConflictError(LambdaClientError):
    code = 409

    def __init__(self, message: str) -> None:
        super().__init__("ResourceConflictException", message)


_original_put_alias = LambdaStorage.put_alias


def _put_alias(self: Any, name: str, function_name: str, *args: Any, **kwargs: Any) -> Any:
    try:
        return _original_put_alias(self, name, function_name, *args, **kwargs)
    except ConflictException:
        function = function_name.split(":function:")[-1].split(":")[0]
        raise _ResourceConflictError(f"Alias already exists: {function}:{name}") from None


def install(assign: Callable[[Any, str, Any], None] = setattr) -> None:
    """Run handlers on invoke (``assign`` is setattr, or a test's monkeypatch.setattr)."""
    assign(LambdaSimpleBackend, "invoke", _invoke)
    assign(LambdaStorage, "put_alias", _put_alias)
