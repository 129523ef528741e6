"""SweepDeployments: count deployments that should be gone (the OverdueDeployments alarm).

Invoked by an EventBridge schedule. The workflow deletes each deployment at its
end time, and the failure and cancel paths delete theirs; this is the independent
check that they did, over every run that owns a deployment, whatever its status:
alive past its end time, alive after its run ended, or marked DELETE_FAILED.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from customization_core import deployments
from lambdas.common import config, count_overdue, logger, registry, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def main(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    live = registry().with_live_deployment()
    limit = timedelta(hours=config().workflow_limit_hours)
    late = deployments.overdue(live, workflow_limit=limit)
    count_overdue(len(late))
    if late:
        logger.warning("Deployments that should be gone", extra={"run_ids": late})
    return {"live": len(live), "overdue": late}
