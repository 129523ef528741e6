"""What every handler shares: its settings, AWS clients and Powertools, made once per container.

The environment is read here and in the handlers only; the core gets plain values.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from botocore.config import Config

from customization_core.orphans import ORPHANED_DEPLOYMENTS
from customization_core.registry import Registry
from customization_core.run import PipelineConfig, Run
from customization_core.telemetry import (
    ESTIMATED_SPEND,
    JOB_DURATION,
    METRICS_NAMESPACE,
    OVERDUE_DEPLOYMENTS,
    RUNS_ENDED,
    SERVICE,
    TRAINED_TOKENS,
)

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)


def count_run_ended(state: dict[str, Any] | None) -> None:
    """One RunsEnded data point per finished run, by status (for dashboards and alarms).

    CloudWatch embedded metric format: written to the log at once, no API call
    from the VPC, and no state kept between invocations.
    """
    if state is None or os.environ.get("POWERTOOLS_METRICS_DISABLED") == "true":
        return
    with single_metric(
        name=RUNS_ENDED, unit=MetricUnit.Count, value=1, namespace=METRICS_NAMESPACE
    ) as metric:
        metric.add_dimension(name="Status", value=str(state["status"]))
    if state["status"] == "SUCCEEDED" and state.get("tokens"):
        _metric(TRAINED_TOKENS, state["tokens"], MetricUnit.Count)
        if state.get("cost_usd") is not None:
            _metric(ESTIMATED_SPEND, state["cost_usd"], MetricUnit.NoUnit)


def count_job_duration(state: dict[str, Any]) -> None:
    """How long the Bedrock job trained (seconds), for the dashboard."""
    seconds = (state.get("metrics") or {}).get("duration_seconds")
    if seconds is not None and os.environ.get("POWERTOOLS_METRICS_DISABLED") != "true":
        _metric(JOB_DURATION, seconds, MetricUnit.Seconds)


def count_overdue(count: int) -> None:
    """Deployments alive past their end time; 0 too, so that the alarm always has data."""
    if os.environ.get("POWERTOOLS_METRICS_DISABLED") != "true":
        _metric(OVERDUE_DEPLOYMENTS, count, MetricUnit.Count)


def count_orphaned(count: int) -> None:
    """Deployments with this stack's owner tag that no live run owns; 0 too (the alarm's data)."""
    if os.environ.get("POWERTOOLS_METRICS_DISABLED") != "true":
        _metric(ORPHANED_DEPLOYMENTS, count, MetricUnit.Count)


def _metric(name: str, value: float, unit: MetricUnit) -> None:
    with single_metric(name=name, unit=unit, value=value, namespace=METRICS_NAMESPACE):
        pass


# Few SDK retries: the state machine retries with backoff and records each attempt.
SDK_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3}, connect_timeout=10, read_timeout=60
)


@cache
def config() -> PipelineConfig:
    return PipelineConfig.model_validate_json(os.environ["PIPELINE_CONFIG"])


# S3 signs with SigV4, presigned URLs included: a presigned GET of an SSE-KMS object (the
# report page Notify links to) must be SigV4. Source:
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html (read 2026-12-02)
S3_CONFIG = SDK_CONFIG.merge(Config(signature_version="s3v4"))


@cache
def client(service: str) -> Any:
    return boto3.client(service, config=S3_CONFIG if service == "s3" else SDK_CONFIG)


@cache
def artifacts_bucket() -> str:
    """The artifacts bucket of a function given no PIPELINE_CONFIG (the built-in grader)."""
    return os.environ["ARTIFACTS_BUCKET"]


@cache
def registry() -> Registry:
    table = boto3.resource("dynamodb", config=SDK_CONFIG).Table(os.environ["REGISTRY_TABLE"])
    return Registry(table)


_CACHED = (config, client, registry, artifacts_bucket)


def reset() -> None:
    """Forget the settings, clients and registry made so far, as a new container would.

    For tests and the emulator; it clears the factories defined here even while a test
    has swapped one of them for its own.
    """
    for cached in _CACHED:
        cached.cache_clear()


def run_of(event: dict[str, Any]) -> Run:
    """The run document a task receives (alone, or under "run" next to other inputs)."""
    return Run.model_validate(event.get("run", event))
