"""SweepDeployments: count deployments alive past their end time (the OverdueDeployments alarm).

Invoked by an EventBridge schedule. The workflow deletes each deployment at
its end time; this is the independent check that it did, for the alarm.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from customization_core import deployments
from customization_core.run import Status
from lambdas.common import count_overdue, logger, registry, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def main(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    live = registry().by_status(Status.DEPLOYED)
    late = deployments.overdue(live)
    count_overdue(len(late))
    if late:
        logger.warning("Deployments past their end time", extra={"run_ids": late})
    return {"deployed": len(live), "overdue": late}
