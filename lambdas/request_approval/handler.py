"""RequestApproval: store the task token, encrypted for its run, and ask people to approve.

Invoked with waitForTaskToken; the token is never logged (no log_event) nor returned.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from customization_core import approval_steps
from lambdas.common import client, config, logger, registry, run_of, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def main(event: dict[str, Any], context: LambdaContext) -> None:
    approval_steps.request_approval(
        run_of(event),
        event["taskToken"],
        registry=registry(),
        sns=client("sns"),
        kms=client("kms"),
        config=config(),
    )
