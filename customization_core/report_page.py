"""One run's report page: a self-contained HTML file (inline CSS and SVG, no script, no URL).

The page is a pure function of its inputs (``ReportInputs``; the time it was made is one of
them), so the same run renders the same bytes. Every string from the registry or a document
is escaped; long texts are cut at ``MAX_TEXT_CHARS`` and the per-record table at
``MAX_SAMPLE_ROWS`` rows, each saying so, which keeps a typical page well under 1 MB.
Stable hooks for a browser test: ``data-field`` on status, tokens, final_training_loss,
cost_total and verdict (``data-value`` holds the exact value), ``figure.chart[data-chart]``
around each chart, and ``<meta name="generator" content="bedrock-customize report">``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any, Final

from customization_core.eta import duration
from customization_core.report_charts import SCORES, loss_chart, reward_chart, scores_chart
from customization_core.report_html import (
    CSS,
    MAX_TEXT_CHARS,
    Html,
    badge,
    clip,
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
from customization_core.report_inputs import ReportInputs
from customization_core.report_sections import (
    cost,
    deployment,
    request,
    risks,
    timeline,
    validation,
)
from customization_core.training_curves import MAX_POINTS

GENERATOR: Final = "bedrock-customize report"
# Defence in depth for a page opened from its S3 link: nothing but its own inline styles
# may load or run, whatever a string on it says.
CSP: Final = "default-src 'none'; style-src 'unsafe-inline'"
# Tokens (words and the spaces between them) an answer may have for its word diff: difflib
# is quadratic in the worst case, and answers of a small vocabulary reach it.
MAX_DIFF_TOKENS: Final = 400
# The risk kinds whose findings keep the held-out records' texts off the page.
WITHHELD_WHEN: Final = ("pii", "secrets")
MAX_SAMPLE_ROWS: Final = 50  # held-out records in the per-record table
MAX_OUTPUT_FILES_SHOWN: Final = 20  # keys of the job's output prefix listed
_WORDS: Final = re.compile(r"(\s+)")  # split keeping the whitespace, so a diff re-joins exactly


def status_hook(status: str) -> str:
    """The markup by which a page shows ``status`` as the run's (``bedrock-customize report``
    tells a stored page that missed the run's end by its absence)."""
    return f'data-field="status" data-value="{esc(status)}"'


def render_report(inputs: ReportInputs) -> str:
    """The page of one run, whatever it has reached (a run that only just started renders too)."""
    run = inputs.run
    title = f"Run {run.get('run_id') or 'unknown'}"
    body = "".join(
        [
            _header(inputs),
            timeline(run, inputs.generated_at),
            request(run),
            validation(inputs.validation_report),
            risks(inputs.validation_report, run.get("dataset_card")),
            cost(run),
            _training(inputs),
            _evaluation(inputs.evaluation, run),
            deployment(run),
        ]
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">'
        f'<meta name="generator" content="{esc(GENERATOR)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head>"
        f"<body><main>{body}</main></body></html>\n"
    )


def _header(inputs: ReportInputs) -> Html:
    run = inputs.run
    warnings = "".join(f"<li>{clipped(w)}</li>" for w in listing(run.get("warnings")))
    pairs = [
        ("status", badge(run.get("status"), hook="status")),
        ("reason", clipped(run["reason"]) if run.get("reason") else esc(None)),
        ("base model", esc(run.get("model_id"))),
        ("customization type", esc(run.get("customization_type"))),
        ("job status", esc(run.get("job_status"))),
        ("generated at", esc(inputs.generated_at.isoformat())),
    ]
    return Html(
        f'<section id="header"><header><h1>Run {esc(run.get("run_id"))}</h1>{facts(pairs)}'
        + (f"<h3>Warnings</h3><ul>{warnings}</ul>" if warnings else "")
        + "</header></section>"
    )


