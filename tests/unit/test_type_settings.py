"""Distillation's teacher and RFT's grader: the manifest's fields, the pairs, customizationConfig."""

from __future__ import annotations

import json
from typing import Any

import pytest

from customization_core.catalog import CustomizationType, load_catalog
from customization_core.cost import ASSUMED_RESPONSE_TOKENS
from customization_core.manifest_parse import parse_manifest
from customization_core.request import check_request, typed_hyperparameters
from customization_core.type_settings import (
    GRADER_TAG,
    customization_config,
    own_grader_problem,
    teacher_choice,
)
from customization_core.validator import validate_dataset

CATALOG = load_catalog()
MICRO = "amazon.nova-micro-v1:0:128k"
NOVA_2_LITE = "amazon.nova-2-lite-v1:0:256k"
ACCOUNT = "123456789012"
STACK = "BedrockCustomization-dev"


def _manifest(**fields: Any) -> Any:
    return parse_manifest(json.dumps(fields).encode())


def test_a_distillation_manifest_needs_a_teacher() -> None:
    parsed = _manifest(customizationType="DISTILLATION", baseModelId=MICRO)
    assert parsed.manifest is None
    assert any("teacherModelId" in p for p in parsed.problems)
    parsed = _manifest(
        customizationType="DISTILLATION",
        baseModelId=MICRO,
        teacherModelId="amazon.nova-pro-v1:0",
        maxResponseLength=512,
    )
    assert parsed.manifest is not None
    assert parsed.manifest.teacher_model_id == "amazon.nova-pro-v1:0"
    assert parsed.manifest.max_response_length == 512


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        (
            {"customizationType": "FINE_TUNING", "teacherModelId": "amazon.nova-pro-v1:0"},
            "teacherModelId",
        ),
        ({"customizationType": "FINE_TUNING", "grader": {"name": "exact"}}, "grader"),
        ({"customizationType": "REINFORCEMENT_FINE_TUNING"}, "grader"),
        ({"customizationType": "REINFORCEMENT_FINE_TUNING", "grader": {}}, "grader"),
        (
            {
                "customizationType": "REINFORCEMENT_FINE_TUNING",
                "grader": {
                    "name": "exact",
                    "lambdaArn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:g",
                },
            },
            "grader",
        ),
        (
            {
                "customizationType": "REINFORCEMENT_FINE_TUNING",
                "grader": {"lambdaArn": "my-function"},
            },
            "grader",
        ),
        (
            {
                "customizationType": "DISTILLATION",
                "teacherModelId": "amazon.nova-pro-v1:0",
                "maxResponseLength": 0,
            },
            "maxResponseLength",
        ),
    ],
)
def test_each_type_takes_only_its_own_fields(fields: dict[str, Any], named: str) -> None:
    parsed = _manifest(baseModelId=MICRO, **fields)
    assert parsed.manifest is None
    assert any(named in problem for problem in parsed.problems), parsed.problems


def test_the_catalog_pairs_teachers_with_their_students() -> None:
    teacher, problems = teacher_choice(
        CATALOG, MICRO, "amazon.nova-pro-v1:0", 512, region="us-east-1", account=ACCOUNT
    )
    assert problems == []
    assert teacher == {
        "model_id": "amazon.nova-pro-v1:0",
        "name": "Amazon Nova Pro",
        "identifier": "amazon.nova-pro-v1:0",
        "max_response_length": 512,
    }
    # Nova Pro teaches Lite and Micro, not itself (AWS's table).
    _, problems = teacher_choice(
        CATALOG, "amazon.nova-pro-v1:0:300k", "amazon.nova-pro-v1:0", None, region=None
    )
    assert [f.code for f in problems] == ["teacher-not-paired"]


def test_a_teacher_reached_only_by_a_profile_is_named_by_its_profile_arn() -> None:
    teacher, problems = teacher_choice(
        CATALOG, MICRO, "amazon.nova-premier-v1:0", None, region="us-east-1", account=ACCOUNT
    )
    assert problems == []
    assert teacher is not None
    assert teacher["identifier"] == (
        f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/us.amazon.nova-premier-v1:0"
    )


@pytest.mark.parametrize(
    ("student", "teacher", "region", "code"),
    [
        (MICRO, "amazon.nova-pro-v1:0", "us-west-2", "teacher-region"),
        (MICRO, "amazon.titan-text-express-v1", "us-east-1", "unknown-teacher"),
        (
            "meta.llama3-2-3b-instruct-v1:0:128k",
            "meta.llama3-1-405b-instruct-v1:0",
            None,
            "teacher-not-paired",
        ),
    ],
)
def test_a_teacher_that_cannot_teach_is_refused(
    student: str, teacher: str, region: str | None, code: str
) -> None:
    chosen, problems = teacher_choice(CATALOG, student, teacher, None, region=region)
    assert chosen is None
    assert [f.code for f in problems] == [code]
    assert problems[0].field == "teacherModelId"


