"""``submit``: validate locally, upload the data encrypted with the stack's key, write job.json last.

The run id goes to stdout alone (``RUN_ID=$(bedrock-customize submit ...)``);
progress and advice go to stderr. Uploads use S3 multipart transfers above
64 MiB, with the SSE-KMS headers the datasets bucket's policy requires on every
part's CreateMultipartUpload and PutObject.
"""

from __future__ import annotations

import json
import math
import re
import sys
import time
from collections.abc import Callable
from contextlib import nullcontext
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final

import click
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from bedrock_customize import check, check_cmd, runs
from bedrock_customize import stack as stacks
from bedrock_customize.console import console, say
from bedrock_customize.options import (
    EPOCHS_OPTION,
    HYPERPARAMETER_OPTION,
    PRICE_OPTION,
    TYPES,
    deployment_options,
    key_values,
    with_epochs,
)
from bedrock_customize.stack import aws, stack_options
from customization_core import approval
from customization_core.catalog import CustomizationType, load_catalog
from customization_core.deploy_existing import deploy_command
from customization_core.deployments import deploy_problem
from customization_core.layout import MANIFEST_NAME, job_prefix
from customization_core.manifest import DEFAULT_TRAINING_KEY, DEFAULT_VALIDATION_KEY, parse_manifest
from customization_core.naming import ObjectVersion, run_names
from customization_core.run import DeploymentStatus, Status

EXIT_FAILED = 1
EXIT_INTERRUPTED = 130
# A job folder name: it becomes an S3 prefix, a run id and (shortened) a Bedrock job name.
NAME_PATTERN: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
MIB: Final = 1024 * 1024
MULTIPART_BYTES: Final = 64 * MIB  # parts of 64 MiB: 10,000 parts cover 625 GiB (S3's part limit)
POLL_SECONDS: Final = {True: 0.2, False: 15.0}  # local emulator, AWS


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
@click.option("--type", "kind", required=True, type=click.Choice(TYPES), help="Customization type.")
@click.option(
    "--train",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The training JSONL.",
)
@click.option(
    "--validation",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The validation JSONL.",
)
@HYPERPARAMETER_OPTION
@EPOCHS_OPTION
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
    if not NAME_PATTERN.match(name):
        raise click.BadParameter(
            f"{name!r}: use 1 to 63 letters, digits, '.', '_' or '-', starting with a letter or digit.",
            param_hint="--name",
        )
    hyperparameters = with_epochs(hyperparameters, epochs)
    manifest: dict[str, Any] = {
        "customizationType": CustomizationType.parse(kind).value,
        "baseModelId": model_id,
        "hyperParameters": hyperparameters,
        "trainingData": DEFAULT_TRAINING_KEY,
        "validationData": DEFAULT_VALIDATION_KEY if validation else None,
    }
    if custom_model_name:
        manifest["customModelName"] = custom_model_name
    if tags:
        manifest["tags"] = tags
    if budget_usd is not None:
        manifest["budgetUsd"] = budget_usd
    blocks = _after_training(
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
    s3, encryption = stack.client("s3"), upload_encryption(stack)
    user_id = caller(stack)
    uploads = [(train, folder + DEFAULT_TRAINING_KEY)]
    if validation:
        uploads.append((validation, folder + DEFAULT_VALIDATION_KEY))
    for path, key in uploads:
        _upload(s3, path, bucket, key, encryption)
    run_id = put_manifest(stack, folder, manifest_bytes, user_id=user_id)
    click.echo(run_id)
    say(f"Submitted s3://{bucket}/{folder}{MANIFEST_NAME} as {user_id}: run {run_id}.", err=True)
    finish(stack, where, run_id, wait=wait, timeout=timeout)


def upload_encryption(stack: stacks.Stack) -> dict[str, str]:
    """The SSE-KMS headers the datasets bucket's policy requires on every upload."""
    return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": stack.output("DataKeyArn")}


def caller(stack: stacks.Stack) -> str:
    """The caller's aws:userid: what job.json's submitted-by tag must be."""
    me = aws("sts:GetCallerIdentity", lambda: stack.client("sts").get_caller_identity())
    return str(me["UserId"])


def put_manifest(
    stack: stacks.Stack, folder: str, manifest: bytes, *, user_id: str | None = None
) -> str:
    """Write ``folder``/job.json (its upload starts the run) as the caller; the run id.

    It carries the caller's aws:userid as its submitted-by tag (the bucket refuses any
    other), so that someone else must approve the run (customization_core/approval.py).
    """
    bucket, key = stack.output("DatasetsBucketName"), folder + MANIFEST_NAME
    submitter = user_id or caller(stack)
    s3, encryption = stack.client("s3"), upload_encryption(stack)
    put = aws(
        "s3:PutObject",
        lambda: s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=manifest,
            ContentType="application/json",
            Tagging=approval.tagging(approval.SUBMITTED_BY, submitter),
            **encryption,
        ),
    )
    return run_names(ObjectVersion(bucket, key, put["VersionId"])).run_id


