"""The report page's sections about the run's life and its data: timeline, request, validation,
data risks, cost and deployment. Each takes the documents it needs and returns one
``<section>``; a section without data says so in one line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

import orjson

from customization_core.estimate import money
from customization_core.eta import duration
from customization_core.report_charts import token_histogram_chart
from customization_core.report_html import (
    Html,
    badge,
    clipped,
    empty,
    esc,
    facts,
    field,
    figure,
    listing,
    mapping,
    number,
    section,
    table,
    terminal,
)
from customization_core.risk_policy import RISK_KINDS

MAX_FINDING_ROWS: Final = 100  # findings listed per table; the counts above it stay exact
MAX_LINES_SHOWN: Final = 10  # line numbers listed per data-risk finding
MAX_EXAMPLE_CHARS: Final = 200  # characters of a masked example
FILES: Final = ("training", "validation")
# The dataset card's columns in reading order (customization_core/dataset_card.py writes them).
CARD_COLUMNS: Final = ("role", "key", "version_id", "bytes", "records", "sha256", "data_format")
DEPLOYMENT_ORDER: Final = ("mode", "status", "created_at", "ready_at", "expires_at", "deleted_at")


def _json(value: Any) -> str:
    """A nested value as compact, key-sorted JSON text (deterministic)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=str).decode()


def _value(value: Any) -> Html:
    """A scalar as itself, a nested value as JSON, escaped either way."""
    if isinstance(value, Mapping | list | tuple):
        return esc(_json(value))
    return number(value)


def _moment(text: Any) -> datetime | None:
    """A history time; one without a zone is UTC (the registry writes UTC), so all compare."""
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def timeline(run: Mapping[str, Any], generated_at: datetime) -> Html:
    """Each state the run went through and how long it stayed there (consecutive entries of one
    status are one state); the last state of a running run lasts until the page was made."""
    history = [mapping(entry) for entry in listing(run.get("history"))]
    if not history:
        return section("timeline", "Timeline", empty("No history: the run has no recorded states."))
    states: list[tuple[Any, datetime | None, Any]] = []
    for entry in history:
        if states and states[-1][0] == entry.get("status"):
            states[-1] = (states[-1][0], states[-1][1], entry.get("reason") or states[-1][2])
        else:
            states.append((entry.get("status"), _moment(entry.get("at")), entry.get("reason")))
    final = run.get("status") or states[-1][0]
    spans: list[float | None] = []
    for index, (_, start, _) in enumerate(states):
        last = index + 1 == len(states)
        end = None if last else states[index + 1][1]
        if last and not terminal(final):
            end = generated_at
        spans.append((end - start).total_seconds() if start and end else None)
    longest = max((s for s in spans if s), default=1.0)
    rows = [
        [
            badge(status),
            esc(start.isoformat() if start else None),
            esc(duration(span) if span is not None else ("final" if terminal(status) else None)),
            Html(f'<div class="bar" style="width:{100 * (span or 0) / longest:.1f}%"></div>'),
            esc(reason),
        ]
        for (status, start, reason), span in zip(states, spans, strict=True)
    ]
    return section(
        "timeline",
        "Timeline",
        table(["state", "from", "lasted", "", "reason"], rows),
        Html(f"<p>Final status: {badge(final)}</p>" if terminal(final) else ""),
    )


def request(run: Mapping[str, Any]) -> Html:
    """What was asked for: the model, the effective hyperparameters, the teacher or grader."""
    hyper = mapping(run.get("effective_hyperparameters"))
    parts = [
        facts(
            [
                ("base model", esc(run.get("model_id"))),
                ("customization type", esc(run.get("customization_type"))),
                ("custom model name", esc(run.get("custom_model_name"))),
                (
                    "tokens (training file)",
                    field("tokens", run.get("tokens"), _count(run.get("tokens"))),
                ),
            ]
        ),
        table(
            ["hyperparameter", "effective value"], [[esc(k), esc(hyper[k])] for k in sorted(hyper)]
        )
        if hyper
        else empty("No effective hyperparameters recorded yet."),
    ]
    for role in ("teacher", "grader"):
        value = run.get(role)
        if isinstance(value, Mapping):
            rows = [(f"{role}: {key}", _value(value[key])) for key in sorted(value)]
            parts.append(facts(rows))
        elif value:
            parts.append(facts([(role, esc(value))]))
    return section("request", "Request", *parts)


