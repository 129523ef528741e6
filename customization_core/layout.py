"""Where everything lives in the two buckets: the one place that names a key or a prefix.

Datasets bucket: ``jobs/<name>/job.json`` starts a run, beside its data and media;
``approvals/<run-id>/answer.json`` answers a run waiting for approval.
Artifacts bucket: ``runs/<run-id>/`` holds what a run writes (its validation report,
evaluation, input copy and Bedrock's output). The handlers build keys with these
functions, and the stacks build their IAM and bucket policies from the same constants.
"""

from __future__ import annotations

from typing import Final

JOBS_PREFIX: Final = "jobs/"
MANIFEST_NAME: Final = "job.json"
APPROVALS_PREFIX: Final = "approvals/"
ANSWER_NAME: Final = "answer.json"

RUNS_PREFIX: Final = "runs/"
INPUT_FOLDER: Final = "input/"  # runs/<run-id>/input/: what the Bedrock role may read
OUTPUT_FOLDER: Final = "output/"  # runs/<run-id>/output/: what Bedrock writes
MEDIA_FOLDER: Final = "media/"  # runs/<run-id>/input/media/<source key>
TRAINING_FOLDER: Final = "training/"
VALIDATION_FOLDER: Final = "validation/"
VALIDATION_REPORT_NAME: Final = "validation-report.json"
EVALUATION_NAME: Final = "evaluation.json"
EVALUATION_PARTIAL_NAME: Final = "evaluation-partial.json"
REPORT_PAGE_NAME: Final = "report.html"  # the run's page (customization_core/report_publish.py)
DATASET_CARD_NAME: Final = "dataset-card.json"
# graders/<config id>.json: a built-in grader's configuration (customization_core/grader_alias.py).
GRADERS_PREFIX: Final = "graders/"

# IAM resource patterns (the part after ``arn:aws:s3:::<bucket>/``).
MANIFESTS: Final = f"{JOBS_PREFIX}*/{MANIFEST_NAME}"
ANSWERS: Final = f"{APPROVALS_PREFIX}*"
RUN_INPUTS: Final = f"{RUNS_PREFIX}*/{INPUT_FOLDER}*"
RUN_OUTPUTS: Final = f"{RUNS_PREFIX}*/{OUTPUT_FOLDER}*"
JOB_FILES: Final = f"{JOBS_PREFIX}*"  # everything people upload for their jobs
RUN_FILES: Final = f"{RUNS_PREFIX}*"  # everything runs write
RUN_REPORT_PAGES: Final = f"{RUNS_PREFIX}*/{REPORT_PAGE_NAME}"  # what the report writers put
# What a report page is drawn from (customization_core/report_publish.py), and nothing more:
# the run's documents, and the metrics CSVs Bedrock writes.
RUN_DOCUMENTS: Final = (
    f"{RUNS_PREFIX}*/{VALIDATION_REPORT_NAME}",
    f"{RUNS_PREFIX}*/{DATASET_CARD_NAME}",
    f"{RUNS_PREFIX}*/{EVALUATION_NAME}",
)
REPORT_READS: Final = (*RUN_DOCUMENTS, f"{RUNS_PREFIX}*/{OUTPUT_FOLDER}*.csv")
# The s3:prefix values a page's writer may list: each document's own key (to learn whether
# it exists before reading it) and the output folder (to find the metrics CSVs).
REPORT_LISTINGS: Final = (*RUN_DOCUMENTS, RUN_OUTPUTS)
GRADER_CONFIGS: Final = f"{GRADERS_PREFIX}*"  # what StartJob writes and the grader reads


class NotAJobManifestError(ValueError):
    """The key is not ``jobs/<name>/job.json``."""


def job_folder(key: str) -> str:
    """``jobs/<name>/`` for a manifest key; raises NotAJobManifestError for any other key."""
    if not key.startswith(JOBS_PREFIX) or not key.endswith("/" + MANIFEST_NAME):
        raise NotAJobManifestError(f"{key!r} is not {JOBS_PREFIX}<name>/{MANIFEST_NAME}")
    folder = key[: -len(MANIFEST_NAME)]
    if folder == JOBS_PREFIX:
        raise NotAJobManifestError(
            f"{key!r} has no job name between {JOBS_PREFIX} and /{MANIFEST_NAME}"
        )
    return folder


def job_label(key: str) -> str:
    """The ``<name>`` of ``jobs/<name>/job.json`` (nested folders joined with '-')."""
    return job_folder(key)[len(JOBS_PREFIX) : -1].replace("/", "-")


def job_prefix(name: str) -> str:
    """``jobs/<name>/``: the folder a job named ``name`` is uploaded to."""
    return f"{JOBS_PREFIX}{name}/"


def manifest_key(name: str) -> str:
    """``jobs/<name>/job.json``."""
    return f"{job_prefix(name)}{MANIFEST_NAME}"


def answer_key(run_id: str) -> str:
    """``approvals/<run-id>/answer.json``."""
    return f"{APPROVALS_PREFIX}{run_id}/{ANSWER_NAME}"


def run_prefix(run_id: str) -> str:
    """``runs/<run-id>/``: everything a run writes."""
    return f"{RUNS_PREFIX}{run_id}/"


def output_prefix(run_id: str) -> str:
    """``runs/<run-id>/output/``: Bedrock's outputDataConfig."""
    return f"{run_prefix(run_id)}{OUTPUT_FOLDER}"


def validation_report_key(run_id: str) -> str:
    """``runs/<run-id>/validation-report.json``."""
    return f"{run_prefix(run_id)}{VALIDATION_REPORT_NAME}"


def evaluation_keys(run_id: str) -> tuple[str, str]:
    """The evaluation's partial (resumable) and final keys."""
    prefix = run_prefix(run_id)
    return f"{prefix}{EVALUATION_PARTIAL_NAME}", f"{prefix}{EVALUATION_NAME}"


def report_page_key(run_id: str) -> str:
    """``runs/<run-id>/report.html``."""
    return f"{run_prefix(run_id)}{REPORT_PAGE_NAME}"


def dataset_card_key(run_id: str) -> str:
    """``runs/<run-id>/dataset-card.json``."""
    return f"{run_prefix(run_id)}{DATASET_CARD_NAME}"


def input_prefix(run_id: str) -> str:
    """``runs/<run-id>/input/``: the only place Bedrock reads a run's data from."""
    return f"{run_prefix(run_id)}{INPUT_FOLDER}"


def media_copy_key(run_id: str, source_key: str) -> str:
    """The key of the copy of the media object at ``source_key``."""
    return f"{input_prefix(run_id)}{MEDIA_FOLDER}{source_key}"


def grader_config_key(config_id: str) -> str:
    """``graders/<config id>.json``: a built-in grader's name and parameters."""
    return f"{GRADERS_PREFIX}{config_id}.json"
