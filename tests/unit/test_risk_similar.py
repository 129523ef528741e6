"""Leakage across training and validation, near duplicates within a file (MinHash LSH)."""

from __future__ import annotations

from tests.unit.risk_data import distinct_records, risk_findings, run


def _near(record: dict[str, str]) -> dict[str, str]:
    """The record with one word of its prompt changed: a near duplicate."""
    words = record["prompt"].split()
    words[-1] = "changed"
    return {"prompt": " ".join(words), "completion": record["completion"]}


def test_validation_records_that_repeat_training_ones_are_leakage_with_both_lines() -> None:
    # Given a training file and a validation file holding training line 3 verbatim
    # (line 2) and training line 6 with one word changed (line 4)
    training = distinct_records(10)
    validation = distinct_records(4, seed=99)
    validation[1] = training[2]
    validation[3] = _near(training[5])

    # When the dataset is validated with the risk scan
    report = run(training, validation)

    # Then each leak is reported on its validation line, naming the training line
    exact = risk_findings(report, "risk-leakage-exact")
    near = risk_findings(report, "risk-leakage-near")
    assert [(f["file"], f["count"], f["lines"]) for f in exact] == [("validation", 1, [2])]
    assert [(f["file"], f["count"], f["lines"]) for f in near] == [("validation", 1, [4])]
    assert "validation line 2 and training line 3" in exact[0]["message"]
    assert "validation line 4 and training line 6" in near[0]["message"]
    assert report.document["risk"]["summary"]["leakage"] == 2


def test_distinct_files_have_no_leakage_and_no_near_duplicates() -> None:
    report = run(distinct_records(30), distinct_records(10, seed=3))

    summary = report.document["risk"]["summary"]
    assert summary["leakage"] == 0
    assert summary["duplicates"] == 0


def test_near_duplicates_within_a_file_are_reported_but_exact_ones_are_left_to_file_check() -> None:
    # Given line 8 nearly repeating line 2, and line 9 repeating line 3 exactly
    records = distinct_records(10)
    records[7] = _near(records[1])
    records[8] = records[2]

    report = run(records)

    near = risk_findings(report, "risk-duplicates-near")
    assert [(f["count"], f["lines"]) for f in near] == [(1, [8])]
    assert "line 8 and line 2" in near[0]["message"]
    # the exact repeat is file_check's duplicate-record warning, not a risk finding too
    codes = [w["code"] for w in report.document["warnings"] if w["line"] == 9]
    assert codes == ["duplicate-record"]
