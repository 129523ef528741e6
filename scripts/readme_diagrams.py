"""Show the generated diagrams in the README: each marked block is the Mermaid of a docs/ file.

``<!-- diagram: docs/flow-state-machine.md -->`` ... ``<!-- /diagram -->`` in README.md holds
a copy of that file's ```mermaid block, so GitHub renders the picture where the text talks
about it. ``make diagrams`` runs this after ``scripts.diagrams``;
``tests/infra/test_diagrams.py`` fails when a copy differs from its file.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

BLOCK = re.compile(r"(<!-- diagram: (?P<path>[^ ]+) -->\n).*?(<!-- /diagram -->)", re.DOTALL)
MERMAID = re.compile(r"```mermaid\n.*?\n```\n", re.DOTALL)


class MissingDiagramError(LookupError):
    """A marker names a file that does not exist or holds no Mermaid block."""


def mermaid_of(path: Path) -> str:
    """The first ```mermaid block of ``path``, fences included."""
    found = MERMAID.search(path.read_text()) if path.exists() else None
    if found is None:
        raise MissingDiagramError(f"{path} holds no ```mermaid block: run `make diagrams`")
    return found.group(0)


def embed(readme: str, root: Path) -> str:
    """``readme`` with every marked block replaced by the Mermaid of the file it names."""

    def replace(match: re.Match[str]) -> str:
        return f"{match.group(1)}{mermaid_of(root / match.group('path'))}{match.group(3)}"

    return BLOCK.sub(replace, readme)


def marked(readme: str) -> list[str]:
    """The files the README shows, in order."""
    return [m.group("path") for m in BLOCK.finditer(readme)]


def main(argv: list[str]) -> int:
    """Refresh the blocks of ``argv[0]`` (README.md), relative to its folder."""
    readme = Path(argv[0] if argv else "README.md")
    try:
        text = embed(readme.read_text(), readme.parent)
    except MissingDiagramError as problem:
        print(problem, file=sys.stderr)
        return 1
    readme.write_text(text)
    print(f"showed {', '.join(marked(text))} in {readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
