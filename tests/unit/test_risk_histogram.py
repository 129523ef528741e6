"""The token-length histogram and the model's limit in every file summary (the report page's chart)."""

from __future__ import annotations

import io

from customization_core.stats import EXACT_LIMIT, TokenStats
from customization_core.validator import validate_dataset
from tests.unit.risk_data import EXPRESS, distinct_records, jsonl


def test_bins_are_equal_widths_up_to_the_max_and_count_every_record() -> None:
    stats = TokenStats()
    for tokens in (1, 10, 50, 100, 200):
        stats.add(tokens)

    histogram = stats.histogram()

    assert len(histogram) == 20
    assert histogram[0] == [10, 2]
    assert histogram[-1] == [200, 1]
    assert [upper for upper, _ in histogram] == list(range(10, 201, 10))
    assert sum(count for _, count in histogram) == 5


def test_large_counts_land_in_a_bin_no_higher_than_the_max() -> None:
    stats = TokenStats()
    for tokens in (5, EXACT_LIMIT * 3 + 7):
        stats.add(tokens)

    histogram = stats.histogram()

    assert histogram[-1] == [stats.max, 1]
    assert sum(count for _, count in histogram) == 2


def test_no_records_no_bins() -> None:
    assert TokenStats().histogram() == []


def test_every_file_summary_has_the_histogram_and_the_limit_without_the_risk_scan() -> None:
    report = validate_dataset(
        io.BytesIO(jsonl(distinct_records(10))), model_id=EXPRESS, customization_type="fine-tuning"
    )

    summary = report.document["files"]["training"]
    assert sum(count for _, count in summary["tokens"]["histogram"]) == 10
    assert summary["tokens"]["histogram"][-1][0] == summary["tokens"]["max"]
    assert summary["limit"] == 4096
