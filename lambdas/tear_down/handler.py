"""TearDown: delete the deployment at its end time, or because it lost to its base model."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from customization_core import deployment_end
from lambdas.common import client, logger, registry, run_of, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def main(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return deployment_end.tear_down(run_of(event), bedrock=client("bedrock"), registry=registry())
