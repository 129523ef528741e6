"""``bedrock-customize spend``: what is billed now, who owns it, and what each run was billed.

Reads Bedrock (every Provisioned Throughput, custom model deployment and custom model of
the account and Region, with their tags), the stack's registry (its runs, the live
deployments) and, when the caller may, Cost Explorer (billed spend per run id tag). The
joins are customization_core/spend.py's, custom_models.py's and billed_spend.py's. Exit
codes: 0 ok, 2 usage, 3 AWS access to Bedrock or the registry (Cost Explorer's refusal is
one line, and the rest is printed).

Permissions it uses: bedrock:ListProvisionedModelThroughputs, ListCustomModelDeployments,
ListCustomModels, ListTagsForResource, GetCustomModel (a deployment's base model, when its
custom model is not listed), dynamodb:Scan on the registry, ce:GetCostAndUsage (optional;
USD 0.01 a request).
"""

from __future__ import annotations

import json

import click
from click.core import ParameterSource

from bedrock_customize import stack as stacks
from bedrock_customize.check_cmd import STACK_STAGE
from bedrock_customize.console import emit_json
from bedrock_customize.options import LazyDefault
from bedrock_customize.stack import stack_options


def _stage_stack(stage: str) -> str:
    """The stack a stage deploys (Settings.stack_name, stacks/settings.py)."""
    name = f"BedrockCustomization-{stage}"
    if not STACK_STAGE.match(name):
        raise click.BadParameter(f"{stage!r} is not a stage name.", param_hint="--stage")
    return name


def _default_days() -> int:
    from customization_core.billed_spend import DEFAULT_DAYS

    return DEFAULT_DAYS


def _owner(where: stacks.Where, stack: stacks.Stack) -> str:
    """The owner tag's value this stack's pipeline sets: its CloudFormation stack name."""
    if where.local:  # the emulated stack's, as the emulator's state file names it
        return str(json.loads(stacks.local_state_path().read_text())["stack"])
    return stack.name


@click.command(name="spend")
@stack_options
@click.option(
    "--stage",
    help="The stage's stack (BedrockCustomization-STAGE), instead of --stack.",
)
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=LazyDefault(_default_days),
    show_default=True,
    help="Billed spend per run over this many days before today (Cost Explorer: USD 0.01 a request).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the spend as one JSON document.")
def spend(where: stacks.Where, stage: str | None, days: int, as_json: bool) -> None:
    """What is billed now in the stack's account and Region, and who owns it.

    Every Provisioned Throughput and custom model deployment (owner, run, age, model units,
    hourly price, and whether a live run of this stack owns it: one with this stack's owner
    tag that none owns is flagged orphaned), the total hourly burn, every custom model with
    its monthly storage price and last deployment, and, with Cost Explorer access, the billed
    spend per run next to its estimate.
    """
    if stage is not None:
        source = click.get_current_context().get_parameter_source("stack_name")
        if source is not ParameterSource.DEFAULT and where.stack_name != _stage_stack(stage):
            raise click.UsageError("Give --stage or --stack, not both.")
        where = stacks.Where(_stage_stack(stage), where.region, where.profile, where.local)
    from bedrock_customize.spend_view import gather, render

    stack = where.open()
    document = gather(stack, owner=_owner(where, stack), days=days)
    if as_json:
        emit_json(document)
    else:
        render(document)
