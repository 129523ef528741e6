"""``bedrock-customize check FOLDER``: the pipeline's verdict on a job folder, before any upload.

This module reads cdk.json and makes the AWS clients; bedrock_customize/check.py
judges (imported when the command runs). ``clients`` is the one place that makes a real Bedrock client: tests
replace it (a Stubber-backed client, or none).
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import click

from bedrock_customize import check_model
from bedrock_customize import stack as stacks
from bedrock_customize.console import emit_json, say
from bedrock_customize.options import MEDIA_ROOT_OPTION
from bedrock_customize.stack import EXIT_FAILED, EXIT_OK
from customization_core.layout import MANIFEST_NAME

if TYPE_CHECKING:
    from stacks.settings import Settings

REPO: Final = Path(__file__).resolve().parents[1]
DEFAULT_CDK_JSON: Final = REPO / "cdk.json"
CONTEXT_KEY: Final = "bedrock-customization"  # stacks/settings.py CONTEXT_KEY
STACK_STAGE: Final = re.compile(
    r"^BedrockCustomization-([a-z][a-z0-9-]{0,19})$"
)  # Settings.stack_name


def clients(*, region: str | None, profile: str | None, stack_name: str | None) -> check_model.Live:
    """A Bedrock client where the run would go, or why there is none (no credentials, no Region).

    Raises AccessError when credentials exist but the stack cannot be read (exit 3).
    """
    import boto3  # only a live check pays for the import
    from botocore.exceptions import BotoCoreError

    try:
        session = boto3.Session(region_name=region, profile_name=profile)
        credentials = session.get_credentials()
    except BotoCoreError as error:  # ProfileNotFound
        raise stacks.AccessError(stacks.describe(error, "boto3.Session")) from None
    where = region or session.region_name
    if credentials is None:
        skipped = "no AWS credentials" + (
            f", so stack {stack_name} was not read" if stack_name else ""
        )
        return check_model.Live(None, where, skipped=skipped)
    if stack_name:
        if where is None:
            raise click.UsageError(
                f"--stack {stack_name} needs a Region: pass --region, or set one in the profile."
            )
        bedrock = stacks.connect(stack_name, region=where, profile=profile).client("bedrock")
        return check_model.Live(bedrock, str(bedrock.meta.region_name), explicit=True)
    if where is None:
        return check_model.Live(None, None, skipped="no AWS Region")
    try:
        bedrock = session.client("bedrock", region_name=where)
    except BotoCoreError as error:  # InvalidRegionError: "us east 1"
        raise click.BadParameter(str(error), param_hint="--region") from None
    return check_model.Live(bedrock, where, explicit=region is not None)


def stage_of(stack_name: str | None) -> str | None:
    """The stage a stack of this app was deployed as (BedrockCustomization-<stage>), or None."""
    found = STACK_STAGE.match(stack_name or "")
    return found.group(1) if found else None


def stage_rules(
    cdk_json: Path | None, stage: str | None, *, strict: bool
) -> tuple[check_model.Rules | None, str | None]:
    """The stage's rules from cdk.json, or None and why (``strict``: a usage error instead)."""
    path = cdk_json or DEFAULT_CDK_JSON
    try:
        if not path.is_file():
            raise ValueError(f"{path} does not exist; pass --cdk-json PATH")
        document = json.loads(path.read_text(encoding="utf-8"))
        context = (
            document.get("context", {}).get(CONTEXT_KEY) if isinstance(document, dict) else None
        )
        settings = _load_settings()(context, stage=stage)
    except ValueError as problem:  # json's errors and SettingsError are ValueErrors
        if strict and (cdk_json is not None or path.is_file()):
            raise click.UsageError(f"{path}: {problem}") from None
        return None, f"The stage settings were not read ({problem})."
    return rules_of(settings), None


def rules_of(settings: Settings) -> check_model.Rules:
    return check_model.Rules(
        stage=settings.stage,
        allowed_models=settings.allowed_base_models,
        default_hyperparameters=settings.default_hyperparameters,
        approval_threshold_usd=settings.approval_threshold_usd,
        max_deployment_ttl_hours=settings.max_deployment_ttl_hours,
        max_unapproved_model_units=settings.max_unapproved_model_units,
        training_prices_usd=settings.training_prices_usd,
        unknown_models=settings.unknown_models,
        data_risk=settings.data_risk,
    )


