"""RecordFailure: the catch-all, recording FAILED or REJECTED with the cause.

It takes whatever a Catch hands it: the run document with the error beside it
(ResultPath $.error), or, when ValidateRequest crashed before it returned one, the
raw execution input. ``last`` is true in RecordFailureLastAttempt, the state its
retries end in: it then names what Bedrock would not end instead of raising again.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from customization_core import end_steps
from customization_core.contract import ERROR_FIELD
from customization_core.run import Run
from lambdas.common import client, logger, registry, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def main(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    document = dict(event.get("run", event))
    error = document.pop(ERROR_FIELD, None) or {}
    if "run_id" in document:
        run = Run.model_validate(document)
    else:
        run = end_steps.run_from_execution_input(
            document, str(event.get("executionArn", "")), registry=registry()
        )
    return end_steps.record_failure(
        run,
        error,
        registry=registry(),
        bedrock=client("bedrock"),
        give_up=bool(event.get("last", False)),
    )
