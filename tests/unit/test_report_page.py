"""The run report page: self-contained, escaped, bounded, deterministic, and saying what it has."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import orjson
import pytest

from customization_core.eta import estimate_finish
from customization_core.report_inputs import ReportInputs
from customization_core.report_page import GENERATOR, MAX_SAMPLE_ROWS, render_report, word_diff

NOW = datetime(2026, 12, 2, 11, 0, tzinfo=UTC)
ATTACK = "<script>alert(1)</script>"
SECTIONS = (
    "header",
    "timeline",
    "request",
    "validation",
    "risks",
    "cost",
    "training",
    "evaluation",
    "deployment",
)
TRAINING_KEY = "training_artifacts/step_wise_training_metrics.csv"
VALIDATION_KEY = (
    "validation_artifacts/post_fine_tuning_validation/validation/validation_metrics.csv"
)


class _Hooks(HTMLParser):
    """The page's data-field elements (name -> (data-value, text)) and chart names."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, tuple[str | None, str]] = {}
        self.charts: list[str] = []
        self.sections: list[str] = []
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "section" and found.get("id"):
            self.sections.append(str(found["id"]))
        if tag == "figure" and "chart" in str(found.get("class")).split():
            self.charts.append(str(found.get("data-chart")))
        if found.get("data-field"):
            name = str(found["data-field"])
            self.fields[name] = (found.get("data-value"), "")
            self._open.append(name)
        elif self._open:
            self._open.append("")

    def handle_endtag(self, tag: str) -> None:
        if self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        names = [n for n in self._open if n]
        if names:
            value, text = self.fields[names[-1]]
            self.fields[names[-1]] = (value, text + data)


def _hooks(page: str) -> _Hooks:
    parser = _Hooks()
    parser.feed(page)
    return parser


def _run(**overrides: Any) -> dict[str, Any]:
    run: dict[str, Any] = {
        "run_id": "run-2026-12-02-abc",
        "status": "TRAINING",
        "reason": "Training started.",
        "history": [
            {"status": "RECEIVED", "at": "2026-12-02T10:00:00+00:00", "reason": "received"},
            {"status": "VALIDATING", "at": "2026-12-02T10:05:00+00:00", "reason": "validating"},
            {"status": "TRAINING", "at": "2026-12-02T10:20:00+00:00", "reason": "started"},
        ],
        "model_id": "amazon.nova-lite-v1:0:300k",
        "customization_type": "FINE_TUNING",
        "custom_model_name": "support-bot",
        "effective_hyperparameters": {"epochCount": "5", "learningRate": "0.00001"},
        "tokens": 1_234_567,
        "cost_usd": 12.5,
        "estimate": {
            "parts": [
                {"name": "training", "usd": 12.5, "detail": "2.4M tokens", "source": "price list"}
            ],
            "total_usd": 12.5,
            "known_usd": 12.5,
        },
        "metrics": {"final_training_loss": 0.4123456789, "final_validation_loss": 0.52},
        "deployment": {
            "mode": "on-demand",
            "status": "ACTIVE",
            "created_at": "2026-12-02T12:00:00+00:00",
            "expires_at": "2026-12-03T12:00:00+00:00",
            "notices": ["Deleted after ttlHours 24."],
        },
        "verdict": None,
        "warnings": ["learningRate is low"],
        "risk_summary": {"leakage": 0, "duplicates": 0, "pii": 0, "secrets": 0, "outliers": 0},
        "dataset_card": {
            "files": [{"role": "training", "bytes": 1000, "sha256": "ab" * 32, "version_id": "v-1"}]
        },
    }
    run.update(overrides)
    return run


