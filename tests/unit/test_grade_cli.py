"""``bedrock-customize grade`` and the dry run behind it: rewards, and the graders it flags."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bedrock_customize.cli import main
from customization_core.grader_dry_run import ResponsesError, dry_run, read_responses
from customization_core.graders import configure

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "rft-arithmetic"


def _write(path: Path, records: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _problems(n: int) -> list[dict[str, Any]]:
    return [
        {"messages": [{"role": "user", "content": f"{i} + 1?"}], "reference_answer": str(i + 1)}
        for i in range(n)
    ]


def _grade(*args: str) -> Any:
    return CliRunner().invoke(main, ["grade", *args])


def test_a_sound_grader_on_the_example_passes_with_its_distribution() -> None:
    result = _grade(
        str(EXAMPLE / "train.jsonl"),
        "--grader",
        "numeric",
        "--param",
        "tolerance=0.001",
        "--responses",
        str(EXAMPLE / "responses.jsonl"),
        "--json",
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["flags"] == []
    assert document["sets"]["reference"]["mean"] == 1.0
    assert document["sets"]["mismatched"]["mean"] < 0.1
    # The sample responses are mostly right: a spread, not one value.
    assert 0.5 < document["sets"]["responses"]["mean"] < 1.0
    assert sum(document["sets"]["responses"]["histogram"]) == 120


def test_a_constant_grader_is_flagged(tmp_path: Path) -> None:
    data = _write(tmp_path / "train.jsonl", _problems(10))
    result = _grade(str(data), "--grader", "regex", "--param", "pattern=.*")
    assert result.exit_code == 1
    assert "FLAGGED constant" in result.output


def test_a_crashing_grader_is_flagged_with_the_lines(tmp_path: Path) -> None:
    records = _problems(6)
    del records[2]["reference_answer"]
    records[4]["reference_answer"] = {"value": 5}
    data = _write(tmp_path / "train.jsonl", records)
    result = _grade(str(data), "--grader", "numeric", "--param", "field=answer", "--json")
    assert result.exit_code == 1
    document = json.loads(result.output)
    assert "crashes" in document["flags"]
    assert {f["line"] for f in document["failures"]} == {1, 2, 3, 4, 5, 6}
    plain = _grade(str(data), "--grader", "numeric")
    assert plain.exit_code == 1
    assert "line 3: missing-input" in plain.output


def test_references_below_full_reward_are_flagged(tmp_path: Path) -> None:
    data = _write(tmp_path / "train.jsonl", _problems(10))
    result = _grade(str(data), "--grader", "regex", "--param", "pattern=^never$", "--json")
    assert result.exit_code == 1
    assert "reference-below-full" in json.loads(result.output)["flags"]


def test_bad_parameters_and_files_are_usage_errors(tmp_path: Path) -> None:
    data = _write(tmp_path / "train.jsonl", _problems(3))
    bogus = _grade(str(data), "--grader", "bogus")
    assert bogus.exit_code == 2
    assert "grader.name" in bogus.output
    negative = _grade(str(data), "--grader", "numeric", "--param", "tolerance=-1")
    assert negative.exit_code == 2
    assert "grader.params.tolerance" in negative.output
    malformed = _grade(str(data), "--grader", "numeric", "--param", "tolerance")
    assert malformed.exit_code == 2
    responses = tmp_path / "responses.jsonl"
    responses.write_text('{"response": "2"}\nnot json\n', encoding="utf-8")
    bad = _grade(str(data), "--grader", "numeric", "--responses", str(responses))
    assert bad.exit_code == 2
    assert "line 2" in bad.output


def test_lines_that_are_not_objects_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    path.write_text(
        json.dumps(_problems(2)[0]) + "\n[1, 2]\n{broken\n" + json.dumps(_problems(2)[1]) + "\n",
        encoding="utf-8",
    )
    result = _grade(str(path), "--grader", "numeric", "--json")
    assert result.exit_code == 1
    assert json.loads(result.output)["unreadable_lines"] == [2, 3]


def test_responses_can_name_their_lines() -> None:
    assert read_responses(['{"line": 3, "response": "x"}', '{"response": "y"}']) == {3: "x", 2: "y"}
    with pytest.raises(ResponsesError, match="line 1"):
        read_responses(['{"line": 0, "response": "x"}'])


def test_the_dry_run_limit_and_the_mismatched_control() -> None:
    records = list(enumerate(_problems(50), start=1))
    result = dry_run(records, configure("exact", {}), limit=5)
    assert result.sets["reference"].count == 5
    assert result.sets["mismatched"].max == 0.0
    assert result.flags == ()
