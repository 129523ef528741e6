"""Emulated Bedrock Runtime: InvokeModel and Converse for base and custom models.

moto's InvokeModel answers ``{}`` for any body and it has no Converse. Here each
request is checked the way Bedrock checks it (a body without the family's
required field is a ValidationException with Bedrock's wording) and answered
in the family's own response shape, so a client that sends the wrong body or
reads the wrong field fails locally as it would in AWS.

The replies are a stand-in for a model, deterministic and honest about it: a
base model repeats the first line after the instruction it was given; a custom
model, invoked through its deployment (a custom model ARN alone is refused,
as Bedrock refuses it), answers with the completion of the closest prompt in
its own training and validation data (word overlap): a stand-in for a model
that learned the task. Each successful call through a deployment is counted in
CloudWatch as Bedrock counts it (AWS/Bedrock Invocations by ModelId), which the
watch's idle check reads (customization_core/deployment_watch.py).

A base model that answers on demand only through a system-defined inference
profile (catalog ``base_invocation: inference-profile``: Llama 3.2 / 3.3, Nova 2
Lite) is refused by its bare id with Bedrock's ValidationException, and
answers through a profile id (``us.``, ``global.``...) or a profile ARN as
that base model. Profiles: https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-support.html;
the error as Bedrock words it:
https://github.com/aws-samples/sample-well-architected-acceleration-with-generative-ai/issues/8
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import unquote

from moto.bedrock.models import bedrock_backends
from moto.bedrockruntime.models import BedrockRuntimeBackend
from moto.bedrockruntime.responses import BedrockRuntimeResponse
from moto.cloudwatch.models import cloudwatch_backends
from moto.core.responses import ActionResult
from moto.s3.models import s3_backends

from customization_core.catalog import Family, Model, load_catalog
from customization_core.deployment_watch import (
    INVOCATIONS_METRIC,
    INVOCATIONS_NAMESPACE,
    MODEL_DIMENSION,
)
from customization_core.evaluation import read_samples
from customization_core.inference import UnknownFamilyError, family_of
from customization_core.tokens import CHARS_PER_TOKEN, estimate_tokens
from emulator import bedrock_deployments
from emulator.state import BEDROCK, S3_SCHEME, BedrockError, model_folder, s3_location

# What InvokeModel requires in each family's body (the model parameter pages cited in
# customization_core/inference.py).
REQUIRED: Final[dict[Family, tuple[str, ...]]] = {
    "titan": ("inputText",),
    "cohere": ("prompt",),
    "llama": ("prompt",),
    "claude": ("anthropic_version", "messages"),
    "nova": ("messages",),
}
_WORD = re.compile(r"[a-z0-9]+")
# Geography prefixes of system-defined inference profile ids ("us.meta.llama3-3-...").
# Source: https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-support.html
PROFILE_PREFIXES: Final = ("us.", "eu.", "apac.", "global.", "us-gov.", "jp.", "au.", "ca.")


def _is_deployment(model_id: str) -> bool:
    """True for a Provisioned Throughput or custom model deployment ARN."""
    return ":provisioned-model/" in model_id or ":custom-model-deployment/" in model_id


def _bedrock(backend: BedrockRuntimeBackend) -> Any:
    """moto's Bedrock (custom models and jobs) of the runtime backend's account and Region."""
    return bedrock_backends[backend.account_id][backend.region_name]


class _Model:
    """A model as the emulator answers for it."""

    def __init__(self, backend: BedrockRuntimeBackend, model_id: str) -> None:
        model_id = unquote(model_id)  # moto hands over the path segment still percent-encoded
        self.model_id = model_id
        self.examples: list[tuple[str, str]] = []
        self.common: set[str] = set()
        if ":custom-model/" in model_id:
            # As in Bedrock: a custom model answers only through a deployment.
            raise BedrockError(
                "ValidationException",
                f"Invocation of model ID {model_id} with on-demand throughput isn't supported: "
                "use its Provisioned Throughput or custom model deployment.",
            )
        if _is_deployment(model_id):
            model_id = self._served_model(backend, model_id)
        else:
            model_id = _on_demand_base(model_id)
        if ":custom-model/" in model_id:
            bedrock = _bedrock(backend)
            try:
                custom = bedrock.get_custom_model(model_id)
            except Exception:
                raise BedrockError(
                    "ResourceNotFoundException", f"Model {model_id} was not found."
                ) from None
            base = str(custom.base_model_arn).rsplit("/", 1)[1]
            scenario = BEDROCK.scenario(model_folder(bedrock, model_id))
            if scenario.custom_quality == "learned":
                # A stand-in for a model that learned the task: it knows its training data
                # and, to make its lead on held-out records visible, its validation data too,
                # read from where the job read them (a copy in another bucket included).
                self.examples = _examples(backend.account_id, custom.training_data_config)
                for validator in (custom.validation_data_config or {}).get("validators", []):
                    self.examples += _examples(backend.account_id, validator)
            # Words in most prompts (the instruction, speaker tags) say nothing about which is closest.
            counts = Counter(w for p, _ in self.examples for w in set(_WORD.findall(p.lower())))
            self.common = {w for w, n in counts.items() if n > len(self.examples) / 4}
        else:
            base = model_id
        try:
            self.family: Family = family_of(base)
        except UnknownFamilyError:
            raise BedrockError(
                "ValidationException", "The provided model identifier is invalid."
            ) from None

    @staticmethod
    def _served_model(backend: BedrockRuntimeBackend, arn: str) -> str:
        """The custom model a ready deployment serves (invocations are counted per job)."""
        deployment = bedrock_deployments.find(arn)
        if deployment is None:
            raise BedrockError("ResourceNotFoundException", f"{arn} was not found.")
        if not deployment.ready:
            raise BedrockError(
                "ValidationException", f"{arn} is {deployment.status}, not ready for inference."
            )
        bedrock = _bedrock(backend)
        folder = model_folder(bedrock, deployment.model_arn)
        count = BEDROCK.invocations.get(folder, 0) + 1
        BEDROCK.invocations[folder] = count
        if count <= BEDROCK.scenario(folder).invoke_throttle_first:
            raise BedrockError("ThrottlingException", "Too many requests (emulated).")
        return deployment.model_arn

    def _words(self, text: str) -> set[str]:
        return set(_WORD.findall(text.lower())) - self.common

    def reply(self, prompt: str) -> str:
        if not self.examples:
            # A base model that has not learned the task: it repeats the first line of the
            # text after the instruction.
            lines = [line.strip() for line in prompt.splitlines() if line.strip()]
            opening = lines[1] if len(lines) > 1 else (lines[0] if lines else "")
            return " ".join(opening.split()[:25])
        asked = self._words(prompt)
        best = max(self.examples, key=lambda example: len(asked & self._words(example[0])))
        return best[1]


def _profile_only(bare: str) -> Model | None:
    """The catalog model that answers on demand only through a profile, if ``bare`` is one of its ids."""
    for model in load_catalog().models:
        if model.base_invocation != "inference-profile":
            continue
        ids = set(model.model_ids) | {
            _without_geography(p) for p in model.inference_profiles.values()
        }
        if bare in ids:
            return model
    return None


def _without_geography(profile_id: str) -> str:
    for prefix in PROFILE_PREFIXES:
        if profile_id.startswith(prefix):
            return profile_id.removeprefix(prefix)
    return profile_id


def _on_demand_base(model_id: str) -> str:
    """The base model an on-demand call names, checked the way Bedrock checks it.

    A foundation-model id or ARN of a profile-only model is refused; a profile id
    or ARN (``us.meta.llama3-3-70b-instruct-v1:0``) stands for the model behind it.
    """
    tail = model_id.rsplit("/", 1)[-1]  # a foundation-model or inference-profile ARN
    bare = _without_geography(tail)
    if bare == tail and ":inference-profile/" not in model_id:
        if _profile_only(bare) is not None:
            raise BedrockError(
                "ValidationException",
                f"Invocation of model ID {bare} with on-demand throughput isn\u2019t supported. "
                "Retry your request with the ID or ARN of an inference profile that contains "
                "this model.",
            )
        return model_id
    return bare


def _examples(account_id: str, training: dict[str, Any]) -> list[tuple[str, str]]:
    """(prompt, answer) pairs of the data at a config's ``s3Uri`` (any bucket), from local S3."""
    uri = str(training.get("s3Uri", ""))
    bucket, key = s3_location(uri)
    if not uri.startswith(S3_SCHEME) or not key:
        return []
    try:
        stored = s3_backends[account_id]["aws"].get_object(bucket, key)
    except Exception:
        return []
    if stored is None:
        return []
    # The same reading as the evaluation: prompt/completion records and conversations.
    return [
        (sample.prompt, sample.reference)
        for sample in read_samples(bytes(stored.value).splitlines())
        if sample.reference is not None
    ]


