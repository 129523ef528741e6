"""Distillation and RFT on the command line: validate, cost, check, catalog and submit."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from botocore.stub import Stubber
from click.testing import CliRunner

from bedrock_customize import stack as stacks
from bedrock_customize import submit, uploads
from bedrock_customize.cli import main
from bedrock_customize.options import TypeOptions, type_options
from tests.unit.stubs import check_bedrock

MICRO = "amazon.nova-micro-v1:0:128k"
NOVA_PRO = "amazon.nova-pro-v1:0"
LLAMA_8B = "meta.llama3-1-8b-instruct-v1:0:128k"
NOVA_2_LITE = "amazon.nova-2-lite-v1:0:256k"
OWN_GRADER = "arn:aws:lambda:us-east-1:123456789012:function:team-grader"


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def _error_line(out: str) -> str:
    (line,) = [line for line in out.splitlines() if line.startswith("Error: ")]  # one sentence
    return line


@pytest.fixture
def prompts(tmp_path: Path) -> Path:
    """Distillation prompts: the user's turn only, the teacher writes the answers."""
    path = tmp_path / "prompts.jsonl"
    records = (
        {
            "schemaVersion": "bedrock-conversation-2024",
            "messages": [{"role": "user", "content": [{"text": f"Explain item {i}."}]}],
        }
        for i in range(120)
    )
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def _rft_file(path: Path, *, without_reference: int | None = None) -> Path:
    """120 arithmetic records (RFT needs at least 100), one optionally without its reference."""
    lines = []
    for i in range(1, 121):
        record: dict[str, Any] = {
            "messages": [{"role": "user", "content": f"What is {i} + {i}?"}],
            "reference_answer": str(2 * i),
        }
        if i == without_reference:
            del record["reference_answer"]
        lines.append(json.dumps(record))
    path.write_text("\n".join(lines) + "\n")
    return path


# ---- validate and cost -------------------------------------------------------------------


def test_validate_distillation_with_a_teacher_of_the_student_is_valid(prompts: Path) -> None:
    code, out = _run(
        "validate", str(prompts), "--model", MICRO, "--type", "distillation",
        "--teacher", NOVA_PRO, "--max-response-length", "500", "--json",
    )  # fmt: skip
    assert code == 0, out
    document = json.loads(out)
    assert document["valid"] is True
    assert document["cost"]["teacher"]["model_id"] == NOVA_PRO
    assert document["cost"]["teacher"]["response_tokens"] == 120 * 500


def test_validate_refuses_a_teacher_that_does_not_teach_the_student(prompts: Path) -> None:
    code, out = _run(
        "validate", str(prompts), "--model", LLAMA_8B, "--type", "distillation",
        "--teacher", NOVA_PRO, "--json",
    )  # fmt: skip
    assert code == 1
    codes = [e["code"] for e in json.loads(out)["errors"]]
    assert codes == ["teacher-not-paired"]


def test_distillation_without_a_teacher_is_a_usage_error_naming_the_teachers(
    prompts: Path,
) -> None:
    code, out = _run("validate", str(prompts), "--model", MICRO, "--type", "distillation")
    assert code == 2
    line = _error_line(out)
    assert "--teacher" in line
    assert NOVA_PRO in line  # a teacher of Nova Micro, to copy


@pytest.mark.parametrize(
    ("kind", "extra", "flags"),
    [
        ("fine-tuning", ["--teacher", NOVA_PRO], ("--teacher", "distillation")),
        ("fine-tuning", ["--grader", "numeric"], ("--grader", "reinforcement-fine-tuning")),
        ("distillation", ["--teacher", NOVA_PRO, "--grader", "exact"], ("--grader",)),
        ("reinforcement-fine-tuning", ["--grader", "exact", "--teacher", NOVA_PRO], ("--teacher",)),
    ],
)
def test_an_option_of_another_type_is_a_usage_error(
    prompts: Path, kind: str, extra: list[str], flags: tuple[str, ...]
) -> None:
    code, out = _run("validate", str(prompts), "--model", MICRO, "--type", kind, *extra)
    assert code == 2
    line = _error_line(out)
    assert all(flag in line for flag in flags), line


