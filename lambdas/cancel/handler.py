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

from typing import Any

from aws_lambda_powertools.utilities.parser import BaseModel, Field, parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Json

from customization_core import end_steps
from lambdas.common import client, config, count_run_ended, logger, registry, tracer


class ExecutionStatusChange(BaseModel):
    """The detail of a status change event, as Step Functions sends it. Source:
    https://docs.aws.amazon.com/step-functions/latest/dg/eventbridge-integration.html
    """

    execution_arn: str = Field(alias="executionArn")
    status: str
    # The execution's input (the trigger rule's {bucket, key, versionId, ...}), as JSON text.
    input: Json[dict[str, Any]]


class StatusChangeEvent(EventBridgeModel):
    detail: ExecutionStatusChange


@logger.inject_lambda_context(log_event=True)
@tracer.capture_lambda_handler
def main(event: dict[str, Any], context: LambdaContext) -> dict[str, Any] | None:
    # From EndRun: {"event": <status change>, "last": bool}; directly: the event itself.
    change = parse(event=event.get("event", event), model=StatusChangeEvent).detail
    state = end_steps.cancel_aborted(
        change.input,
        bedrock=client("bedrock"),
        registry=registry(),
        sns=client("sns"),
        config=config(),
        s3=client("s3"),
        timed_out=change.status == "TIMED_OUT",
        failed_execution=change.status == "FAILED",
        execution_arn=change.execution_arn,
        give_up=bool(event.get("last", True)),
    )
    count_run_ended(state)
    return state