def _tokens(text: str, family: Family) -> int:
    return estimate_tokens(text, CHARS_PER_TOKEN[family])


def count_invocation(
    account_id: str, region: str, model_id: str, at: datetime | None = None
) -> None:
    """Bedrock's Invocations data point for one successful call of ``model_id``, at ``at``.

    Put into moto's CloudWatch by the service, as Bedrock publishes it (a caller may not put
    data in an AWS/ namespace): the watch reads it back through GetMetricStatistics, the call
    it makes in AWS. Same namespace, metric and dimension as the watch asks for.
    """
    when = (at or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)  # moto keeps naive UTC
    cloudwatch_backends[account_id][region].put_metric_data(
        INVOCATIONS_NAMESPACE,
        [
            {
                "MetricName": INVOCATIONS_METRIC,
                "Dimensions": [{"Name": MODEL_DIMENSION, "Value": model_id}],
                "Value": 1,
                "Unit": "Count",
                "Timestamp": when,
            }
        ],
    )


def _counted(backend: BedrockRuntimeBackend, model: _Model) -> None:
    """Count a successful call made through a deployment (base models are not the watch's)."""
    if _is_deployment(model.model_id):
        count_invocation(backend.account_id, backend.region_name, model.model_id)


def _invoke_model(self: BedrockRuntimeBackend, payload: Any, model_id: str) -> dict[str, Any]:
    model = _Model(self, model_id)
    missing = [
        key for key in REQUIRED[model.family] if not isinstance(payload, dict) or key not in payload
    ]
    if missing:
        raise BedrockError(
            "ValidationException",
            f"Malformed input request: #: required key [{missing[0]}] not found, please reformat your input and try again.",
        )
    if model.family in ("claude", "nova"):
        prompt = _message_text(payload["messages"])
    else:
        prompt = str(payload["inputText" if model.family == "titan" else "prompt"])
    text = model.reply(prompt)
    _counted(self, model)
    if model.family == "titan":
        return {
            "inputTextTokenCount": _tokens(prompt, "titan"),
            "results": [
                {
                    "tokenCount": _tokens(text, "titan"),
                    "outputText": text,
                    "completionReason": "FINISH",
                }
            ],
        }
    if model.family == "cohere":
        return {"generations": [{"id": "local", "text": text, "finish_reason": "COMPLETE"}]}
    if model.family == "llama":
        return {
            "generation": text,
            "prompt_token_count": _tokens(prompt, "llama"),
            "generation_token_count": _tokens(text, "llama"),
            "stop_reason": "stop",
        }
    if model.family == "claude":
        return {"content": [{"type": "text", "text": text}], "stop_reason": "end_turn"}
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "end_turn",
    }


