"""The job manifest: strict parsing, defaults, and a sentence per problem."""

from __future__ import annotations

import json

import pytest

from customization_core.catalog import CustomizationType
from customization_core.manifest import DEFAULT_TTL_HOURS, data_keys
from customization_core.manifest_parse import MAX_MANIFEST_BYTES, parse_manifest

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
            "Manifest field 'customizationType': 'SFT' is not allowed; allowed: FINE_TUNING, CONTINUED_PRE_TRAINING, DISTILLATION or REINFORCEMENT_FINE_TUNING.",
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
            "Manifest field 'deploy.ttlhours' is not a known manifest field; allowed keys: idleHours, mode, modelUnits, ttlHours.",
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
        "Manifest field 'customizationType' is missing; it is required (FINE_TUNING, CONTINUED_PRE_TRAINING, DISTILLATION or REINFORCEMENT_FINE_TUNING).",
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


# The deploy-only form (``bedrock-customize deploy``): deployModel, and nothing to train ----

RUN_ID = "summaries-0123456789ab"
MODEL_ARN = (
    "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.nova-micro-v1:0:128k/abcdefghij12"
)
DEPLOY_ONLY = {"deployModel": RUN_ID, "deploy": {"mode": "provisioned", "ttlHours": 1}}


def _deploy_only(**fields: object):
    return parse_manifest(json.dumps({**DEPLOY_ONLY, **fields}).encode())


def test_a_deploy_only_manifest_parses_with_the_blocks_the_training_path_records() -> None:
    # Given a manifest that names a run and says how to deploy, evaluate and budget it
    parsed = _deploy_only(
        deploy={"mode": "on-demand", "ttlHours": 2, "idleHours": 1},
        evaluate={"samples": 3},
        budgetUsd=5,
        tags={"team": "support"},
    )

    # Then it parses as a deployment, not as a training manifest
    assert parsed.problems == ()
    assert parsed.manifest is None
    deployment = parsed.deployment
    assert deployment is not None
    assert (deployment.run_id, deployment.model_arn) == (RUN_ID, None)
    assert deployment.deploy.mode == "on-demand"
    assert deployment.deploy.idle_hours == 1
    assert deployment.evaluate is not None
    assert deployment.evaluate.samples == 3
    # The same blocks, spelled as the training path records them in run.extra
    assert deployment.extra() == {
        "deploy": {"mode": "on-demand", "modelUnits": 1, "ttlHours": 2.0, "idleHours": 1.0},
        "evaluate": {"samples": 3, "minImprovement": 0.0, "prompts": []},
        "budgetUsd": 5.0,
        "tags": {"team": "support"},
    }
    assert len(parsed.sha256) == 64


def test_a_deploy_only_manifest_may_name_a_custom_model_by_its_arn() -> None:
    parsed = _deploy_only(deployModel=MODEL_ARN)
    assert parsed.deployment is not None, parsed.problems
    assert (parsed.deployment.run_id, parsed.deployment.model_arn) == (None, MODEL_ARN)
    assert parsed.deployment.deploy.ttl_hours == 1
    assert parsed.deployment.evaluate is None


@pytest.mark.parametrize(
    "field",
    [
        "customizationType",
        "baseModelId",
        "hyperParameters",
        "customModelName",
        "trainingData",
        "validationData",
    ],
)
def test_a_training_field_in_a_deploy_only_manifest_is_named_with_both_fixes(field: str) -> None:
    # Given a deploy-only manifest that also carries one of the training fields
    value = {"hyperParameters": {"epochCount": 2}}.get(field, "FINE_TUNING")
    parsed = _deploy_only(**{field: value})

    # Then it is refused in one sentence naming that field and both ways out
    assert parsed.manifest is None
    assert parsed.deployment is None
    (problem,) = parsed.problems
    assert f"Manifest field '{field}' does not go with deployModel" in problem
    assert f"remove {field} to deploy that model, or remove deployModel to train" in problem


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"deploy": {"mode": "none"}},
            "A deploy-only manifest (deployModel) only deploys, and its deploy.mode is none: "
            "set deploy.mode to provisioned or on-demand.",
        ),
        (
            {"deploy": {"ttlHours": 2}},  # the default mode is none
            "set deploy.mode to provisioned or on-demand",
        ),
        ({"deploy": None}, "Manifest field 'deploy' has None"),
        (
            {"deployModel": "Summaries 1"},
            "Manifest field 'deployModel': 'Summaries 1' is not allowed; allowed: a run id of this stack",
        ),
        (
            {"deployModel": "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc"},
            "or a custom model ARN (arn:aws:bedrock:REGION:ACCOUNT:custom-model/...)",
        ),
        (
            {"deploy": {"mode": "provisioned", "modelUnits": 11}},
            "Manifest field 'deploy.modelUnits' has 11",
        ),
        (
            {"evaluate": {"samples": 0}},
            "Manifest field 'evaluate.samples' has 0",
        ),
        ({"budgetUsd": 0}, "allowed: a number of dollars above 0."),
        (
            {"tags": {"aws:owner": "x"}},
            "keys that do not start with aws: or bedrock-customization:",
        ),
        (
            {"epochs": 2},
            "Manifest field 'epochs' is not a known manifest field; allowed keys: budgetUsd, "
            "deploy, deployModel, evaluate, tags.",
        ),
    ],
)
def test_each_deploy_only_problem_is_one_sentence_naming_the_field(
    fields: dict[str, object], expected: str
) -> None:
    parsed = _deploy_only(**fields)
    assert parsed.deployment is None
    assert parsed.manifest is None
    assert any(expected in problem for problem in parsed.problems), parsed.problems


def test_a_deploy_only_manifest_without_a_deploy_block_says_what_to_write() -> None:
    parsed = parse_manifest(json.dumps({"deployModel": RUN_ID}).encode())
    assert parsed.problems == (
        "Manifest field 'deploy' is missing; it is required (an object such as "
        '{"mode": "provisioned", "ttlHours": 24}; in a deploy-only manifest (deployModel) '
        "mode is provisioned or on-demand).",
    )


def test_a_manifest_with_neither_training_field_nor_deploy_model_mentions_deploy_model() -> None:
    # Given a manifest that only says how to deploy (the user meant to deploy a model)
    parsed = parse_manifest(json.dumps({"deploy": {"mode": "provisioned"}}).encode())

    # Then the missing training fields are named, and so is the deploy-only form
    assert parsed.manifest is None
    assert parsed.deployment is None
    assert "Manifest field 'customizationType' is missing" in parsed.problems[0]
    assert parsed.problems[-1] == (
        "To deploy an existing custom model instead of training one, name it with "
        "deployModel (a run id or a custom model ARN) and leave out the training fields."
    )


def test_idle_hours_needs_an_end_time() -> None:
    document = {
        "customizationType": "FINE_TUNING",
        "baseModelId": "amazon.nova-micro-v1:0:128k",
        "deploy": {"mode": "provisioned", "ttlHours": None, "idleHours": 2},
    }
    parsed = parse_manifest(json.dumps(document).encode())
    assert parsed.manifest is None
    assert any("deploy.idleHours needs an end time" in p for p in parsed.problems)
