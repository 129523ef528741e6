"""Evaluate: the base and the custom model on the same held-out records, scored and judged."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from customization_core import evaluate_step
from lambdas.common import client, config, logger, registry, run_of, tracer


def _region() -> str:
    """The Region this function runs (and calls Bedrock Runtime) in.

    Lambda sets AWS_REGION and AWS_DEFAULT_REGION in every function's environment
    (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime);
    a local runner that sets only the latter is read the same way.
    """
    return os.environ.get("AWS_REGION") or os.environ["AWS_DEFAULT_REGION"]


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def main(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return evaluate_step.evaluate(
        run_of(event),
        s3=client("s3"),
        runtime=client("bedrock-runtime"),
        registry=registry(),
        config=config(),
        remaining_ms=context.get_remaining_time_in_millis,
        region=_region(),
    )
