"""The dataset card: sizes, counts, tokens, hashes, versions and the risk summary, deterministic."""

from __future__ import annotations

import hashlib
import json

from customization_core.dataset_card import dataset_card
from tests.unit.risk_data import distinct_records, jsonl, run


def _files(training: bytes) -> list[dict[str, object]]:
    return [
        {
            "role": "training",
            "key": "datasets/train.jsonl",
            "version_id": "v1",
            "sha256": hashlib.sha256(training).hexdigest(),
            "bytes": len(training),
        }
    ]


def test_the_card_records_each_file_and_the_risk_summary() -> None:
    # Given a validated dataset with one e-mail address and its S3 object
    records = distinct_records(8)
    records[2]["completion"] = "Mail jane@example.com."
    document = run(records).document
    data = jsonl(records)

    # When its card is made
    card = dataset_card(document, _files(data))

    # Then it names the object, its size, records, tokens and hash, and the risk summary
    (training,) = card["files"]
    assert training["key"] == "datasets/train.jsonl"
    assert training["version_id"] == "v1"
    assert training["bytes"] == len(data)
    assert training["records"] == 8
    assert training["sha256"] == hashlib.sha256(data).hexdigest()
    assert "sha256_mismatch" not in training
    assert training["tokens"] == {
        key: document["files"]["training"]["tokens"][key] for key in ("total", "max", "p95")
    }
    assert card["risk"]["summary"]["pii"] == 1
    assert card["risk"]["codes"] == ["risk-pii-email"]
    assert "jane@example.com" not in json.dumps(card)


def test_the_card_is_the_same_bytes_for_the_same_inputs_and_flags_a_hash_mismatch() -> None:
    records = distinct_records(4)
    document = run(records).document
    files = _files(b"other bytes")

    first = json.dumps(dataset_card(document, files), sort_keys=True)
    second = json.dumps(dataset_card(document, list(reversed(files))), sort_keys=True)

    assert first == second
    assert (
        json.loads(first)["files"][0]["sha256_mismatch"] == document["files"]["training"]["sha256"]
    )


def test_a_card_without_the_scan_has_no_risk() -> None:
    document = run(distinct_records(3)).document
    del document["risk"]

    assert dataset_card(document, [])["risk"] is None
