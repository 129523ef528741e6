"""RecordFailure: the catch-all, recording FAILED or REJECTED with the cause."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from customization_core import steps
from lambdas.common import client, logger, registry, run_of, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def main(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # A Catch puts the error next to the run's fields (ResultPath $.error).
    error = event.pop("error", None) or {}
    return steps.record_failure(
        run_of(event), error, registry=registry(), bedrock=client("bedrock")
    )
