"""bedrock-customize report: a run's report page, fetched from the stack or rendered from its record.

The pipeline writes ``runs/<run-id>/report.html`` as the run moves on
(customization_core/report_publish.py); for an ended run this command saves that page.
A run still going on, a run older than the page, or ``--render`` draws the same page now
from the registry and the run's files, with the same code.
"""

from __future__ import annotations

import sys
import webbrowser
from datetime import UTC, datetime
from pathlib import Path

import click

from bedrock_customize import stack as stacks
from bedrock_customize.console import say
from bedrock_customize.run_items import item
from bedrock_customize.stack import EXIT_FAILED, aws, stack_options
from customization_core.contract import Status


@click.command()
@stack_options
@click.argument("run_id")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Where to save the page (default: ./<RUN_ID>.html).",
)
@click.option(
    "--render",
    is_flag=True,
    help="Draw the page now from the run's record, even for an ended run.",
)
@click.option("--open", "open_it", is_flag=True, help="Open the saved page in a browser.")
def report(
    where: stacks.Where,
    run_id: str,
    output: Path | None,
    render: bool,
    open_it: bool,
) -> None:
    """Save RUN_ID's report page (timeline, data risks, cost, loss curves, evaluation) as HTML.

    The page is one self-contained file: it opens offline and loads nothing.
    """
    from customization_core.layout import report_page_key
    from customization_core.report_page import render_report, status_hook
    from customization_core.report_publish import inputs_of, read_object

    stack = where.open()
    found = item(stack, run_id)  # exits 1 with a sentence when there is no such run
    bucket = stack.output("ArtifactsBucketName")
    s3 = stack.client("s3")
    # A run still going on is drawn now (its stored page is as old as its last step); an
    # ended one is the page the pipeline wrote last, as the notice linked it, unless that
    # page does not show the run's end (a page Notify could not write).
    status = str(found["status"])
    stored = (
        aws("s3:GetObject", lambda: read_object(s3, bucket, report_page_key(run_id)))
        if Status(status).terminal and not render
        else None
    )
    page = stored if stored and status_hook(status).encode() in stored else None
    source = f"s3://{bucket}/{report_page_key(run_id)}"
    if page is None:
        inputs = aws(
            "s3:GetObject",
            lambda: inputs_of(found, s3=s3, bucket=bucket, now=datetime.now(UTC)),
        )
        page = render_report(inputs).encode()
        source = "drawn now from the registry and the run's files"
    target = output or Path(f"{run_id}.html")
    try:
        target.write_bytes(page)
    except OSError as error:
        click.echo(f"Could not write {target}: {error.strerror}; choose another -o FILE.", err=True)
        sys.exit(EXIT_FAILED)
    say(f"Saved the report of {run_id} to {target} ({len(page):,} bytes, {source}).")
    if open_it and not webbrowser.open(target.resolve().as_uri()):
        say(f"No browser could be started here: open {target.resolve()} yourself.")
