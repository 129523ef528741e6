"""The report page's building blocks: its inline stylesheet and escaping HTML helpers.

Every helper escapes what it is given (``esc``) unless it is told the text is already HTML
(``Html``), so that a prompt, a file name or a reason from the registry can never become
markup. The stylesheet is inline and names no web font: the page fetches nothing.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, NewType

from customization_core.contract import TERMINAL, Status

Html = NewType("Html", str)  # text that is already markup (escaped where it had to be)

MAX_TEXT_CHARS: Final = 2_000  # characters of one long text (a prompt, an answer) the page shows
MISSING: Final = "—"
# Badge colours: run statuses and evaluation verdicts (customization_core.evaluation.Verdict).
GOOD: Final = frozenset({Status.SUCCEEDED, Status.DEPLOYED, "PROMOTED"})
BAD: Final = frozenset({Status.FAILED, Status.REJECTED, Status.CANCELLED, "NOT_PROMOTED"})

CSS: Final = """
:root{--ink:#1b1f24;--muted:#59636e;--line:#d0d7de;--good:#1a7f37;--bad:#cf222e;--run:#9a6700}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--ink);
 max-width:1100px;margin:0 auto;padding:16px 24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;border-bottom:1px solid var(--line);
 padding-bottom:4px;margin:28px 0 10px}
table{border-collapse:collapse;width:100%;margin:6px 0 10px;font-size:13px}
th,td{border:1px solid var(--line);padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums}
.text{white-space:pre-wrap;word-break:break-word}
.muted,.empty{color:var(--muted)}.note{font-size:12px;color:var(--muted)}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;border:1px solid currentColor;
 font-weight:600;font-size:12px;color:var(--run)}
.badge.good{color:var(--good)}.badge.bad{color:var(--bad)}
.bar{height:10px;background:#8fb8de;min-width:2px}
.diagnosis{border-left:4px solid var(--bad);padding:4px 10px;background:#fff5f5}
figure.chart{margin:8px 0;max-width:680px}figure.chart svg{width:100%;height:auto}
ins{background:#dafbe1;text-decoration:none}del{background:#ffebe9}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:6px 0}
dl.facts dt{color:var(--muted)}dl.facts dd{margin:0}
@media print{body{max-width:none;padding:0;font-size:11px}section{break-inside:avoid-page}
 figure.chart{break-inside:avoid}a{color:inherit;text-decoration:none}}
"""


def esc(value: Any) -> Html:
    """A value as escaped text; None is a dash."""
    return Html(MISSING if value is None else html.escape(str(value), quote=True))


def clip(text: Any, limit: int = MAX_TEXT_CHARS) -> tuple[str, bool]:
    """The first ``limit`` characters of ``text`` and whether any were cut."""
    whole = "" if text is None else str(text)
    return (whole[:limit], True) if len(whole) > limit else (whole, False)


def clipped(text: Any, limit: int = MAX_TEXT_CHARS) -> Html:
    """Escaped text, cut at ``limit`` characters with a note saying how long it was."""
    shown, cut = clip(text, limit)
    note = f' <span class="note">[cut at {limit:,} of {len(str(text)):,} characters]</span>'
    return Html(esc(shown) + (note if cut else ""))


def field(name: str, value: Any, text: str | None = None) -> Html:
    """A value a browser test finds by ``data-field``: ``data-value`` holds it exactly as given
    (``str``; empty when None), the element's text is ``text`` (a formatted form) or the value."""
    shown = esc(value) if text is None else esc(text)
    exact = "" if value is None else esc(value)
    return Html(f'<span data-field="{esc(name)}" data-value="{exact}">{shown}</span>')


def number(value: Any, digits: int = 4) -> Html:
    """A number to ``digits`` significant figures; anything else escaped as it is."""
    if isinstance(value, bool):
        return esc("yes" if value else "no")
    if not isinstance(value, int | float):
        return esc(value)
    return esc(f"{value:,}" if isinstance(value, int) else f"{value:.{digits}g}")


def badge(status: Any, *, hook: str | None = None) -> Html:
    """A status as a coloured badge: green done, red failed, amber anything in between.

    ``hook``: the badge's text is then the ``data-field`` of that name (see ``field``).
    """
    tone = "good" if status in GOOD else "bad" if status in BAD else "run"
    text = esc(status) if hook is None else field(hook, status)
    return Html(f'<span class="badge {tone}">{text}</span>')


def terminal(status: Any) -> bool:
    return status in {s.value for s in TERMINAL}


def table(
    headers: Sequence[str], rows: Iterable[Sequence[Html]], *, numeric: Sequence[int] = ()
) -> Html:
    """A table of cells already made HTML; the columns in ``numeric`` align right."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{cell}</td>' if i in numeric else f"<td>{cell}</td>"
            for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return Html(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def facts(pairs: Iterable[tuple[str, Html]]) -> Html:
    """A definition list: label, value (already HTML)."""
    items = "".join(f"<dt>{esc(label)}</dt><dd>{value}</dd>" for label, value in pairs)
    return Html(f'<dl class="facts">{items}</dl>') if items else Html("")


def section(id_: str, title: str, *parts: str) -> Html:
    return Html(f'<section id="{esc(id_)}"><h2>{esc(title)}</h2>{"".join(parts)}</section>')


def empty(sentence: str) -> Html:
    """The one line a section shows when it has no data."""
    return Html(f'<p class="empty">{esc(sentence)}</p>')


def figure(name: str, svg: str | None, caption: str) -> Html:
    """A chart (SVG drawn by report_charts, trusted markup) with its caption; nothing without one."""
    if svg is None:
        return Html("")
    return Html(
        f'<figure class="chart" data-chart="{esc(name)}">{svg}'
        f'<figcaption class="note">{esc(caption)}</figcaption></figure>'
    )


def mapping(value: Any) -> Mapping[str, Any]:
    """``value`` when it is a mapping, else an empty one (documents may lack any key)."""
    return value if isinstance(value, Mapping) else {}


def listing(value: Any) -> list[Any]:
    """``value`` when it is a list, else an empty one."""
    return list(value) if isinstance(value, list | tuple) else []
