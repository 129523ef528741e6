"""Distillation and RFT runs through ValidateRequest, ValidateDataset and StartJob, against moto."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import boto3
import pytest

from customization_core import dataset_step, job_steps, request_step
from customization_core.layout import grader_config_key
from customization_core.run import PipelineConfig, Run, Source, Status
from customization_core.type_settings import GRADER_TAG
from tests.handlers.conftest import ACCOUNT, ARTIFACTS, REGION, STACK, Aws
from tests.handlers.runs import EXECUTION

MICRO = "amazon.nova-micro-v1:0:128k"
NOVA_2_LITE = "amazon.nova-2-lite-v1:0:256k"
DISTILL = {
    "customizationType": "DISTILLATION",
    "baseModelId": MICRO,
    "teacherModelId": "amazon.nova-pro-v1:0",
    "maxResponseLength": 300,
}
RFT = {
    "customizationType": "REINFORCEMENT_FINE_TUNING",
    "baseModelId": NOVA_2_LITE,
    "grader": {"name": "numeric", "params": {"tolerance": 0.5}},
    "hyperParameters": {"epochCount": 1, "batchSize": 16, "reasoningEffort": "low"},
}


def _prompts(n: int) -> str:
    record = {
        "schemaVersion": "bedrock-conversation-2024",
        "messages": [{"role": "user", "content": [{"text": "How do I reset the router?"}]}],
    }
    return "\n".join(json.dumps(record) for _ in range(n)) + "\n"


def _problems(n: int, *, missing_reference_at: int | None = None) -> str:
    lines = []
    for i in range(1, n + 1):
        record: dict[str, Any] = {
            "messages": [{"role": "user", "content": f"What is {i} plus {i}?"}],
            "reference_answer": str(2 * i),
        }
        if i == missing_reference_at:
            del record["reference_answer"]
        lines.append(json.dumps(record))
    return "\n".join(lines) + "\n"


def _grader_function() -> str:
    """The stack's built-in grader function, as moto keeps it (its code is not run here)."""
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(
        RoleName="grader",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def main(event, context):\n    return []\n")
    return str(
        boto3.client("lambda", region_name=REGION).create_function(
            FunctionName="grader",
            Runtime="python3.13",
            Role=role,
            Handler="handler.main",
            Code={"ZipFile": code.getvalue()},
        )["FunctionArn"]
    )


def _validate(
    aws: Aws, name: str, manifest: dict[str, Any], config: PipelineConfig, train: str
) -> Run:
    source: Source = aws.start(name, manifest, train_jsonl=train)
    state = request_step.validate_request(
        source,
        EXECUTION,
        s3=aws.s3,
        bedrock=aws.bedrock,
        region=REGION,
        registry=aws.registry,
        config=config,
        lambda_client=boto3.client("lambda", region_name=REGION),
    )
    return Run.model_validate(state)


def _through_start(aws: Aws, run: Run, config: PipelineConfig) -> tuple[Run, dict[str, Any]]:
    run = Run.model_validate(
        dataset_step.validate_data(run, s3=aws.s3, registry=aws.registry, config=config)
    )
    assert run.status is Status.VALIDATING, run.reason
    sent: dict[str, Any] = {}
    create = aws.bedrock.create_model_customization_job

    def spy(**request: Any) -> Any:
        sent.update(request)
        return create(**request)

    aws.bedrock.create_model_customization_job = spy
    started = job_steps.start_job(
        run,
        bedrock=aws.bedrock,
        registry=aws.registry,
        config=config,
        s3=aws.s3,
        lambda_client=boto3.client("lambda", region_name=REGION),
    )
    return Run.model_validate(started), sent


def test_a_distillation_run_sends_its_teacher_and_no_hyperparameters(aws: Aws) -> None:
    run = _validate(aws, "distill", DISTILL, aws.config, _prompts(12))
    assert run.status is Status.VALIDATING, run.reason
    assert run.teacher is not None
    assert run.teacher["identifier"] == "amazon.nova-pro-v1:0"
    assert run.model_check is not None
    assert run.model_check["teacher"]["offered"] is True
    run, sent = _through_start(aws, run, aws.config)
    assert sent["customizationType"] == "DISTILLATION"
    assert "hyperParameters" not in sent
    assert sent["customizationConfig"] == {
        "distillationConfig": {
            "teacherModelConfig": {
                "teacherModelIdentifier": "amazon.nova-pro-v1:0",
                "maxResponseLengthForInference": 300,
            }
        }
    }
    item = aws.item(run.run_id)
    assert item["customization_config"] == sent["customizationConfig"]
    # The estimate priced the teacher's answers: 12 prompts x 300 tokens.
    assert run.extra["training_cost"]["teacher"]["response_tokens"] == 12 * 300


def test_a_teacher_that_does_not_teach_the_student_is_rejected_before_data(aws: Aws) -> None:
    manifest = {**DISTILL, "baseModelId": "amazon.nova-pro-v1:0:300k"}
    run = _validate(aws, "selftaught", manifest, aws.config, _prompts(3))
    assert run.status is Status.REJECTED
    assert "does not teach amazon.nova-pro-v1:0:300k" in (run.reason or "")


def test_an_rft_run_publishes_its_grader_and_sends_typed_hyperparameters(aws: Aws) -> None:
    config = aws.config.model_copy(update={"grader_function_arn": _grader_function()})
    run = _validate(aws, "arith", RFT, config, _problems(120))
    assert run.status is Status.VALIDATING, run.reason
    assert run.grader is not None
    config_id = run.grader["config_id"]
    run, sent = _through_start(aws, run, config)
    assert run.status is Status.TRAINING
    rft = sent["customizationConfig"]["rftConfig"]
    assert rft["graderConfig"]["lambdaGrader"]["lambdaArn"] == (
        f"{config.grader_function_arn}:g-{config_id}"
    )
    assert rft["hyperParameters"] == {"epochCount": 1, "batchSize": 16, "reasoningEffort": "low"}
    assert "hyperParameters" not in sent
    stored = json.loads(
        aws.s3.get_object(Bucket=ARTIFACTS, Key=grader_config_key(config_id))["Body"].read()
    )
    assert stored["name"] == "numeric"
    assert stored["params"]["tolerance"] == 0.5
    aliases = boto3.client("lambda", region_name=REGION).list_aliases(FunctionName="grader")
    assert [a["Name"] for a in aliases["Aliases"]] == [f"g-{config_id}"]
    # The dry run on the sample was recorded, and a second start makes nothing new.
    assert aws.item(run.run_id)["grader_dry_run"]["flags"] == []


def test_a_grader_that_crashes_on_the_sample_rejects_the_run_before_the_job(aws: Aws) -> None:
    config = aws.config.model_copy(
        update={"grader_function_arn": "arn:aws:lambda:us-east-1:123456789012:function:grader"}
    )
    run = _validate(aws, "noref", RFT, config, _problems(120, missing_reference_at=7))
    # The record without reference_answer is an error of the data itself, with its line.
    run = Run.model_validate(
        dataset_step.validate_data(run, s3=aws.s3, registry=aws.registry, config=config)
    )
    assert run.status is Status.REJECTED
    assert "train.jsonl" in (run.reason or "") or ":7" in (run.reason or "")


def test_a_constant_grader_is_flagged_on_the_run_before_any_money_is_spent(aws: Aws) -> None:
    config = aws.config.model_copy(
        update={"grader_function_arn": "arn:aws:lambda:us-east-1:123456789012:function:grader"}
    )
    manifest = {**RFT, "grader": {"name": "regex", "params": {"pattern": ".*"}}}
    run = _validate(aws, "constant", manifest, config, _problems(120))
    run = Run.model_validate(
        dataset_step.validate_data(run, s3=aws.s3, registry=aws.registry, config=config)
    )
    # Flagged, not refused: only sample answers show whether it tells answers apart.
    assert run.status is Status.VALIDATING
    assert any("same reward" in w for w in run.warnings)
    assert aws.item(run.run_id)["grader_dry_run"]["flags"] == ["constant"]


def test_a_grader_that_fails_on_records_refuses_the_run(aws: Aws) -> None:
    config = aws.config.model_copy(
        update={"grader_function_arn": "arn:aws:lambda:us-east-1:123456789012:function:grader"}
    )
    # Every record is valid RFT data, but the grader reads a field none of them has.
    manifest = {**RFT, "grader": {"name": "numeric", "params": {"field": "answer"}}}
    lines = [
        json.dumps(
            {
                "messages": [{"role": "user", "content": f"{i} + {i}?"}],
                "reference_answer": {"answer": 2 * i} if i != 5 else {"value": 10},
            }
        )
        for i in range(1, 121)
    ]
    run = _validate(aws, "fails", manifest, config, "\n".join(lines) + "\n")
    run = Run.model_validate(
        dataset_step.validate_data(run, s3=aws.s3, registry=aws.registry, config=config)
    )
    assert run.status is Status.REJECTED
    assert "fails on some records" in (run.reason or "") or "answer" in (run.reason or "")


@pytest.mark.parametrize(
    ("function", "tags", "allowed", "admitted"),
    [
        ("team-grader", {}, ("team-*",), True),
        ("tagged-grader", {GRADER_TAG: STACK}, (), True),
        ("other-grader", {GRADER_TAG: "SomeOtherStack"}, (), False),
        ("plain-function", {}, (), False),
    ],
)
def test_an_own_grader_needs_the_allow_list_or_the_stacks_tag(
    aws: Aws, function: str, tags: dict[str, str], allowed: tuple[str, ...], admitted: bool
) -> None:
    arn = _grader_function().replace(":function:grader", f":function:{function}")
    client = boto3.client("lambda", region_name=REGION)
    if function != "grader":
        _copy_function(client, function)
    if tags:
        client.tag_resource(Resource=arn, Tags=tags)
    config = aws.config.model_copy(update={"grader_functions": allowed})
    manifest = {**RFT, "grader": {"lambdaArn": arn}}
    run = _validate(aws, function, manifest, config, _problems(120))
    assert (run.status is Status.VALIDATING) is admitted, run.reason
    if not admitted:
        assert GRADER_TAG in (run.reason or "")


def test_a_grader_in_another_account_is_refused(aws: Aws) -> None:
    arn = "arn:aws:lambda:us-east-1:999999999999:function:their-grader"
    config = aws.config.model_copy(update={"grader_functions": ("*",)})
    run = _validate(aws, "foreign", {**RFT, "grader": {"lambdaArn": arn}}, config, _problems(120))
    assert run.status is Status.REJECTED
    assert f"this stack's account {ACCOUNT}" in (run.reason or "")


def _copy_function(client: Any, name: str) -> None:
    existing = client.get_function(FunctionName="grader")["Configuration"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def main(event, context):\n    return []\n")
    client.create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role=existing["Role"],
        Handler="handler.main",
        Code={"ZipFile": code.getvalue()},
    )


def test_a_stage_default_for_fine_tuning_is_not_carried_into_distillation(aws: Aws) -> None:
    # Given a stage whose defaults for the student are fine-tuning's (defaultHyperparameters
    # are keyed by model, not by type)
    config = aws.config.model_copy(update={"default_hyperparameters": {MICRO: {"epochCount": "2"}}})
    # When a distillation run of that student is validated, then the default does not refuse
    # it (distillation takes no hyperparameters), and nothing is sent
    run = _validate(aws, "defaults", DISTILL, config, _prompts(5))
    assert run.status is Status.VALIDATING, run.reason
    assert run.hyperparameters == {}