def _count(value: Any) -> str | None:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else None


def validation(report: Mapping[str, Any] | None) -> Html:
    """The validator's verdict, per-file counts, findings and the token histogram against the limit."""
    if report is None:
        return section(
            "validation",
            "Validation",
            empty("No validation report yet: the data has not been validated."),
        )
    verdict = "valid" if report.get("valid") else "not valid"
    parts = [
        Html(
            f"<p>The data is <strong>{esc(verdict)}</strong>: {number(report.get('error_count', 0))} "
            f"errors, {number(report.get('warning_count', 0))} warnings.</p>"
        )
    ]
    files = mapping(report.get("files"))
    rows = []
    for name in FILES:
        info = mapping(files.get(name))
        if not info:
            continue
        tokens = mapping(info.get("tokens"))
        rows.append(
            [esc(name), number(info.get("records")), number(info.get("bytes")), esc(info.get("data_format")),
             number(tokens.get("total")), number(tokens.get("max")), number(tokens.get("p95")),
             number(info.get("limit"))]
        )  # fmt: skip
        chart = token_histogram_chart(listing(tokens.get("histogram")), _int(info.get("limit")))
        suffix = "" if name == "training" else f"-{name}"
        parts.append(
            figure(
                f"tokens{suffix}",
                chart,
                f"Token length of the {name} records vs the model's limit.",
            )
        )
    if rows:
        headers = ["file", "records", "bytes", "format", "tokens", "max", "p95", "limit"]
        parts.insert(1, table(headers, rows, numeric=(1, 2, 4, 5, 6, 7)))
    findings = [mapping(f) for key in ("errors", "warnings") for f in listing(report.get(key))]
    if findings:
        parts.append(_findings(findings))
    return section("validation", "Validation", *parts)


def _findings(findings: Sequence[Mapping[str, Any]]) -> Html:
    shown = findings[:MAX_FINDING_ROWS]
    rows = [
        [esc(f.get("file")), number(f.get("line")), esc(f.get("code")),
         esc(f.get("severity")), clipped(f.get("message"))]
        for f in shown
    ]  # fmt: skip
    note = (
        Html(f'<p class="note">First {len(shown)} of {len(findings)} findings.</p>')
        if len(findings) > len(shown)
        else Html("")
    )
    return Html(table(["file", "line", "code", "severity", "message"], rows, numeric=(1,)) + note)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def risks(report: Mapping[str, Any] | None, card: Any) -> Html:
    """The data-risk scan (leakage, duplicates, PII, secrets, outliers) and the dataset card."""
    risk = mapping(mapping(report).get("risk"))
    parts: list[str] = []
    if not risk:
        parts.append(empty("No data-risk scan: the validation report has none."))
    else:
        policy = mapping(risk.get("policy"))
        summary = mapping(risk.get("summary"))
        kinds = [*RISK_KINDS, *sorted((set(summary) | set(policy)) - set(RISK_KINDS))]
        parts.append(table(["kind", "findings", "policy"],
                           [[esc(k), number(summary.get(k)), esc(policy.get(k))] for k in kinds],
                           numeric=(1,)))  # fmt: skip
        scanned = mapping(risk.get("scanned"))
        parts.append(table(["file", "records", "bytes", "scanned completely"],
                           [[esc(n), number(mapping(scanned[n]).get("records")),
                             number(mapping(scanned[n]).get("bytes")),
                             number(mapping(scanned[n]).get("complete"))] for n in sorted(scanned)],
                           numeric=(1, 2)))  # fmt: skip
        found = [mapping(f) for f in listing(risk.get("findings"))][:MAX_FINDING_ROWS]
        rows = [
            [esc(f.get("kind")), esc(f.get("code")), esc(f.get("file")), esc(f.get("severity")),
             number(f.get("count")), esc(", ".join(str(n) for n in listing(f.get("lines"))[:MAX_LINES_SHOWN])),
             clipped(f.get("example"), MAX_EXAMPLE_CHARS), clipped(f.get("message"))]
            for f in found
        ]  # fmt: skip
        if rows:
            headers = [
                "kind",
                "code",
                "file",
                "severity",
                "count",
                "lines",
                "example (masked)",
                "message",
            ]
            parts.append(table(headers, rows, numeric=(4,)))
    parts.append(_card(card))
    return section("risks", "Data risks", *parts)