def _load_settings() -> Any:
    """stacks.settings.load_settings: importable in the repository, read from its file otherwise.

    The console script's path holds only the installed packages, and ``stacks`` (the CDK
    app's) is not one of them; its settings module imports nothing of the CDK.
    """
    try:
        from stacks.settings import load_settings
    except ModuleNotFoundError:
        spec = importlib.util.spec_from_file_location(
            "_bedrock_customize_settings", REPO / "stacks" / "settings.py"
        )
        if spec is None or spec.loader is None:
            raise ValueError("the app's stacks/settings.py was not found") from None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # pydantic resolves the module's annotations through it
        spec.loader.exec_module(module)
        return module.load_settings
    return load_settings


def job_name(folder: Path) -> str:
    """The folder's name, as it becomes jobs/<name>/ (``.`` is the folder's real name)."""
    return folder.name if folder.name not in ("", ".", "..") else folder.resolve().name


def read_folder(folder: Path) -> check_model.Job:
    manifest = folder / MANIFEST_NAME
    return check_model.Job(
        name=job_name(folder),
        manifest=manifest.read_bytes() if manifest.is_file() else None,
        locate=lambda key: folder / key,
    )


def print_outcome(outcome: check_model.Outcome, *, err: bool = False) -> None:
    for line in check_model.render_text(outcome):
        say(line, err=err)


@click.command("check")
@click.argument(
    "folder", type=click.Path(exists=True, file_okay=False, path_type=Path), metavar="FOLDER"
)
@click.option("--stage", help="The stage whose settings judge the run (default: cdk.json's).")
@click.option(
    "--region",
    help="The Region the run would go to: Bedrock there is asked (with credentials), or the catalog.",
)
@click.option(
    "--stack",
    "stack_name",
    help="The deployed stack the run would go to: its Region is asked (and its stage read).",
)
@click.option("--profile", help="AWS profile (default: the environment's).")
@MEDIA_ROOT_OPTION
@click.option(
    "--cdk-json",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The app's cdk.json (default: this repository's).",
)
@click.option(
    "--offline", is_flag=True, help="Make no AWS call: judge the Region by the catalog's Regions."
)
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as one JSON document.")
def check_command(
    folder: Path,
    stage: str | None,
    region: str | None,
    stack_name: str | None,
    profile: str | None,
    media_root: Path | None,
    cdk_json: Path | None,
    offline: bool,
    as_json: bool,
) -> None:
    """Check job FOLDER (job.json, train.jsonl, validation.jsonl) exactly as the pipeline will.

    Lists every problem at once, step by step, then the verdict. Exits 0 when the
    pipeline would accept the run or hold it for approval, 1 when it would reject
    it, 2 for a usage error, 3 when AWS refuses a live check asked for with
    --region or --stack.
    """
    if offline and stack_name:
        raise click.UsageError("--offline makes no AWS call, and --stack needs one: give --region.")
    from bedrock_customize.check import check_job
    from customization_core.catalog import load_catalog

    rules, unread = stage_rules(cdk_json, stage or stage_of(stack_name), strict=True)
    try:
        live = (
            check_model.Live(None, region, skipped="--offline")
            if offline
            else clients(region=region, profile=profile, stack_name=stack_name)
        )
        outcome = check_job(
            read_folder(folder),
            catalog=load_catalog(),
            rules=rules,
            live=live,
            today=date.today(),
            now=datetime.now(UTC),
            media_root=media_root,
        )
    except (stacks.AccessError, check_model.LiveDeniedError) as error:
        click.echo(
            f"{error} (or run with --region R --offline to judge by the catalog only)", err=True
        )
        sys.exit(stacks.EXIT_ACCESS)
    if unread:
        outcome.note("settings", unread)
    if as_json:
        emit_json(outcome.to_dict())
    else:
        print_outcome(outcome)
    sys.exit(EXIT_FAILED if outcome.verdict == "reject" else EXIT_OK)
