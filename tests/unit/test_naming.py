"""Run names: deterministic per object version, always valid for the Bedrock API."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customization_core.layout import NotAJobManifestError, job_folder
from customization_core.naming import (
    JOB_NAME_MAX,
    JOB_NAME_PATTERN,
    MODEL_NAME_PATTERN,
    TAG_PATTERN,
    TAG_VALUE_MAX,
    TOKEN_PATTERN,
    ObjectVersion,
    lineage_tags,
    run_names,
    tag_value,
)

SOURCE = ObjectVersion(
    "datasets-bucket", "jobs/support-summaries/job.json", "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"
)


def test_the_same_object_version_gives_the_same_names_and_a_new_version_new_ones() -> None:
    first = run_names(SOURCE)
    assert run_names(SOURCE) == first
    other = run_names(ObjectVersion(SOURCE.bucket, SOURCE.key, "another-version"))
    assert other.job_name != first.job_name
    assert other.client_request_token != first.client_request_token
    assert first.run_id.startswith("support-summaries-")
    assert first.output_prefix == f"runs/{first.run_id}/output/"
    assert first.report_key == f"runs/{first.run_id}/validation-report.json"


def test_a_custom_model_name_from_the_manifest_is_kept() -> None:
    assert run_names(SOURCE, custom_model_name="my_model-1").custom_model_name == "my_model-1"


@given(
    st.text(alphabet=st.characters(exclude_categories=["Cs"]), min_size=1, max_size=300).filter(
        lambda s: "/" not in s
    ),
    st.text(min_size=1, max_size=1024),
)
def test_any_folder_name_and_version_give_names_the_api_accepts(label: str, version: str) -> None:
    names = run_names(ObjectVersion("b", f"jobs/{label}/job.json", version))
    assert JOB_NAME_PATTERN.match(names.job_name)
    assert len(names.job_name) <= JOB_NAME_MAX
    assert MODEL_NAME_PATTERN.match(names.custom_model_name)
    assert len(names.custom_model_name) <= 63
    assert TOKEN_PATTERN.match(names.client_request_token)
    assert names.run_id == names.run_id.lower()


@pytest.mark.parametrize(
    "key", ["jobs/job.json", "other/a/job.json", "jobs/a/train.jsonl", "jobs/a/job.json.bak"]
)
def test_only_jobs_name_job_json_is_a_manifest(key: str) -> None:
    with pytest.raises(NotAJobManifestError):
        job_folder(key)


def test_nested_folders_are_one_job() -> None:
    assert job_folder("jobs/team/a/job.json") == "jobs/team/a/"
    assert run_names(ObjectVersion("b", "jobs/team/a/job.json", "v")).run_id.startswith("team-a-")


@given(st.text(max_size=600))
def test_tag_values_always_fit_the_api(text: str) -> None:
    value = tag_value(text)
    assert len(value) <= TAG_VALUE_MAX
    assert TAG_PATTERN.match(value)


def test_lineage_tags_trace_the_run_to_its_data() -> None:
    tags = lineage_tags(
        SOURCE,
        run_id="r-1",
        execution_arn="arn:aws:states:eu-west-1:111122223333:execution:sm:x",
        manifest_sha256="ab" * 32,
    )
    assert tags["bedrock-customization:dataset-key"] == SOURCE.key
    assert tags["bedrock-customization:dataset-version"] == SOURCE.version_id
    assert tags["bedrock-customization:manifest-sha256"] == "ab" * 32
    assert all(TAG_PATTERN.match(v) and len(v) <= TAG_VALUE_MAX for v in tags.values())


@pytest.mark.parametrize(
    "key", ["jobs/a/train.jsonl\n", "jobs/a//train.jsonl", "jobs/a b/train.jsonl", "jobs/../x"]
)
def test_keys_bedrock_refuses_are_named_whole_string(key: str) -> None:
    from customization_core.naming import s3_key_problem

    assert s3_key_problem(key) is not None


def test_a_folder_key_ends_with_a_slash_and_passes() -> None:
    from customization_core.naming import s3_key_problem

    assert s3_key_problem("jobs/support-summaries/") is None
    assert s3_key_problem("jobs/support-summaries/train.jsonl") is None


@pytest.mark.parametrize("value", ["v\n", "tab\there", "caf\u00e9"])
def test_tag_values_with_newlines_tabs_or_non_ascii_are_refused(value: str) -> None:
    from customization_core.manifest_parse import parse_manifest

    manifest = {"customizationType": "FINE_TUNING", "baseModelId": "m", "tags": {"k": value}}
    parsed = parse_manifest(json.dumps(manifest).encode())
    assert parsed.manifest is None
    assert any("tags" in problem for problem in parsed.problems)
