"""Invoking a base or custom model through the API its training data calls for.

Models customized on conversations (Bedrock's conversation schema, Claude's
messages) are asked through Converse: one message shape for every family,
and the model's own chat template applied by Bedrock, as in training ("With
Mistral AI and Meta models, the Converse API embeds your input in a
model-specific prompt template"). Models customized on prompt/completion
pairs or raw text keep InvokeModel with their family's native body, the
shape they were trained on. Claude and Nova have no native body here, so they
always take Converse. Sources:
https://docs.aws.amazon.com/bedrock/latest/userguide/conversation-inference.html
https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-text.html
https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-cohere-command.html
https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-meta.html
https://docs.aws.amazon.com/bedrock/latest/userguide/conversation-inference-call.html
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Final, Literal

from customization_core.catalog import DataFormat, Family, load_catalog

# Model id prefixes by family; region prefixes of inference profiles ("us.") are dropped first.
PREFIXES: Final[tuple[tuple[str, Family], ...]] = (
    ("amazon.titan-", "titan"),
    ("amazon.nova-", "nova"),
    ("cohere.", "cohere"),
    ("meta.llama", "llama"),
    ("anthropic.", "claude"),
)
# Families with no InvokeModel body in request_body: they take Converse whatever they learned.
CONVERSE_FAMILIES: Final[frozenset[Family]] = frozenset({"claude", "nova"})
# Training data formats made of messages: their models are asked in messages too.
CONVERSE_FORMATS: Final[frozenset[DataFormat]] = frozenset(
    {"conversation", "claude-messages", "distillation-prompts", "rft-messages"}
)
Api = Literal["converse", "invoke-model"]
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


def api_for(family: Family, data_format: DataFormat | None = None) -> Api:
    """Converse for a model trained on messages (or with no native body); else InvokeModel.

    ``data_format`` is the catalog's format for the run's customization type
    (``None`` when unknown: the family decides).
    """
    if data_format in CONVERSE_FORMATS or family in CONVERSE_FAMILIES:
        return "converse"
    return "invoke-model"


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
    api: Api | None = None,
) -> Reply:
    """Ask ``model_id`` for a completion through ``api`` (default: the family's, ``api_for``).

    ``model_id``: a base model id, an inference profile id, or a custom model's
    deployment ARN (Provisioned Throughput or custom model deployment).
    """
    started = time.monotonic()
    if (api or api_for(family)) == "converse":
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
