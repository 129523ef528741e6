"""``models``: the custom models of a stack; and naming a model to invoke (run id, ARN, id).

A custom model is named by its run id, its ARN, or the ARN of its deployment; a base
model by its model id (``resolve``, for invoke_cmds.py).
"""

from __future__ import annotations

import itertools
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from bedrock_customize import run_items
from bedrock_customize import stack as stacks
from bedrock_customize.console import emit_json, say, table
from bedrock_customize.options import TYPE_CHOICE
from bedrock_customize.stack import EXIT_FAILED, aws, stack_options
from customization_core.contract import DeploymentStatus, Status

if TYPE_CHECKING:
    from customization_core.catalog import Family


@dataclass(frozen=True)
class Target:
    """A model to invoke: the id Bedrock Runtime takes, its family, and what to call it."""

    model_id: str
    family: Family
    label: str


@click.command()
@stack_options
@click.option(
    "--limit", type=click.IntRange(min=1), default=50, show_default=True, help="Newest first."
)
@click.option(
    "--type",
    "kind",
    type=TYPE_CHOICE,
    help="Only the models of this customization type (distillation: with their teacher).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the models as JSON.")
def models(where: stacks.Where, limit: int, kind: str | None, as_json: bool) -> None:
    """The custom models this stack made: base model, type, date, losses, and the run behind each."""
    from customization_core.catalog import CustomizationType

    wanted = CustomizationType.parse(kind).value if kind else None
    stack = where.open()
    made = [
        i
        for status in (Status.DEPLOYED, Status.SUCCEEDED)
        for i in run_items.by_status(stack, status.value)
        if i.get("model_arn") and wanted in (None, i.get("customization_type"))
    ][:limit]
    rows = [
        {
            "model_arn": i["model_arn"],
            "model_name": str(i["model_arn"]).rsplit("/", 1)[-1],
            "base_model_id": i.get("model_id"),
            "customization_type": i.get("customization_type"),
            # The teacher (distillation) or grader (RFT) the run resolved; None otherwise.
            "teacher_model_id": (i.get("teacher") or {}).get("model_id"),
            "grader": _grader_text(i.get("grader")),
            "created_at": i.get("updated_at"),
            "metrics": run_items.plain(i.get("metrics") or {}),
            "verdict": i.get("verdict"),
            "deployment": run_items.plain(i.get("deployment")),
            "run_id": i["run_id"],
        }
        for i in made
    ]
    if as_json:
        emit_json(rows)
        return
    if not rows:
        of_type = f" of type {kind}" if kind else ""
        say(
            f"This stack has made no custom model{of_type} yet: `bedrock-customize submit` "
            "starts a run."
        )
        return
    table(
        (
            "MODEL",
            "BASE MODEL",
            "TYPE",
            "CREATED",
            "VALIDATION LOSS",
            "VERDICT",
            "DEPLOYMENT",
            "RUN",
        ),
        (
            (
                r["model_name"],
                r["base_model_id"],
                _type_text(r),
                r["created_at"],
                r["metrics"].get("validation_loss"),
                r["verdict"],
                _deployment_text(r["deployment"]),
                r["run_id"],
            )
            for r in rows
        ),
    )


def _grader_text(grader: dict[str, Any] | None) -> str | None:
    if not grader:
        return None
    return str(grader.get("name") or grader.get("lambda_arn"))


def _type_text(row: dict[str, Any]) -> str | None:
    """The customization type as the CLI names it, with the teacher or grader it ran with."""
    from customization_core.catalog import CustomizationType

    value = row["customization_type"]
    if not value:
        return None
    try:
        text = CustomizationType.parse(str(value)).cli_name
    except ValueError:
        text = str(value)
    if row["teacher_model_id"]:
        return f"{text} (teacher {row['teacher_model_id']})"
    if row["grader"]:
        return f"{text} (grader {row['grader']})"
    return text


