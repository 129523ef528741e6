"""Ending a run REJECTED: how every step records a user's mistake (a reason, never a trace)."""

from __future__ import annotations

from typing import Any

from customization_core.registry import Registry
from customization_core.run import Run, Status


def reject(run: Run, registry: Registry, reason: str, **fields: Any) -> dict[str, Any]:
    """Record the run REJECTED with ``reason`` (and ``fields``); the state document to return."""
    registry.update(run, Status.REJECTED, reason=reason, **fields)
    return run.state()
