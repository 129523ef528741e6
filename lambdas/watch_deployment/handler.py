"""WatchDeployment: keep the deployment, wait for its idle check, notice or end time, or tear it down."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from customization_core import deployment_watch
from lambdas.common import client, config, logger, registry, run_of, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def main(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return deployment_watch.watch(
        run_of(event),
        registry=registry(),
        sns=client("sns"),
        cloudwatch=client("cloudwatch"),
        config=config(),
    )
