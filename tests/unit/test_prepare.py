"""prepare: CSV/JSON/JSONL to Bedrock's format, deterministic sampling, chunking, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bedrock_customize.cli import main
from customization_core import prepare
from customization_core.tokens import RECORD_OVERHEAD_TOKENS, estimate_tokens

TEMPLATE = "Summarize the following conversation.\n\n{dialogue}\n\nSummary:"
CSV = 'id,dialogue,summary\n1,"#Person1#: Hi.\n#Person2#: Hello.",They greet.\n2,#Person1#: Bye.,They part.\n3,#Person1#: ?,\n'


def test_csv_rows_become_prompt_completion_records_and_empty_completions_are_skipped() -> None:
    rows = prepare.read_rows(CSV, "csv")
    made = list(
        prepare.fine_tuning_records(rows, prompt_template=TEMPLATE, completion_field="summary")
    )
    assert made[0] == {
        "prompt": "Summarize the following conversation.\n\n#Person1#: Hi.\n#Person2#: Hello.\n\nSummary:",
        "completion": "They greet.",
    }
    assert made[2] is None


def test_json_and_jsonl_read_the_same_rows() -> None:
    rows = [{"text": "a"}, {"text": "b"}]
    assert prepare.read_rows(json.dumps(rows), "json") == rows
    assert prepare.read_rows("\n".join(json.dumps(r) for r in rows) + "\n\n", "jsonl") == rows


@pytest.mark.parametrize(
    ("text", "fmt", "message"),
    [
        ("{", "json", "not valid JSON"),
        ('{"a": 1}', "json", "one array of objects"),
        ('{"a": 1}\n[2]\n', "jsonl", "Line 2 is not a JSON object"),
        ('{"a": 1}\n{bad\n', "jsonl", "Line 2 is not valid JSON"),
    ],
)
def test_unreadable_inputs_say_where(text: str, fmt: prepare.InputFormat, message: str) -> None:
    with pytest.raises(prepare.PrepareError, match=message):
        prepare.read_rows(text, fmt)


def test_a_missing_field_names_the_row_and_the_fields_it_has() -> None:
    rows = [{"dialogue": "x", "summary": "y"}, {"dialog": "x", "summary": "y"}]
    with pytest.raises(
        prepare.PrepareError, match=r"Row 2 has no field 'dialogue'; it has: dialog, summary\."
    ):
        list(
            prepare.fine_tuning_records(rows, prompt_template=TEMPLATE, completion_field="summary")
        )


def test_long_texts_are_chunked_to_the_token_limit_at_paragraphs_then_sentences() -> None:
    paragraph = "The router restarts at night. " * 40  # about 400 tokens each
    text = "\n\n".join([paragraph] * 5)
    chunks = prepare.chunk_text(text, max_tokens=1000, chars_per_token=3)
    assert len(chunks) > 1
    assert all(estimate_tokens(c, 3) + RECORD_OVERHEAD_TOKENS <= 1000 for c in chunks)
    assert "".join(chunks).replace("\n\n", "").replace(" ", "") == text.replace("\n\n", "").replace(
        " ", ""
    )
    assert prepare.chunk_text("short", max_tokens=1000, chars_per_token=3) == ["short"]
    one_word = prepare.chunk_text("x" * 9000, max_tokens=1000, chars_per_token=3)
    assert all(estimate_tokens(c, 3) + RECORD_OVERHEAD_TOKENS <= 1000 for c in one_word)


def test_sampling_and_splitting_are_deterministic_per_seed() -> None:
    records = [{"input": str(i)} for i in range(100)]
    first = prepare.sample_and_split(records, split=0.1, max_records=50, seed=7)
    assert first == prepare.sample_and_split(records, split=0.1, max_records=50, seed=7)
    assert first != prepare.sample_and_split(records, split=0.1, max_records=50, seed=8)
    training, validation = first
    assert (len(training), len(validation)) == (45, 5)
    assert not {r["input"] for r in training} & {r["input"] for r in validation}


def _assert_valid(path: Path, kind: str) -> None:
    validated = CliRunner().invoke(
        main, ["validate", str(path), "--model", "amazon.titan-text-lite-v1:0:4k", "--type", kind]
    )
    assert validated.exit_code == 0, validated.output


def test_the_cli_writes_training_and_validation_files(tmp_path: Path) -> None:
    source = tmp_path / "dialogues.csv"
    source.write_text(CSV)
    out = tmp_path / "job" / "train.jsonl"
    result = CliRunner().invoke(
        main,
        ["prepare", str(source), "--format", "csv", "--type", "fine-tuning", "--prompt-template",
         "Summarize the following conversation.\\n\\n{dialogue}\\n\\nSummary:", "--completion-field", "summary",
         "-o", str(out), "--split", "0.5"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    training = [json.loads(line) for line in out.read_text().splitlines()]
    validation = [
        json.loads(line)
        for line in (tmp_path / "job" / "validation.jsonl").read_text().splitlines()
    ]
    assert len(training) + len(validation) == 2
    assert training[0]["prompt"].startswith("Summarize the following conversation.\n\n#Person1#")
    assert "Skipped 1 rows" in result.output
    _assert_valid(out, "fine-tuning")


def test_the_cli_chunks_pretraining_text_for_the_model(tmp_path: Path) -> None:
    source = tmp_path / "docs.jsonl"
    source.write_text(json.dumps({"body": "Long manual text. " * 2000}) + "\n")
    out = tmp_path / "train.jsonl"
    result = CliRunner().invoke(
        main,
        ["prepare", str(source), "--format", "jsonl", "--type", "continued-pretraining", "--input-field", "body",
         "--model", "amazon.titan-text-lite-v1:0:4k", "-o", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    _assert_valid(out, "continued-pretraining")
    assert len(out.read_text().splitlines()) > 1


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ["--type", "fine-tuning", "--completion-field", "summary"],
            2,
            "needs --prompt-template and --completion-field",
        ),
        (["--type", "continued-pretraining"], 2, "needs --input-field"),
        (
            [
                "--type",
                "continued-pretraining",
                "--input-field",
                "dialogue",
                "--model",
                "meta.llama3-1-8b-instruct-v1:0:128k",
            ],
            2,
            "not a catalog model that supports",
        ),
        (
            [
                "--type",
                "fine-tuning",
                "--prompt-template",
                "{missing}",
                "--completion-field",
                "summary",
            ],
            1,
            "Row 1 has no field 'missing'",
        ),
    ],
)
def test_cli_mistakes_are_one_clear_sentence(
    tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    source = tmp_path / "d.csv"
    source.write_text(CSV)
    result = CliRunner().invoke(
        main, ["prepare", str(source), "--format", "csv", "-o", str(tmp_path / "o.jsonl"), *args]
    )
    assert result.exit_code == code
    assert message in result.output


def test_cost_prints_the_estimate_without_submitting(tmp_path: Path) -> None:
    train = tmp_path / "train.jsonl"
    train.write_text(
        "".join(json.dumps({"prompt": f"p{i}", "completion": f"c{i}"}) + "\n" for i in range(10))
    )
    result = CliRunner().invoke(
        main,
        [
            "cost",
            "--train",
            str(train),
            "--model",
            "amazon.titan-text-lite-v1:0:4k",
            "--epochs",
            "3",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    estimate = json.loads(result.output)
    assert estimate["epochs"] == 3
    assert estimate["billed_tokens"] == 3 * estimate["training_tokens"]
    unpriced = CliRunner().invoke(
        main, ["cost", "--train", str(train), "--model", "amazon.titan-text-express-v1:0:8k"]
    )
    assert "unknown (no price for this model; pass --price-per-1k-tokens)" in unpriced.output
    bad = CliRunner().invoke(main, ["cost", "--train", str(train), "--model", "no-such-model"])
    assert bad.exit_code == 1
    assert "unknown-model" in bad.output
