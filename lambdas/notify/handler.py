"""Notify: tell people how the run ended, once (the registry records that it did)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from customization_core import notify_step
from lambdas.common import client, config, count_run_ended, logger, registry, run_of, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def main(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    state = notify_step.notify(
        run_of(event),
        sns=client("sns"),
        config=config(),
        registry=registry(),
        s3=client("s3"),
    )
    count_run_ended(state)
    return state