def _validation(prompt_file: str = "train.jsonl") -> dict[str, Any]:
    return {
        "valid": True,
        "error_count": 0,
        "warning_count": 1,
        "errors": [],
        "warnings": [{"file": prompt_file, "line": 7, "code": "LONG", "message": "long record"}],
        "files": {
            "training": {
                "records": 100,
                "bytes": 50_000,
                "data_format": "conversation",
                "tokens": {
                    "total": 1_234_567,
                    "max": 900,
                    "p95": 700,
                    "histogram": [[256, 20], [512, 60], [1024, 20]],
                },
                "limit": 800,
            }
        },
        "risk": {
            "scanned": {"training": {"records": 100, "bytes": 50_000, "complete": True}},
            "summary": {"leakage": 0, "duplicates": 3, "pii": 2, "secrets": 1, "outliers": 0},
            "findings": [
                {
                    "kind": "pii",
                    "code": "EMAIL",
                    "file": "training",
                    "severity": "warning",
                    "count": 2,
                    "lines": [4, 9],
                    "example": "j***@e***.com",
                    "message": "e-mail addresses",
                }
            ],
            "policy": {"pii": "warn", "secrets": "block"},
        },
    }


def _evaluation(samples: int = 3, text: str = "the cat sat on the mat") -> dict[str, Any]:
    return {
        "base_model": "amazon.nova-lite-v1:0",
        "custom_model": "support-bot",
        "overall": {
            "base": {"rouge_l": 0.3, "exact_match": 0.1, "length_ratio": 1.1},
            "custom": {"rouge_l": 0.5, "exact_match": 0.3, "length_ratio": 1.0},
        },
        "samples": [
            {
                "prompt": ATTACK if i == 0 else f"prompt {i} {text}",
                "reference": text,
                "base": text,
                "custom": text.replace("cat", "dog"),
                "base_scores": {"rouge_l": 0.2},
                "custom_scores": {"rouge_l": 0.4},
            }
            for i in range(samples)
        ],
        "verdict": "PROMOTED",
        "min_improvement": 0.05,
    }


