"""``grade``: try a built-in RFT grader on a dataset before a job pays for it.

The dry run of customization_core/grader_dry_run.py: each record's reference answer
(a sound grader gives it full reward), another record's reference (a control a useful
grader scores lower) and, with --responses, sample responses. Exit codes: 0 the grader
looks sound, 1 it is flagged (or lines could not be graded), 2 usage.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Final

import click

from bedrock_customize.options import key_values
from bedrock_customize.stack import EXIT_FAILED, EXIT_OK

if TYPE_CHECKING:  # imported when the command runs: `--help` stays light
    from customization_core.grader_dry_run import DryRun, RewardStats

# What each flag means for the user, and what to change.
FIXES: Final = {
    "constant": "every answer got the same reward, right or wrong, so training would learn "
    "nothing: check the parameters (a pattern that matches anything, a field every record "
    "lacks) or pick another grader.",
    "crashes": "the grader could not grade the records listed above: give them what it reads "
    "(reference_answer, and the field its parameters name) or change its parameters.",
    "reference-below-full": "more than 10% of the reference answers themselves scored below "
    "1: the parameters are stricter than the data (try normalize, a tolerance, or the field "
    "that holds the answer).",
}
BARS: Final = " ▁▂▃▄▅▆▇█"  # a histogram bin's height, from empty to the fullest bin
SET_NAMES: Final = {
    "reference": "references",
    "mismatched": "another record's reference",
    "responses": "--responses",
}


def read_records(path: Path) -> tuple[list[tuple[int, object]], list[tuple[int, str]]]:
    """FILE's records by line number, and the lines that are not JSON (line, why)."""
    records: list[tuple[int, object]] = []
    unreadable: list[tuple[int, str]] = []
    for number, text in _lines(path):
        if not text.strip():
            continue
        try:
            records.append((number, json.loads(text)))
        except ValueError as problem:
            unreadable.append((number, f"not JSON ({problem})"))
    return records, unreadable


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    with path.open(encoding="utf-8", errors="replace") as stream:
        yield from enumerate(stream, start=1)


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--grader",
    "grader_name",
    required=True,
    help="A built-in grader: exact, numeric, json-fields, regex or weighted.",
)
@click.option(
    "--param",
    "params",
    multiple=True,
    callback=key_values,
    metavar="KEY=VALUE",
    help="A grader parameter (repeatable), e.g. tolerance=0.01; values are read as JSON if they can be.",
)
@click.option(
    "--responses",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='Sample responses (JSONL): {"response": "..."} per line in FILE\'s order, or with "line".',
)
@click.option("--limit", type=click.IntRange(min=1), help="Grade only the first N records.")
@click.option("--json", "as_json", is_flag=True, help="Print exactly the dry run document (JSON).")
def grade(
    file: Path,
    grader_name: str,
    params: dict[str, str],
    responses: Path | None,
    limit: int | None,
    as_json: bool,
) -> None:
    """Try the built-in grader NAME on FILE (an RFT JSONL) without training.

    Grades each record's reference answer, another record's reference and, with
    --responses, sample responses; prints the reward spread per set, the lines the
    grader could not grade, and flags. Exits 0 when nothing is flagged, 1 otherwise.
    """
    from customization_core.grader_dry_run import (
        NOT_AN_OBJECT,
        ResponsesError,
        dry_run,
        read_responses,
    )
    from customization_core.grader_params import params_from_text
    from customization_core.graders import GraderConfigError, configure

    try:
        grader = configure(grader_name, params_from_text(grader_name, params))
    except GraderConfigError as problem:
        raise click.BadParameter(str(problem), param_hint="--grader/--param") from None
    samples = None
    if responses is not None:
        try:
            samples = read_responses(responses)
        except ResponsesError as problem:
            raise click.BadParameter(f"{responses}: {problem}", param_hint="--responses") from None
    records, unreadable = read_records(file)
    result = dry_run(records, grader, samples, limit=limit)
    failed = bool(result.flags or result.failure_count or unreadable)
    if as_json:
        from bedrock_customize.console import emit_json

        emit_json(
            {
                "grader": grader.canonical(),
                "config_id": grader.config_id(),
                # Lines that are not JSON objects: the grader never saw them.
                "unreadable_lines": sorted(
                    {n for n, _ in unreadable}
                    | {f.line for f in result.failures if f.kind == NOT_AN_OBJECT}
                ),
                **result.to_json(),
            }
        )
    else:
        _show(file, grader.name, grader.config_id(), result, unreadable)
    sys.exit(EXIT_FAILED if failed else EXIT_OK)


def histogram_text(stats: RewardStats) -> str:
    """Ten bins, 0.0 to 1.0, each a bar as high as its share of the fullest bin."""
    top = max(stats.histogram, default=0)
    if not top:
        return " " * len(stats.histogram)
    steps = len(BARS) - 1
    return "".join(BARS[-(-count * steps // top)] for count in stats.histogram)


def _show(
    file: Path,
    name: str,
    config_id: str,
    result: DryRun,
    unreadable: list[tuple[int, str]],
) -> None:
    from bedrock_customize.console import say, table

    say(f"Grader {name} (g-{config_id}) on {file}")
    table(
        ("set", "count", "min", "mean", "max", "0 ... 1"),
        (
            (
                SET_NAMES.get(key, key),
                stats.count,
                f"{stats.min:.3f}",
                f"{stats.mean:.3f}",
                f"{stats.max:.3f}",
                f"|{histogram_text(stats)}|",
            )
            for key, stats in result.sets.items()
        ),
    )
    problems = [(n, f"{why}; fix the line or remove it") for n, why in unreadable]
    problems += [(f.line, f"{f.kind}: {f.message}") for f in result.failures]
    for number, text in sorted(problems):
        say(f"line {number}: {text}", style="red")
    more = result.failure_count - len(result.failures)
    if more > 0:
        say(f"... and {more} more lines the grader could not grade.", style="red")
    for flag in result.flags:
        say(f"FLAGGED {flag}: {FIXES.get(flag, flag)}", style="yellow")
    if not (result.flags or result.failure_count or unreadable):
        say("No flags: the grader tells the references from the mismatched answers.", style="green")
