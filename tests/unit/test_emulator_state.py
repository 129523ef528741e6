"""The emulator's shared helpers: S3 URIs, the job folder a job follows, deployments ready."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from emulator.bedrock_deployments import Deployment
from emulator.state import DATASET_KEY_TAG, base_model_of, folder, s3_location, uri_folder

TRAINING = {"s3Uri": "s3://datasets/jobs/untagged/train.jsonl"}


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("s3://datasets/jobs/a/train.jsonl", ("datasets", "jobs/a/train.jsonl")),
        ("s3://artifacts/runs/r1/output/", ("artifacts", "runs/r1/output/")),
        ("s3://datasets", ("datasets", "")),
    ],
)
def test_an_s3_uri_splits_into_bucket_and_key(uri: str, expected: tuple[str, str]) -> None:
    assert s3_location(uri) == expected


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"s3Uri": "s3://datasets/jobs/a/train.jsonl"}, "jobs/a/"),
        ({"s3Uri": "s3://datasets/jobs/a/b/train.jsonl"}, "jobs/a/b/"),
        ({"s3Uri": "s3://datasets"}, ""),
        ({}, ""),
        (None, ""),
    ],
)
def test_a_data_configs_folder_is_its_objects_folder(
    config: dict[str, str] | None, expected: str
) -> None:
    assert uri_folder(config) == expected


def test_the_dataset_key_tag_names_the_folder_wherever_the_data_was_copied() -> None:
    tags = [
        {"key": "other", "value": "x"},
        {"key": DATASET_KEY_TAG, "value": "jobs/tagged/job.json"},
    ]
    copied = {"s3Uri": "s3://artifacts/runs/r1/input/train.jsonl"}
    assert folder(tags, copied) == "jobs/tagged/"


def test_without_a_manifest_tag_the_training_datas_folder_is_followed() -> None:
    assert folder(None, TRAINING) == "jobs/untagged/"
    assert folder([{"key": "other", "value": "jobs/x/job.json"}], TRAINING) == "jobs/untagged/"
    # A dataset-key that is not a manifest key names no job folder.
    assert folder([{"key": DATASET_KEY_TAG, "value": "jobs/x/train.jsonl"}], TRAINING) == (
        "jobs/untagged/"
    )


def test_a_custom_models_base_is_found_by_its_arn() -> None:
    model = SimpleNamespace(model_arn="arn:custom/m", base_model_arn="arn:foundation/base")
    backend = SimpleNamespace(custom_models={"m": model})
    assert base_model_of(backend, "arn:custom/m") == "arn:foundation/base"
    assert base_model_of(backend, "arn:custom/other") is None


@pytest.mark.parametrize(
    ("kind", "status", "ready"),
    [
        ("provisioned", "InService", True),
        ("provisioned", "Creating", False),
        ("on-demand", "Active", True),
        ("on-demand", "Failed", False),
    ],
)
def test_a_deployment_serves_once_its_kind_says_ready(kind: str, status: str, ready: bool) -> None:
    deployment = Deployment(
        arn="arn", name="n", kind=kind, model_arn="m", model_units=1, created_at="t", status=status
    )
    assert deployment.ready is ready