def finish(
    stack: stacks.Stack,
    where: stacks.Where,
    run_id: str,
    *,
    wait: bool,
    timeout: float | None,
    advice: tuple[str, ...] = (),
) -> None:
    """After the upload: say how to follow the run (and ``advice``), or follow it (--wait).

    Following exits 0 when the run succeeds or its model serves, 1 otherwise.
    """
    if not wait:
        say(f"Follow it with: bedrock-customize status {run_id}{where.suffix}", err=True)
        for line in advice:
            say(line, err=True)
        return
    final = follow(
        stack,
        run_id,
        poll_seconds=POLL_SECONDS[where.local],
        timeout_minutes=timeout,
        suffix=where.suffix,
    )
    sys.exit(0 if final in (Status.SUCCEEDED.value, Status.DEPLOYED.value) else EXIT_FAILED)


def _after_training(
    mode: str,
    model_units: int | None,
    ttl_hours: float | None,
    keep: bool,
    samples: int | None,
    min_improvement: float | None,
) -> dict[str, Any]:
    """The manifest's deploy and evaluate blocks from the options; a usage error for a mix-up."""
    deploying = {
        "model_units": model_units,
        "ttl_hours": ttl_hours,
        "keep_deployment": keep or None,
    }
    given = [f"--{k.replace('_', '-')}" for k, v in deploying.items() if v is not None]
    if mode == "none":
        asked = given + (["--evaluate-samples"] if samples else [])
        asked += ["--min-improvement"] if min_improvement is not None else []
        if asked:
            raise click.UsageError(f"{', '.join(asked)} need(s) --deploy provisioned or on-demand.")
        return {}
    if keep and ttl_hours is not None:
        raise click.UsageError("Give --ttl-hours or --keep-deployment, not both.")
    deploy: dict[str, Any] = {"mode": mode}
    if model_units is not None:
        deploy["modelUnits"] = model_units
    if keep:
        deploy["ttlHours"] = None
    elif ttl_hours is not None:
        deploy["ttlHours"] = ttl_hours
    blocks: dict[str, Any] = {"deploy": deploy}
    if samples is not None or min_improvement is not None:
        evaluate: dict[str, Any] = {}
        if samples is not None:
            evaluate["samples"] = samples
        if min_improvement is not None:
            evaluate["minImprovement"] = min_improvement
        blocks["evaluate"] = evaluate
    return blocks


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
    rules, unread = check_cmd.stage_rules(None, check_cmd.stage_of(where.stack_name), strict=False)
    bedrock = stack.client("bedrock")
    job = check.Job(
        name=name,
        manifest=manifest,
        locate={DEFAULT_TRAINING_KEY: train, DEFAULT_VALIDATION_KEY: validation}.get,
    )
    with console(err=True).status(f"Validating {train} ..."):
        outcome = check.check_job(
            job,
            catalog=load_catalog(),
            rules=rules,
            live=check.Live(bedrock, str(bedrock.meta.region_name)),
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
            say(check.VERDICTS["approval"], err=True)
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


def _upload(s3: Any, path: Path, bucket: str, key: str, encryption: dict[str, str]) -> None:
    """One file, multipart above 64 MiB, with a progress bar on a terminal."""
    from boto3.s3.transfer import TransferConfig

    size = path.stat().st_size
    config = TransferConfig(
        multipart_threshold=MULTIPART_BYTES, multipart_chunksize=MULTIPART_BYTES
    )
    terminal = console(err=True).is_terminal
    progress = (
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=console(err=True),
            transient=True,
        )
        if terminal
        else None
    )
    with progress or nullcontext():
        advance: Callable[[int], None] | None = None
        if progress is not None:
            task = progress.add_task(f"Uploading {path.name}", total=size)
            advance = lambda sent: progress.advance(task, sent)  # noqa: E731
        aws(
            "s3:PutObject",
            lambda: s3.upload_file(
                str(path), bucket, key, ExtraArgs=encryption, Config=config, Callback=advance
            ),
        )
    say(f"Uploaded {path} to s3://{bucket}/{key} ({size / MIB:,.1f} MiB, SSE-KMS).", err=True)