def _metrics(steps: int = 100) -> dict[str, str]:
    epochs = 5
    per_epoch = max(steps // epochs, 1)
    training = ["step_number,epoch_number,training_loss,perplexity"] + [
        f"{i},{i // per_epoch},{2.0 - i / steps:.5f},2.0" for i in range(steps)
    ]
    validation = ["step_number,epoch_number,validation_loss,perplexity"] + [
        f"{(e + 1) * per_epoch - 1},{e},{loss},2.0"
        for e, loss in enumerate([1.0, 0.8, 0.7, 0.75, 0.8])
    ]
    return {TRAINING_KEY: "\n".join(training), VALIDATION_KEY: "\n".join(validation)}


def _inputs(
    run: dict[str, Any] | None = None,
    *,
    validation: dict[str, Any] | None = None,
    evaluation: dict[str, Any] | None = None,
    metrics: dict[str, str] | None = None,
    eta: bool = True,
) -> ReportInputs:
    run = run or _run()
    estimated = estimate_finish(
        started_at=datetime(2026, 12, 2, 10, 20, tzinfo=UTC),
        tokens=int(run.get("tokens") or 0),
        epochs=5,
        history=[],
        default_tokens_per_hour=6_000_000.0,
        now=NOW,
    )
    return ReportInputs.from_documents(
        run,
        validation_report=orjson.dumps(validation) if validation else None,
        evaluation=orjson.dumps(evaluation) if evaluation else None,
        metrics_files=metrics or {},
        eta=estimated if eta else None,
        generated_at=NOW,
    )


@pytest.fixture(scope="module")
def full_page() -> str:
    return render_report(
        _inputs(validation=_validation(), evaluation=_evaluation(), metrics=_metrics())
    )


def test_the_page_is_self_contained(full_page: str) -> None:
    # Then it runs nothing and fetches nothing: no script, no link, no remote URL
    lowered = full_page.lower()
    assert "<script" not in lowered
    assert "<link" not in lowered
    assert 'src="http' not in lowered
    assert "url(http" not in lowered
    assert "@import" not in lowered
    urls = set(re.findall(r"https?://[^\"'\s)<]*", full_page))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    assert f'<meta name="generator" content="{GENERATOR}">' in full_page


def test_every_section_is_present_in_order(full_page: str) -> None:
    assert _hooks(full_page).sections == list(SECTIONS)


def test_the_charts_are_inline_figures(full_page: str) -> None:
    assert _hooks(full_page).charts == ["tokens", "loss", "scores"]
    assert full_page.count("<svg") == 3


def test_the_data_fields_equal_the_inputs(full_page: str) -> None:
    fields = _hooks(full_page).fields
    run = _run()
    assert fields["status"] == ("TRAINING", "TRAINING")
    assert fields["tokens"] == ("1234567", "1,234,567")
    assert float(fields["final_training_loss"][0] or "nan") == run["metrics"]["final_training_loss"]
    assert fields["final_training_loss"][1] == "0.4123"
    assert float(fields["cost_total"][0] or "nan") == run["estimate"]["total_usd"]
    assert fields["cost_total"][1] == "$12.50"
    assert fields["verdict"] == ("PROMOTED", "PROMOTED")


def test_user_strings_are_escaped_everywhere() -> None:
    # Given the attack string in the run id, reason, a hyperparameter, a finding's file and a prompt
    run = _run(run_id=ATTACK, reason=ATTACK, effective_hyperparameters={ATTACK: ATTACK})
    page = render_report(
        _inputs(run, validation=_validation(prompt_file=ATTACK), evaluation=_evaluation())
    )
    # Then it never appears as markup, only escaped
    assert ATTACK not in page
    assert "<script" not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 6


def test_a_large_run_stays_under_a_megabyte_and_caps_its_tables() -> None:
    # Given 80 held-out records of 5,000-character texts and 5,000-step curves
    long_text = ("word " * 1000).strip() + " cat"
    page = render_report(
        _inputs(
            validation=_validation(),
            evaluation=_evaluation(samples=80, text=long_text),
            metrics=_metrics(steps=5000),
        )
    )
    # Then the page is under 1 MB, shows 50 records and says it cut them and their texts
    assert len(page.encode()) < 1_000_000
    assert f"First {MAX_SAMPLE_ROWS} of 80 records." in page
    assert f"[cut at 2,000 of {len(long_text):,} characters]" in page
    evaluation = page[page.index('<section id="evaluation">') :]
    assert evaluation.count("<tr>") == 3 + 1 + 1 + MAX_SAMPLE_ROWS  # scores, 2 headers, rows


def test_the_same_inputs_render_the_same_page() -> None:
    first = render_report(
        _inputs(validation=_validation(), evaluation=_evaluation(), metrics=_metrics())
    )
    second = render_report(
        _inputs(validation=_validation(), evaluation=_evaluation(), metrics=_metrics())
    )
    assert first == second


def test_training_shows_diagnosis_and_eta_while_training(full_page: str) -> None:
    training = full_page[full_page.index('<section id="training">') :]
    assert "Validation loss rose after epoch 3 while training loss kept falling" in training
    assert "epochCount=3" in training
    assert 'data-field="eta"' in training
    assert "estimate" in training[training.index('data-field="eta"') :].split("</p>")[0]


def test_a_finished_run_shows_no_eta() -> None:
    page = render_report(_inputs(_run(status="SUCCEEDED"), metrics=_metrics()))
    assert 'data-field="eta"' not in page
    assert "Final status:" in page


def test_answers_are_diffed_word_by_word(full_page: str) -> None:
    assert "<del>cat</del><ins>dog</ins>" in full_page
    assert word_diff("a b c", "a x c") == "a <del>b</del><ins>x</ins> c"
    assert word_diff("<b>", "<i>") == "<del>&lt;b&gt;</del><ins>&lt;i&gt;</ins>"


def test_the_timeline_says_how_long_each_state_lasted(full_page: str) -> None:
    timeline = full_page[full_page.index('<section id="timeline">') :].split("</section>")[0]
    # RECEIVED 5 min, VALIDATING 15 min, TRAINING until the page was made (40 min)
    assert re.findall(r"<td>(\d+ min)</td>", timeline) == ["5 min", "15 min", "40 min"]


def test_risks_and_dataset_card_are_shown(full_page: str) -> None:
    risks = full_page[full_page.index('<section id="risks">') :].split("</section>")[0]
    assert "j***@e***.com" in risks
    assert "4, 9" in risks
    assert "block" in risks
    assert "ab" * 32 in risks
    assert "v-1" in risks


def test_a_run_that_just_started_renders_with_one_line_per_empty_section() -> None:
    # Given a run with nothing but its id and first status
    run = {"run_id": "run-new", "status": "RECEIVED"}
    page = render_report(ReportInputs(run=run, generated_at=NOW))
    hooks = _hooks(page)
    # Then every section is there, each saying it has no data, and the hooks exist
    assert hooks.sections == list(SECTIONS)
    assert "No validation report yet" in page
    assert "No data-risk scan" in page
    assert "No evaluation: the manifest has no evaluate block" in page
    assert "No deployment: the manifest has no deploy block." in page
    assert "No training curves" in page
    assert hooks.fields["status"] == ("RECEIVED", "RECEIVED")
    assert hooks.fields["cost_total"][0] == ""
    assert hooks.fields["final_training_loss"][0] == ""
    assert "<script" not in page


def test_rft_rewards_get_their_chart() -> None:
    rewards = {"rft/metrics.csv": "step,critic/rewards/mean\n1,0.1\n2,0.5\n"}
    page = render_report(
        _inputs(_run(customization_type="REINFORCEMENT_FINE_TUNING"), metrics=rewards)
    )
    assert _hooks(page).charts == ["reward"]


def test_documents_that_are_not_json_objects_count_as_absent() -> None:
    # Given a truncated validation report and an evaluation that is a JSON list
    inputs = ReportInputs.from_documents(
        _run(),
        validation_report=b'{"valid": tr',
        evaluation=b"[1, 2]",
        metrics_files={},
        eta=None,
        generated_at=NOW,
    )
    # Then the page still renders, saying it has neither
    page = render_report(inputs)
    assert inputs.validation_report is None
    assert inputs.evaluation is None
    assert "No validation report yet" in page
    assert "No evaluation" in page


def test_billed_spend_is_shown_beside_the_estimate() -> None:
    page = render_report(_inputs(_run(billed=3.25)))
    cost = page[page.index('<section id="cost">') :].split("</section>")[0]
    assert "Billed: <strong>$3.25</strong>" in cost
    assert "$12.50" in cost


def test_an_unpriced_run_says_so() -> None:
    page = render_report(_inputs(_run(estimate=None, cost_usd=None)))
    assert "No estimate yet: the run has not been priced." in page
    assert _hooks(page).fields["cost_total"] == ("", "unknown")


@pytest.mark.parametrize(
    "summary",
    [{"pii": 1, "secrets": 0}, {"pii": 0, "secrets": 2}, None],
    ids=["pii", "secrets", "no-scan"],
)
def test_held_out_records_stay_off_a_page_whose_data_may_be_sensitive(
    summary: dict[str, int] | None,
) -> None:
    # The page travels by a bearer link: records are shown only when the scan ran and found
    # neither personal data nor secrets.
    page = render_report(_inputs(_run(risk_summary=summary), evaluation=_evaluation()))
    evaluation = page[page.index('<section id="evaluation">') :]
    assert "The held-out records are not shown" in evaluation
    assert "<del>cat</del>" not in evaluation


def test_a_recorded_run_shows_its_recorded_diagnosis_not_the_files() -> None:
    # RecordResult found no overfitting (it read the whole files): a page drawn from a capped
    # read of them must not say otherwise.
    run = _run(metrics={"final_training_loss": 0.4, "output_files": ["x.csv"]})
    page = render_report(_inputs(run, metrics=_metrics()))
    assert 'data-field="diagnosis"' not in page


def test_the_status_hook_is_how_a_page_shows_its_status() -> None:
    from customization_core.report_page import status_hook

    page = render_report(_inputs(_run(status="SUCCEEDED")))
    assert status_hook("SUCCEEDED") in page
    assert status_hook("TRAINING") not in page
