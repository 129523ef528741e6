"""Emulated time: every wait of a run shrunk by ``TIME_SCALE``.

Wait states, retry intervals and the SDK's backoff between attempts would sleep
for real (a 5-minute poll, a 15-minute queue retry, seconds per throttled call).
``TIME_SCALE`` shrinks them for local runs without touching the definition; it
is read at each wait, so the demo (or a test) may change it at any time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import botocore.endpoint
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import (
    WaitFunction,
)

# Local seconds per definition second: a 300-second poll takes 0.3 s.
TIME_SCALE = 0.001


class _ScaledClock:
    """``time`` for the retrier module, with sleeps shrunk by TIME_SCALE."""

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        time.sleep(seconds * TIME_SCALE)


def _scaled_wait(self: Any, env: Any, wait_seconds: int) -> None:
    env.program_state_event.wait(wait_seconds * TIME_SCALE)


def install(assign: Callable[[Any, str, Any], None] = setattr) -> None:
    """Scale the waits (``assign`` is setattr, or a test's monkeypatch.setattr)."""
    assign(WaitFunction, "_wait_interval", _scaled_wait)
    assign(retrier_decl, "time", _ScaledClock())
    # The SDK's own retry backoff (botocore sleeps between attempts in endpoint.py) is a
    # wait like the others: scaled, so a fault outlasting the SDK costs milliseconds.
    assign(botocore.endpoint, "time", _ScaledClock())
