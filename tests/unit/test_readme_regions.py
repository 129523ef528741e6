"""The README's "Which Region" table is the catalog's, so it cannot go stale."""

from __future__ import annotations

from pathlib import Path

from customization_core.catalog import load_catalog
from customization_core.regions import region_table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_region_table_is_generated_from_the_catalog() -> None:
    text = README.read_text(encoding="utf-8")
    start = text.index("<!-- regions:start -->\n") + len("<!-- regions:start -->\n")
    end = text.index("<!-- regions:end -->")
    assert text[start:end] == region_table(load_catalog()), (
        "README 'Which Region' is stale: paste the output of "
        "`python -c 'from customization_core.regions import region_table; "
        'from customization_core.catalog import load_catalog; print(region_table(load_catalog()), end="")\'`'
    )


def _row(table: str, name: str) -> list[str]:
    (line,) = [line for line in table.splitlines() if line.startswith(f"| {name} |")]
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_the_table_says_where_each_documented_model_runs() -> None:
    # custom-model-fine-tuning (read 2026-12-01): Nova in us-east-1, Llama in us-west-2.
    table = region_table(load_catalog())
    header = _row(table, "Model")
    east, west = header.index("us-east-1"), header.index("us-west-2")
    nova = _row(table, "Amazon Nova Micro")
    assert (nova[east], nova[west]) == ("fine-tuning, distillation", "-")
    assert nova[-1] == "us-east-1"  # on-demand deployment
    llama = _row(table, "Meta Llama 3.3 70B Instruct")
    assert (llama[east], llama[west]) == ("-", "fine-tuning, distillation")
    assert llama[-1] == "us-west-2"
    titan = _row(table, "Amazon Titan Text G1 - Express (not in AWS's current tables)")
    assert titan[east] == "fine-tuning, continued-pretraining"
    assert _row(table, "Anthropic Claude 3 Haiku (end of life)")[west] == "fine-tuning"
