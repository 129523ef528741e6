"""StartJob: create the Bedrock customization job in the VPC with the model key."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from customization_core import job_steps
from lambdas.common import client, config, logger, registry, run_of, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def main(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return job_steps.start_job(
        run_of(event),
        bedrock=client("bedrock"),
        registry=registry(),
        config=config(),
        s3=client("s3"),
        lambda_client=client("lambda"),
    )
