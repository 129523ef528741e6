"""prepare for distillation and RFT: rows become prompt records, and the files pass the checkers."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bedrock_customize.cli import main
from customization_core import prepare, prepare_rows, prepare_target
from customization_core.catalog import CustomizationType
from customization_core.formats import checker
from customization_core.prepare_target import OptionError, Recipe, Target
from customization_core.validator import validate_dataset

NOVA_MICRO = "amazon.nova-micro-v1:0:128k"
NOVA_2_LITE = "amazon.nova-2-lite-v1:0:256k"
DISTILL_CSV = (
    'prompt,response\nwhy is the sky blue,Rayleigh scattering.\nwhat is 2+2,\n"",ignored\n'
)
RFT_CSV = 'question,answer\nWhat is 2+2?,4\nName x,"{""x"": 1}"\nNo answer,\n'


def target(model_id: str, kind: CustomizationType) -> Target:
    return prepare_target.resolve_target(model_id=model_id, data_format=None, kind=kind)


DISTILL = CustomizationType.DISTILLATION
RFT = CustomizationType.REINFORCEMENT_FINE_TUNING


def records(text: str, into: Target, recipe: Recipe) -> list[Any]:
    return list(prepare.make_records(prepare_rows.read_rows(text, "csv"), into, recipe))


def findings(data_format: Any, record: dict[str, Any], *, nova: bool = True) -> list[str]:
    found: list[str] = []
    checker(data_format, 3, nova=nova)(record, lambda s, code, f, m: found.append(code))
    return found


def test_distillation_rows_become_prompts_labelled_where_the_response_is_given() -> None:
    made = records(
        DISTILL_CSV,
        target(NOVA_MICRO, DISTILL),
        Recipe(prompt_template="{prompt}", completion_field="response", system="Be brief."),
    )
    assert made[0] == {
        "schemaVersion": "bedrock-conversation-2024",
        "system": [{"text": "Be brief."}],
        "messages": [
            {"role": "user", "content": [{"text": "why is the sky blue"}]},
            {"role": "assistant", "content": [{"text": "Rayleigh scattering."}]},
        ],
    }
    assert [m["role"] for m in made[1]["messages"]] == ["user"]  # no response: the teacher's
    assert made[2] is None  # an empty prompt is left out
    assert all(findings("distillation-prompts", r) == [] for r in made[:2])


def test_distillation_without_a_response_field_writes_prompts_only() -> None:
    made = records(DISTILL_CSV, target(NOVA_MICRO, DISTILL), Recipe(prompt_template="{prompt}"))
    assert [len(r["messages"]) for r in made if r] == [1, 1]


def test_a_response_field_no_row_has_is_a_misspelt_option() -> None:
    with pytest.raises(prepare_rows.PrepareError, match=r"Row 1 has no field 'answer'"):
        records(
            DISTILL_CSV,
            target(NOVA_MICRO, DISTILL),
            Recipe(prompt_template="{prompt}", completion_field="answer"),
        )


def test_a_nova_reserved_word_in_a_row_is_refused_with_its_row() -> None:
    text = "prompt\nfine\nUser: hi\n"
    with pytest.raises(prepare_rows.PrepareError, match=r"Row 2 contains 'User:'"):
        records(text, target(NOVA_MICRO, DISTILL), Recipe(prompt_template="{prompt}"))


def test_rft_rows_become_messages_with_their_reference_answer() -> None:
    made = records(
        RFT_CSV,
        target(NOVA_2_LITE, RFT),
        Recipe(prompt_template="Solve: {question}", system="You are a math tutor"),
    )
    assert made[0] == {
        "messages": [
            {"role": "system", "content": "You are a math tutor"},
            {"role": "user", "content": "Solve: What is 2+2?"},
        ],
        "reference_answer": "4",
    }
    assert made[1]["reference_answer"] == {"x": 1}  # a cell holding a JSON object
    assert made[2] is None  # no answer to grade against
    assert all(findings("rft-messages", r) == [] for r in made[:2])


def test_rft_reads_reference_answer_before_answer_or_the_field_named() -> None:
    text = "prompt,reference_answer,answer,gold\nq,ref,ans,g\n"
    into = target(NOVA_2_LITE, RFT)
    by_default = records(text, into, Recipe(prompt_template="{prompt}"))
    named = records(text, into, Recipe(prompt_template="{prompt}", reference_field="gold"))
    assert by_default[0]["reference_answer"] == "ref"
    assert named[0]["reference_answer"] == "g"


def test_rft_without_an_answer_field_names_the_row_and_the_fields_looked_for() -> None:
    with pytest.raises(
        prepare_rows.PrepareError, match=r"Row 1 has no field 'reference_answer', 'answer'"
    ):
        records("prompt,gold\nq,g\n", target(NOVA_2_LITE, RFT), Recipe(prompt_template="{prompt}"))


@pytest.mark.parametrize(
    ("kind", "recipe", "message"),
    [
        (RFT, Recipe(prompt_template="{prompt}", completion_field="answer"), "--reference-field"),
        (
            DISTILL,
            Recipe(prompt_template="{prompt}", reference_field="answer"),
            "--reference-field",
        ),
        (DISTILL, Recipe(), "needs --prompt-template"),
    ],
)
def test_options_that_do_not_fit_the_type_are_refused(
    kind: CustomizationType, recipe: Recipe, message: str
) -> None:
    model = NOVA_MICRO if kind is DISTILL else NOVA_2_LITE
    with pytest.raises(OptionError, match=message):
        prepare_target.check_recipe(target(model, kind), recipe)


def test_a_format_without_a_model_implies_its_type() -> None:
    rft_only = prepare_target.resolve_target(model_id=None, data_format="rft-messages", kind=None)
    distill = prepare_target.resolve_target(
        model_id=None, data_format="distillation-prompts", kind=None
    )
    assert (rft_only.kind, distill.kind) == (RFT, DISTILL)


def run_prepare(tmp_path: Path, csv_text: str, *args: str) -> Path:
    source = tmp_path / "rows.csv"
    source.write_text(csv_text)
    out = tmp_path / "job" / "train.jsonl"
    result = CliRunner().invoke(main, ["prepare", str(source), "-o", str(out), *args])
    assert result.exit_code == 0, result.output
    return out


def test_the_cli_writes_distillation_prompts_that_validate(tmp_path: Path) -> None:
    out = run_prepare(
        tmp_path, DISTILL_CSV, "--model", NOVA_MICRO, "--type", "distillation",
        "--completion-field", "response",
    )  # fmt: skip
    report = validate_dataset(
        io.BytesIO(out.read_bytes()),
        model_id=NOVA_MICRO,
        customization_type="DISTILLATION",
        teacher_model_id="amazon.nova-pro-v1:0",
        max_response_length=1000,
    ).document
    assert (report["valid"], report["records"], report["warnings"]) == (True, 2, [])


def test_the_cli_writes_rft_records_that_validate(tmp_path: Path) -> None:
    rows = "".join(f"What is {i} + 1?,{i + 1}\n" for i in range(100))  # RFT takes 100 or more
    out = run_prepare(
        tmp_path, "question,solution\n" + rows, "--model", NOVA_2_LITE,
        "--type", "reinforcement-fine-tuning", "--prompt-template", "{question}",
        "--reference-column", "solution", "--system", "Answer with a number.",
    )  # fmt: skip
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 100
    assert {line["messages"][0]["role"] for line in lines} == {"system"}
    report = validate_dataset(
        io.BytesIO(out.read_bytes()),
        model_id=NOVA_2_LITE,
        customization_type="REINFORCEMENT_FINE_TUNING",
        grader_fields=("reference_answer",),
    ).document
    assert (report["valid"], report["errors"], report["warnings"]) == (True, [], [])


def test_the_cli_refuses_a_completion_field_for_rft_as_a_usage_error(tmp_path: Path) -> None:
    source = tmp_path / "rows.csv"
    source.write_text(RFT_CSV)
    result = CliRunner().invoke(
        main,
        ["prepare", str(source), "-o", str(tmp_path / "o.jsonl"), "--model", NOVA_2_LITE,
         "--type", "reinforcement-fine-tuning", "--completion-field", "answer"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "--reference-field" in result.output
    assert "Traceback" not in result.output
