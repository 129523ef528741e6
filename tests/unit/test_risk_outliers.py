"""Outliers: far longer records, empty-looking answers, one answer for many prompts."""

from __future__ import annotations

from tests.unit.risk_data import distinct_records, risk_findings, run


def test_a_record_far_longer_than_the_rest_is_an_outlier() -> None:
    # Given 200 records of about 300 characters and one of some 30,000 at line 50
    records = distinct_records(200)
    records[49]["prompt"] = records[49]["prompt"] * 100

    report = run(records)

    long = risk_findings(report, "risk-outliers-long")
    assert [(f["count"], f["lines"], f["example"]) for f in long] == [(1, [50], None)]
    assert "8x the median" in long[0]["message"]


def test_uniformly_long_records_are_not_outliers() -> None:
    records = distinct_records(200)
    for record in records:
        record["prompt"] *= 20

    assert risk_findings(run(records), "risk-outliers-long") == []


def test_empty_looking_answers_are_named_by_line() -> None:
    records = distinct_records(10)
    records[2]["completion"] = "n/a"
    records[6]["completion"] = " . "

    empty = risk_findings(run(records), "risk-outliers-empty-answer")

    assert [(f["count"], f["lines"], f["example"]) for f in empty] == [(2, [3, 7], "'n/a'")]


def test_one_answer_for_many_distinct_prompts_is_reported_but_a_short_label_is_not() -> None:
    # Given 12 prompts answered by one sentence, and 30 answered by the label "positive"
    records = distinct_records(60)
    for record in records[:12]:
        record["completion"] = "I cannot help with that request."
    for record in records[20:50]:
        record["completion"] = "positive"

    report = run(records)

    repeated = risk_findings(report, "risk-outliers-repeated-answer")
    assert [(f["count"], f["lines"][:3]) for f in repeated] == [(12, [1, 2, 3])]
    assert "'I cannot help with that request.'" in repeated[0]["message"]
    assert report.document["risk"]["summary"]["outliers"] == 12


def test_a_repeated_answer_holding_personal_data_is_not_shown() -> None:
    records = distinct_records(12)
    for record in records:
        record["completion"] = "Contact support at help.desk@example.com please."

    repeated = risk_findings(run(records), "risk-outliers-repeated-answer")

    assert [f["example"] for f in repeated] == [None]
    assert "help.desk@example.com" not in repeated[0]["message"]


def test_a_repeated_answer_is_judged_whole_so_no_part_of_a_value_is_shown() -> None:
    # Cut to its first 60 characters, the address below would have been shown half
    # ("...at the address john.doe@exam"), no longer recognisable as an address.
    records = distinct_records(12)
    for record in records:
        record["completion"] = (
            "Thanks for writing; we have noted it at the address john.doe@example.com"
        )

    (repeated,) = risk_findings(run(records), "risk-outliers-repeated-answer")

    assert repeated["example"] is None
    assert "john.doe" not in repeated["message"]
