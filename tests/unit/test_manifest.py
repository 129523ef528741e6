"""The job manifest: strict parsing, defaults, and a sentence per problem."""

from __future__ import annotations

import json

import pytest

from customization_core.catalog import CustomizationType
from customization_core.manifest import (
    DEFAULT_TTL_HOURS,
    MAX_MANIFEST_BYTES,
    data_keys,
    parse_manifest,
)

GOOD = {"customizationType": "FINE_TUNING", "baseModelId": "amazon.titan-text-express-v1:0:8k"}


def _parse(**fields: object):
    return parse_manifest(json.dumps({**GOOD, **fields}).encode())


def test_a_minimal_manifest_gets_the_defaults() -> None:
    parsed = _parse()
    manifest = parsed.manifest
    assert manifest is not None
    assert parsed.problems == ()
    assert manifest.customization_type is CustomizationType.FINE_TUNING
    assert manifest.training_data == "train.jsonl"
    assert manifest.validation_data is None
    assert manifest.deploy.mode == "none"
    assert manifest.deploy.ttl_hours == DEFAULT_TTL_HOURS
    assert manifest.evaluate is None
    assert data_keys("jobs/a/", manifest) == ("jobs/a/train.jsonl", "jobs/a/validation.jsonl")
    assert len(parsed.sha256) == 64


def test_the_full_example_parses_and_numbers_stay_for_the_catalog_check() -> None:
    parsed = _parse(
        customizationType="continued-pretraining",
        hyperParameters={"epochCount": 2, "learningRate": "0.00001"},
        customModelName="support-summaries",
        trainingData="data/train.jsonl",
        validationData="data/val.jsonl",
        tags={"team": "support"},
        deploy={"mode": "provisioned", "modelUnits": 1, "ttlHours": None},
        evaluate={"samples": 10, "minImprovement": 0.05},
        budgetUsd=50,
    )
    manifest = parsed.manifest
    assert manifest is not None, parsed.problems
    assert manifest.customization_type is CustomizationType.CONTINUED_PRE_TRAINING
    assert manifest.hyper_parameters == {"epochCount": 2, "learningRate": "0.00001"}
    assert manifest.deploy.ttl_hours is None  # kept until someone deletes it, as asked
    assert manifest.evaluate is not None
    assert manifest.evaluate.samples == 10
    assert data_keys("jobs/a/", manifest) == ("jobs/a/data/train.jsonl", "jobs/a/data/val.jsonl")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"customizationType": "SFT"},
            "Manifest field 'customizationType': 'SFT' is not allowed; allowed: FINE_TUNING or CONTINUED_PRE_TRAINING.",
        ),
        ({"baseModelId": ""}, "Manifest field 'baseModelId' has ''"),
        (
            {"customModelName": "has space"},
            "'has space' is not allowed; allowed: 1 to 63 letters and digits",
        ),
        (
            {"trainingData": "../other/train.jsonl"},
            "'../other/train.jsonl' is not allowed; allowed: a file name in the job's folder",
        ),
        ({"validationData": "/etc/passwd"}, "'/etc/passwd' is not allowed"),
        (
            {"tags": {"aws:created": "x"}},
            "keys that do not start with aws: or bedrock-customization:",
        ),
        ({"tags": {"team": "a|b"}}, "'a|b' is not allowed"),
        ({"deploy": {"mode": "always"}}, "Manifest field 'deploy.mode' has 'always'"),
        (
            {"deploy": {"ttlhours": 3}},
            "Manifest field 'deploy.ttlhours' is not a known manifest field; allowed keys: mode, modelUnits, ttlHours.",
        ),
        ({"evaluate": {"samples": 0}}, "allowed: a whole number from 1 to 1000."),
        ({"budgetUsd": -1}, "allowed: a number of dollars above 0."),
        (
            {"epochs": 2},
            "Manifest field 'epochs' is not a known manifest field; allowed keys: baseModelId, budgetUsd",
        ),
        (
            {"hyperParameters": {"epochCount": [2]}},
            "Manifest field 'hyperParameters': {'epochCount': [2]} is not allowed; allowed: strings or numbers",
        ),
    ],
)
def test_each_problem_is_one_sentence_naming_the_field(
    fields: dict[str, object], expected: str
) -> None:
    parsed = _parse(**fields)
    assert parsed.manifest is None
    assert any(expected in problem for problem in parsed.problems), parsed.problems


def test_a_missing_required_field_says_so() -> None:
    parsed = parse_manifest(b'{"baseModelId": "amazon.titan-text-express-v1:0:8k"}')
    assert parsed.problems == (
        "Manifest field 'customizationType' is missing; it is required (FINE_TUNING or CONTINUED_PRE_TRAINING).",
    )


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"{bad", "job.json is not valid JSON"),
        (b"[1, 2]", "job.json must be one JSON object"),
        (b" " * (MAX_MANIFEST_BYTES + 1), "a manifest is at most 65,536"),
    ],
)
def test_unreadable_manifests_are_explained(data: bytes, expected: str) -> None:
    parsed = parse_manifest(data)
    assert parsed.manifest is None
    assert expected in parsed.problems[0]
