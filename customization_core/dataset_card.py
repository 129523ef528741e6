"""A dataset card: what a run trained on, from the validation report and the S3 objects.

Sizes, record counts, token statistics, content hashes and version ids per file, and the
data risk summary: enough to tell later which data a model saw and what was known about
it. JSON-serialisable and deterministic (no clock: the same inputs give the same card).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

CARD_VERSION: Final = 1
_FILE_KEYS: Final = ("role", "key", "version_id", "sha256", "bytes")
_TOKEN_KEYS: Final = ("total", "max", "p95")


def dataset_card(document: Mapping[str, Any], files: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The card of a dataset: ``document`` is Report.document, ``files`` its objects.

    Each file is ``{"role", "key", "version_id", "sha256", "bytes"}``; the report's own
    summary of that role adds records, format, the token limit and token statistics.
    A hash the report computed (the risk scan's pass) and one given must agree: a
    difference is recorded as ``sha256_mismatch`` rather than hidden.
    """
    summaries = document.get("files") or {}
    cards = []
    for given in sorted(files, key=lambda f: (str(f.get("role")), str(f.get("key")))):
        card: dict[str, Any] = {key: given.get(key) for key in _FILE_KEYS}
        summary = summaries.get(str(given.get("role"))) or {}
        tokens = summary.get("tokens") or {}
        card["records"] = summary.get("records")
        card["data_format"] = summary.get("data_format")
        card["token_limit"] = summary.get("limit")
        card["tokens"] = {key: tokens.get(key) for key in _TOKEN_KEYS}
        if card["bytes"] is None:
            card["bytes"] = summary.get("bytes")
        scanned = summary.get("sha256")
        if card["sha256"] is None:
            card["sha256"] = scanned
        elif scanned is not None and scanned != card["sha256"]:
            card["sha256_mismatch"] = scanned
        cards.append(card)
    request = document.get("request") or {}
    risk = document.get("risk")
    return {
        "card_version": CARD_VERSION,
        "model_id": request.get("model_id"),
        "customization_type": request.get("customization_type"),
        "valid": document.get("valid"),
        "files": cards,
        "risk": None
        if risk is None
        else {
            "summary": dict(sorted(risk["summary"].items())),
            "scanned": risk["scanned"],
            "policy": risk["policy"],
            "codes": sorted({f["code"] for f in risk["findings"]}),
        },
    }
