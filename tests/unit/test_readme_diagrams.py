"""The README shows the generated diagrams, not an older drawing of them."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.readme_diagrams import MissingDiagramError, embed, main, marked

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def test_the_readme_shows_each_diagram_as_docs_holds_it() -> None:
    text = README.read_text()
    assert marked(text) == [
        "docs/flow-state-machine.md",
        "docs/flow-end-run.md",
        "docs/system.md",
    ]
    assert embed(text, ROOT) == text, "README.md's diagrams are stale: run `make diagrams`"


def test_a_block_takes_the_files_mermaid_and_keeps_the_text_around_it(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text(
        "# A\n\nnote\n\n```mermaid\nflowchart LR\n  x --> y\n```\n"
    )
    readme = "before\n<!-- diagram: docs/a.md -->\nold drawing\n<!-- /diagram -->\nafter\n"
    assert embed(readme, tmp_path) == (
        "before\n<!-- diagram: docs/a.md -->\n```mermaid\nflowchart LR\n  x --> y\n```\n"
        "<!-- /diagram -->\nafter\n"
    )


def test_a_marker_naming_a_missing_file_says_to_run_make_diagrams(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("<!-- diagram: docs/gone.md -->\n<!-- /diagram -->\n")
    with pytest.raises(MissingDiagramError, match="make diagrams"):
        embed(readme.read_text(), tmp_path)
    assert main([str(readme)]) == 1
    assert "docs/gone.md" in capsys.readouterr().err
