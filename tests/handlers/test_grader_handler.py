"""The built-in grader function: its alias names the configuration it reads from S3, once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, cast

import pytest

from customization_core.graders import configure
from customization_core.layout import grader_config_key
from lambdas import common
from lambdas.grader import handler
from tests.handlers.conftest import ACCOUNT, ARTIFACTS, REGION, Aws, Context

FUNCTION = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:grader"
SAMPLES = [
    {
        "id": "1",
        "messages": [
            {"role": "user", "content": "2 + 2?"},
            {"role": "assistant", "content": "4"},
        ],
        "metadata": {"reference_answer": "4"},
    },
    {"id": "2", "messages": [{"role": "assistant", "content": "5"}], "reference_answer": 4},
    {"id": "3", "messages": [{"role": "assistant", "content": "5"}]},  # no reference
]


@pytest.fixture
def grader_env(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    monkeypatch.setenv("ARTIFACTS_BUCKET", ARTIFACTS)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    common.reset()
    handler.grader_of.cache_clear()
    yield aws
    handler.grader_of.cache_clear()
    common.reset()


def _invoke(event: object, arn: str) -> Any:
    """The handler as Lambda calls it, by the ARN Bedrock was given."""
    context = Context(function_name="grader", invoked_function_arn=arn)
    return handler.main(event, cast(Any, context))


def _publish(aws: Aws, name: str, params: dict[str, object]) -> str:
    grader = configure(name, params)
    aws.s3.put_object(
        Bucket=ARTIFACTS,
        Key=grader_config_key(grader.config_id()),
        Body=json.dumps(grader.canonical()).encode(),
    )
    return grader.config_id()


def test_the_alias_picks_the_configuration_and_every_sample_is_answered(grader_env: Aws) -> None:
    # Given a numeric grader's configuration published under its id
    config_id = _publish(grader_env, "numeric", {"tolerance": 0.5})
    alias = f"{FUNCTION}:g-{config_id}"
    # When Bedrock invokes the alias with three samples, one lacking its reference
    answers = _invoke(SAMPLES, alias)
    # Then each is answered by id; the unreadable one scores 0 instead of failing the batch
    assert [(a["id"], a["aggregate_reward_score"]) for a in answers] == [
        ("1", 1.0),
        ("2", 0.0),
        ("3", 0.0),
    ]
    assert answers[0]["metrics_list"] == [{"name": "numeric", "value": 1.0, "type": "Reward"}]


def test_the_configuration_is_read_once_per_container(grader_env: Aws) -> None:
    config_id = _publish(grader_env, "exact", {})
    alias = f"{FUNCTION}:g-{config_id}"
    _invoke(SAMPLES[:1], alias)
    # Deleting the object changes nothing for a warm container
    grader_env.s3.delete_object(Bucket=ARTIFACTS, Key=grader_config_key(config_id))
    assert _invoke(SAMPLES[:1], alias)[0]["aggregate_reward_score"] == 1.0


@pytest.mark.parametrize("arn", [FUNCTION, f"{FUNCTION}:$LATEST", f"{FUNCTION}:7"])
def test_an_invocation_without_a_grader_alias_is_refused(grader_env: Aws, arn: str) -> None:
    with pytest.raises(handler.UnqualifiedGraderError, match="g-"):
        _invoke(SAMPLES, arn)


def test_an_event_that_is_not_a_list_is_a_clear_error(grader_env: Aws) -> None:
    config_id = _publish(grader_env, "exact", {})
    alias = f"{FUNCTION}:g-{config_id}"
    with pytest.raises(ValueError, match="list of samples"):
        _invoke({"not": "samples"}, alias)
