"""EstimateCost: hold a run over the approval threshold; refuse one over its budget."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from customization_core import approval_steps
from lambdas.common import config, logger, registry, run_of, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def main(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return approval_steps.estimate_cost(run_of(event), registry=registry(), config=config())
