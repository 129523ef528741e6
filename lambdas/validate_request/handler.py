"""ValidateRequest: claim the run, parse job.json, check it against the catalog and live Bedrock."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext

from customization_core import request_step
from customization_core.run import Source
from lambdas.common import client, config, logger, registry, tracer


@logger.inject_lambda_context(log_event=True)
@tracer.capture_lambda_handler
def main(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Event (the rule's input, with the execution ARN added by the state machine)::

    {"bucket", "key", "versionId", "etag", "time", "executionArn"}
    """
    source = parse(event=event, model=Source)
    return request_step.validate_request(
        source,
        event["executionArn"],
        s3=client("s3"),
        bedrock=client("bedrock"),
        # Lambda sets AWS_REGION: the Region Bedrock is asked about is the stack's own.
        region=os.environ["AWS_REGION"],
        registry=registry(),
        config=config(),
        # An RFT manifest's own grader: its tags decide whether Bedrock may invoke it.
        lambda_client=client("lambda"),
    )
