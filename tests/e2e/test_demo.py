"""`make demo`: the seven example runs end as expected and say so."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from emulator import demo


def test_the_demo_runs_the_examples_to_their_expected_ends(
    assembly: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert demo.main(["--assembly", str(assembly)]) == 0
    out = capsys.readouterr().out
    assert (
        "As expected: dialogue-summaries: SUCCEEDED, image-captions: SUCCEEDED, "
        "product-knowledge: SUCCEEDED, broken-dataset: REJECTED, llama-wrong-region: REJECTED, "
        "distill-support: SUCCEEDED, rft-arithmetic: SUCCEEDED" in out
    )
    assert "    -> ValidateRequest" in out  # states are shown as they are entered
    assert "training:3 missing-field" in out  # the broken dataset's line-numbered report
    assert "custom model: arn:aws:bedrock:" in out
    assert "registry: REJECTED (history: RECEIVED > VALIDATING > REJECTED)" in out
    # The images were checked by their bytes, from the datasets bucket.
    assert "media: 10 images, 0 videos" in out
    # The Llama run is refused by Bedrock's live answer before its data is read, with advice.
    assert "registry: REJECTED (history: RECEIVED > REJECTED)" in out
    assert "in us-west-2 only, not in us-east-1" in out
    # Distillation: the teacher answered the unlabelled prompts; RFT: the grader really ran.
    assert "prompts answered by the teacher through the emulated runtime" in out
    assert "the job's grader function answered" in out
    # Each of the seven runs has its report page, copied from the artifacts bucket.
    pages = re.findall(r"report page: (build/reports/\S+\.html) \(([\d,]+) bytes", out)
    assert len(pages) == 7
    for page, size in pages:
        assert (Path(demo.ROOT) / page).read_text().startswith("<!DOCTYPE html>")
        assert int(size.replace(",", "")) < 1024 * 1024
    # The dialogue summaries' validation loss turns up after epoch 1 (its scenario file).
    assert "Diagnosis: Validation loss rose after epoch 1" in out


def test_a_folder_without_job_json_is_a_usage_error(
    assembly: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert demo.main(["--assembly", str(assembly), str(tmp_path)]) == 2
    assert "has no job.json" in capsys.readouterr().out


def test_a_missing_assembly_says_to_synthesize(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert demo.main(["--assembly", str(tmp_path)]) == 2
    assert "run `make synth` first" in capsys.readouterr().out


def test_your_own_folder_runs_with_the_scenario_it_asks_for(
    assembly: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "my-job"
    folder.mkdir()
    examples = Path(demo.ROOT) / "examples" / "dialogue-summaries"
    (folder / "train.jsonl").write_bytes((examples / "train.jsonl").read_bytes())
    (folder / "job.json").write_bytes((examples / "job.json").read_bytes())
    (folder / "emulator-scenario.json").write_text(
        '{"outcome": "Failed", "failure_message": "Out of capacity."}'
    )
    assert (
        demo.main(["--assembly", str(assembly), str(folder)]) == 0
    )  # your own runs have no expectation
    out = capsys.readouterr().out
    assert "registry: FAILED" in out
    assert "The Bedrock job failed: Out of capacity." in out
