"""``submit``: validate locally, upload the data encrypted with the stack's key, write job.json last.

The run id goes to stdout alone (``RUN_ID=$(bedrock-customize submit ...)``);
progress and advice go to stderr. The uploads are uploads.py's; following the run
(--wait) is follow.py's.
"""

from __future__ import annotations

import json
import math
import re
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final

import click

from bedrock_customize import check_cmd, check_model, uploads
from bedrock_customize import stack as stacks
from bedrock_customize.console import console, say
from bedrock_customize.follow import finish
from bedrock_customize.options import (
    EPOCHS_OPTION,
    HYPERPARAMETER_OPTION,
    PRICE_OPTION,
    TYPE_CHOICE,
    TypeOptions,
    after_training,
    deployment_options,
    key_values,
    type_options,
    validation_option,
    with_epochs,
)
from bedrock_customize.stack import EXIT_FAILED, stack_options
from customization_core.layout import MANIFEST_NAME, job_prefix

# A job folder name: it becomes an S3 prefix, a run id and (shortened) a Bedrock job name.
NAME_PATTERN: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")


@click.command()
@stack_options
@click.option(
    "--name",
    required=True,
    help="The job's name: its folder jobs/NAME/ in the datasets bucket (letters, digits, . _ -).",
)
@click.option(
    "--model", "model_id", required=True, help="Base model id, e.g. amazon.titan-text-lite-v1:0:4k."
)
@click.option("--type", "kind", required=True, type=TYPE_CHOICE, help="Customization type.")
@click.option(
    "--train",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The training JSONL.",
)
@validation_option("The validation JSONL.")
@HYPERPARAMETER_OPTION
@EPOCHS_OPTION
@type_options
@click.option("--custom-model-name", help="Name of the custom model (default: from the job name).")
@click.option(
    "--tag",
    "tags",
    multiple=True,
    callback=key_values,
    metavar="KEY=VALUE",
    help="A tag for the job and its model (repeatable).",
)
@click.option(
    "--deploy",
    "deploy_mode",
    type=click.Choice(["none", "provisioned", "on-demand"]),
    default="none",
    show_default=True,
    help="Deploy the custom model once trained: no-commitment Provisioned Throughput, or on demand.",
)
@deployment_options
@PRICE_OPTION
@click.option(
    "--force",
    is_flag=True,
    help="Upload even when local validation finds errors (the pipeline validates again).",
)
@click.option(
    "--wait", is_flag=True, help="Follow the run until it ends; exit 1 unless it succeeds."
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    help="With --wait: stop following after this many minutes (the run goes on).",
)
def submit(
    where: stacks.Where,
    name: str,
    model_id: str,
    kind: str,
    train: Path,
    validation: Path | None,
    hyperparameters: dict[str, str],
    epochs: int | None,
    for_type: TypeOptions,
    custom_model_name: str | None,
    tags: dict[str, str],
    budget_usd: float | None,
    deploy_mode: str,
    model_units: int | None,
    ttl_hours: float | None,
    idle_hours: float | None,
    keep_deployment: bool,
    evaluate_samples: int | None,
    min_improvement: float | None,
    price_per_1k_tokens: float | None,
    force: bool,
    wait: bool,
    timeout: float | None,
) -> None:
    """Start a customization run: validate, upload TRAIN (and VALIDATION), then jobs/NAME/job.json.

    Prints the run id on stdout. Invalid data is refused before anything is
    uploaded (exit 1) unless --force.
    """
    from customization_core.catalog import CustomizationType, load_catalog
    from customization_core.deployments import deploy_problem
    from customization_core.manifest import DEFAULT_TRAINING_KEY, DEFAULT_VALIDATION_KEY
    from customization_core.manifest_parse import parse_manifest

    if not NAME_PATTERN.match(name):
        raise click.BadParameter(
            f"{name!r}: use 1 to 63 letters, digits, '.', '_' or '-', starting with a letter or digit.",
            param_hint="--name",
        )
    hyperparameters = with_epochs(hyperparameters, epochs)
    settings = for_type.checked(kind, model_id)
    manifest: dict[str, Any] = {
        "customizationType": CustomizationType.parse(kind).value,
        "baseModelId": model_id,
        "hyperParameters": hyperparameters,
        **settings.manifest_fields(),  # teacherModelId, maxResponseLength, grader
        "trainingData": DEFAULT_TRAINING_KEY,
        "validationData": DEFAULT_VALIDATION_KEY if validation else None,
    }
    if custom_model_name:
        manifest["customModelName"] = custom_model_name
    if tags:
        manifest["tags"] = tags
    if budget_usd is not None:
        manifest["budgetUsd"] = budget_usd
    blocks = after_training(
        deploy_mode, model_units, ttl_hours, keep_deployment, evaluate_samples, min_improvement
    )
    if idle_hours is not None:
        if "deploy" not in blocks:
            raise click.UsageError("--idle-hours needs --deploy provisioned or on-demand.")
        blocks["deploy"]["idleHours"] = idle_hours
    manifest.update(blocks)
    manifest_bytes = json.dumps(manifest, indent=2).encode()
    parsed = parse_manifest(manifest_bytes)
    if parsed.problems:
        raise click.UsageError(" ".join(parsed.problems))
    # The stack's own limit on ttlHours is checked by the pipeline; the model's support here.
    refusal = deploy_problem(manifest.get("deploy", {}), model_id, load_catalog(), math.inf)
    if refusal:
        raise click.UsageError(refusal)
    stack = where.open()
    _validate_locally(
        stack, where, name, manifest_bytes, train, validation, price_per_1k_tokens, force
    )

    folder, bucket = job_prefix(name), stack.output("DatasetsBucketName")
    s3, encryption = stack.client("s3"), uploads.upload_encryption(stack)
    user_id = uploads.caller(stack)
    files = [(train, folder + DEFAULT_TRAINING_KEY)]
    if validation:
        files.append((validation, folder + DEFAULT_VALIDATION_KEY))
    for path, key in files:
        uploads.upload(s3, path, bucket, key, encryption)
    run_id = uploads.put_manifest(stack, folder, manifest_bytes, user_id=user_id)
    click.echo(run_id)
    say(f"Submitted s3://{bucket}/{folder}{MANIFEST_NAME} as {user_id}: run {run_id}.", err=True)
    finish(stack, where, run_id, wait=wait, timeout=timeout)


