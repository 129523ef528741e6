"""What every handler shares: its settings, AWS clients and Powertools, made once per container.

The environment is read here and in the handlers only; the core gets plain values.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Tracer
from botocore.config import Config

from customization_core.registry import Registry
from customization_core.run import PipelineConfig, Run

SERVICE = "bedrock-customization"
logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)

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
