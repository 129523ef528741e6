"""What the workflow takes from the stage's settings: the rules its handlers apply, and its timing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stacks.settings import Settings


@dataclass(frozen=True)
class WorkflowProps:
    """The stage's values the workflow's definition and handlers use (stacks/settings.py names each)."""

    approval_threshold_usd: float | None
    allowed_base_models: tuple[str, ...] | None
    default_hyperparameters: dict[str, dict[str, str]]
    training_prices_usd: dict[str, float]
    poll_interval_seconds: int
    max_deployment_ttl_hours: float
    deployment_idle_hours: float
    max_unapproved_model_units: int
    workflow_timeout_hours: float
    unknown_models: str
    approvers: tuple[str, ...] | None
    approval_timeout_hours: float
    queue_retry_hours: float
    grader_functions: tuple[str, ...]
    data_risk: dict[str, str]

    @classmethod
    def of(cls, settings: Settings) -> WorkflowProps:
        return cls(**{name: getattr(settings, name) for name in cls.__dataclass_fields__})

    @property
    def limit_hours(self) -> float:
        """Training and the rest, then a deployment's longest life: the workflow deletes it."""
        return self.workflow_timeout_hours + self.max_deployment_ttl_hours

    def handler_config(self) -> dict[str, Any]:
        """These values as the handlers read them (PIPELINE_CONFIG, beside the resources' names)."""
        return {
            "approval_threshold_usd": self.approval_threshold_usd,
            # Lists, not tuples: the config is rendered to JSON through jsii.
            "allowed_models": list(self.allowed_base_models)
            if self.allowed_base_models is not None
            else None,
            "default_hyperparameters": self.default_hyperparameters,
            "training_prices_usd": self.training_prices_usd,
            "poll_interval_seconds": self.poll_interval_seconds,
            "max_deployment_ttl_hours": self.max_deployment_ttl_hours,
            "idle_hours": self.deployment_idle_hours,
            "max_unapproved_model_units": self.max_unapproved_model_units,
            "workflow_limit_hours": self.limit_hours,
            "unknown_models": self.unknown_models,
            "grader_functions": list(self.grader_functions),
            "data_risk": self.data_risk,
        }
