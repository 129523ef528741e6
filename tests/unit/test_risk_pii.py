"""Personal data and secrets: found, counted by line, and never shown unmasked."""

from __future__ import annotations

import json

import pytest

from customization_core.report import Report
from customization_core.risk_pii import find_sensitive
from tests.unit.risk_data import distinct_records, risk_findings, run

CASES = [
    (
        "risk-pii-email",
        "Write to john.doe@example.com today.",
        "john.doe@example.com",
        "j***@e***.com",
    ),
    ("risk-pii-phone", "Call +1 650-253-0000 after noon.", "650-253-0000", "+1 ***-***-0000"),
    (
        "risk-pii-card",
        "Card 4111 1111 1111 1111 was charged.",
        "4111 1111 1111 1111",
        "**** **** **** 1111",
    ),
    (
        "risk-pii-iban",
        "Pay to DE89 3704 0044 0532 0130 00 now.",
        "3704 0044 0532 0130",
        "DE89 **** **** **** **** 00",
    ),
    (
        "risk-secrets-aws-key",
        "Use key AKIAIOSFODNN7EXAMPLE here.",
        "AKIAIOSFODNN7EXAMPLE",
        "AKIA************MPLE",
    ),
    (
        "risk-secrets-url-password",
        "DB at https://admin:hunter2pass@db.example.com/main",
        "hunter2pass",
        "https://admin:****@db.example.com/...",
    ),
    (
        "risk-secrets-private-key",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA0vx7\n-----END RSA PRIVATE KEY-----",
        "MIIEpAIBAAKCAQEA0vx7",
        "-----BEGIN RSA PRIVATE KEY----- ****",
    ),
]


def _everything_shown(report: Report) -> str:
    """All the report says: its JSON, its text rendering, each finding's message."""
    return report.to_json().decode() + report.render_text() + json.dumps(report.document)


@pytest.mark.parametrize(("code", "text", "raw", "masked"), CASES, ids=[c[0] for c in CASES])
def test_each_kind_is_found_on_its_line_with_only_a_masked_example(
    code: str, text: str, raw: str, masked: str
) -> None:
    # Given a sensitive value in the completion of line 4
    records = distinct_records(6)
    records[3]["completion"] = text

    # When the dataset is validated with the risk scan
    report = run(records)

    # Then the finding names line 4 and the masked value, and the raw value is nowhere
    found = risk_findings(report, code)
    assert [(f["count"], f["lines"], f["example"]) for f in found] == [(1, [4], masked)]
    assert masked in found[0]["message"]
    assert raw not in _everything_shown(report)
    warning = [w for w in report.document["warnings"] if w["code"] == code]
    assert [(w["line"], w["file"]) for w in warning] == [(4, "training")]


def test_a_luhn_invalid_card_and_a_bad_iban_checksum_are_not_flagged() -> None:
    records = distinct_records(4)
    records[0]["completion"] = "Card 4111 1111 1111 1112 on file."
    records[1]["completion"] = "IBAN DE89 3704 0044 0532 0130 01 on file."

    summary = run(records).document["risk"]["summary"]

    assert summary["pii"] == 0


def test_a_record_with_several_values_of_one_kind_counts_once() -> None:
    records = distinct_records(3)
    records[1]["prompt"] = "Mail a.b@example.org or c.d@example.net, cc e@example.com."

    report = run(records)

    assert [f["count"] for f in risk_findings(report, "risk-pii-email")] == [1]
    assert report.document["risk"]["summary"]["pii"] == 1


def test_plain_numbers_and_a_url_without_password_are_not_sensitive() -> None:
    text = "Record 12345. Order 20 units by 2026-12-02; see https://example.com/a:b for details."

    assert find_sensitive(text) == []


def test_conversation_text_is_searched_in_every_turn() -> None:
    from customization_core.risk_text import record_text

    record = {
        "schemaVersion": "bedrock-conversation-2024",
        "system": [{"text": "Be brief."}],
        "messages": [
            {"role": "user", "content": [{"text": "My mail is jane@example.com"}]},
            {"role": "assistant", "content": [{"text": "Noted."}]},
        ],
    }

    found = record_text(record)

    assert found is not None
    assert found.prompt == "Be brief.\nMy mail is jane@example.com"
    assert found.answer == "Noted."
    assert [hit.masked for hit in find_sensitive(found.text)] == ["j***@e***.com"]


@pytest.mark.parametrize("text", ["mailto:jane.doe@example.com", "Email:jane.doe@example.com"])
def test_an_address_after_a_colon_is_personal_data(text: str) -> None:
    assert [(h.what, h.masked) for h in find_sensitive(text)] == [("email", "j***@e***.com")]


def test_a_url_password_is_a_secret_masked_to_its_host_not_an_address() -> None:
    text = "Connect to postgres://admin:hunter2@db.internal?sslkey=SECRETVALUE now."
    (hit,) = find_sensitive(text)
    assert (hit.what, hit.masked) == ("url-password", "postgres://admin:****@db.internal/...")
    assert "hunter2" not in hit.masked
    assert "SECRETVALUE" not in hit.masked


def test_an_aws_secret_access_key_alone_is_found_and_wholly_masked() -> None:
    text = 'aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"'
    (hit,) = find_sensitive(text)
    assert hit.what == "aws-key"
    assert hit.masked == "*" * 40


def test_a_table_of_numbers_never_reaches_the_phone_matcher(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A run of more digits than any card or phone number holds is a list, not a number:
    # handing it to phonenumbers' matcher cost 23 ms a 2 KB record.
    import phonenumbers

    calls: list[str] = []
    real = phonenumbers.PhoneNumberMatcher

    def counted(text: str, region: str) -> object:
        calls.append(text)
        return real(text, region)

    monkeypatch.setattr(phonenumbers, "PhoneNumberMatcher", counted)
    table = " ".join(str(100 + i) for i in range(500))
    assert find_sensitive(table) == []
    assert calls == []
    assert [h.what for h in find_sensitive(f"{table}, call +1 201-555-0100")] == ["phone"]
    assert len(calls) == 1


@pytest.mark.parametrize(
    "text",
    [
        "https://doe.com\njohn@doe.com",
        "Links:\thttps://x.com\tjohn@doe.com",
        "https://x.com,john@doe.com",
        "url=https://a.com;mail=john@doe.com",
        "https://example.com/contact?email=john@doe.com",
    ],
)
def test_an_address_near_a_url_is_still_an_address(text: str) -> None:
    assert [(h.what, h.masked) for h in find_sensitive(text)] == [("email", "j***@d***.com")]


@pytest.mark.parametrize("text", ["Order 12345678 201-555-0100", "2024-01-15 201-555-0100"])
def test_a_phone_number_beside_another_number_is_found(text: str) -> None:
    assert [(h.what, h.masked) for h in find_sensitive(text)] == [("phone", "***-***-0100")]


def test_every_access_key_id_prefix_and_the_detectors_full_reach_are_candidates() -> None:
    assert [h.what for h in find_sensitive("id ABIAIOSFODNN7EXAMPLE")] == ["aws-key"]
    far = 'aws_root_account_user_password_for_console = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"'
    assert [h.masked for h in find_sensitive(far)] == ["*" * 40]