def test_customization_config_is_the_api_union() -> None:
    assert customization_config(
        CustomizationType.DISTILLATION,
        teacher={"identifier": "amazon.nova-pro-v1:0", "max_response_length": 256},
        grader_arn=None,
        hyperparameters={},
    ) == {
        "distillationConfig": {
            "teacherModelConfig": {
                "teacherModelIdentifier": "amazon.nova-pro-v1:0",
                "maxResponseLengthForInference": 256,
            }
        }
    }
    arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:grader:g-0123456789ab"
    assert customization_config(
        CustomizationType.REINFORCEMENT_FINE_TUNING,
        teacher=None,
        grader_arn=arn,
        hyperparameters={"epochCount": 2, "reasoningEffort": "low"},
    ) == {
        "rftConfig": {
            "graderConfig": {"lambdaGrader": {"lambdaArn": arn}},
            "hyperParameters": {"epochCount": 2, "reasoningEffort": "low"},
        }
    }
    assert (
        customization_config(
            CustomizationType.FINE_TUNING, teacher=None, grader_arn=None, hyperparameters={}
        )
        is None
    )


def test_rft_hyperparameters_are_typed_and_range_checked() -> None:
    checked = check_request(
        CATALOG,
        NOVA_2_LITE,
        CustomizationType.REINFORCEMENT_FINE_TUNING,
        {"epochCount": "2", "batchSize": 64, "learningRate": "0.00001", "reasoningEffort": "low"},
    )
    assert checked.valid, checked.findings
    assert checked.customization is not None
    assert typed_hyperparameters(checked.customization, checked.hyperparameters) == {
        "epochCount": 2,
        "batchSize": 64,
        "learningRate": 0.00001,
        "reasoningEffort": "low",
    }
    bad = check_request(
        CATALOG,
        NOVA_2_LITE,
        CustomizationType.REINFORCEMENT_FINE_TUNING,
        {"batchSize": 8, "reasoningEffort": "extreme", "trainingSamplePerPrompt": 17},
    )
    codes = sorted(f.code for f in bad.findings)
    assert codes == [
        "hyperparameter-not-allowed",
        "hyperparameter-out-of-range",
        "hyperparameter-out-of-range",
    ]


def test_an_own_grader_must_be_allowed_by_name_or_by_tag() -> None:
    arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:team-grader-math"

    def problem(**kwargs: Any) -> str | None:
        settings: dict[str, Any] = {
            "account": ACCOUNT,
            "region": "us-east-1",
            "allowed": (),
            "tags": {},
            "stack_name": STACK,
            **kwargs,
        }
        return own_grader_problem(kwargs.pop("arn", arn), **settings)

    assert problem(allowed=("team-grader-*",)) is None
    assert problem(tags={GRADER_TAG: STACK}) is None
    refused = problem()
    assert refused is not None
    assert GRADER_TAG in refused
    assert "graderFunctions" in refused
    # Another stack's tag, an unreadable function: refused too.
    assert problem(tags={GRADER_TAG: "OtherStack"}) is not None
    assert problem(tags=None) is not None
    foreign = "arn:aws:lambda:us-east-1:999999999999:function:team-grader-math"
    assert "999999999999" in (
        own_grader_problem(
            foreign,
            account=ACCOUNT,
            region="us-east-1",
            allowed=("*",),
            tags={GRADER_TAG: STACK},
            stack_name=STACK,
        )
        or ""
    )
    elsewhere = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:team-grader-math"
    assert own_grader_problem(
        elsewhere, account=ACCOUNT, region="us-east-1", allowed=("*",), tags=None, stack_name=STACK
    )


def test_the_distillation_estimate_prices_the_teacher_answers() -> None:
    record = {
        "schemaVersion": "bedrock-conversation-2024",
        "messages": [{"role": "user", "content": [{"text": "How do I reset my router?"}]}],
    }
    data = ("\n".join(json.dumps(record) for _ in range(10)) + "\n").encode()
    import io

    report = validate_dataset(
        io.BytesIO(data),
        model_id=MICRO,
        customization_type="distillation",
        teacher_model_id="amazon.nova-pro-v1:0",
        max_response_length=200,
    )
    cost = report.document["cost"]
    assert cost["teacher"]["response_tokens"] == 10 * 200
    assert cost["teacher"]["model_id"] == "amazon.nova-pro-v1:0"
    # The student trains on the prompts and the teacher's answers.
    assert cost["training_tokens"] == cost["teacher"]["prompt_tokens"] + 2000
    parts = [p["name"] for p in report.document["estimate"]["parts"]]
    assert parts == ["training", "teacher", "storage"]
    unlimited = validate_dataset(
        io.BytesIO(data),
        model_id=MICRO,
        customization_type="distillation",
        teacher_model_id="amazon.nova-pro-v1:0",
    )
    assert unlimited.document["cost"]["teacher"]["response_tokens"] == 10 * ASSUMED_RESPONSE_TOKENS


def test_validate_reports_an_unpaired_teacher_as_a_request_finding() -> None:
    import io

    report = validate_dataset(
        io.BytesIO(b""),
        model_id=MICRO,
        customization_type="distillation",
        teacher_model_id="meta.llama3-1-405b-instruct-v1:0",
    )
    assert "teacher-not-paired" in [e["code"] for e in report.document["errors"]]
