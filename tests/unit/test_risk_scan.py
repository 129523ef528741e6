"""The scan in the validator's pass: bounded memory, the file hash, nothing changed without it."""

from __future__ import annotations

import hashlib
import io
from typing import Any

from customization_core.risk_policy import RiskPolicy, ScanBudget
from customization_core.risk_scan import RiskScan
from customization_core.risk_similar import SimilarityIndex
from customization_core.validator import validate_dataset
from tests.unit.risk_data import EXPRESS, distinct_records, jsonl, risk_findings, run


def _plain(data: bytes, **kwargs: Any) -> dict[str, Any]:
    return validate_dataset(
        io.BytesIO(data), model_id=EXPRESS, customization_type="fine-tuning", **kwargs
    ).document


def test_without_risk_the_document_has_no_risk_and_no_hash() -> None:
    data = jsonl(distinct_records(20))

    document = _plain(data)

    assert "risk" not in document
    assert "sha256" not in document["files"]["training"]


def test_with_risk_on_clean_data_the_document_only_gains_risk_and_the_hash() -> None:
    # Given data with no risk in it
    data = jsonl(distinct_records(20))

    # When it is validated with and without the scan
    without = _plain(data)
    with_risk = run(distinct_records(20)).document

    # Then only "risk" and the file's "sha256" differ
    assert with_risk.pop("risk")["summary"] == dict.fromkeys(
        ("leakage", "duplicates", "pii", "secrets", "outliers"), 0
    )
    assert with_risk["files"]["training"].pop("sha256") == hashlib.sha256(data).hexdigest()
    assert with_risk == without


def test_the_hash_is_of_the_bytes_read_even_without_a_last_newline_or_with_a_long_line(
    monkeypatch: Any,
) -> None:
    from customization_core import file_check, stream

    monkeypatch.setattr(stream, "MAX_LINE_BYTES", 64)
    monkeypatch.setattr(file_check, "MAX_LINE_BYTES", 64)
    # Given a line longer than the (lowered) line limit and no newline after the last line
    data = (
        b'{"prompt": "a", "completion": "b"}\n'
        + b'{"prompt": "'
        + b"x" * 200
        + b'"}\n{"prompt": "c", "completion": "d"}'
    )

    # When it is validated with the scan
    document = _plain(data, risk=RiskPolicy())

    # Then the hash covers every byte: the skipped rest of the long line, no added newline
    assert document["files"]["training"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert document["files"]["training"]["bytes"] == len(data)


def test_past_its_budget_the_scan_reads_a_sample_and_says_it_was_partial() -> None:
    # Given 40 records of 250 characters of text, a budget of 1,000 characters then 1 in
    # 4, and e-mail addresses on lines 2 (read whole), 12 (sampled) and 10 (not sampled)
    records = []
    for line, record in enumerate(distinct_records(40), start=1):
        completion = (
            f"Mail me{line:02d}@example.com".ljust(49, ".")
            if line in (2, 10, 12)
            else "Fine." * 9 + "...."
        )
        records.append({"prompt": record["prompt"][:200].ljust(200, "."), "completion": completion})

    report = run(records, risk_budget=ScanBudget(whole_bytes=1000, sample_every=4))

    # Then lines 1-4 are read whole, then lines 8, 12, ..., 40 (1 in 4)
    scanned = report.document["risk"]["scanned"]["training"]
    assert (scanned["records"], scanned["bytes"], scanned["complete"]) == (13, 13 * 250, False)
    assert scanned["partial"] == [
        "13 of 40 records scanned: the first 4 whole, then a sample of 1 in 4"
    ]
    emails = risk_findings(report, "risk-pii-email")
    assert [f["lines"] for f in emails] == [[2, 12]]


def test_a_full_similarity_index_stops_growing_and_makes_the_scan_partial() -> None:
    # Given a scan whose index holds 5 records, fed 40 distinct ones
    scan = RiskScan(budget=None)
    scan.start_file("training").index = SimilarityIndex(capacity=5)
    for line, record in enumerate(distinct_records(40), start=1):
        scan.observe(line, record)

    # Then the index kept 5, and the file's scan is reported partial
    result = scan.result().to_dict()
    assert result["scanned"]["training"]["complete"] is False
    assert result["scanned"]["training"]["partial"] == [
        "near duplicates: the first 5 distinct records indexed, later ones compared with them only"
    ]


def test_memory_stays_flat_past_the_caps() -> None:
    # Given the same scan fed 1,000 and then 3,000 records past a cap of 100
    def sizes(n: int) -> tuple[int, int]:
        scan = RiskScan(budget=None)
        state = scan.start_file("training")
        state.index = SimilarityIndex(capacity=100)
        for line, record in enumerate(distinct_records(n), start=1):
            scan.observe(line, record)
        return len(state.index), len(state.outliers.longest)

    assert sizes(1000) == sizes(3000) == (100, 200)


def test_both_files_are_scanned_and_hashed() -> None:
    report = run(distinct_records(5), distinct_records(3, seed=5))

    assert set(report.document["risk"]["scanned"]) == {"training", "validation"}
    assert report.document["risk"]["scanned"]["validation"]["records"] == 3
    assert "sha256" in report.document["files"]["validation"]
