"""What the emulator's modules share: the emulated account, each run's scenario and the Bedrock log.

A scenario (``Scenario``) is set per job folder (``jobs/<name>/``). Which folder
a job or custom model follows is read from the ``dataset-key`` lineage tag
StartJob puts on the job and its custom model (the manifest's key,
``jobs/<name>/job.json``), not from the training data's S3 URI: StartJob may
give Bedrock a copy of the data elsewhere (``runs/<run-id>/input/...`` in the
artifacts bucket). A job without the tag falls back to its training URI's folder.
Every emulated Bedrock call is recorded in ``BEDROCK``, for tests and the demo.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from moto.core.exceptions import JsonRESTError

from customization_core.layout import NotAJobManifestError, job_folder
from customization_core.naming import TAG_PREFIX

ACCOUNT: Final = "123456789012"  # moto's default account
REGION: Final = "us-east-1"
DATASET_KEY_TAG: Final = f"{TAG_PREFIX}dataset-key"
S3_SCHEME: Final = "s3://"


class BedrockError(JsonRESTError):
    """An error an emulated Bedrock or Bedrock Runtime operation answers with (code, message)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)


@dataclass
class Scenario:
    """How Bedrock behaves for one run (by job folder)."""

    polls_until_done: int = 2
    outcome: str = "Completed"  # or "Failed"
    failure_message: str = "Data download failed: check the training data's S3 location."
    throttle_first: int = 0  # the first N creates raise ThrottlingException
    quota_first: int = 0  # then the next N raise ServiceQuotaExceededException
    training_loss: float = 0.42
    validation_loss: float = 0.51  # the last epoch's (what GetModelCustomizationJob reports)
    # The epoch (1-based) after which validation loss rises while training loss keeps
    # falling (overfitting, for the report's diagnosis); None: both fall to the end.
    overfit_after_epoch: int | None = None
    steps_per_epoch: int = 8  # rows per epoch in step_wise_training_metrics.csv
    # After training (emulator/bedrock_deployments.py, emulator/bedrock_runtime.py):
    model_creating_polls: int = 0  # GetCustomModel says Creating this many times first
    model_outcome: str = "Active"  # then this: "Active", or "Failed" (a model that cannot be used)
    deployment_polls: int = 2  # a deployment is Creating until this many Gets
    deployment_outcome: str = "ready"  # or "Failed"
    custom_quality: str = "learned"  # "learned": answers from its data; "base": like its base
    invoke_throttle_first: int = 0  # the first N invocations of the custom model are throttled


@dataclass
class BedrockLog:
    calls: list[tuple[str, str]] = field(default_factory=list)  # (operation, job name)
    scenarios: dict[str, Scenario] = field(default_factory=dict)  # job folder -> scenario
    polls: dict[str, int] = field(default_factory=dict)
    creates: dict[str, int] = field(default_factory=dict)  # job folder -> create attempts
    s3: Any = None  # the emulator's S3 client, to write metrics files
    # ARN -> bedrock_deployments.Deployment
    deployments: dict[str, Any] = field(default_factory=dict)
    model_polls: dict[str, int] = field(default_factory=dict)  # model ARN -> GetCustomModel calls
    invocations: dict[str, int] = field(default_factory=dict)  # job folder -> custom invocations
    denied_jobs: dict[str, str] = field(default_factory=dict)  # job -> the service role's denial
    # What distillation and RFT jobs invoke as their service role (emulator/distillation_jobs.py,
    # emulator/rft_jobs.py): (job name, teacher model id) per prompt, (job name, grader ARN)
    # per batch of samples the grader function answered.
    teacher_calls: list[tuple[str, str]] = field(default_factory=list)
    grader_calls: list[tuple[str, str]] = field(default_factory=list)

    def scenario(self, folder: str) -> Scenario:
        return self.scenarios.get(folder, Scenario())

    def reset(self) -> None:
        for kept in (
            self.calls,
            self.scenarios,
            self.polls,
            self.creates,
            self.deployments,
            self.model_polls,
            self.invocations,
            self.denied_jobs,
            self.teacher_calls,
            self.grader_calls,
        ):
            kept.clear()

    def count(self, operation: str) -> int:
        return sum(1 for name, _ in self.calls if name == operation)


BEDROCK = BedrockLog()


def s3_location(uri: str) -> tuple[str, str]:
    """(bucket, key) of ``s3://bucket/key``; the key is "" when the URI names no object."""
    bucket, _, key = uri.removeprefix(S3_SCHEME).partition("/")
    return bucket, key


def uri_folder(data_config: Mapping[str, Any] | None) -> str:
    """The folder of a data config's ``s3Uri`` ("" for none): ``s3://b/jobs/a/t.jsonl`` -> ``jobs/a/``."""
    _, key = s3_location(str((data_config or {}).get("s3Uri", "")))
    return key.rsplit("/", 1)[0] + "/" if key else ""


def folder(tags: Iterable[Mapping[str, str]] | None, training: Mapping[str, Any] | None) -> str:
    """The job folder of the ``dataset-key`` tag (a {key, value} list), else of the training URI."""
    for tag in tags or ():
        if tag.get("key") == DATASET_KEY_TAG:
            try:
                return job_folder(tag.get("value", ""))
            except NotAJobManifestError:
                break  # not a manifest key: the training data's folder
    return uri_folder(training)


def job_folder_of(job: Any) -> str:
    """A moto ModelCustomizationJob's folder."""
    return folder(job.job_tags or job.custom_model_tags, job.training_data_config)


def model_folder(backend: Any, model_identifier: str) -> str:
    """A custom model's folder (by ARN or name), from its tags or its job's."""
    model = backend.get_custom_model(model_identifier)
    job = backend.model_customization_jobs.get(model.job_name)
    tags = (job.custom_model_tags or job.job_tags) if job is not None else None
    return folder(tags, model.training_data_config)


def base_model_of(backend: Any, custom_model_arn: str) -> str | None:
    """The foundation-model ARN a custom model (by ARN) was trained from; None for no such model."""
    for model in backend.custom_models.values():
        if model.model_arn == custom_model_arn:
            return str(model.base_model_arn)
    return None