def _training(inputs: ReportInputs) -> Html:
    """Loss (and reward) curves, the final losses, the overfitting diagnosis and, while training, the ETA."""
    run = inputs.run
    metrics = mapping(run.get("metrics"))
    final_training = metrics.get("final_training_loss", metrics.get("training_loss"))
    final_validation = metrics.get("final_validation_loss", metrics.get("validation_loss"))
    parts: list[str] = []
    if inputs.eta is not None and not terminal(run.get("status")):
        # A stored page is read later than it is made: the finish time, not the time left.
        finish = inputs.eta.finish_at.strftime("%Y-%m-%d %H:%M %Z")
        state = " (already overdue when this page was made)" if inputs.eta.overdue else ""
        parts.append(
            f'<p data-field="eta">Estimated finish {esc(finish)}{esc(state)}: an estimate '
            f"from {esc(inputs.eta.basis)}.</p>"
        )
    curves = inputs.curves
    if curves is None or curves.empty:
        parts.append(empty("No training curves: the job has written no metrics files yet."))
    else:
        parts.append(
            figure(
                "loss",
                loss_chart(curves),
                f"Loss by step (thinned to at most {MAX_POINTS} points per curve).",
            )
        )
        parts.append(figure("reward", reward_chart(curves), "Reward by step (RFT)."))
    # The run's recorded diagnosis (RecordResult's, none when it found none) is the one fact;
    # the files' only for a run RecordResult has not reached.
    recorded = "output_files" in metrics  # RecordResult lists the job's files
    computed = inputs.diagnosis.sentence if inputs.diagnosis else None
    sentence = metrics.get("diagnosis") if recorded else computed
    if sentence:
        parts.append(f'<p class="diagnosis" data-field="diagnosis">{esc(sentence)}</p>')
    pairs = [
        (
            "final training loss",
            field("final_training_loss", final_training, _loss(final_training)),
        ),
        ("final validation loss", esc(_loss(final_validation))),
        ("job duration", esc(_duration(metrics.get("duration_seconds")))),
    ]
    pairs += [
        (_label(k), number(metrics[k])) for k in sorted(metrics) if k.startswith("final_reward")
    ]
    parts.append(facts(pairs))
    files = [str(f) for f in listing(metrics.get("output_files"))]
    if files:
        shown = "".join(f"<li>{esc(f)}</li>" for f in files[:MAX_OUTPUT_FILES_SHOWN])
        more = len(files) - MAX_OUTPUT_FILES_SHOWN
        cut = " (list truncated)" if metrics.get("output_files_truncated") or more > 0 else ""
        parts.append(f"<h3>Output files{esc(cut)}</h3><ul>{shown}</ul>")
    return section("training", "Training", *parts)


def _loss(value: Any) -> str | None:
    return (
        f"{value:.4f}" if isinstance(value, int | float) and not isinstance(value, bool) else None
    )


def _duration(seconds: Any) -> str | None:
    return duration(float(seconds)) if isinstance(seconds, int | float) else None


def _label(key: str) -> str:
    return key.replace("_", " ")


