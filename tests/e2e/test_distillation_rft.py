"""End to end: distillation and RFT runs on the local emulator, teacher and grader really invoked.

An RFT job's grader function (the stack's built-in grader, by its alias) grades every
sample through the emulated Lambda service; a distillation job's teacher answers every
unlabelled prompt through the emulated runtime (emulator/rft_jobs.py,
emulator/distillation_jobs.py). A grader that cannot answer fails the job, naming it.
"""

from __future__ import annotations

import csv
import importlib
import io
import json
import os
from typing import Any

import pytest

from emulator import distillation_jobs, people, rft_jobs
from emulator.cloud import LocalCloud
from emulator.faults import ALWAYS, FAULTS
from emulator.state import BEDROCK
from tests.e2e.conftest import submit, until

NOVA_2_LITE = "amazon.nova-2-lite-v1:0:256k"
NOVA_MICRO = "amazon.nova-micro-v1:0:128k"
NOVA_PRO = "amazon.nova-pro-v1:0"
RFT: dict[str, Any] = {
    "customizationType": "REINFORCEMENT_FINE_TUNING",
    "baseModelId": NOVA_2_LITE,
    "grader": {"name": "numeric", "params": {"tolerance": 0.001}},
    "hyperParameters": {"epochCount": 1, "batchSize": 16, "trainingSamplePerPrompt": 4},
}
DISTILLATION: dict[str, Any] = {
    "customizationType": "DISTILLATION",
    "baseModelId": NOVA_MICRO,
    "teacherModelId": NOVA_PRO,
    "maxResponseLength": 512,
}
RECORDS = 120  # RFT needs at least 100 (page rft-prepare-data)


def arithmetic(n: int = RECORDS) -> bytes:
    return "".join(
        json.dumps(
            {
                "messages": [
                    {"role": "system", "content": "Answer with the number only."},
                    {"role": "user", "content": f"What is {i} + {i + 3}?"},
                ],
                "reference_answer": 2 * i + 3,
                "problem_id": f"p-{i}",
            }
        )
        + "\n"
        for i in range(n)
    ).encode()


def support_prompts(unlabelled: int, labelled: int) -> bytes:
    def record(i: int, answer: str | None) -> str:
        messages: list[dict[str, Any]] = [
            {
                "role": "user",
                "content": [
                    {
                        "text": "Reply to the customer using this note.\n"
                        f"Hold the reset button for {i + 5} seconds to restart hub model {i}.\n"
                        f"Customer: how do I restart hub model {i}?"
                    }
                ],
            }
        ]
        if answer:
            messages.append({"role": "assistant", "content": [{"text": answer}]})
        return json.dumps({"schemaVersion": "bedrock-conversation-2024", "messages": messages})

    rows = [record(i, None) for i in range(unlabelled)]
    rows += [record(100 + i, f"Hold reset for {i + 5} seconds.") for i in range(labelled)]
    return ("\n".join(rows) + "\n").encode()


def finish(cloud: LocalCloud, execution: str, timeout: float = 120) -> dict[str, Any]:
    """The run's registry item once its execution ended (approved by someone else if held)."""
    run_id = until(lambda: cloud.run_id_of(execution))
    answered: list[str] = []

    def ended() -> dict[str, Any] | None:
        item = cloud.registry_item(run_id)
        if item is not None and item["status"] == "AWAITING_APPROVAL" and not answered:
            people.answer(cloud, run_id, "approve")  # not the submitter
            answered.append(run_id)
        described = cloud.client("stepfunctions").describe_execution(executionArn=execution)
        return item if described["status"] != "RUNNING" else None

    until(ended, timeout=timeout)
    item = cloud.registry_item(run_id)
    assert item is not None
    return item


def job_of(cloud: LocalCloud, item: dict[str, Any]) -> dict[str, Any]:
    job: dict[str, Any] = cloud.client("bedrock").get_model_customization_job(
        jobIdentifier=item["job_name"]
    )
    return job


def output(cloud: LocalCloud, item: dict[str, Any], name: str) -> str:
    body = cloud.client("s3").get_object(
        Bucket=cloud.output("ArtifactsBucketName"), Key=f"runs/{item['run_id']}/output/{name}"
    )["Body"]
    return str(body.read().decode("utf-8"))


