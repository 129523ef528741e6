"""The built-in RFT grader: Bedrock sends a batch of samples, the function answers their rewards.

Bedrock invokes it by an alias, ``g-<config id>`` (customization_core/grader_alias.py); the
alias names the configuration in ``graders/<config id>.json``, read once per container.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from customization_core.grader_batch import grade_batch
from customization_core.graders import ConfiguredGrader, configure
from customization_core.layout import grader_config_key
from customization_core.type_settings import GRADER_ALIAS_PREFIX
from lambdas.common import artifacts_bucket, client, logger


class UnqualifiedGraderError(ValueError):
    """Invoked without a configuration alias: no grader parameters to use."""


@cache
def grader_of(config_id: str) -> ConfiguredGrader:
    """The configuration an alias names, from the artifacts bucket (cached per container)."""
    body = client("s3").get_object(Bucket=artifacts_bucket(), Key=grader_config_key(config_id))
    document = json.loads(body["Body"].read())
    return configure(str(document["name"]), document.get("params") or {})


def config_id_of(function_arn: str) -> str:
    """The configuration id in the invoked ARN's alias (arn:...:function:NAME:g-<id>)."""
    parts = function_arn.split(":")
    qualifier = parts[7] if len(parts) > 7 else ""
    if not qualifier.startswith(GRADER_ALIAS_PREFIX):
        raise UnqualifiedGraderError(
            f"{function_arn} was invoked without a grader alias ({GRADER_ALIAS_PREFIX}<id>): the "
            "pipeline gives Bedrock the alias of each run's grader configuration; invoke that."
        )
    return qualifier.removeprefix(GRADER_ALIAS_PREFIX)


@logger.inject_lambda_context
def main(event: Any, context: LambdaContext) -> list[dict[str, Any]]:
    grader = grader_of(config_id_of(context.invoked_function_arn))

    def skipped(sample_id: object, why: str) -> None:
        logger.warning("sample not graded (reward 0)", extra={"id": sample_id, "why": why})

    return grade_batch(event, grader, on_skip=skipped)
