"""Human output: rich tables and progress on a terminal, plain wide text when piped.

rich leaves out colour and cursor movement when its stream is not a TTY (and
honours NO_COLOR); piped output is also made wide so that ids and ARNs stay on
one line for grep and awk.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:  # rich is imported when something is printed: `--help` does not pay for it
    from rich.console import Console
    from rich.text import Text

PIPED_WIDTH: Final = 4000  # characters: piped rows are never wrapped, so grep sees whole values


def console(*, err: bool = False) -> Console:
    """A console on stdout (or stderr) as click sees it at this moment (tests swap them)."""
    from rich.console import Console

    stream = sys.stderr if err else sys.stdout
    terminal = stream.isatty()
    return Console(
        file=stream,
        width=None if terminal else PIPED_WIDTH,
        highlight=False,
        soft_wrap=not terminal,
    )


def table(
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    title: str | None = None,
    keep_first: bool = True,
) -> None:
    """Print rows under column headings (``keep_first``: the first column, an id, never wraps)."""
    from rich.table import Table

    grid = Table(title=title, show_edge=False, box=None, pad_edge=False, header_style="bold")
    for index, name in enumerate(columns):
        grid.add_column(name, no_wrap=keep_first and index == 0, overflow="fold")
    for row in rows:
        grid.add_row(*(_cell(cell) for cell in row))
    console().print(grid)


def _cell(value: Any) -> Text:
    from rich.text import Text

    if isinstance(value, Text):
        return value
    return Text("-" if value in (None, "") else str(value))


def say(text: str, *, style: str | None = None, err: bool = False) -> None:
    """One line of prose (markup off: user text may hold brackets)."""
    console(err=err).print(text, style=style, markup=False)


def emit_json(document: Any) -> None:
    """Exactly one JSON document on stdout, for scripts."""
    sys.stdout.write(json.dumps(document, indent=2, sort_keys=True, default=str) + "\n")
    sys.stdout.flush()


STATUS_STYLES: Final = {
    "SUCCEEDED": "green",
    "FAILED": "red",
    "REJECTED": "red",
    "CANCELLED": "yellow",
    "AWAITING_APPROVAL": "yellow",
    "QUEUED": "yellow",
}


def status_text(status: str) -> Text:
    """A status in its colour (colour shows only on a terminal)."""
    from rich.text import Text

    return Text(status, style=STATUS_STYLES.get(status, ""))
