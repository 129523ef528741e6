"""Emulated reinforcement fine-tuning (RFT) jobs: the grader function really grades samples.

Before an RFT job completes, the emulator does what Bedrock does during training: for
each training prompt (the first ``RECORD_CAP``) it makes ``trainingSamplePerPrompt``
responses and asks the job's grader Lambda function, through the emulated Lambda
service and by the ARN the job names (a built-in grader's alias included), for their
rewards, in batches of ``SAMPLES_PER_INVOKE``. The event is Bedrock's: a list of
``{"id", "messages": the record's messages + {"role": "assistant", "content": response},
"metadata": {"reference_answer": ..., the record's other fields}}``, and the answer a list
of ``{"id", "aggregate_reward_score", "metrics_list"}`` (page reward-functions, read
2026-12-02: https://docs.aws.amazon.com/bedrock/latest/userguide/reward-functions.html).
A grader that cannot be invoked, raises, or answers something else fails the job with a
message naming it. The responses stand in for a model that learns: deterministic, the
reference answer itself or reworded for some, a wrong number or another record's answer
for the others, right more often at each later step.

The rewards become the metrics file. AWS documents the metric names of an RFT job
(critic/rewards/mean, max, min and val-score/rewards/mean@1; page rft-submit-job,
"Monitor your RFT training job", read 2026-12-02:
https://docs.aws.amazon.com/bedrock/latest/userguide/rft-submit-job.html) but not the
files it writes them to, so the emulator writes those names into the layout AWS documents
for fine-tuning: ``<output>/training_artifacts/step_wise_training_metrics.csv``, one row
per training step (of at most ``MAX_EPOCHS`` epochs). The validation score is the mean
reward of one response per validation prompt, graded by the same function at every
``evalInterval``-th step and the last; a job without validation data leaves it empty, as
a fine-tuning job without validation data reports no validation loss.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

import boto3
from botocore.exceptions import ClientError

from emulator.iam.hook import FUNCTION_ATTRIBUTE
from emulator.lambda_service import HANDLER_LOCK
from emulator.state import BEDROCK, s3_location

RECORD_CAP: Final = 64  # training (and validation) prompts sampled per job: enough to show
SAMPLES_PER_INVOKE: Final = (
    16  # samples per grader invocation (Bedrock's batch size is undocumented)
)
# "By default, it generates 4 responses per prompt". Source, read 2026-12-02:
# https://docs.aws.amazon.com/bedrock/latest/userguide/reinforcement-fine-tuning.html
DEFAULT_SAMPLES_PER_PROMPT: Final = 4
# No default is documented for these; the values of the page's example request. Source,
# read 2026-12-02: https://docs.aws.amazon.com/bedrock/latest/userguide/rft-submit-job.html
DEFAULT_BATCH_SIZE: Final = 64  # prompts per training step
DEFAULT_EPOCHS: Final = 2
DEFAULT_EVAL_INTERVAL: Final = 10  # training steps
MAX_EPOCHS: Final = 3  # epochs emulated at most (up to 50 may be asked): enough to show
METRICS_FILE: Final = "training_artifacts/step_wise_training_metrics.csv"
COLUMNS: Final = (
    "step_number",
    "epoch_number",
    "critic/rewards/mean",
    "critic/rewards/max",
    "critic/rewards/min",
    "val-score/rewards/mean@1",
)
REFERENCE: Final = "reference_answer"
FIRST_RIGHT, LAST_RIGHT = 0.35, 0.85  # share of right responses at the first and last step


class GraderError(Exception):
    """The grader could not be used: the job fails with this message."""


def refusal(region: str, config: Mapping[str, Any], hyper: Any) -> str | None:
    """Bedrock's ValidationException for an RFT request it refuses, or None."""
    rft = config.get("rftConfig")
    arn = (((rft or {}).get("graderConfig") or {}).get("lambdaGrader") or {}).get("lambdaArn")
    if not arn:
        return (
            "customizationConfig.rftConfig.graderConfig.lambdaGrader.lambdaArn is required for "
            "customization type REINFORCEMENT_FINE_TUNING: name the reward function (emulated)."
        )
    if hyper:
        return (
            "hyperParameters is not supported for customization type "
            "REINFORCEMENT_FINE_TUNING: give them in customizationConfig.rftConfig."
            "hyperParameters (emulated)."
        )
    return None