def test_cost_shows_the_teacher_part(prompts: Path) -> None:
    args = ["cost", "--train", str(prompts), "--model", MICRO, "--type", "distillation"]
    code, out = _run(*args, "--teacher", NOVA_PRO, "--max-response-length", "500")
    assert code == 0, out
    (line,) = [line for line in out.splitlines() if line.startswith("teacher: ")]
    assert NOVA_PRO in line
    assert "60,000 output tokens" in line  # 120 prompts x 500 tokens
    code, out = _run(*args, "--teacher", NOVA_PRO, "--max-response-length", "500", "--json")
    parts = {p["name"]: p for p in json.loads(out)["parts"]}
    assert parts["teacher"]["usd"] > 0


def test_validate_rft_with_a_built_in_grader(tmp_path: Path) -> None:
    train = _rft_file(tmp_path / "train.jsonl")
    code, out = _run(
        "validate", str(train), "--model", NOVA_2_LITE, "--type", "reinforcement-fine-tuning",
        "--grader", "numeric", "--grader-param", "tolerance=0.01", "--json",
    )  # fmt: skip
    assert code == 0, out
    assert json.loads(out)["valid"] is True


def test_validate_tries_the_grader_and_flags_a_constant_one(tmp_path: Path) -> None:
    train = _rft_file(tmp_path / "train.jsonl")
    args = ["validate", str(train), "--model", NOVA_2_LITE, "--type", "reinforcement-fine-tuning"]
    code, out = _run(*args, "--grader", "numeric")
    assert code == 0, out
    assert "Grader numeric: tried on the first 200 records" in out
    code, out = _run(*args, "--grader", "regex", "--grader-param", "pattern=.*")
    assert code == 0, out  # flagged, as the pipeline flags it: a warning
    assert "WARNING grader:" in out
    assert "same reward" in out
    # A pattern that reads as a number stays the text it is (a regex parameter).
    code, out = _run(*args, "--grader", "regex", "--grader-param", "pattern=42")
    assert code == 0, out


def test_validate_rft_reports_the_record_without_its_reference(tmp_path: Path) -> None:
    train = _rft_file(tmp_path / "train.jsonl", without_reference=7)
    code, out = _run(
        "validate", str(train), "--model", NOVA_2_LITE, "--type", "reinforcement-fine-tuning",
        "--grader", "numeric", "--json",
    )  # fmt: skip
    assert code == 1
    errors = json.loads(out)["errors"]
    assert [(e["line"], e["field"]) for e in errors] == [(7, "reference_answer")]


def test_a_grader_field_parameter_is_required_of_every_record(tmp_path: Path) -> None:
    train = _rft_file(tmp_path / "train.jsonl")
    code, out = _run(
        "validate", str(train), "--model", NOVA_2_LITE, "--type", "reinforcement-fine-tuning",
        "--grader", "numeric", "--grader-param", "field=answer", "--json",
    )  # fmt: skip
    assert code == 1
    errors = json.loads(out)["errors"]
    assert {e["code"] for e in errors} == {"missing-grader-field"}
    assert errors[0]["line"] == 1


@pytest.mark.parametrize(
    ("extra", "facts"),
    [
        (["--grader", "bogus"], ("grader.name", "bogus", "numeric")),
        (["--grader", "numeric", "--grader-param", "tolerance=-1"], ("grader.params.tolerance",)),
        (["--grader", "numeric", "--grader-param", "surprise=1"], ("grader.params.surprise",)),
        ([], ("--grader NAME", "--grader-arn ARN")),
        (["--grader", "numeric", "--grader-arn", OWN_GRADER], ("--grader NAME", "--grader-arn")),
        (["--grader-arn", "arn:aws:s3:::bucket"], ("--grader-arn", "Lambda function ARN")),
    ],
)
def test_a_bad_grader_is_a_usage_error(
    tmp_path: Path, extra: list[str], facts: tuple[str, ...]
) -> None:
    train = _rft_file(tmp_path / "train.jsonl")
    code, out = _run(
        "validate", str(train), "--model", NOVA_2_LITE, "--type", "reinforcement-fine-tuning",
        *extra,
    )  # fmt: skip
    assert code == 2
    assert "Traceback" not in out
    said = " ".join(out.split())
    assert all(fact in said for fact in facts), said


