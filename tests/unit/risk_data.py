"""Shared records for the data risk tests: distinct, realistic, deterministic."""

from __future__ import annotations

import io
import json
import random
from collections.abc import Iterable
from typing import Any

from customization_core.report import Report
from customization_core.risk_policy import RiskPolicy
from customization_core.validator import validate_dataset

EXPRESS = "amazon.titan-text-express-v1:0:8k"
_WORDS = [
    f"{a}{b}"
    for a in ("ka", "lo", "mi", "nu", "pe", "ro", "si", "tu", "va", "ze")
    for b in (
        "ber",
        "dal",
        "fin",
        "gor",
        "hal",
        "jun",
        "kel",
        "lom",
        "mar",
        "nis",
        "pol",
        "ris",
        "sut",
        "tam",
        "vol",
    )
]


def sentence(rng: random.Random, words: int = 24) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(words))


def distinct_records(n: int, seed: int = 7) -> list[dict[str, str]]:
    """Prompt/completion records with little in common (word sets far apart)."""
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    return [
        {"prompt": f"Question {i}: {sentence(rng)}", "completion": f"Answer {i}: {sentence(rng)}"}
        for i in range(n)
    ]


def jsonl(records: Iterable[object]) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


def run(
    training: Iterable[object],
    validation: Iterable[object] | None = None,
    *,
    policy: RiskPolicy | None = None,
    **kwargs: Any,
) -> Report:
    return validate_dataset(
        io.BytesIO(jsonl(training)),
        model_id=EXPRESS,
        customization_type="fine-tuning",
        validation=io.BytesIO(jsonl(validation)) if validation is not None else None,
        risk=policy or RiskPolicy(),
        **kwargs,
    )


def risk_findings(report: Report, code: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = [
        f for f in report.document["risk"]["findings"] if f["code"] == code
    ]
    return found