def _validate_locally(
    stack: stacks.Stack,
    where: stacks.Where,
    name: str,
    manifest: bytes,
    train: Path,
    validation: Path | None,
    price: float | None,
    force: bool,
) -> None:
    """The pipeline's checks (bedrock_customize/check.py, as `check` runs them) before any upload.

    Bedrock is asked in the stack's Region; when the caller may not ask it, the
    catalog's Regions judge instead (the pipeline asks again with its own role).
    """
    from bedrock_customize.check import check_job
    from customization_core.catalog import load_catalog
    from customization_core.manifest import DEFAULT_TRAINING_KEY, DEFAULT_VALIDATION_KEY

    rules, unread = check_cmd.stage_rules(None, check_cmd.stage_of(where.stack_name), strict=False)
    bedrock = stack.client("bedrock")
    job = check_model.Job(
        name=name,
        manifest=manifest,
        locate={DEFAULT_TRAINING_KEY: train, DEFAULT_VALIDATION_KEY: validation}.get,
    )
    with console(err=True).status(f"Validating {train} ..."):
        outcome = check_job(
            job,
            catalog=load_catalog(),
            rules=rules,
            live=check_model.Live(bedrock, str(bedrock.meta.region_name)),
            today=date.today(),
            now=datetime.now(UTC),
            price_override=price,
        )
    if unread:
        outcome.note("settings", unread)
    if outcome.verdict != "reject":
        for problem in outcome.warnings:
            say(f"Warning: {problem.where}: {problem.code}: {problem.message}", err=True)
        for note in outcome.notes:
            if note.step in ("settings", "live"):  # how Region and stage were judged
                say(f"Note: {note.message}", err=True)
        estimate = outcome.cost or {}
        dollars = estimate.get("estimated_usd")
        say(
            f"Valid: {estimate.get('billed_tokens', 0):,} billed tokens"
            + (
                f", about ${dollars:,.2f}."
                if dollars is not None
                else " (no price known for this model)."
            ),
            err=True,
        )
        if outcome.verdict == "approval":
            say(check_model.VERDICTS["approval"], err=True)
        return
    check_cmd.print_outcome(outcome, err=True)
    if not force:
        say(
            "Nothing was uploaded: fix what is listed above, or pass --force to let the pipeline judge it.",
            err=True,
        )
        sys.exit(EXIT_FAILED)
    say(
        "Uploading anyway (--force): the pipeline will validate again and may reject the run.",
        err=True,
    )