def _message_text(messages: Any) -> str:
    try:
        return " ".join(
            str(part["text"])
            for part in messages[-1]["content"]
            if isinstance(part, dict) and "text" in part
        )
    except (KeyError, IndexError, TypeError):
        raise BedrockError(
            "ValidationException", "Malformed input request: messages must end with a user message."
        ) from None


def _converse(self: BedrockRuntimeResponse) -> ActionResult:
    model_id = str(self._get_param("modelId"))
    model = _Model(self.bedrockruntime_backend, model_id)
    messages = self._get_param("messages") or []
    prompt = _message_text(messages)
    text = model.reply(prompt)
    _counted(self.bedrockruntime_backend, model)
    return ActionResult(
        {
            "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
            "stopReason": "end_turn",
            "usage": {
                "inputTokens": _tokens(prompt, model.family),
                "outputTokens": _tokens(text, model.family),
                "totalTokens": _tokens(prompt, model.family) + _tokens(text, model.family),
            },
            "metrics": {"latencyMs": 1},
        }
    )


def install(assign: Callable[[Any, str, Any], None] = setattr) -> None:
    """Answer invocations (``assign`` is setattr, or a test's monkeypatch.setattr)."""
    assign(BedrockRuntimeBackend, "invoke_model", _invoke_model)
    assign(BedrockRuntimeResponse, "converse", _converse)