def follow(
    stack: stacks.Stack,
    run_id: str,
    *,
    poll_seconds: float,
    timeout_minutes: float | None,
    suffix: str,
) -> str | None:
    """Print each status the run enters until it ends; its final status (None: not followed to the end)."""
    deadline = time.monotonic() + timeout_minutes * 60 if timeout_minutes else None
    shown = 0
    announced_wait = False
    try:
        while True:
            found = runs.find_item(stack, run_id)
            if found is None and not announced_wait:
                say("Waiting for the workflow to pick up the job ...", err=True)
                announced_wait = True
            history = found.get("history", []) if found else []
            for entry in history[shown:]:
                reason = f" ({entry['reason']})" if entry.get("reason") else ""
                say(f"  {entry['at']}  {entry['status']}{reason}", err=True)
                if entry["status"] == Status.AWAITING_APPROVAL.value:
                    # Locally everyone signs as one user: answer as another emulated person.
                    other = f"{suffix} --profile approver" if "--local" in suffix else suffix
                    say(
                        "  It waits for approval by someone other than you: bedrock-customize "
                        f"approve {run_id}{other} (or reject {run_id}{other} --reason ...)",
                        err=True,
                    )
            shown = len(history)
            if found and found["status"] == Status.DEPLOYED.value:
                deployment = found.get("deployment") or {}
                say(
                    f"Run {run_id} is DEPLOYED: its model serves from {deployment.get('arn')} "
                    f"until {deployment.get('expires_at')}, then it is deleted.",
                    err=True,
                )
                say(
                    f"Try it: bedrock-customize invoke {run_id}{suffix} --prompt '...'; "
                    f"keep it longer: bedrock-customize extend {run_id}{suffix} --hours N",
                    err=True,
                )
                return str(found["status"])
            if found and Status(found["status"]).terminal:
                _ended(found, suffix)
                return str(found["status"])
            if deadline is not None and time.monotonic() > deadline:
                say(
                    f"Stopped following after {timeout_minutes:g} minutes; the run goes on: "
                    f"bedrock-customize status {run_id}{suffix}",
                    err=True,
                )
                return None
            time.sleep(poll_seconds)
    except KeyboardInterrupt:
        say(
            f"Stopped following; the run goes on: bedrock-customize status {run_id}{suffix}",
            err=True,
        )
        sys.exit(EXIT_INTERRUPTED)


def _ended(found: dict[str, Any], suffix: str) -> None:
    run_id = found["run_id"]
    if found["status"] == Status.SUCCEEDED.value:
        say(f"Run {run_id} SUCCEEDED: custom model {found.get('model_arn')}", err=True)
        deployment = found.get("deployment") or {}
        if deployment.get("status") == DeploymentStatus.ACTIVE.value:  # kept, no end time
            say(f"Try it: bedrock-customize invoke {run_id}{suffix} --prompt '...'", err=True)
            return
        # A custom model answers only through a deployment: invoke cannot work yet.
        gone = f" (its deployment is {deployment['status']})" if deployment.get("status") else ""
        say(
            f"Nothing serves it{gone}; to invoke it, deploy it: "
            + deploy_command(found, load_catalog(), suffix=suffix),
            err=True,
        )
        return
    say(
        f"Run {run_id} ended {found['status']}: {found.get('reason') or 'no reason recorded'}",
        err=True,
    )
    say(f"See why: bedrock-customize logs {run_id}{suffix}", err=True)