def _evaluation(document: Mapping[str, Any] | None, run: Mapping[str, Any]) -> Html:
    """Base against custom: the scores chart and table, and each held-out record's answers."""
    verdict = (document or {}).get("verdict", run.get("verdict"))
    verdict_line = Html(f"<p>Verdict: {badge(verdict, hook='verdict')}</p>")
    if document is None:
        return section(
            "evaluation",
            "Evaluation",
            empty(
                "No evaluation: the manifest has no evaluate block, or the run has not reached it."
            ),
            verdict_line,
        )
    overall = mapping(document.get("overall"))
    parts: list[str] = [
        verdict_line,
        facts(
            [
                ("base model", esc(document.get("base_model"))),
                ("custom model", esc(document.get("custom_model"))),
                ("minimum improvement", number(document.get("min_improvement"))),
            ]
            + (
                [("base model skipped", esc(document["base_skipped"]))]
                if document.get("base_skipped")
                else []
            )
        ),
        figure("scores", scores_chart(overall), "Mean scores of the held-out records."),
    ]
    sides = [(side, mapping(overall.get(side))) for side in ("base", "custom")]
    if any(scores for _, scores in sides):
        rows = [[esc(name)] + [number(scores.get(name)) for _, scores in sides] for name in SCORES]
        parts.append(table(["score", "base", "custom"], rows, numeric=(1, 2)))
    risks = mapping(run.get("risk_summary"))
    # Shown only when the scan ran and found none (a run older than the scan: not shown).
    if not risks or any(risks.get(kind) for kind in WITHHELD_WHEN):
        # The page travels by a bearer link: it never shows records the scan found sensitive.
        parts.append(
            empty(
                "The held-out records are not shown: the data risk scan found personal data "
                "or secrets in this dataset, or did not run. They are in the run's "
                "evaluation.json in the artifacts bucket, for those who may read it."
            )
        )
    else:
        parts.append(_samples([mapping(s) for s in listing(document.get("samples"))]))
    return section("evaluation", "Evaluation", *parts)


def _samples(samples: list[Mapping[str, Any]]) -> Html:
    if not samples:
        return empty("No held-out records were answered.")
    shown = samples[:MAX_SAMPLE_ROWS]
    rows = []
    for index, sample in enumerate(shown, start=1):
        base, custom = sample.get("base"), sample.get("custom")
        answer = (
            word_diff(base, custom) if base is not None and custom is not None else clipped(custom)
        )
        rows.append(
            [
                number(index),
                Html(f'<div class="text">{clipped(sample.get("prompt"))}</div>'),
                Html(f'<div class="text">{clipped(sample.get("reference"))}</div>'),
                Html(f'<div class="text">{clipped(base)}</div>'),
                Html(f'<div class="text">{answer}</div>'),
                _rouge(sample),
            ]
        )
    note = (
        (f"First {len(shown)} of {len(samples)} records. " if len(samples) > len(shown) else "")
        + f"Texts are cut at {MAX_TEXT_CHARS:,} characters. In the custom answer, words it adds to the base answer are marked as insertions, words it drops as deletions."
    )
    headers = [
        "#",
        "prompt",
        "reference",
        "base answer",
        "custom answer (vs base)",
        "ROUGE-L base → custom",
    ]
    return Html(table(headers, rows, numeric=(0,)) + f'<p class="note">{esc(note)}</p>')


def _rouge(sample: Mapping[str, Any]) -> Html:
    base = mapping(sample.get("base_scores")).get("rouge_l")
    custom = mapping(sample.get("custom_scores")).get("rouge_l")
    if base is None and custom is None:
        return esc(None)
    return Html(f"{number(base, 3)} → {number(custom, 3)}")


def word_diff(before: Any, after: Any) -> Html:
    """``after`` with the words it adds to ``before`` in ``<ins>`` and those it drops in ``<del>``.

    Both texts are cut at ``MAX_TEXT_CHARS`` first (difflib is quadratic in the worst case).
    """
    old = _WORDS.split(clip(before)[0])
    new_text, cut = clip(after)
    new = _WORDS.split(new_text)
    if max(len(old), len(new)) > MAX_DIFF_TOKENS:
        note = f"[not compared word by word: over {MAX_DIFF_TOKENS // 2:,} words]"
        return Html(clipped(after) + f' <span class="note">{esc(note)}</span>')
    out: list[str] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            out.append(esc("".join(new[b1:b2])))
            continue
        if op in ("delete", "replace"):
            out.append(f"<del>{esc(''.join(old[a1:a2]))}</del>")
        if op in ("insert", "replace"):
            out.append(f"<ins>{esc(''.join(new[b1:b2]))}</ins>")
    note = f' <span class="note">[cut at {MAX_TEXT_CHARS:,} characters]</span>' if cut else ""
    return Html("".join(out) + note)
