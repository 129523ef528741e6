"""AnswerApproval: judge an answer uploaded to approvals/<run-id>/answer.json, then answer the run.

Invoked asynchronously by the AnswerUploaded EventBridge rule (S3 Object Created in the
datasets bucket). What it checks, records and sends: customization_core/approval.py.
The event and the outcome name the answer's object version, never the task token.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext

from customization_core import approval
from lambdas.common import client, config, logger, registry, tracer


@logger.inject_lambda_context(log_event=True)
@tracer.capture_lambda_handler
def main(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Event (the rule's input): {"bucket", "key", "versionId"}."""
    outcome = approval.answer_approval(
        parse(event=event, model=approval.AnswerUpload),
        s3=client("s3"),
        kms=client("kms"),
        sfn=client("stepfunctions"),
        registry=registry(),
        config=config(),
    )
    # Refusals are also the audit trail of who tried to answer: warnings, with who and why.
    if outcome["outcome"] in ("refused", "ignored"):
        logger.warning("Answer not taken", extra=outcome)
    else:
        logger.info("Answer taken", extra=outcome)
    return outcome
