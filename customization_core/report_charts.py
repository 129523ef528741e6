"""The report page's charts: SVG drawn in Python by pygal, inlined into the page.

Nothing in a chart may fetch anything or run anything: pygal always writes a configuration
``<script>`` and comments naming its web site, so an XML filter removes both, ``js=[]``
drops its script links, and the default style names no web font. pygal also gives each chart
a random id (its CSS selectors use it); the chart's name replaces it so that the same run
renders the same page, and two charts of one page never share an id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final
from xml.etree.ElementTree import Element

import pygal  # type: ignore[import-untyped]
from pygal.style import Style  # type: ignore[import-untyped]

from customization_core.training_curves import Curves

WIDTH: Final = 640  # px: the viewBox; the page scales charts to its column
HEIGHT: Final = 300  # px
SCORES: Final = ("rouge_l", "exact_match", "length_ratio")
# Plain system fonts (no web font to fetch); colours readable in print.
STYLE: Final = Style(
    font_family="system-ui, sans-serif",
    background="white",
    plot_background="white",
    colors=("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"),
)
LIMIT_SERIES: Final = "limit"
# The limit is drawn when it is at most this many times the longest bucket's bound.
LIMIT_IN_VIEW: Final = 2


def _config(name: str, title: str, **options: Any) -> dict[str, Any]:
    """The options every chart shares: no scripts, no XML declaration, a fixed size."""
    return {
        "title": title,
        "js": [],
        "disable_xml_declaration": True,
        "width": WIDTH,
        "height": HEIGHT,
        "style": STYLE,
        "show_dots": False,
        "legend_at_bottom": True,
        "truncate_legend": -1,
        "classes": ["pygal-chart", f"chart-{name}"],
        **options,
    }


def _without_scripts_or_comments(root: Element) -> Element:
    """The SVG tree without ``<script>`` elements or comments (pygal's link to its site)."""
    for parent in list(root.iter()):
        for child in list(parent):
            # A comment's tag is a function (xml.etree and lxml alike); a script's ends "script".
            if callable(child.tag) or str(child.tag).rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    return root


def _render(chart: Any, name: str) -> str:
    chart.uuid = name  # deterministic, unique within a page (pygal's default is uuid4)
    chart.add_xml_filter(_without_scripts_or_comments)
    svg: str = chart.render(is_unicode=True)
    return svg


def loss_chart(curves: Curves) -> str | None:
    """Training and validation loss against the step; None without either curve."""
    if not (curves.training_loss or curves.validation_loss):
        return None
    chart = pygal.XY(**_config("loss", "Loss by step", x_title="step", y_title="loss"))
    if curves.training_loss:
        chart.add("training loss", list(curves.training_loss))
    if curves.validation_loss:
        chart.add("validation loss", list(curves.validation_loss), show_dots=True, dots_size=2)
    return _render(chart, "loss")


def reward_chart(curves: Curves) -> str | None:
    """Each reward curve (RFT) against the step; None when the run reports no reward."""
    if not curves.rewards:
        return None
    chart = pygal.XY(**_config("reward", "Reward by step", x_title="step", y_title="reward"))
    for name, points in curves.rewards.items():
        chart.add(name, list(points))
    return _render(chart, "reward")


def token_histogram_chart(histogram: Sequence[Sequence[float]], limit: int | None) -> str | None:
    """Records per token-length bucket (``[[upper_bound, count], ...]``), the model's limit marked.

    The limit is a vertical line from 0 to the tallest bucket; the buckets are drawn as a
    stepped line so that unequal bucket widths keep their true x positions.
    """
    buckets = sorted((float(b[0]), float(b[1])) for b in histogram if len(b) >= 2)
    if not buckets:
        return None
    chart = pygal.XY(
        **_config(
            "tokens",
            "Records by token length",
            x_title="tokens per record (bucket upper bound)",
            y_title="records",
            fill=True,
            include_x_axis=True,
        )
    )
    steps: list[tuple[float, float]] = []
    lower = 0.0
    for upper, count in buckets:
        steps.extend([(lower, count), (upper, count)])
        lower = upper
    chart.add("records", steps)
    longest = buckets[-1][0]
    if limit is not None and limit <= LIMIT_IN_VIEW * longest:
        tallest = max(count for _, count in buckets)
        chart.add(f"{LIMIT_SERIES} ({limit:,} tokens)", [(limit, 0), (limit, tallest)], fill=False)
    elif limit is not None:
        # Drawn to scale, a limit far beyond the data would squeeze every bucket to the left.
        chart.title = f"Records by token length (the limit, {limit:,}, is off the chart)"
    return _render(chart, "tokens")


def scores_chart(overall: Mapping[str, Any]) -> str | None:
    """Base against custom per score (``overall`` of the evaluation); None when unscored."""
    sides: dict[str, Mapping[str, Any]] = {
        side: scores
        for side in ("base", "custom")
        if isinstance(scores := overall.get(side), Mapping)
    }
    if not sides:
        return None
    chart = pygal.Bar(**_config("scores", "Evaluation scores", x_labels=list(SCORES)))
    for side, scores in sides.items():
        chart.add(f"{side} model", [_score(scores.get(name)) for name in SCORES], show_dots=False)
    return _render(chart, "scores")


def _score(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None
