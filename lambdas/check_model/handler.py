"""CheckModel: one poll of the custom model, until it is Active and can be deployed."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from customization_core import deployments
from lambdas.common import client, config, logger, run_of, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def main(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return deployments.check_model(run_of(event), bedrock=client("bedrock"), config=config())
