"""Cancel: an execution that stopped, timed out or failed ends its run.

Invoked by the EndRun state machine with the "Step Functions Execution Status
Change" event (status ABORTED: ``aws stepfunctions stop-execution`` or the CLI's
``cancel``; TIMED_OUT; or FAILED, when the workflow could not record the run's end
itself), and ``last`` in its last attempt. Its Bedrock job is stopped and a live deployment
deleted in every case; the run is recorded and notified; a run already ended is
left as it is. EndRun retries it; on the last attempt it names what Bedrock would
not end instead of raising again.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from customization_core import steps
from lambdas.common import client, config, count_run_ended, logger, registry, tracer


@logger.inject_lambda_context(log_event=True)
@tracer.capture_lambda_handler
def main(event: dict[str, Any], context: LambdaContext) -> dict[str, Any] | None:
    # From EndRun: {"event": <status change>, "last": bool}; directly: the event itself.
    change = event.get("event", event)
    detail = change["detail"]
    state = steps.cancel_aborted(
        json.loads(detail["input"]),
        bedrock=client("bedrock"),
        registry=registry(),
        sns=client("sns"),
        config=config(),
        timed_out=detail.get("status") == "TIMED_OUT",
        failed_execution=detail.get("status") == "FAILED",
        execution_arn=detail.get("executionArn"),
        give_up=bool(event.get("last", True)),
    )
    count_run_ended(state)
    return state
