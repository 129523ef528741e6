"""The corpus of small bad files under tests/data/corpus gives exactly the expected findings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from customization_core.validator import validate_dataset

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"
EXPECTED: dict[str, dict[str, Any]] = json.loads((CORPUS / "expected.json").read_text())
# Where a model stands with AWS (retired, missing from the current tables) changes with the
# calendar, not with the data: tests/unit/test_request.py covers those findings.
MODEL_STANDING = {"model-end-of-life", "model-legacy", "model-not-in-current-docs"}


def _data_findings(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in findings if f["code"] not in MODEL_STANDING]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_corpus_file_gives_its_expected_findings(name: str) -> None:
    case = EXPECTED[name]
    with (CORPUS / name).open("rb") as stream:
        report = validate_dataset(
            stream,
            model_id=case["model"],
            customization_type=case["type"],
            hyperparameters=case["hyperparameters"],
        ).document
    errors, warnings = _data_findings(report["errors"]), _data_findings(report["warnings"])
    found_errors = sorted(((e["line"], e["code"]) for e in errors), key=lambda x: (x[0] or 0, x[1]))
    expected_errors = sorted(
        ((line, code) for line, code in case["errors"]), key=lambda x: (x[0] or 0, x[1])
    )
    assert found_errors == expected_errors
    found_warnings = sorted(
        ((w["line"], w["code"]) for w in warnings), key=lambda x: (x[0] or 0, x[1])
    )
    expected_warnings = sorted(
        ((line, code) for line, code in case["warnings"]), key=lambda x: (x[0] or 0, x[1])
    )
    assert found_warnings == expected_warnings
    standing = len(errors) != len(report["errors"])
    assert report["valid"] is (not case["errors"] and not standing)
    for finding in report["errors"] + report["warnings"]:
        assert finding["message"].endswith((".", "?")), finding
