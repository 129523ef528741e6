"""Emulated distillation jobs: the teacher really answers the prompts, through the emulated runtime.

Before a distillation job completes, the emulator does what Bedrock does first: each
prompt of the training data without an assistant turn (the first ``PROMPT_CAP``) is
sent to the teacher, by the identifier the job names (a model id, or a cross-Region
inference profile), through the same code as an InvokeModel call of that teacher
(emulator/bedrock_runtime.py ``_invoke_model``, in-process), asking for at most
``maxResponseLengthForInference`` tokens. Labelled records (an assistant turn last) are
kept as they are: "Amazon Bedrock can use these pairs as golden examples" (page
model-distillation, read 2026-12-02:
https://docs.aws.amazon.com/bedrock/latest/userguide/model-distillation.html).
A teacher the runtime refuses fails the job with the runtime's message.

The synthetic data is written to ``<output>/distillation_artifacts/synthetic_data.jsonl``,
one ``bedrock-conversation-2024`` record per answered prompt with the teacher's answer as
its last turn: a layout of the emulator's own, since AWS documents no name for what a
distillation job writes to its output prefix. The student's training metrics are then
written as for fine-tuning (emulator/bedrock_jobs.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from moto.bedrockruntime.models import bedrockruntime_backends

from customization_core.inference import UnknownFamilyError, family_of
from emulator import account
from emulator.bedrock_runtime import PROFILE_PREFIXES, _invoke_model
from emulator.state import BEDROCK, BedrockError, s3_location

PROMPT_CAP: Final = 64  # prompts the teacher answers per job: enough to show
SYNTHETIC_DATA: Final = "distillation_artifacts/synthetic_data.jsonl"
SCHEMA: Final = "bedrock-conversation-2024"
# Asked of the teacher when the job gives no maxResponseLengthForInference; AWS documents
# no default (the API has no range): the value of AWS's sample request. Source, read
# 2026-12-02: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_TeacherModelConfig.html
DEFAULT_RESPONSE_TOKENS: Final = 1000


def teacher_of(config: Mapping[str, Any]) -> Mapping[str, Any]:
    """The request's teacherModelConfig ({} when it has none)."""
    distillation = config.get("distillationConfig") or {}
    return distillation.get("teacherModelConfig") or {}


def refusal(region: str, config: Mapping[str, Any], hyper: Any) -> str | None:
    """Bedrock's ValidationException for a distillation request it refuses, or None."""
    teacher = str(teacher_of(config).get("teacherModelIdentifier") or "")
    if not teacher:
        return (
            "customizationConfig.distillationConfig.teacherModelConfig.teacherModelIdentifier "
            "is required for customization type DISTILLATION: name the teacher model (emulated)."
        )
    bare = teacher.rsplit("/", 1)[-1]
    for prefix in PROFILE_PREFIXES:
        bare = bare.removeprefix(prefix)
    if account.find(region, bare) is None:
        return f"The provided teacher model identifier is invalid: {teacher} (emulated, {region})."
    return None


def complete(job: Any) -> str | None:
    """Ask the teacher for every unlabelled prompt and write the synthetic data; why it fails."""
    teacher = teacher_of(job.customization_config)
    model = str(teacher["teacherModelIdentifier"])
    tokens = int(teacher.get("maxResponseLengthForInference") or DEFAULT_RESPONSE_TOKENS)
    runtime = bedrockruntime_backends[job.account_id][job.region_name]
    bucket, key = s3_location(str(job.training_data_config["s3Uri"]))
    body = BEDROCK.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    written: list[str] = []
    for line in body.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # ValidateDataset refused the data before a job was made
        messages = record.get("messages") if isinstance(record, dict) else None
        if not isinstance(messages, list) or not messages or messages[-1].get("role") != "user":
            continue  # a labelled pair (or no prompt): nothing for the teacher to answer
        try:
            answer = _ask(runtime, model, record, tokens)
        except (BedrockError, UnknownFamilyError) as error:
            return (
                f"The teacher model {model} could not be invoked: {error} Choose a teacher "
                "this account offers in the job's Region (emulated)."
            )
        BEDROCK.teacher_calls.append((job.job_name, model))
        made = {
            "schemaVersion": SCHEMA,
            **({"system": record["system"]} if record.get("system") else {}),
            "messages": [*messages, {"role": "assistant", "content": [{"text": answer}]}],
        }
        written.append(json.dumps(made))
        if len(written) == PROMPT_CAP:
            break
    out_bucket, prefix = s3_location(str(job.output_data_config["s3Uri"]))
    BEDROCK.s3.put_object(
        Bucket=out_bucket,
        Key=f"{prefix.rstrip('/')}/{SYNTHETIC_DATA}",
        Body=("\n".join(written) + "\n").encode() if written else b"",
    )
    return None


def _ask(runtime: Any, model: str, record: Mapping[str, Any], tokens: int) -> str:
    """The teacher's answer to a record's conversation, in its family's request shape."""
    family = family_of(model)
    messages = record["messages"]
    if family == "nova":
        payload: dict[str, Any] = {
            "messages": messages,
            "inferenceConfig": {"maxTokens": tokens},
            **({"system": record["system"]} if record.get("system") else {}),
        }
        answered = _invoke_model(runtime, payload, model)
        return str(answered["output"]["message"]["content"][0]["text"])
    # Llama teachers: one user prompt ("Meta Llama models support only single-turn").
    prompt = " ".join(
        str(part.get("text", "")) for part in messages[-1]["content"] if isinstance(part, dict)
    )
    answered = _invoke_model(runtime, {"prompt": prompt, "max_gen_len": tokens}, model)
    return str(answered.get("generation", ""))
