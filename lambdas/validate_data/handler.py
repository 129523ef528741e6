"""ValidateDataset: stream the pinned dataset versions through the validator."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from customization_core import dataset_step
from lambdas.common import client, config, logger, registry, run_of, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def main(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dataset_step.validate_data(
        run_of(event), s3=client("s3"), registry=registry(), config=config()
    )
