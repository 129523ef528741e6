"""RecordResult: record the custom model and its training metrics."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from customization_core import job_steps
from lambdas.common import client, config, count_job_duration, logger, registry, run_of, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def main(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    state = job_steps.record_result(
        run_of(event),
        bedrock=client("bedrock"),
        s3=client("s3"),
        registry=registry(),
        config=config(),
    )
    count_job_duration(state)
    return state
