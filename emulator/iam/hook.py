"""Where the emulator's IAM meets botocore: which client is a handler's, and its calls.

A client made on a handler's thread while it runs is that function's (the
handler's thread pools reuse its clients, so their calls are judged too).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import botocore.client
import botocore.session

from emulator.iam import enforce

_RUNNING = threading.local()
_original_create_client = botocore.session.Session.create_client
_original_call = botocore.client.BaseClient._make_api_call
FUNCTION_ATTRIBUTE = "_emulator_function"
LOG = logging.getLogger("emulator.iam")


@contextmanager
def running(function_name: str) -> Iterator[None]:
    """Clients made on this thread meanwhile belong to ``function_name``."""
    outer = getattr(_RUNNING, "function", None)
    _RUNNING.function = function_name
    try:
        yield
    finally:
        _RUNNING.function = outer  # a handler run inside another gives the outer one back


def _create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
    client = _original_create_client(self, *args, **kwargs)
    function = getattr(_RUNNING, "function", None)
    if function is not None:
        setattr(client, FUNCTION_ATTRIBUTE, function)
    return client


def _make_api_call(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
    function = getattr(self, FUNCTION_ATTRIBUTE, None)
    enforcer = enforce.active()
    if function is not None and enforcer is not None:
        service = self.meta.service_model.service_name
        decision = enforcer.authorize_call(function, service, operation_name, api_params)
        if not decision.allowed:
            role = enforcer.policies.role_of(function) or function
            error = enforce.denied_error(self, operation_name, decision, role)
            # In full, whatever the handler makes of it (a reason is shortened).
            LOG.warning("%s: %s", function, error.response["Error"]["Message"])
            raise error
    return _original_call(self, operation_name, api_params)


def install(assign: Callable[[Any, str, Any], None] = setattr) -> None:
    assign(botocore.session.Session, "create_client", _create_client)
    assign(botocore.client.BaseClient, "_make_api_call", _make_api_call)
