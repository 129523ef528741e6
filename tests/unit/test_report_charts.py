"""The report's SVG charts: drawn, deterministic, and referencing nothing outside themselves."""

from __future__ import annotations

import re
from xml.etree import ElementTree

import pytest

from customization_core.report_charts import (
    loss_chart,
    reward_chart,
    scores_chart,
    token_histogram_chart,
)
from customization_core.training_curves import Curves

NAMESPACES = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
CURVES = Curves(
    training_loss=tuple((float(i), 2.0 - i / 100) for i in range(100)),
    validation_loss=((49.0, 1.6), (99.0, 1.7)),
    rewards={"critic/rewards/mean": ((1.0, 0.1), (2.0, 0.4))},
)
OVERALL = {
    "base": {"rouge_l": 0.31, "exact_match": 0.1, "length_ratio": 1.2},
    "custom": {"rouge_l": 0.52, "exact_match": 0.3, "length_ratio": 1.0},
}


def _all_charts() -> dict[str, str | None]:
    return {
        "loss": loss_chart(CURVES),
        "reward": reward_chart(CURVES),
        "tokens": token_histogram_chart([[128, 10], [512, 40], [2048, 5]], 1024),
        "scores": scores_chart(OVERALL),
    }


def assert_self_contained(svg: str) -> None:
    """No script, no comment, and no URL but the SVG and XLink namespaces."""
    assert "<script" not in svg
    assert "<!--" not in svg
    urls = set(re.findall(r"https?://[^\"'\s)]*", svg))
    assert urls <= NAMESPACES
    assert "@import" not in svg
    without_namespaces = svg
    for namespace in NAMESPACES:
        without_namespaces = without_namespaces.replace(namespace, "")
    assert "//" not in without_namespaces
    assert all(target.startswith("#") for target in re.findall(r"url\(([^)]*)\)", svg))
    assert not re.search(r"(?:xlink:)?href=\"(?!#)", svg)


@pytest.mark.parametrize("name", ["loss", "reward", "tokens", "scores"])
def test_each_chart_is_svg_that_fetches_and_runs_nothing(name: str) -> None:
    # Given the chart drawn from sample data
    svg = _all_charts()[name]
    # Then it is one well-formed SVG element, named after the chart, self-contained
    assert svg is not None
    root = ElementTree.fromstring(svg)  # noqa: S314 (our own chart, not untrusted input)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.attrib["id"] == f"chart-{name}"
    assert_self_contained(svg)


def test_charts_are_the_same_for_the_same_data() -> None:
    assert _all_charts() == _all_charts()


def test_the_loss_chart_has_both_series() -> None:
    svg = loss_chart(CURVES)
    assert svg is not None
    assert "training loss" in svg
    assert "validation loss" in svg


def test_the_histogram_marks_the_limit() -> None:
    with_limit = token_histogram_chart([[128, 10], [512, 40]], 1024)
    without = token_histogram_chart([[128, 10], [512, 40]], None)
    assert with_limit is not None
    assert without is not None
    assert "limit (1,024 tokens)" in with_limit
    assert "limit" not in without


def test_a_limit_far_beyond_the_data_is_named_not_drawn() -> None:
    # Records of at most 171 tokens against a 32,000-token limit: drawn to scale, every
    # bucket would be squeezed into the first pixels.
    far = token_histogram_chart([[90, 12], [171, 8]], 32_000)
    assert far is not None
    assert "the limit, 32,000, is off the chart" in far
    assert "limit (32,000 tokens)" not in far


def test_charts_without_data_are_none() -> None:
    assert loss_chart(Curves()) is None
    assert reward_chart(Curves(training_loss=((0.0, 1.0),))) is None
    assert token_histogram_chart([], 100) is None
    assert scores_chart({"base": None, "custom": None}) is None
    assert scores_chart({}) is None


def test_the_scores_chart_draws_only_the_custom_model_when_the_base_was_skipped() -> None:
    svg = scores_chart({"base": None, "custom": OVERALL["custom"]})
    assert svg is not None
    assert "custom model" in svg
    assert "base model" not in svg
