"""The risk policy: parsed once with one-sentence errors; a blocked kind rejects the data."""

from __future__ import annotations

import pytest

from customization_core.risk_policy import RISK_KINDS, RiskPolicy
from tests.unit.risk_data import distinct_records, run


def test_no_setting_warns_on_every_kind() -> None:
    assert RiskPolicy.parse(None).to_dict() == dict.fromkeys(RISK_KINDS, "warn")


def test_a_setting_blocks_the_kinds_it_names_and_warns_on_the_rest() -> None:
    policy = RiskPolicy.parse({"pii": "block", "leakage": "warn"})

    assert policy.to_dict() == {
        "leakage": "warn",
        "duplicates": "warn",
        "pii": "block",
        "secrets": "warn",
        "outliers": "warn",
    }


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ({"pi": "block"}, "'pi'"),
        ({"pii": "stop"}, "'stop'"),
        ({"secrets": True}, "True"),
    ],
)
def test_a_bad_key_or_value_is_one_sentence_naming_it_and_the_allowed_ones(
    setting: dict[str, object], named: str
) -> None:
    with pytest.raises(ValueError, match=r"^dataRisk[^\n]*\.$") as raised:
        RiskPolicy.parse(setting)

    message = str(raised.value)
    assert named in message
    assert ("leakage, duplicates, pii, secrets, outliers" in message) or ("warn, block" in message)


def test_a_blocked_kind_makes_the_report_invalid_with_an_error_on_the_line() -> None:
    # Given an e-mail address on line 2 and a policy that blocks personal data
    records = distinct_records(5)
    records[1]["completion"] = "Reach me at jane.roe@example.com."

    report = run(records, policy=RiskPolicy.parse({"pii": "block"}))

    assert not report.valid
    errors = [(e["code"], e["line"]) for e in report.document["errors"]]
    assert errors == [("risk-pii-email", 2)]
    finding = report.document["risk"]["findings"][0]
    assert finding["severity"] == "error"
    assert report.document["risk"]["policy"]["pii"] == "block"


def test_the_same_data_under_the_default_policy_is_valid_with_a_warning() -> None:
    records = distinct_records(5)
    records[1]["completion"] = "Reach me at jane.roe@example.com."

    report = run(records)

    assert report.valid
    dataset = [w["code"] for w in report.document["warnings"] if w["file"] != "request"]
    assert dataset == ["risk-pii-email"]