def test_an_rft_run_is_graded_by_its_grader_function(fault_cloud: LocalCloud) -> None:
    # Given an RFT manifest with the built-in numeric grader
    execution = submit(fault_cloud, "sums", RFT, train_jsonl=arithmetic())

    # When it runs
    item = finish(fault_cloud, execution)

    # Then the grader function graded every sample, by its alias, and the rewards are recorded
    assert item["status"] == "SUCCEEDED", item.get("reason")
    graded = [arn for name, arn in BEDROCK.grader_calls if name == item["job_name"]]
    # 64 prompts sampled, 4 responses each, 16 samples per invocation
    assert len(graded) == rft_jobs.RECORD_CAP * 4 // rft_jobs.SAMPLES_PER_INVOKE
    assert {arn.rsplit(":", 1)[1][:2] for arn in graded} == {"g-"}
    job = job_of(fault_cloud, item)
    assert (
        job["customizationConfig"]["rftConfig"]["graderConfig"]["lambdaGrader"]["lambdaArn"]
        == graded[0]
    )
    assert "hyperParameters" not in job
    rows = list(csv.DictReader(io.StringIO(output(fault_cloud, item, rft_jobs.METRICS_FILE))))
    assert tuple(rows[0]) == rft_jobs.COLUMNS
    assert len(rows) == 4  # 64 prompts in steps of 16
    for row in rows:
        low, mean, high = (float(row[f"critic/rewards/{k}"]) for k in ("min", "mean", "max"))
        assert 0.0 <= low <= mean <= high <= 1.0
    # Right answers score 1 and wrong ones 0: a real grader, not a constant
    assert float(rows[-1]["critic/rewards/max"]) == 1.0
    assert float(rows[0]["critic/rewards/min"]) == 0.0
    assert float(rows[-1]["critic/rewards/mean"]) > float(rows[0]["critic/rewards/mean"])
    # RecordResult read the last step's rewards from the file
    assert float(item["metrics"]["final_reward_mean"]) == float(rows[-1]["critic/rewards/mean"])


def test_a_distillation_run_asks_its_teacher(fault_cloud: LocalCloud) -> None:
    # Given 30 prompts without answers and 3 with
    manifest = {**DISTILLATION, "customModelName": "support-student"}
    execution = submit(fault_cloud, "support", manifest, train_jsonl=support_prompts(30, 3))

    # When it runs
    item = finish(fault_cloud, execution)

    # Then the teacher answered each unlabelled prompt, and the synthetic data says what
    assert item["status"] == "SUCCEEDED", item.get("reason")
    asked = [model for name, model in BEDROCK.teacher_calls if name == item["job_name"]]
    assert asked == [NOVA_PRO] * 30
    made = [
        json.loads(line)
        for line in output(fault_cloud, item, distillation_jobs.SYNTHETIC_DATA).splitlines()
    ]
    assert len(made) == 30
    assert made[0]["messages"][-1]["role"] == "assistant"
    # The stand-in teacher answers with the first line after the instruction: the note.
    assert made[0]["messages"][-1]["content"][0]["text"].startswith("Hold the reset button")
    job = job_of(fault_cloud, item)
    teacher = job["customizationConfig"]["distillationConfig"]["teacherModelConfig"]
    assert teacher == {"teacherModelIdentifier": NOVA_PRO, "maxResponseLengthForInference": 512}
    assert "hyperParameters" not in job
    assert "training_artifacts/step_wise_training_metrics.csv" in item["metrics"]["output_files"]


def test_a_crashing_grader_fails_the_job_naming_it(fault_cloud: LocalCloud) -> None:
    # Given a grader function that raises on every invocation
    FAULTS.crash("grader", ALWAYS)

    # When an RFT run trains
    item = finish(fault_cloud, submit(fault_cloud, "crash", RFT, train_jsonl=arithmetic()))

    # Then the job failed, and the run says which grader and why
    assert item["status"] == "FAILED"
    assert "reward function arn:aws:lambda:" in item["reason"]
    assert ":g-" in item["reason"]
    assert "RuntimeError" in item["reason"]
    assert not [c for c in BEDROCK.grader_calls if c[0] == item["job_name"]]


