"""``bedrock-customize validate --risk``: the "Data risks" section, masked; --json has "risk"."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from bedrock_customize.cli import main
from tests.unit.risk_data import EXPRESS, distinct_records, jsonl


def _train(tmp_path: Path) -> Path:
    records = distinct_records(6)
    records[3]["completion"] = "Card 4111 1111 1111 1111, key AKIAIOSFODNN7EXAMPLE."
    path = tmp_path / "train.jsonl"
    path.write_bytes(jsonl(records))
    return path


def _validate(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        main, ["validate", *args, "--model", EXPRESS, "--type", "fine-tuning"]
    )
    return result.exit_code, result.output


def test_risk_prints_a_data_risks_section_per_kind_with_masked_examples(tmp_path: Path) -> None:
    code, out = _validate(str(_train(tmp_path)), "--risk")

    assert code == 0  # risks warn by default
    section = out[out.index("Data risks") :]
    assert "pii: 1 record flagged (warn)" in section
    assert "secrets: 1 record flagged (warn)" in section
    assert "leakage: 0 records flagged (warn)" in section
    assert "**** **** **** 1111" in section
    assert "AKIA************MPLE" in section
    assert "4111 1111 1111 1111" not in out
    assert "AKIAIOSFODNN7EXAMPLE" not in out


def test_risk_json_has_the_risk_document(tmp_path: Path) -> None:
    code, out = _validate(str(_train(tmp_path)), "--risk", "--json")

    document = json.loads(out)
    assert code == 0
    assert document["risk"]["summary"]["pii"] == 1
    assert [f["code"] for f in document["risk"]["findings"]] == [
        "risk-pii-card",
        "risk-secrets-aws-key",
    ]


def test_without_risk_there_is_no_section(tmp_path: Path) -> None:
    code, out = _validate(str(_train(tmp_path)))

    assert code == 0
    assert "Data risks" not in out
