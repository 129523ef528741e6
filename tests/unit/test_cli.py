"""``bedrock-customize validate``: exit codes, human and JSON output, usage errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bedrock_customize.cli import main

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"
EXPRESS = "amazon.titan-text-express-v1:0:8k"


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_valid_data_exits_0_with_a_readable_report() -> None:
    code, out = _run(
        "validate", str(CORPUS / "pc_good.jsonl"), "--model", EXPRESS, "--type", "fine-tuning"
    )
    assert code == 0
    assert out.startswith(
        "VALID: Amazon Titan Text G1 - Express, FINE_TUNING, format prompt-completion"
    )
    assert "training: 5 records" in out


def test_invalid_data_exits_1_with_line_numbered_findings() -> None:
    code, out = _run(
        "validate", str(CORPUS / "pc_fields.jsonl"), "--model", EXPRESS, "--type", "fine-tuning"
    )
    assert code == 1
    assert "training:1: missing-field [completion]" in out
    assert "training:5: not-an-object" in out


def test_json_prints_exactly_the_report_document() -> None:
    code, out = _run(
        "validate", str(CORPUS / "pc_good.jsonl"), "--model", EXPRESS, "--type", "fine-tuning",
        "--validation", str(CORPUS / "pc_duplicates.jsonl"), "--epochs", "2", "--json",
    )  # fmt: skip
    assert code == 0
    document = json.loads(out)
    assert document["valid"] is True
    assert document["validation_records"] == 4
    assert document["cost"]["epochs"] == 2
    assert document["request"]["hyperparameters"]["epochCount"] == "2"


def test_hyperparameters_are_passed_as_the_api_names_them() -> None:
    code, out = _run(
        "validate", str(CORPUS / "pc_good.jsonl"), "--model", EXPRESS, "--type", "fine-tuning",
        "--hyperparameter", "learningRate=7", "--json",
    )  # fmt: skip
    assert code == 1
    assert json.loads(out)["errors"][0]["code"] == "hyperparameter-out-of-range"


@pytest.mark.parametrize(
    ("args", "facts"),
    [
        (
            ["--model", EXPRESS, "--type", "pretraining"],
            ("'--type'", "'pretraining'", "'fine-tuning'", "'continued-pretraining'"),
        ),
        (["--type", "fine-tuning"], ("'--model'",)),
        (
            ["--model", EXPRESS, "--type", "fine-tuning", "--hyperparameter", "epochCount"],
            ("'--hyperparameter'", "'epochCount'", "KEY=VALUE"),
        ),
        (
            [
                "--model",
                EXPRESS,
                "--type",
                "fine-tuning",
                "--epochs",
                "2",
                "--hyperparameter",
                "epochCount=3",
            ],
            ("--epochs 2", "epochCount=3"),
        ),
    ],
)
def test_usage_errors_exit_2_with_one_clear_sentence(
    args: list[str], facts: tuple[str, ...]
) -> None:
    code, out = _run("validate", str(CORPUS / "pc_good.jsonl"), *args)
    assert code == 2
    (line,) = [line for line in out.splitlines() if line.startswith("Error: ")]  # one sentence
    assert all(fact in line for fact in facts), line


def test_a_missing_file_is_a_usage_error() -> None:
    code, out = _run("validate", "/no/such/file.jsonl", "--model", EXPRESS, "--type", "fine-tuning")
    assert code == 2
    assert all(fact in out for fact in ("'TRAIN'", "'/no/such/file.jsonl'"))


@pytest.mark.parametrize(
    ("extra", "facts"),
    [
        (["--deploy", "on-demand"], ("deploy.mode on-demand", EXPRESS, "deploy.mode provisioned")),
        (["--ttl-hours", "2"], ("--ttl-hours", "--deploy provisioned or on-demand")),
        (
            ["--deploy", "provisioned", "--ttl-hours", "2", "--keep-deployment"],
            ("--ttl-hours", "--keep-deployment"),
        ),
        (["--name", "bad name!"], ("--name", "'bad name!'", "63")),
    ],
)
def test_submit_refuses_what_cannot_run_before_touching_aws(
    extra: list[str], facts: tuple[str, ...]
) -> None:
    train = str(CORPUS / "pc_good.jsonl")
    args = ["submit", "--name", "ok", "--model", EXPRESS, "--type", "fine-tuning", "--train", train]
    code, out = _run(*args, *extra)
    assert code == 2
    said = " ".join(out.split())
    assert all(fact in said for fact in facts), said


def test_submit_writes_the_deploy_and_evaluate_blocks() -> None:
    from bedrock_customize.options import after_training

    assert after_training("none", None, None, False, None, None) == {}
    assert after_training("provisioned", 2, None, True, 5, 0.1) == {
        "deploy": {"mode": "provisioned", "modelUnits": 2, "ttlHours": None},
        "evaluate": {"samples": 5, "minImprovement": 0.1},
    }


@pytest.mark.parametrize("command", ["validate", "cost"])
def test_region_refuses_a_region_where_the_model_cannot_be_customized(command: str) -> None:
    train = str(CORPUS / "pc_good.jsonl")
    where = [train] if command == "validate" else ["--train", train]
    args = [command, *where, "--model", EXPRESS, "--type", "fine-tuning"]
    code, out = _run(*args, "--region", "eu-central-1")
    assert code == 2
    assert "us-east-1" in out  # the Regions that can
    assert "Traceback" not in out
    code, out = _run(*args, "--region", "us-west-2")
    assert code == 0, out


def test_region_leaves_an_unknown_model_to_the_validator() -> None:
    code, out = _run(
        "validate", str(CORPUS / "pc_good.jsonl"), "--model", "no-such-model",
        "--type", "fine-tuning", "--region", "us-east-1", "--json",
    )  # fmt: skip
    assert code == 1
    assert json.loads(out)["errors"][0]["code"] == "unknown-model"


def test_prepare_help_lists_the_format_options() -> None:
    code, out = _run("prepare", "--help")
    assert code == 0
    for option in (
        "--format",
        "--input-format",
        "--system",
        "--messages-field",
        "--image-column",
        "--video-column",
        "--media-uri-prefix",
        "--bucket-owner",
        "--region",
    ):
        assert option in out
