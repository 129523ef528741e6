"""``deploy``: deploy an existing custom model, named by its run id or ARN, in a run of its own.

It writes a deploy-only manifest (``{"deployModel", "deploy", "evaluate", "budgetUsd",
"tags"}``, customization_core/manifest.py) to ``jobs/deploy-<run id or model>/job.json``
exactly as ``submit`` writes job.json: SSE-KMS, tagged submitted-by with the caller's
aws:userid. Each upload is a new object version, so a new run (naming.run_names). The
workflow estimates it, holds it for approval when a gate says so, deploys the model,
evaluates it when asked, and deletes the deployment at its end time (or when idle). A run
id is checked in the registry first: a run without a custom model is refused, with why,
before anything is uploaded. The run id goes to stdout alone.
"""

from __future__ import annotations

import json
import math
import re
import sys
from typing import Any, Final

import click

from bedrock_customize import check_cmd, run_items, uploads
from bedrock_customize import stack as stacks
from bedrock_customize.console import say
from bedrock_customize.follow import finish
from bedrock_customize.options import after_training, deployment_options, key_values
from bedrock_customize.stack import EXIT_FAILED, stack_options
from customization_core.layout import MANIFEST_NAME, job_prefix

FOLDER_PREFIX: Final = "deploy-"
# The model part of a folder name: the run id, or the ARN's last part, as S3 and run ids allow.
FOLDER_NAME_MAX: Final = 53  # a run id's longest: 40 characters of slug, '-', 12 of hash


@click.command()
@stack_options
@click.argument("model", metavar="RUN_ID|MODEL_ARN")
@click.option("--provisioned", is_flag=True, help="Deploy as no-commitment Provisioned Throughput.")
@click.option(
    "--on-demand",
    is_flag=True,
    help="Deploy for on-demand inference (the base models the catalog marks).",
)
@deployment_options
@click.option(
    "--tag",
    "tags",
    multiple=True,
    callback=key_values,
    metavar="KEY=VALUE",
    help="A tag recorded with the run's request (repeatable).",
)
@click.option(
    "--stage", help="The stage whose limits judge the request here (default: from --stack)."
)
@click.option("--wait", is_flag=True, help="Follow the run until its model serves or the run ends.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    help="With --wait: stop following after this many minutes (the run goes on).",
)
def deploy(
    where: stacks.Where,
    model: str,
    provisioned: bool,
    on_demand: bool,
    model_units: int | None,
    ttl_hours: float | None,
    keep_deployment: bool,
    idle_hours: float | None,
    evaluate_samples: int | None,
    min_improvement: float | None,
    budget_usd: float | None,
    tags: dict[str, str],
    stage: str | None,
    wait: bool,
    timeout: float | None,
) -> None:
    """Deploy the custom model of RUN_ID (or MODEL_ARN) in a run of its own; print its run id.

    The run goes through the same workflow as a training run's deployment: the estimate,
    approval when a gate holds it, the end time, idle teardown and the evaluation. It is
    linked to the run that trained the model (`show` lists it there).
    """
    from customization_core.catalog import load_catalog
    from customization_core.deployments import deploy_problem

    if provisioned == on_demand:
        raise click.UsageError(
            "Give --provisioned or --on-demand, not both: how to deploy the model."
            if provisioned
            else "Give --provisioned or --on-demand: how to deploy the model."
        )
    mode = "provisioned" if provisioned else "on-demand"
    if on_demand and model_units is not None:
        raise click.UsageError("--model-units is for --provisioned: on demand has no units.")
    blocks = after_training(
        mode, model_units, ttl_hours, keep_deployment, evaluate_samples, min_improvement
    )
    if idle_hours is not None:
        blocks["deploy"]["idleHours"] = idle_hours
    extra: dict[str, Any] = {**blocks}
    if budget_usd is not None:
        extra["budgetUsd"] = budget_usd
    if tags:
        extra["tags"] = tags
    _manifest(model, extra)  # a usage error before anything is asked or uploaded
    stack = where.open()
    target, item = _resolve(stack, model)
    manifest = _manifest(target, extra)
    rules, _ = check_cmd.stage_rules(
        None, stage or check_cmd.stage_of(where.stack_name), strict=stage is not None
    )
    if item is not None:
        # The stage's limit on ttlHours and the model's support for on demand: the pipeline
        # judges them again (and a model named by ARN only there).
        refusal = deploy_problem(
            blocks["deploy"],
            str(item.get("model_id")),
            load_catalog(),
            rules.max_deployment_ttl_hours if rules else math.inf,
        )
        if refusal:
            raise click.UsageError(refusal)
    folder = job_prefix(f"{FOLDER_PREFIX}{_folder_name(target)}")
    run_id = uploads.put_manifest(stack, folder, manifest)
    click.echo(run_id)
    of = f"run {target}" if item is not None else target
    say(
        f"Submitted s3://{stack.output('DatasetsBucketName')}/{folder}{MANIFEST_NAME}: run {run_id} "
        f"deploys the custom model of {of} ({mode}).",
        err=True,
    )
    other = f"{where.suffix} --profile approver" if where.local else where.suffix
    finish(
        stack,
        where,
        run_id,
        wait=wait,
        timeout=timeout,
        advice=(
            f"What it is and what it costs: bedrock-customize show {run_id}{where.suffix}",
            "If it waits for approval, someone other than you answers: bedrock-customize "
            f"approve {run_id}{other} (or reject {run_id}{other} --reason ...)",
        ),
    )


def _manifest(target: str, extra: dict[str, Any]) -> bytes:
    """The deploy-only manifest's bytes; a usage error naming the field when it is wrong."""
    from customization_core.manifest import DEPLOY_MODEL
    from customization_core.manifest_parse import parse_manifest

    body = json.dumps({DEPLOY_MODEL: target, **extra}, indent=2).encode()
    parsed = parse_manifest(body)
    if parsed.problems:
        raise click.UsageError(" ".join(parsed.problems))
    return body


def _resolve(stack: stacks.Stack, model: str) -> tuple[str, dict[str, Any] | None]:
    """What the manifest names: the training run's id and its item, or the ARN as given.

    A deployment run's id stands for the run that trained its model. A run whose model
    cannot be deployed exits 1 with why.
    """
    from customization_core.deploy_existing import model_problem

    if model.startswith("arn:"):
        return model, None
    item = run_items.item(stack, model)
    if item.get("trains") is False and item.get("model_of_run"):
        trained_by = str(item["model_of_run"])
        say(f"Run {model} deployed the custom model of run {trained_by}: deploying it.", err=True)
        item = run_items.item(stack, trained_by)
    problem = model_problem(item)
    if problem:
        click.echo(problem, err=True)
        sys.exit(EXIT_FAILED)
    return str(item["run_id"]), item


def _folder_name(target: str) -> str:
    """A job folder name for ``target``: the run id, or the ARN's last part, S3-safe."""
    name = target.rsplit("/", 1)[-1] if target.startswith("arn:") else target
    return re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")[:FOLDER_NAME_MAX] or "model"