def test_grader_params_are_read_as_json_when_they_are_json() -> None:
    seen: dict[str, Any] = {}

    @click.command()
    @type_options
    def probe(for_type: TypeOptions) -> None:
        seen["options"] = for_type

    result = CliRunner().invoke(
        probe,
        ["--grader", "regex", "--grader-param", "pattern=\\d+", "--grader-param", "flags=i",
         "--grader-param", "normalize=false", "--grader-param", "tolerance=0.5",
         "--grader-param", 'fields=["a", "b"]'],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert seen["options"].grader_params == {
        "pattern": "\\d+",
        "flags": "i",
        "normalize": False,
        "tolerance": 0.5,
        "fields": ["a", "b"],
    }
    assert seen["options"].manifest_fields()["grader"]["params"]["normalize"] is False


# ---- catalog -----------------------------------------------------------------------------


def test_catalog_distillation_lists_the_teachers_of_each_student() -> None:
    code, out = _run("catalog", "--type", "distillation")
    assert code == 0, out
    (row,) = [line for line in out.splitlines() if line.startswith("Amazon Nova Pro ")]
    assert f"model id {NOVA_PRO}" in row
    assert "us-east-1" in row
    assert any(MICRO in line for line in out.splitlines() if "TEACHER" not in line)
    premier = next(line for line in out.splitlines() if line.startswith("Amazon Nova Premier"))
    assert "inference profile us.amazon.nova-premier-v1:0" in premier
    assert "unknown" in premier  # no on-demand price in the catalog


def test_catalog_distillation_json_has_the_teachers() -> None:
    code, out = _run("catalog", "--type", "distillation", "--json")
    assert code == 0
    teachers = {t["model_ids"][0]: t for t in json.loads(out)["teachers"]}
    assert MICRO in teachers[NOVA_PRO]["students"]
    code, out = _run("catalog", "--type", "distillation", "--region", "us-west-2", "--json")
    assert NOVA_PRO not in {t["model_ids"][0] for t in json.loads(out)["teachers"]}


def test_catalog_rft_shows_the_typed_hyperparameters() -> None:
    code, out = _run("catalog", "--type", "reinforcement-fine-tuning")
    assert code == 0, out
    assert NOVA_2_LITE in out
    (effort,) = [line for line in out.splitlines() if line.startswith("reasoningEffort")]
    assert "one of low, medium, high" in effort
    (epochs,) = [line for line in out.splitlines() if line.startswith("epochCount")]
    assert "1 to 50" in epochs


def test_catalog_graders_lists_every_built_in_grader() -> None:
    code, out = _run("catalog", "--graders", "--json")
    assert code == 0
    graders = {g["name"]: g for g in json.loads(out)["graders"]}
    assert set(graders) == {"exact", "numeric", "json-fields", "regex", "weighted"}
    assert "tolerance" in {p["name"] for p in graders["numeric"]["params"]}
    code, out = _run("catalog", "--graders")
    assert code == 0
    assert any(line.startswith("numeric ") and "tolerance" in line for line in out.splitlines())
    code, out = _run("catalog", "--graders", "--type", "distillation")
    assert code == 2


def test_models_and_prepare_take_the_new_types() -> None:
    for command in ("models", "prepare", "submit", "cost", "validate", "catalog"):
        code, out = _run(command, "--help")
        assert code == 0
        assert "reinforcement-fine-tuning" in out, command
        assert "distillation" in out, command


# ---- check ------------------------------------------------------------------------------


def _job(tmp_path: Path, manifest: dict[str, Any], train: Path) -> Path:
    folder = tmp_path / "job"
    folder.mkdir()
    (folder / "job.json").write_text(json.dumps(manifest))
    (folder / "train.jsonl").write_bytes(train.read_bytes())
    return folder


def _check(folder: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(main, ["check", str(folder), "--json", *args])
    return result.exit_code, json.loads(result.output)


def test_check_reads_the_teacher_from_job_json(tmp_path: Path, prompts: Path) -> None:
    manifest = {"customizationType": "DISTILLATION", "baseModelId": LLAMA_8B}
    folder = _job(tmp_path, {**manifest, "teacherModelId": NOVA_PRO}, prompts)
    code, document = _check(folder, "--offline", "--region", "us-west-2")
    assert code == 1
    (problem,) = document["problems"]
    assert (problem["step"], problem["code"], problem["where"]) == (
        "request",
        "teacher-not-paired",
        "job.json: teacherModelId",
    )


def test_check_gives_the_validator_the_grader_fields(tmp_path: Path) -> None:
    train = _rft_file(tmp_path / "train.jsonl")
    manifest = {
        "customizationType": "REINFORCEMENT_FINE_TUNING",
        "baseModelId": NOVA_2_LITE,
        "grader": {"name": "numeric", "params": {"field": "answer"}},
    }
    code, document = _check(_job(tmp_path, manifest, train), "--offline", "--region", "us-east-1")
    assert code == 1
    assert {p["code"] for p in document["problems"]} == {"missing-grader-field"}


def _foundation_model(stubber: Stubber, model_id: str, **availability: str) -> None:
    base = model_id.rsplit(":", 1)[0] if model_id.endswith("k") else model_id
    stubber.add_response(
        "get_foundation_model",
        {
            "modelDetails": {
                "modelArn": f"arn:aws:bedrock:us-east-1::foundation-model/{base}",
                "modelId": model_id,
                "customizationsSupported": ["FINE_TUNING", "DISTILLATION"],
                "modelLifecycle": {"status": "ACTIVE"},
            }
        },
        {"modelIdentifier": model_id},
    )
    stubber.add_response(
        "get_foundation_model_availability",
        {
            "modelId": base,
            "agreementAvailability": {"status": "AVAILABLE"},
            "authorizationStatus": availability.get("authorizationStatus", "AUTHORIZED"),
            "entitlementAvailability": "AVAILABLE",
            "regionAvailability": "AVAILABLE",
        },
        {"modelId": base},
    )


@pytest.fixture
def bedrock(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Stubber]]:
    with check_bedrock(monkeypatch) as stubbed:
        yield stubbed


def test_the_live_check_asks_about_the_teacher_too(
    tmp_path: Path, prompts: Path, bedrock: tuple[Any, Stubber]
) -> None:
    _client, stubber = bedrock
    _foundation_model(stubber, MICRO)
    _foundation_model(stubber, NOVA_PRO, authorizationStatus="NOT_AUTHORIZED")
    manifest = {
        "customizationType": "DISTILLATION",
        "baseModelId": MICRO,
        "teacherModelId": NOVA_PRO,
    }
    code, document = _check(_job(tmp_path, manifest, prompts), "--region", "us-east-1")
    assert code == 1
    (problem,) = document["problems"]
    assert (problem["step"], problem["code"]) == ("live", "model-access-not-granted")
    assert NOVA_PRO in problem["message"]


# ---- submit ------------------------------------------------------------------------------


@pytest.fixture
def uploaded(monkeypatch: pytest.MonkeyPatch, bedrock: tuple[Any, Stubber]) -> dict[str, Any]:
    """submit against a stand-in stack: Bedrock stubbed, the uploads recorded, not sent."""
    client, _stubber = bedrock
    sent: dict[str, Any] = {}
    stack = stacks.Stack(
        "BedrockCustomization-dev",
        {"DatasetsBucketName": "datasets", "DataKeyArn": "arn:aws:kms:us-east-1:1:key/k"},
        lambda service: client,
    )
    monkeypatch.setattr(stacks.Where, "open", lambda self: stack)
    monkeypatch.setattr(uploads, "caller", lambda _stack: "AIDATEST")
    monkeypatch.setattr(uploads, "upload", lambda *args: None)

    def put_manifest(_stack: Any, folder: str, manifest: bytes, *, user_id: str) -> str:
        sent[folder] = json.loads(manifest)
        return "run-1"

    monkeypatch.setattr(uploads, "put_manifest", put_manifest)
    monkeypatch.setattr(submit, "finish", lambda *args, **kwargs: None)
    return sent


def test_submit_writes_the_teacher_into_job_json(
    prompts: Path, uploaded: dict[str, Any], bedrock: tuple[Any, Stubber]
) -> None:
    _foundation_model(bedrock[1], MICRO)
    _foundation_model(bedrock[1], NOVA_PRO)
    result = CliRunner().invoke(
        main,
        ["submit", "--name", "distilled", "--model", MICRO, "--type", "distillation",
         "--train", str(prompts), "--teacher", NOVA_PRO, "--max-response-length", "512"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    manifest = uploaded["jobs/distilled/"]
    assert manifest["customizationType"] == "DISTILLATION"
    assert (manifest["teacherModelId"], manifest["maxResponseLength"]) == (NOVA_PRO, 512)
    assert "grader" not in manifest


def test_submit_writes_the_grader_into_job_json(
    tmp_path: Path, uploaded: dict[str, Any], bedrock: tuple[Any, Stubber]
) -> None:
    _foundation_model(bedrock[1], NOVA_2_LITE)
    train = _rft_file(tmp_path / "train.jsonl")
    result = CliRunner().invoke(
        main,
        ["submit", "--name", "graded", "--model", NOVA_2_LITE, "--type",
         "reinforcement-fine-tuning", "--train", str(train), "--grader", "numeric",
         "--grader-param", "tolerance=0.01", "--hyperparameter", "reasoningEffort=low"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    manifest = uploaded["jobs/graded/"]
    assert manifest["grader"] == {"name": "numeric", "params": {"tolerance": 0.01}}
    assert manifest["hyperParameters"] == {"reasoningEffort": "low"}
    assert "teacherModelId" not in manifest


def test_submit_writes_an_own_grader_by_its_arn() -> None:
    options = TypeOptions(grader_arn=OWN_GRADER).checked("reinforcement-fine-tuning", NOVA_2_LITE)
    assert options.manifest_fields() == {"grader": {"lambdaArn": OWN_GRADER}}
    assert options.validator_kwargs()["grader_fields"] == ()


def test_models_names_each_type_with_its_teacher_or_grader() -> None:
    from bedrock_customize.models import _type_text

    def row(kind: str | None, teacher: str | None = None, grader: str | None = None) -> Any:
        return {"customization_type": kind, "teacher_model_id": teacher, "grader": grader}

    assert _type_text(row("DISTILLATION", teacher=NOVA_PRO)) == f"distillation (teacher {NOVA_PRO})"
    assert _type_text(row("REINFORCEMENT_FINE_TUNING", grader="numeric")) == (
        "reinforcement-fine-tuning (grader numeric)"
    )
    assert _type_text(row("FINE_TUNING")) == "fine-tuning"
    assert _type_text(row(None)) is None


def test_check_notes_that_an_own_grader_is_judged_by_the_pipeline(tmp_path: Path) -> None:
    train = _rft_file(tmp_path / "train.jsonl")
    manifest = {
        "customizationType": "REINFORCEMENT_FINE_TUNING",
        "baseModelId": NOVA_2_LITE,
        "grader": {"lambdaArn": OWN_GRADER},
    }
    code, document = _check(_job(tmp_path, manifest, train), "--offline", "--region", "us-east-1")
    assert code == 0, document
    notes = [n["message"] for n in document["notes"] if n["step"] == "request"]
    assert any("graderFunctions" in n and OWN_GRADER in n for n in notes)
    (warning,) = [p for p in document["problems"] if p["code"] == "grader-dry-run"]
    assert warning["severity"] == "warning"  # not tried: Bedrock invokes it during training
