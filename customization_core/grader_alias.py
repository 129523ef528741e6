"""A built-in grader's configuration, where its function finds it: an alias and an S3 object.

Bedrock's grader event carries the samples and nothing of the job (page reward-functions,
read 2026-12-02), so a built-in grader cannot be told its parameters by the event. Each
configuration instead gets an alias of the stack's grader function, ``g-<config id>``
(the first 12 hex of the sha256 of its canonical JSON), and the object
``graders/<config id>.json`` in the artifacts bucket; Bedrock is given the alias ARN and
the function reads its qualifier (lambdas/grader/handler.py). Both are content-addressed:
two runs with the same grader share them, and making them again changes nothing.
An alias costs nothing; they are kept, so that a grader a past job used still answers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from customization_core.faults import error_code, reraise_bedrock
from customization_core.layout import grader_config_key
from customization_core.type_settings import GRADER_ALIAS_PREFIX


def publish_grader(grader: Mapping[str, Any], *, s3: Any, lambda_client: Any, bucket: str) -> None:
    """Write the configuration and make sure its alias exists (idempotent)."""
    config_id = str(grader["config_id"])
    s3.put_object(
        Bucket=bucket,
        Key=grader_config_key(config_id),
        Body=json.dumps(
            {"name": grader["name"], "params": grader["params"]}, sort_keys=True
        ).encode(),
        ContentType="application/json",
    )
    function = ":".join(str(grader["lambda_arn"]).split(":")[:7])
    try:
        lambda_client.create_alias(
            FunctionName=function,
            Name=f"{GRADER_ALIAS_PREFIX}{config_id}",
            # $LATEST: the grader is the stack's own code, updated with the stack.
            FunctionVersion="$LATEST",
            Description=f"Built-in grader {grader['name']}, configuration {config_id}",
        )
    except Exception as fault:
        if error_code(fault) == "ResourceConflictException":
            return  # made by an earlier run with the same grader
        reraise_bedrock(fault)
        raise
