"""Which run's scenario a job or custom model follows: its job folder, from its lineage tags.

A scenario (emulator/patches.py ``Scenario``) is set per job folder
(``jobs/<name>/``). The folder is read from the ``dataset-key`` lineage tag
StartJob puts on the job and its custom model (the manifest's key,
``jobs/<name>/job.json``), not from the training data's S3 URI: StartJob may
give Bedrock a copy of the data elsewhere (``runs/<run-id>/input/...`` in the
artifacts bucket). A job without the tag falls back to its training URI's folder.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from customization_core.naming import TAG_PREFIX

DATASET_KEY_TAG: Final = f"{TAG_PREFIX}dataset-key"


def uri_folder(data_config: Mapping[str, Any] | None) -> str:
    """The folder of a data config's ``s3Uri`` ("" for none): ``s3://b/jobs/a/t.jsonl`` -> ``jobs/a/``."""
    uri = str((data_config or {}).get("s3Uri", ""))
    if uri.count("/") < 3:
        return ""
    return uri.split("/", 3)[3].rsplit("/", 1)[0] + "/"


def folder(tags: Iterable[Mapping[str, str]] | None, training: Mapping[str, Any] | None) -> str:
    """The job folder of the ``dataset-key`` tag (a {key, value} list), else of the training URI."""
    for tag in tags or ():
        if tag.get("key") == DATASET_KEY_TAG and "/" in tag.get("value", ""):
            return tag["value"].rsplit("/", 1)[0] + "/"
    return uri_folder(training)


def job_folder(job: Any) -> str:
    """A moto ModelCustomizationJob's folder."""
    return folder(job.job_tags or job.custom_model_tags, job.training_data_config)


def model_folder(backend: Any, model_identifier: str) -> str:
    """A custom model's folder (by ARN or name), from its tags or its job's."""
    model = backend.get_custom_model(model_identifier)
    job = backend.model_customization_jobs.get(model.job_name)
    tags = (job.custom_model_tags or job.job_tags) if job is not None else None
    return folder(tags, model.training_data_config)
