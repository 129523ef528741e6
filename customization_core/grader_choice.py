"""The RFT manifest's ``grader`` block, resolved to what a run records and Bedrock is given."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from customization_core.findings import Finding, Source, error
from customization_core.graders import GraderConfigError, configure
from customization_core.type_settings import GRADER_ALIAS_PREFIX


def grader_choice(
    block: Mapping[str, Any], *, builtin_arn: str | None
) -> tuple[dict[str, Any] | None, list[Finding]]:
    """The grader as a run records it, or the findings that refuse it.

    A built-in grader: {"kind": "builtin", "name", "params", "config_id", "lambda_arn"}, where
    ``lambda_arn`` is the stack's grader function qualified by the configuration's alias
    (None when ``builtin_arn`` is unknown, as in the CLI). An own grader: {"kind": "own",
    "lambda_arn"}; whether it is allowed is ``type_settings.own_grader_problem``'s to say.
    """
    own = block.get("lambdaArn")
    if own:
        return {"kind": "own", "lambda_arn": str(own)}, []
    try:
        grader = configure(str(block.get("name")), block.get("params") or {})
    except GraderConfigError as problem:
        return None, [error(Source.REQUEST, "grader-not-valid", str(problem), field="grader")]
    config_id = grader.config_id()
    return {
        "kind": "builtin",
        "name": grader.name,
        "params": grader.canonical()["params"],
        "config_id": config_id,
        "needs_fields": list(grader.needs_fields()),
        "lambda_arn": (
            f"{builtin_arn}:{GRADER_ALIAS_PREFIX}{config_id}" if builtin_arn is not None else None
        ),
    }, []
