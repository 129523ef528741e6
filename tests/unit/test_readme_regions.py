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


def test_every_catalog_model_appears_with_its_regions() -> None:
    table = region_table(load_catalog())
    for model in load_catalog().models:
        assert f"`{model.model_ids[-1]}`" in table
    assert "us-east-1" in table
    assert "us-west-2" in table