def _deployment_text(deployment: dict[str, Any] | None) -> str | None:
    if not deployment or not deployment.get("arn"):
        return None
    until = (
        f" until {deployment['expires_at']}"
        if deployment.get("status") == "ACTIVE" and deployment.get("expires_at")
        else ""
    )
    return f"{deployment['mode']} {deployment['status']}{until}"


def resolve(stack: stacks.Stack, reference: str, *, suffix: str = "") -> Target:
    """A run id, a custom model (or deployment) ARN, or a base model id, as a Target.

    A run's custom model answers only through a deployment that serves: the run's own, or
    that of a run deploying its model (``bedrock-customize deploy``). Without one it exits 1
    with the command that deploys it (``suffix``: `` --local`` or nothing).
    """
    from customization_core.catalog import load_catalog
    from customization_core.deploy_existing import deploy_command
    from customization_core.inference import UnknownFamilyError, family_of

    if reference.startswith("arn:"):
        return _custom_model(stack, reference)
    if "." not in reference and ":" not in reference:  # run ids are lower case, digits and '-'
        found = run_items.item(stack, reference)
        family = family_of(str(found["model_id"]))
        if not found.get("model_arn"):
            click.echo(f"Run {reference} has no custom model (it is {found['status']}).", err=True)
            sys.exit(EXIT_FAILED)
        serving = _serving(stack, found)
        if serving is not None:
            arn, by = serving
            label = (
                f"{reference} (custom)" if by == reference else f"{reference} (custom, run {by})"
            )
            return Target(arn, family, label)
        state = (found.get("deployment") or {}).get("status")
        click.echo(
            f"Run {reference} has no deployment that serves (it is {found['status']}"
            + (f", its deployment {state}" if state else "")
            + "). A custom model answers through its deployment (Provisioned Throughput or "
            "an on-demand deployment): deploy it with "
            f"`{deploy_command(found, load_catalog(), suffix=suffix)}`, then invoke it "
            "by this run id or by the run id that command prints.",
            err=True,
        )
        sys.exit(EXIT_FAILED)
    try:
        return Target(reference, family_of(reference), reference)
    except UnknownFamilyError as problem:
        raise click.BadParameter(str(problem)) from None


def _serving(stack: stacks.Stack, found: dict[str, Any]) -> tuple[str, str] | None:
    """A deployment that serves the run's model, and the run that owns it: its own first,
    then the newest of the runs deploying its model (``deployment_runs``); None if none."""
    from customization_core.deploy_existing import DEPLOYMENT_RUNS

    linked = (
        run_items.find_item(stack, str(r)) for r in reversed(found.get(DEPLOYMENT_RUNS) or [])
    )
    for item in itertools.chain([found], linked):  # lazily: the run's own first
        deployment = (item or {}).get("deployment") or {}
        if deployment.get("status") == DeploymentStatus.ACTIVE.value and deployment.get("arn"):
            return str(deployment["arn"]), str((item or {})["run_id"])
    return None


def _custom_model(stack: stacks.Stack, arn: str) -> Target:
    from customization_core.inference import family_of

    bedrock = stack.client("bedrock")
    served = arn
    if ":provisioned-model/" in arn:
        arn = aws(
            "bedrock:GetProvisionedModelThroughput",
            lambda: bedrock.get_provisioned_model_throughput(provisionedModelId=served),
        )["modelArn"]
    elif ":custom-model-deployment/" in arn:
        arn = aws(
            "bedrock:GetCustomModelDeployment",
            lambda: bedrock.get_custom_model_deployment(customModelDeploymentIdentifier=served),
        )["modelArn"]
    elif ":custom-model/" not in arn:
        raise click.BadParameter(
            f"{arn} is not a custom model or deployment ARN: pass the run id, or its ARN."
        )
    described = aws(
        "bedrock:GetCustomModel",
        lambda: bedrock.get_custom_model(modelIdentifier=arn),
    )
    base = str(described["baseModelArn"]).rsplit("/", 1)[-1]
    return Target(served, family_of(base), f"{described['modelName']} (custom)")


COMMANDS: tuple[click.Command, ...] = (models,)
