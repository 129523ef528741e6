"""The corpus of small bad files under tests/data/corpus gives exactly the expected findings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from customization_core.validator import validate_dataset

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"
EXPECTED: dict[str, dict[str, Any]] = json.loads((CORPUS / "expected.json").read_text())


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
    found_errors = sorted(
        ((e["line"], e["code"]) for e in report["errors"]), key=lambda x: (x[0] or 0, x[1])
    )
    expected_errors = sorted(
        ((line, code) for line, code in case["errors"]), key=lambda x: (x[0] or 0, x[1])
    )
    assert found_errors == expected_errors
    found_warnings = sorted(
        ((w["line"], w["code"]) for w in report["warnings"]), key=lambda x: (x[0] or 0, x[1])
    )
    expected_warnings = sorted(
        ((line, code) for line, code in case["warnings"]), key=lambda x: (x[0] or 0, x[1])
    )
    assert found_warnings == expected_warnings
    assert report["valid"] is (not case["errors"])
    for finding in report["errors"] + report["warnings"]:
        assert finding["message"].endswith((".", "?")), finding