def _card(card: Any) -> Html:
    """The dataset card: each file's size, digest and S3 version (a list, or a mapping by role)."""
    files: list[Mapping[str, Any]] = []
    source = mapping(card)
    listed = listing(source.get("files")) if source else listing(card)
    if listed:
        files = [mapping(f) for f in listed]
    elif isinstance(source.get("files"), Mapping) or source:
        by_role = mapping(source.get("files")) or source
        files = [
            {"role": role, **mapping(by_role[role])}
            for role in sorted(by_role)
            if isinstance(by_role[role], Mapping)
        ]
    if not files:
        return empty("No dataset card recorded.")
    known = [c for c in CARD_COLUMNS if any(c in f for f in files)]
    extra = sorted({k for f in files for k in f} - set(CARD_COLUMNS))
    columns = known + extra
    rows = [[_value(f.get(c)) for c in columns] for f in files]
    return Html("<h3>Dataset card</h3>" + table(columns, rows))


def cost(run: Mapping[str, Any]) -> Html:
    """The estimate in parts, its total, and what was billed when Cost Explorer has said."""
    estimate = mapping(run.get("estimate"))
    total = estimate.get("total_usd", run.get("cost_usd"))
    parts: list[str] = []
    rows = [
        [esc(p.get("name")), esc(money(p.get("usd"))), esc(p.get("detail")), esc(p.get("source"))]
        for p in (mapping(x) for x in listing(estimate.get("parts")))
    ]
    if rows:
        parts.append(table(["part", "estimate", "detail", "source"], rows, numeric=(1,)))
    known = estimate.get("known_usd")
    partial = (
        f" (the known parts come to {money(known)}; some parts have no price)"
        if total is None and known is not None
        else ""
    )
    parts.append(
        Html(
            f"<p>Estimated total: <strong>{field('cost_total', total, money(total))}</strong>{esc(partial)}</p>"
        )
    )
    billed = run.get("billed")
    if isinstance(billed, int | float) and not isinstance(billed, bool):
        parts.append(Html(f"<p>Billed: <strong>{esc(money(float(billed)))}</strong></p>"))
    elif isinstance(billed, Mapping):
        parts.append(facts([(f"billed {k}", _value(billed[k])) for k in sorted(billed)]))
    if not rows and total is None:
        parts.insert(0, empty("No estimate yet: the run has not been priced."))
    return section("cost", "Cost", *parts)


def deployment(run: Mapping[str, Any]) -> Html:
    """The deployment: when it was created and ready, its notices, when it ends and its teardown."""
    deployed = mapping(run.get("deployment"))
    if not deployed:
        return section(
            "deployment", "Deployment", empty("No deployment: the manifest has no deploy block.")
        )
    ordered = [k for k in DEPLOYMENT_ORDER if k in deployed]
    rest = sorted(k for k in deployed if k not in DEPLOYMENT_ORDER and k != "notices")
    pairs = [
        (key, badge(deployed[key]) if key == "status" else _value(deployed[key]))
        for key in ordered + rest
    ]
    notices = listing(deployed.get("notices"))
    items = "".join(f"<li>{esc(n if isinstance(n, str) else _json(n))}</li>" for n in notices)
    return section(
        "deployment",
        "Deployment",
        facts(pairs),
        Html(f"<h3>Notices</h3><ul>{items}</ul>" if items else ""),
    )
