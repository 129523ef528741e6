"""Request bodies and answers per model family (customization_core/inference.py)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from customization_core.catalog import CustomizationType, load_catalog
from customization_core.inference import (
    UnknownFamilyError,
    api_for,
    family_of,
    invoke,
    parse_body,
    request_body,
)


@pytest.mark.parametrize(
    ("model_id", "family"),
    [
        ("amazon.titan-text-express-v1:0:8k", "titan"),  # a catalog customization id
        ("amazon.titan-text-lite-v1", "titan"),  # the invocable id
        ("arn:aws:bedrock:us-east-1::foundation-model/cohere.command-light-text-v14", "cohere"),
        ("meta.llama3-1-8b-instruct-v1:0", "llama"),
        ("us.amazon.nova-lite-v1:0", "nova"),  # an inference profile
        ("anthropic.claude-3-haiku-20240307-v1:0", "claude"),
    ],
)
def test_the_family_comes_from_the_catalog_or_the_id(model_id: str, family: str) -> None:
    assert family_of(model_id) == family


def test_an_unknown_family_names_the_known_ones() -> None:
    with pytest.raises(UnknownFamilyError, match=r"'acme.rocket-v1' is not a model family .*titan"):
        family_of("acme.rocket-v1")


def test_each_invoke_model_family_gets_its_own_body() -> None:
    assert request_body("titan", "Hi", max_tokens=50, temperature=0.2) == {
        "inputText": "Hi",
        "textGenerationConfig": {"maxTokenCount": 50, "temperature": 0.2},
    }
    assert request_body("cohere", "Hi", max_tokens=50, temperature=0) == {
        "prompt": "Hi",
        "max_tokens": 50,
        "temperature": 0,
    }
    assert request_body("llama", "Hi", max_tokens=50, temperature=0) == {
        "prompt": "Hi",
        "max_gen_len": 50,
        "temperature": 0,
    }
    with pytest.raises(UnknownFamilyError, match="Converse"):
        request_body("nova", "Hi", max_tokens=50, temperature=0)


def test_answers_are_read_from_each_family_shape() -> None:
    titan = parse_body(
        "titan",
        {
            "inputTextTokenCount": 3,
            "results": [{"outputText": "Yo", "tokenCount": 1, "completionReason": "FINISH"}],
        },
        {},
    )
    assert (titan.text, titan.input_tokens, titan.output_tokens) == ("Yo", 3, 1)
    cohere = parse_body(
        "cohere",
        {"generations": [{"text": "Yo", "finish_reason": "COMPLETE"}]},
        {"x-amzn-bedrock-input-token-count": "4", "x-amzn-bedrock-output-token-count": "2"},
    )
    assert (cohere.text, cohere.input_tokens, cohere.output_tokens) == ("Yo", 4, 2)
    llama = parse_body(
        "llama",
        {
            "generation": "Yo",
            "prompt_token_count": 5,
            "generation_token_count": 1,
            "stop_reason": "stop",
        },
        {},
    )
    assert (llama.text, llama.stop_reason) == ("Yo", "stop")


class _Runtime:
    """Records what a Bedrock Runtime client is asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def converse(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("converse", kwargs))
        return {
            "output": {"message": {"role": "assistant", "content": [{"text": "Hello"}]}},
            "usage": {"inputTokens": 2, "outputTokens": 1},
            "metrics": {"latencyMs": 12},
            "stopReason": "end_turn",
        }

    def invoke_model(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("invoke_model", kwargs))
        body = {"generation": "Hello", "prompt_token_count": 2, "generation_token_count": 1}
        return {
            "body": io.BytesIO(json.dumps(body).encode()),
            "ResponseMetadata": {"HTTPHeaders": {}},
        }


def test_claude_and_nova_go_through_converse_the_others_through_invoke_model() -> None:
    runtime = _Runtime()
    reply = invoke(runtime, "amazon.nova-lite-v1:0", "nova", "Hi", max_tokens=10)
    assert (reply.text, reply.latency_ms, reply.output_tokens) == ("Hello", 12, 1)
    assert runtime.calls[0][1]["messages"] == [{"role": "user", "content": [{"text": "Hi"}]}]
    assert runtime.calls[0][1]["inferenceConfig"] == {"maxTokens": 10, "temperature": 0.0}
    reply = invoke(runtime, "meta.llama3-8b-instruct-v1:0", "llama", "Hi", max_tokens=10)
    assert reply.text == "Hello"
    operation, arguments = runtime.calls[1]
    assert operation == "invoke_model"
    assert json.loads(arguments["body"]) == {"prompt": "Hi", "max_gen_len": 10, "temperature": 0.0}


@pytest.mark.parametrize(
    ("model_id", "api"),
    [
        ("meta.llama3-3-70b-instruct-v1:0:128k", "converse"),  # trained on conversations
        ("meta.llama3-1-8b-instruct-v1:0:128k", "invoke-model"),  # prompt/completion pairs
        ("amazon.nova-2-lite-v1:0:256k", "converse"),
        ("anthropic.claude-3-haiku-20240307-v1:0:200k", "converse"),  # Claude's messages
        ("amazon.titan-text-lite-v1:0:4k", "invoke-model"),
        ("cohere.command-light-text-v14:7:4k", "invoke-model"),
    ],
)
def test_the_api_follows_the_training_data_format(model_id: str, api: str) -> None:
    model = load_catalog().find(model_id)
    assert model is not None
    data_format = model.customizations[CustomizationType.FINE_TUNING].data_format
    assert api_for(model.family, data_format) == api


def test_continued_pretraining_keeps_the_native_body_and_unknown_formats_follow_the_family() -> (
    None
):
    assert api_for("titan", "continued-pretraining") == "invoke-model"
    assert api_for("llama") == "invoke-model"
    assert api_for("nova") == "converse"  # no native body for Nova here


def test_a_llama_model_trained_on_conversations_is_asked_through_converse() -> None:
    runtime = _Runtime()
    reply = invoke(
        runtime, "us.meta.llama3-3-70b-instruct-v1:0", "llama", "Hi", max_tokens=10, api="converse"
    )
    assert reply.text == "Hello"
    operation, arguments = runtime.calls[0]
    assert (operation, arguments["modelId"]) == ("converse", "us.meta.llama3-3-70b-instruct-v1:0")
    assert arguments["messages"] == [{"role": "user", "content": [{"text": "Hi"}]}]
    invoke(runtime, "meta.llama3-1-8b-instruct-v1:0", "llama", "Hi", api="invoke-model")
    assert runtime.calls[1][0] == "invoke_model"
