"""What every handler shares: its settings, AWS clients and Powertools, made once per container.

The environment is read here and in the handlers only; the core gets plain values.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from botocore.config import Config

from customization_core.registry import Registry
from customization_core.run import PipelineConfig, Run

SERVICE = "bedrock-customization"
logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
# CloudWatch embedded metric format: written to the log, no API call from the VPC.
metrics = Metrics(namespace="BedrockCustomization", service=SERVICE)


def count_run_ended(state: dict[str, Any] | None) -> None:
    """One RunsEnded data point per finished run, by status (for dashboards and alarms)."""
    if state is None:
        return
    metrics.add_dimension(name="Status", value=str(state["status"]))
    metrics.add_metric(name="RunsEnded", unit=MetricUnit.Count, value=1)
    if state["status"] == "SUCCEEDED" and state.get("tokens"):
        metrics.add_metric(
            name="TrainedTokensEstimate", unit=MetricUnit.Count, value=state["tokens"]
        )


# Few SDK retries: the state machine retries with backoff and records each attempt.
SDK_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3}, connect_timeout=10, read_timeout=60
)


@cache
def config() -> PipelineConfig:
    return PipelineConfig.model_validate_json(os.environ["PIPELINE_CONFIG"])


@cache
def client(service: str) -> Any:
    return boto3.client(service, config=SDK_CONFIG)


@cache
def registry() -> Registry:
    table = boto3.resource("dynamodb", config=SDK_CONFIG).Table(os.environ["REGISTRY_TABLE"])
    return Registry(table)


def run_of(event: dict[str, Any]) -> Run:
    """The run document a task receives (alone, or under "run" next to other inputs)."""
    return Run.model_validate(event.get("run", event))
