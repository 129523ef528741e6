"""``bedrock-customize catalog``: the base models, everything the catalog knows of each.

The command's options; what it prints, and the comparison with AWS (``--check``), are
catalog_view.py's, imported when the command runs (the catalog is heavy to load).
Exit codes: 0 ok (or the catalog agrees with AWS), 1 it differs, 2 usage, 3 AWS could
not be asked.
"""

from __future__ import annotations

import click

from bedrock_customize.options import TYPE_CHOICE


@click.command(name="catalog")
@click.option(
    "--region",
    help="Only models customizable in this Region; with --check, the Region checked "
    "(default: the profile's).",
)
@click.option("--type", "kind", type=TYPE_CHOICE, help="Only this customization type.")
@click.option(
    "--model", "model_id", help="Show one model in full: limits, hyperparameters, sources."
)
@click.option(
    "--check",
    "live",
    is_flag=True,
    help="Compare the catalog with this account's Bedrock and the AWS Price List.",
)
@click.option("--graders", is_flag=True, help="List the built-in RFT graders and their parameters.")
@click.option("--profile", help="AWS profile for --check (default: the environment's).")
@click.option(
    "--json", "as_json", is_flag=True, help="Print the data (or the differences) as JSON."
)
def catalog_command(
    region: str | None,
    kind: str | None,
    model_id: str | None,
    live: bool,
    graders: bool,
    profile: str | None,
    as_json: bool,
) -> None:
    """The base models this tool can customize: ids, types, Regions, limits, prices, retirement.

    --type distillation adds the teachers (their students, Regions, how a job invokes them,
    their prices); --type reinforcement-fine-tuning the typed hyperparameters; --graders
    lists the built-in graders instead.
    """
    if graders:
        given = [flag for flag, value in (("--type", kind), ("--model", model_id)) if value]
        given += ["--check"] if live else []
        given += ["--region"] if region else []
        if given:
            raise click.UsageError(
                f"--graders lists the graders alone; leave out {', '.join(given)}."
            )
        from bedrock_customize import catalog_types

        catalog_types.show_graders(as_json)
        return
    from bedrock_customize import catalog_view

    catalog_view.show(region, kind, model_id, live, profile, as_json)
