"""Invoking a base or custom model with the request body its family needs.

Titan, Cohere and Llama take InvokeModel with their own native bodies; Claude
and Nova take the Converse API (one message shape for both). Sources:
https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-text.html
https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-cohere-command.html
https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-meta.html
https://docs.aws.amazon.com/bedrock/latest/userguide/conversation-inference-call.html
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Final

from customization_core.catalog import Family, load_catalog

# Model id prefixes by family; region prefixes of inference profiles ("us.") are dropped first.
PREFIXES: Final[tuple[tuple[str, Family], ...]] = (
    ("amazon.titan-", "titan"),
    ("amazon.nova-", "nova"),
    ("cohere.", "cohere"),
    ("meta.llama", "llama"),
    ("anthropic.", "claude"),
)
CONVERSE_FAMILIES: Final[frozenset[Family]] = frozenset({"claude", "nova"})
# Response headers Bedrock sets on every InvokeModel answer.
INPUT_TOKENS_HEADER: Final = "x-amzn-bedrock-input-token-count"
OUTPUT_TOKENS_HEADER: Final = "x-amzn-bedrock-output-token-count"


class UnknownFamilyError(ValueError):
    """No request body is known for this model id."""


@dataclass(frozen=True)
class Reply:
    text: str
    input_tokens: int | None
    output_tokens: int | None
    latency_ms: int
    stop_reason: str | None


def family_of(model_id: str) -> Family:
    """The family of a base model id (catalog customization ids and invocable ids alike)."""
    found = load_catalog().find(model_id)
    if found is not None:
        return found.family
    bare = model_id.rsplit("/", 1)[-1]  # a foundation-model ARN
    for region_prefix in ("us.", "eu.", "apac.", "global."):
        bare = bare.removeprefix(region_prefix)
    for prefix, family in PREFIXES:
        if bare.startswith(prefix):
            return family
    known = ", ".join(prefix.rstrip(".-") for prefix, _ in PREFIXES)
    raise UnknownFamilyError(
        f"{model_id!r} is not a model family this tool can invoke (known: {known})."
    )


def request_body(
    family: Family, prompt: str, *, max_tokens: int, temperature: float
) -> dict[str, Any]:
    """The InvokeModel body for ``family`` (Claude and Nova go through Converse instead)."""
    if family == "titan":
        return {
            "inputText": prompt,
            "textGenerationConfig": {"maxTokenCount": max_tokens, "temperature": temperature},
        }
    if family == "cohere":
        return {"prompt": prompt, "max_tokens": max_tokens, "temperature": temperature}
    if family == "llama":
        return {"prompt": prompt, "max_gen_len": max_tokens, "temperature": temperature}
    raise UnknownFamilyError(f"{family} models are invoked through Converse, not InvokeModel.")


def parse_body(family: Family, body: dict[str, Any], headers: dict[str, str]) -> Reply:
    """The text, token counts and stop reason of an InvokeModel answer (latency filled later)."""
    header_in, header_out = headers.get(INPUT_TOKENS_HEADER), headers.get(OUTPUT_TOKENS_HEADER)
    if family == "titan":
        result = body["results"][0]
        return Reply(
            text=result["outputText"],
            input_tokens=body.get("inputTextTokenCount"),
            output_tokens=result.get("tokenCount"),
            latency_ms=0,
            stop_reason=result.get("completionReason"),
        )
    if family == "cohere":
        generation = body["generations"][0]
        return Reply(
            text=generation["text"],
            input_tokens=int(header_in) if header_in else None,
            output_tokens=int(header_out) if header_out else None,
            latency_ms=0,
            stop_reason=generation.get("finish_reason"),
        )
    return Reply(
        text=body["generation"],
        input_tokens=body.get("prompt_token_count"),
        output_tokens=body.get("generation_token_count"),
        latency_ms=0,
        stop_reason=body.get("stop_reason"),
    )


def invoke(
    runtime: Any,
    model_id: str,
    family: Family,
    prompt: str,
    *,
    max_tokens: int = 256,
    temperature: float = 0.0,
) -> Reply:
    """Ask ``model_id`` (a base model id, or a custom model's deployment) for a completion."""
    started = time.monotonic()
    if family in CONVERSE_FAMILIES:
        answer = runtime.converse(
            modelId=model_id,
            messages=[{"role": "user", "content": [{"text": prompt}]}],
            inferenceConfig={"maxTokens": max_tokens, "temperature": temperature},
        )
        usage = answer.get("usage", {})
        texts = [part["text"] for part in answer["output"]["message"]["content"] if "text" in part]
        return Reply(
            text="".join(texts),
            input_tokens=usage.get("inputTokens"),
            output_tokens=usage.get("outputTokens"),
            latency_ms=int(
                answer.get("metrics", {}).get("latencyMs") or (time.monotonic() - started) * 1000
            ),
            stop_reason=answer.get("stopReason"),
        )
    answer = runtime.invoke_model(
        modelId=model_id,
        body=json.dumps(
            request_body(family, prompt, max_tokens=max_tokens, temperature=temperature)
        ),
        contentType="application/json",
        accept="application/json",
    )
    headers = answer.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    parsed = parse_body(family, json.loads(answer["body"].read()), headers)
    return Reply(
        text=parsed.text,
        input_tokens=parsed.input_tokens,
        output_tokens=parsed.output_tokens,
        latency_ms=int((time.monotonic() - started) * 1000),
        stop_reason=parsed.stop_reason,
    )
