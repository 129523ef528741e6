"""SweepDeployments: count deployments that should be gone, and deployments nobody owns.

Invoked by an EventBridge schedule. The workflow deletes each deployment at its
end time, and the failure and cancel paths delete theirs; this is the independent
check that they did, over every run that owns a deployment, whatever its status:
alive past its end time, alive after its run ended, or marked DELETE_FAILED (the
OverdueDeployments alarm). Then, from Bedrock's side: every Provisioned Throughput
and custom model deployment that carries this stack's owner tag but that no live
run of the registry owns, a run whose record was lost or a crash left behind (the
OrphanedDeployments alarm; customization_core/orphans.py). The overdue count is
published first, so a Bedrock outage does not hide it.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from customization_core import deployment_end, orphans, spend
from lambdas.common import (
    client,
    config,
    count_orphaned,
    count_overdue,
    logger,
    registry,
    tracer,
)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def main(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    live = registry().with_live_deployment()
    limit = timedelta(hours=config().workflow_limit_hours)
    late = deployment_end.overdue(live, workflow_limit=limit)
    count_overdue(len(late))
    if late:
        logger.warning("Deployments that should be gone", extra={"run_ids": late})
    orphaned = orphans.find_orphans(
        client("bedrock"), registry().with_live_deployment, stack_name=config().stack_name
    )
    count_orphaned(len(orphaned))
    if orphaned:
        logger.warning(
            "Deployments with this stack's owner tag that no live run owns",
            extra={
                "orphans": [
                    {**asdict(o), "delete": spend.delete_command(o.kind, o.arn)} for o in orphaned
                ]
            },
        )
    return {"live": len(live), "overdue": late, "orphaned": [o.arn for o in orphaned]}