def test_a_grader_without_its_alias_fails_the_job_naming_it(
    fault_cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a StartJob that writes the grader's configuration but makes no alias
    import customization_core.job_steps as job_steps

    def without_alias(grader: dict[str, Any], *, s3: Any, lambda_client: Any, bucket: str) -> None:
        return None

    monkeypatch.setattr(job_steps, "publish_grader", without_alias)

    # When an RFT run trains
    # (a configuration of its own: no earlier run of this module made its alias)
    manifest = {**RFT, "grader": {"name": "numeric", "params": {"tolerance": 0.25}}}
    item = finish(fault_cloud, submit(fault_cloud, "no-alias", manifest, train_jsonl=arithmetic()))

    # Then Bedrock could not invoke the grader, and the run names it
    assert item["status"] == "FAILED"
    assert "could not be invoked" in item["reason"]
    assert "ResourceNotFoundException" in item["reason"]
    assert ":g-" in item["reason"]


def test_a_foreign_accounts_grader_is_rejected_before_any_job(fault_cloud: LocalCloud) -> None:
    manifest = {
        **RFT,
        "grader": {"lambdaArn": "arn:aws:lambda:us-east-1:999999999999:function:their-grader"},
    }
    item = finish(fault_cloud, submit(fault_cloud, "foreign", manifest, train_jsonl=arithmetic()))
    assert item["status"] == "REJECTED"
    assert "999999999999" in item["reason"]
    assert BEDROCK.count("CreateModelCustomizationJob") == 0


@pytest.mark.parametrize(
    ("kind", "config", "hyper", "named"),
    [
        ("DISTILLATION", None, None, "distillationConfig"),
        ("REINFORCEMENT_FINE_TUNING", {"rftConfig": {}}, None, "lambdaArn"),
        (
            "REINFORCEMENT_FINE_TUNING",
            {
                "rftConfig": {
                    "graderConfig": {
                        "lambdaGrader": {
                            "lambdaArn": "arn:aws:lambda:us-east-1:123456789012:function:g"
                        }
                    }
                }
            },
            {"epochCount": "1"},
            "hyperParameters",
        ),
    ],
)
def test_bedrock_refuses_a_job_without_its_types_configuration(
    fault_cloud: LocalCloud,
    kind: str,
    config: dict[str, Any] | None,
    hyper: dict[str, str] | None,
    named: str,
) -> None:
    bedrock = fault_cloud.client("bedrock")
    model = NOVA_MICRO if kind == "DISTILLATION" else NOVA_2_LITE
    request: dict[str, Any] = {
        "jobName": f"refused-{named.lower()}",
        "customModelName": f"refused-{named.lower()}",
        "roleArn": "arn:aws:iam::123456789012:role/service",
        "baseModelIdentifier": model,
        "customizationType": kind,
        "trainingDataConfig": {"s3Uri": "s3://bucket/train.jsonl"},
        "outputDataConfig": {"s3Uri": "s3://bucket/output/"},
    }
    if config is not None:
        request["customizationConfig"] = config
    if hyper is not None:
        request["hyperParameters"] = hyper
    with pytest.raises(bedrock.exceptions.ValidationException, match=named):
        bedrock.create_model_customization_job(**request)


# The emulated jobs alone, made as StartJob makes them (with the stack's service role) -------


def _service_role(cloud: LocalCloud) -> str:
    for logical_id, resource in cloud.template["Resources"].items():
        trust = json.dumps(resource.get("Properties", {}).get("AssumeRolePolicyDocument", {}))
        if resource["Type"] == "AWS::IAM::Role" and "bedrock.amazonaws.com" in trust:
            return cloud.arns[logical_id]
    raise AssertionError("the template has no Bedrock service role")


def _grader_function(cloud: LocalCloud) -> str:
    for logical_id, props in cloud._resources("AWS::Lambda::Function"):
        if props.get("Handler") == "lambdas.grader.handler.main":
            return cloud.arns[logical_id]
    raise AssertionError("the template has no built-in grader function")


def _job(cloud: LocalCloud, name: str, kind: str, config: dict[str, Any], data: bytes) -> str:
    """A job made directly, its data in the artifacts bucket as StartJob copies it; its status."""
    bucket = cloud.output("ArtifactsBucketName")
    cloud.client("s3").put_object(Bucket=bucket, Key=f"runs/{name}/input/train.jsonl", Body=data)
    bedrock = cloud.client("bedrock")
    bedrock.create_model_customization_job(
        jobName=name,
        customModelName=name,
        roleArn=_service_role(cloud),
        baseModelIdentifier=NOVA_MICRO if kind == "DISTILLATION" else NOVA_2_LITE,
        customizationType=kind,
        trainingDataConfig={"s3Uri": f"s3://{bucket}/runs/{name}/input/train.jsonl"},
        outputDataConfig={"s3Uri": f"s3://{bucket}/runs/{name}/output/"},
        customizationConfig=config,
    )
    status = until(
        lambda: (
            (s := bedrock.get_model_customization_job(jobIdentifier=name))["status"] != "InProgress"
            and s
        )
    )
    return f"{status['status']}: {status.get('failureMessage', '')}"


def test_a_job_invokes_its_grader_by_alias_as_the_service_role(fault_cloud: LocalCloud) -> None:
    # Given the built-in grader's configuration and alias, as StartJob makes them
    function = _grader_function(fault_cloud)
    fault_cloud.client("s3").put_object(
        Bucket=fault_cloud.output("ArtifactsBucketName"),
        Key="graders/0123456789ab.json",
        Body=json.dumps({"name": "numeric", "params": {"tolerance": 0.001}}).encode(),
    )
    fault_cloud.client("lambda").create_alias(
        FunctionName=function, Name="g-0123456789ab", FunctionVersion="$LATEST"
    )
    rft = {"graderConfig": {"lambdaGrader": {"lambdaArn": f"{function}:g-0123456789ab"}}}

    # When a job names it, then it is graded; when a job names an unqualified ARN, the
    # service role may not invoke it (only the aliases), and the job fails naming the action
    graded = _job(
        fault_cloud, "direct-rft", "REINFORCEMENT_FINE_TUNING", {"rftConfig": rft}, arithmetic()
    )
    assert graded.startswith("Completed"), graded
    # No hyperParameters: 2 epochs of 64 prompts, 4 responses each, 16 samples an invocation
    invoked = rft_jobs.DEFAULT_EPOCHS * rft_jobs.RECORD_CAP * 4 // rft_jobs.SAMPLES_PER_INVOKE
    assert len(BEDROCK.grader_calls) == invoked
    unqualified = {"graderConfig": {"lambdaGrader": {"lambdaArn": function}}}
    denied = _job(
        fault_cloud,
        "direct-deny",
        "REINFORCEMENT_FINE_TUNING",
        {"rftConfig": unqualified},
        arithmetic(),
    )
    assert denied.startswith("Failed"), denied
    assert "lambda:InvokeFunction" in denied
    assert len(BEDROCK.grader_calls) == invoked  # never invoked


def test_a_job_asks_its_teacher_as_the_service_role(fault_cloud: LocalCloud) -> None:
    teacher = {"teacherModelConfig": {"teacherModelIdentifier": NOVA_PRO}}
    done = _job(
        fault_cloud,
        "direct-distil",
        "DISTILLATION",
        {"distillationConfig": teacher},
        support_prompts(5, 2),
    )
    assert done.startswith("Completed"), done
    assert BEDROCK.teacher_calls == [("direct-distil", NOVA_PRO)] * 5
    job = fault_cloud.client("bedrock").get_model_customization_job(jobIdentifier="direct-distil")
    assert job["statusDetails"]["dataProcessingDetails"]["status"] == "Completed"
    assert job["customizationConfig"] == {"distillationConfig": teacher}


def test_a_teacher_the_account_does_not_offer_is_refused(fault_cloud: LocalCloud) -> None:
    bedrock = fault_cloud.client("bedrock")
    teacher = {"teacherModelConfig": {"teacherModelIdentifier": "amazon.nova-ultra-v9:0"}}
    with pytest.raises(bedrock.exceptions.ValidationException, match="teacher"):
        _job(fault_cloud, "no-teacher", "DISTILLATION", {"distillationConfig": teacher}, b"")


def test_a_handler_invoked_inside_another_sees_its_alias_and_leaves_its_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given two handlers: the outer one (a poll) makes the inner one (a grader) run
    from types import SimpleNamespace

    from emulator import lambda_service

    def function(name: str, variables: dict[str, str]) -> Any:
        return SimpleNamespace(
            handler=f"lambdas.{name}.handler.main",
            environment_vars=variables,
            function_name=f"local-{name}",
            function_arn=f"arn:aws:lambda:us-east-1:123456789012:function:local-{name}",
            memory_size=128,
            timeout=3,
        )

    seen: dict[str, Any] = {}
    inner = function("notify", {"EMULATOR_ROLE": "inner", "EMULATOR_INNER_ONLY": "1"})

    def inner_main(event: Any, context: Any) -> str:
        seen["arn"] = context.invoked_function_arn
        return str(os.environ["EMULATOR_ROLE"])

    def outer_main(event: Any, context: Any) -> dict[str, Any]:
        answer = lambda_service.run_handler(inner, [], f"{inner.function_arn}:g-0123456789ab")
        return {
            "inner": answer,
            "role": os.environ["EMULATOR_ROLE"],
            "leaked": "EMULATOR_INNER_ONLY" in os.environ,
        }

    monkeypatch.setattr(importlib.import_module("lambdas.notify.handler"), "main", inner_main)
    monkeypatch.setattr(importlib.import_module("lambdas.cancel.handler"), "main", outer_main)

    # When the outer one runs
    result, errored = lambda_service.run_handler(function("cancel", {"EMULATOR_ROLE": "outer"}), {})
    lambda_service.clear_handler_environment()

    # Then the inner one saw the qualified ARN, and the outer one its own environment after
    assert not errored
    assert json.loads(result) == {"inner": ['"inner"', False], "role": "outer", "leaked": False}
    assert seen["arn"].endswith(":function:local-notify:g-0123456789ab")
