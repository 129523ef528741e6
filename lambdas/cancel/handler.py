"""Cancel: a stopped execution stops its Bedrock job and records the run CANCELLED.

Invoked by EventBridge on the workflow's "Step Functions Execution Status
Change" events with status ABORTED (``aws stepfunctions stop-execution``, or
the CLI's ``cancel``), TIMED_OUT, or FAILED (the run is then recorded FAILED, if the
workflow could not record its end itself). Its Bedrock job is stopped and a live
deployment deleted in every case; a run already ended is left as it is.
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
    execution_input = json.loads(event["detail"]["input"])
    state = steps.cancel_aborted(
        execution_input,
        bedrock=client("bedrock"),
        registry=registry(),
        sns=client("sns"),
        config=config(),
        timed_out=event["detail"].get("status") == "TIMED_OUT",
        failed_execution=event["detail"].get("status") == "FAILED",
    )
    count_run_ended(state)
    return state