def complete(job: Any) -> str | None:
    """Grade the job's samples and write its metrics file; why it fails, or None."""
    rft = job.customization_config["rftConfig"]
    arn = str(rft["graderConfig"]["lambdaGrader"]["lambdaArn"])
    hyper = rft.get("hyperParameters") or {}
    training = _records(job.training_data_config)
    validators = (job.validation_data_config or {}).get("validators") or []
    validation = [r for v in validators for r in _records(v)][:RECORD_CAP]
    per_prompt = int(hyper.get("trainingSamplePerPrompt", DEFAULT_SAMPLES_PER_PROMPT))
    batch = int(hyper.get("batchSize", DEFAULT_BATCH_SIZE))
    epochs = min(int(hyper.get("epochCount", DEFAULT_EPOCHS)), MAX_EPOCHS)
    interval = int(hyper.get("evalInterval", DEFAULT_EVAL_INTERVAL))
    if not training:
        uri = job.training_data_config["s3Uri"]
        return f"The training data at {uri} holds no record to sample (emulated)."
    per_epoch = math.ceil(len(training) / batch)
    steps = per_epoch * epochs
    grader = _Grader(job.job_name, arn, job.region_name)
    rows = [",".join(COLUMNS)]
    try:
        for step in range(1, steps + 1):
            start = ((step - 1) % per_epoch) * batch
            prompts = list(enumerate(training))[start : start + batch]
            right = FIRST_RIGHT + (LAST_RIGHT - FIRST_RIGHT) * (step - 1) / max(steps - 1, 1)
            samples = [
                _sample(index, k, record, training, right, step)
                for index, record in prompts
                for k in range(per_prompt)
            ]
            rewards = grader.grade(samples)
            score = ""
            if validation and (step % interval == 0 or step == steps):
                checks = [
                    _sample(i, 0, r, validation, right, step, kind="val")
                    for i, r in enumerate(validation)
                ]
                score = _number(sum(grader.grade(checks)) / len(checks))
            rows.append(
                f"{step},{(step - 1) // per_epoch},{_number(sum(rewards) / len(rewards))},"
                f"{_number(max(rewards))},{_number(min(rewards))},{score}"
            )
    except GraderError as error:
        return str(error)
    bucket, prefix = s3_location(str(job.output_data_config["s3Uri"]))
    BEDROCK.s3.put_object(
        Bucket=bucket, Key=f"{prefix.rstrip('/')}/{METRICS_FILE}", Body="\n".join(rows).encode()
    )
    return None


def _number(value: float) -> str:
    return f"{value:.4f}"


