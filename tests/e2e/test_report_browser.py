"""The report page of an emulator run, opened in a real browser (Debian's headless Chromium).

Given the demo's dialogue-summaries run on the emulator (trained, deployed on demand,
evaluated against its base on 10 held-out records, torn down), with validation loss turning
upward after its first epoch, when its report page (runs/<id>/report.html, written by the
pipeline) is opened in Chromium through Playwright, then the charts render, the browser logs
no error and makes no request, the numbers on the page are the registry's, and a screenshot
is saved under build/ (the README shows one: docs/report-screenshot.png).
"""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from emulator.cloud import LocalCloud
from emulator.state import BEDROCK, Scenario
from tests.e2e.conftest import submit

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "dialogue-summaries"
CHROMIUM = Path("/usr/bin/chromium")  # `make test` installs it (Makefile, CHROMIUM)
SCREENSHOT = ROOT / "build" / "report-screenshot.png"
PAGE_COPY = ROOT / "build" / "report-example.html"
# As the machine's probe starts Chromium (TOOLCHAIN): as root, with nothing reaching out.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _run_with_overfitting(cloud: LocalCloud, name: str) -> dict[str, Any]:
    manifest = json.loads((EXAMPLE / "job.json").read_text())
    BEDROCK.scenarios[f"jobs/{name}/"] = Scenario(overfit_after_epoch=1)
    execution = submit(
        cloud,
        name,
        manifest,
        train_jsonl=(EXAMPLE / "train.jsonl").read_bytes(),
        validation_jsonl=(EXAMPLE / "validation.jsonl").read_bytes(),
    )
    assert cloud.wait(execution)["status"] == "SUCCEEDED"
    run_id = cloud.run_id_of(execution)
    assert run_id
    item = cloud.registry_item(run_id)
    assert item is not None
    return item


def test_the_report_page_renders_in_chromium_with_the_registrys_numbers(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "Chromium is missing: `make test` installs Debian's chromium first"
    item = _run_with_overfitting(cloud, "report-browser")
    run_id = item["run_id"]
    body = cloud.client("s3").get_object(
        Bucket=cloud.output("ArtifactsBucketName"), Key=f"runs/{run_id}/report.html"
    )["Body"]
    page_file = tmp_path / "report.html"
    page_file.write_bytes(body.read())
    assert page_file.stat().st_size < 1024 * 1024

    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            # Scaled down so that the whole page makes a picture the README can show.
            page = browser.new_page(
                viewport={"width": 1200, "height": 900}, device_scale_factor=0.6
            )
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on(
                "request", lambda r: None if r.url.startswith("file:") else requests.append(r.url)
            )
            page.goto(page_file.as_uri())
            page.wait_for_load_state("load")

            charts = page.locator("figure.chart[data-chart] svg")
            names = page.eval_on_selector_all(
                "figure.chart[data-chart]", "els => els.map(e => e.dataset.chart)"
            )
            # Each chart is drawn: an SVG with a real size and plotted paths.
            sizes = charts.evaluate_all(
                "els => els.map(e => { const b = e.getBoundingClientRect();"
                " return [b.width, b.height, e.querySelectorAll('path').length]; })"
            )
            fields = page.eval_on_selector_all(
                "[data-field]", "els => els.map(e => [e.dataset.field, e.textContent.trim()])"
            )
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        finally:
            browser.close()

    assert errors == []
    assert requests == []  # self-contained: nothing is fetched
    assert {"loss", "tokens", "tokens-validation", "scores"} <= set(names)
    assert sizes
    assert all(width > 100 and height > 100 and paths > 0 for width, height, paths in sizes)
    shown = dict(fields)
    assert shown["status"] == item["status"] == "SUCCEEDED"
    assert float(shown["final_training_loss"]) == pytest.approx(
        float(Decimal(item["metrics"]["final_training_loss"])), abs=5e-4
    )
    assert shown["tokens"].replace(",", "") == str(item["tokens"])
    # The diagnosis the registry recorded is the page's, and names the epoch count.
    assert item["metrics"]["best_epoch_count"] == 1
    assert "epochCount=1" in shown["diagnosis"]
    assert shown["diagnosis"] == item["metrics"]["diagnosis"]
    assert shown["verdict"] == item["verdict"]
    assert page_file.read_text().count("<tr") >= 10 + 1  # a row per held-out record

    SCREENSHOT.parent.mkdir(exist_ok=True)
    shutil.copyfile(tmp_path / "report.png", SCREENSHOT)
    shutil.copyfile(page_file, PAGE_COPY)