def _records(data_config: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The first RECORD_CAP JSON objects of the JSONL at a config's s3Uri (others skipped)."""
    bucket, key = s3_location(str(data_config.get("s3Uri", "")))
    body = BEDROCK.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    found: list[dict[str, Any]] = []
    for line in body.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # ValidateDataset refused the data before a job was made
        if isinstance(record, dict) and isinstance(record.get("messages"), list):
            found.append(record)
        if len(found) == RECORD_CAP:
            break
    return found


def _sample(
    index: int,
    k: int,
    record: Mapping[str, Any],
    records: Sequence[Mapping[str, Any]],
    right: float,
    step: int,
    *,
    kind: str = "train",
) -> dict[str, Any]:
    """Bedrock's grader event entry for response ``k`` to ``record`` at ``step``."""
    draw = zlib.crc32(f"{kind}:{step}:{index}:{k}".encode()) % 1000 / 1000
    response = _response(record, records, index, k, correct=draw < right)
    metadata = {key: value for key, value in record.items() if key != "messages"}
    return {
        "id": f"{kind}-{step}-{index}-{k}",
        "messages": [*record["messages"], {"role": "assistant", "content": response}],
        "metadata": metadata,
    }


def _response(
    record: Mapping[str, Any],
    records: Sequence[Mapping[str, Any]],
    index: int,
    k: int,
    *,
    correct: bool,
) -> str:
    reference = record.get(REFERENCE)
    text = _text(reference)
    if correct:
        return text if k % 2 == 0 else f"Working it through step by step, the answer is {text}"
    if isinstance(reference, (int, float)) and not isinstance(reference, bool):
        return f"The answer is {_text(reference + 1 + k)}"
    other = _text(records[(index + 1) % len(records)].get(REFERENCE))
    return f"The answer is {other}" if other != text else "I am not sure."


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _batches(samples: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(samples), SAMPLES_PER_INVOKE):
        yield samples[start : start + SAMPLES_PER_INVOKE]


class _Grader:
    """The job's grader function, invoked as Bedrock invokes it."""

    def __init__(self, job_name: str, arn: str, region: str) -> None:
        self.job_name, self.arn = job_name, arn
        with HANDLER_LOCK:  # client creation reads the environment a handler may be setting
            self.client = boto3.client("lambda", region_name=region)
        # Made on the thread of the handler whose poll completes the job: its calls are
        # Bedrock's, as the service role (judged when the job was created), not the handler's.
        if hasattr(self.client, FUNCTION_ATTRIBUTE):
            delattr(self.client, FUNCTION_ATTRIBUTE)

    def _fail(self, what: str) -> GraderError:
        return GraderError(
            f"The reward function {self.arn} {what}. Fix the grader Lambda function, or "
            "choose another grader, and submit the job again (emulated)."
        )

    def grade(self, samples: list[dict[str, Any]]) -> list[float]:
        """The rewards of ``samples``, in their order."""
        rewards: list[float] = []
        for batch in _batches(samples):
            try:
                answer = self.client.invoke(
                    FunctionName=self.arn, Payload=json.dumps(batch).encode()
                )
            except ClientError as error:
                fault = error.response.get("Error", {})
                raise self._fail(
                    f"could not be invoked: {fault.get('Code')}: {fault.get('Message')}"
                ) from None
            payload = answer["Payload"].read().decode("utf-8", "replace")
            if answer.get("FunctionError"):
                raise self._fail(f"returned an error: {_error_of(payload)}")
            BEDROCK.grader_calls.append((self.job_name, self.arn))
            rewards += self._scores(batch, payload)
        return rewards

    def _scores(self, batch: list[dict[str, Any]], payload: str) -> list[float]:
        try:
            answered = json.loads(payload)
        except ValueError:
            raise self._fail(f"answered with something that is not JSON: {payload[:200]}") from None
        if not isinstance(answered, list):
            raise self._fail(
                "answered with something that is not a list of "
                '{"id", "aggregate_reward_score"} objects, one per sample'
            )
        scores: dict[str, float] = {}
        for entry in answered:
            score = entry.get("aggregate_reward_score") if isinstance(entry, dict) else None
            if (
                not isinstance(score, (int, float))
                or isinstance(score, bool)
                or not math.isfinite(score)
            ):
                raise self._fail(
                    f"answered an entry without a numeric aggregate_reward_score: {str(entry)[:200]}"
                )
            scores[str(entry.get("id"))] = float(score)
        missing = [sample["id"] for sample in batch if sample["id"] not in scores]
        if missing:
            raise self._fail(
                f"answered no reward for {len(missing)} of {len(batch)} samples (id {missing[0]})"
            )
        return [scores[sample["id"]] for sample in batch]


def _error_of(payload: str) -> str:
    """A function error as Lambda reports it, without the stack trace: "Type: message"."""
    try:
        error = json.loads(payload)
    except ValueError:
        return payload[:300]
    if not isinstance(error, dict):
        return payload[:300]
    return f"{error.get('errorType', 'Error')}: {str(error.get('errorMessage', ''))[:300]}"
