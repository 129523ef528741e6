"""``validate`` and ``cost``: a dataset judged, and a run priced, on this machine.

Both read TRAIN through the validator (customization_core/validator.py), as
ValidateDataset does, and submit nothing. Exit codes: 0 ok, 1 the data (or the
request) is invalid, 2 usage.
"""

from __future__ import annotations

import json
import math
import sys
from contextlib import ExitStack
from pathlib import Path

import click

from bedrock_customize.options import (
    EPOCHS_OPTION,
    HYPERPARAMETER_OPTION,
    MEDIA_ROOT_OPTION,
    PRICE_OPTION,
    REGION_OPTION,
    TYPE_CHOICE,
    TypeOptions,
    type_options,
    validation_option,
    with_epochs,
)
from bedrock_customize.stack import EXIT_FAILED, EXIT_OK


def _check_region(model_id: str, kind: str, region: str | None) -> None:
    """A usage error when ``model_id`` cannot run ``kind`` in ``region`` (the catalog's list).

    An unknown model or type is left to the validator, which reports it as a finding.
    """
    from customization_core.catalog import CustomizationType, load_catalog
    from customization_core.regions import region_problem

    model = load_catalog().find(model_id) if region else None
    customization = CustomizationType.parse(kind)
    if region and model and customization in model.customizations:
        problem = region_problem(model, customization, region)
        if problem:
            raise click.UsageError(problem)


@click.command()
@click.argument("train", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--model",
    "model_id",
    required=True,
    help="Base model id, e.g. amazon.titan-text-express-v1:0:8k.",
)
@click.option("--type", "kind", required=True, type=TYPE_CHOICE, help="Customization type.")
@validation_option("Validation dataset (JSONL), checked against its own limits.")
@HYPERPARAMETER_OPTION
@EPOCHS_OPTION
@PRICE_OPTION
@REGION_OPTION
@MEDIA_ROOT_OPTION
@type_options
@click.option(
    "--risk",
    is_flag=True,
    help="Scan for data risks too (leakage, near duplicates, personal data, secrets, outliers); they warn.",
)
@click.option("--json", "as_json", is_flag=True, help="Print exactly the report document (JSON).")
def validate(
    train: Path,
    model_id: str,
    kind: str,
    for_type: TypeOptions,
    validation: Path | None,
    hyperparameters: dict[str, str],
    epochs: int | None,
    price_per_1k_tokens: float | None,
    region: str | None,
    media_root: Path | None,
    risk: bool,
    as_json: bool,
) -> None:
    """Check TRAIN (and --validation) for MODEL before any money is spent.

    Reports every problem with its line number, the token statistics and the
    cost estimate; with --risk, a "Data risks" section (values masked). Exits 0
    when the data is valid, 1 when it is not.
    """
    from customization_core.risk_policy import RiskPolicy
    from customization_core.validator import validate_dataset

    media = None
    if media_root:  # only then are media objects read
        from customization_core.media import LocalMediaResolver

        media = LocalMediaResolver(media_root)

    hyperparameters = with_epochs(hyperparameters, epochs)
    settings = for_type.checked(kind, model_id)
    _check_region(model_id, kind, region)
    with ExitStack() as files:
        train_stream = files.enter_context(train.open("rb"))
        validation_stream = files.enter_context(validation.open("rb")) if validation else None
        report = validate_dataset(
            train_stream,
            model_id=model_id,
            customization_type=kind,
            hyperparameters=hyperparameters,
            validation=validation_stream,
            price_per_1k_tokens_usd=price_per_1k_tokens,
            media=media,
            risk=RiskPolicy() if risk else None,  # every kind warns, as a stage's default
            **settings.validator_kwargs(),
        )
    if as_json:
        sys.stdout.buffer.write(report.to_json() + b"\n")
    else:
        click.echo(report.render_text())
    refused = _try_grader(train, settings, quiet=as_json) if report.valid else False
    sys.exit(EXIT_OK if report.valid and not refused else EXIT_FAILED)


def _try_grader(train: Path, settings: TypeOptions, *, quiet: bool) -> bool:
    """A built-in grader tried on TRAIN's first records, as ValidateDataset does; True if refused."""
    if settings.grader is None:
        return False
    from customization_core.grader_check import SAMPLE_RECORDS, try_grader

    with train.open("rb") as lines:
        tried = try_grader(
            lines, {"kind": "builtin", "name": settings.grader, "params": settings.grader_params}
        )
    if not quiet:
        for message in tried.errors:
            click.echo(f"ERROR grader: {message}")
        for message in tried.warnings:
            click.echo(f"WARNING grader: {message}")
        if not tried.errors and not tried.warnings:
            click.echo(
                f"Grader {settings.grader}: tried on the first {SAMPLE_RECORDS} records as the "
                "pipeline will; it tells the references from wrong answers "
                "(bedrock-customize grade shows the rewards)."
            )
    return bool(tried.errors)


@click.command()
@click.option(
    "--train",
    "train",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The training JSONL.",
)
@click.option("--model", "model_id", required=True, help="Base model id.")
@click.option(
    "--type",
    "kind",
    default="fine-tuning",
    show_default=True,
    type=TYPE_CHOICE,
    help="Customization type.",
)
@click.option("--epochs", type=click.IntRange(min=1), help="Epochs (default: the model's).")
@PRICE_OPTION
@REGION_OPTION
@click.option(
    "--deploy",
    "deploy_mode",
    type=click.Choice(["none", "provisioned", "on-demand"]),
    default="none",
    show_default=True,
    help="Price a deployment too, as the manifest's deploy.mode.",
)
@click.option(
    "--model-units",
    type=click.IntRange(1, 10),
    default=1,
    show_default=True,
    help="deploy.modelUnits.",
)
@click.option(
    "--ttl-hours",
    type=click.FloatRange(min=0, min_open=True),
    default=24.0,
    show_default=True,
    help="deploy.ttlHours: how long the deployment is priced for.",
)
@click.option(
    "--evaluate-samples",
    type=click.IntRange(1, 1000),
    help="Price an evaluation of this many samples (evaluate.samples).",
)
@type_options
@click.option("--json", "as_json", is_flag=True, help="Print the cost document (JSON).")
def cost(
    train: Path,
    model_id: str,
    kind: str,
    for_type: TypeOptions,
    epochs: int | None,
    price_per_1k_tokens: float | None,
    region: str | None,
    deploy_mode: str,
    model_units: int,
    ttl_hours: float,
    evaluate_samples: int | None,
    as_json: bool,
) -> None:
    """Estimate what a run on TRAIN would cost (training, storage, deployment), submitting nothing."""
    from customization_core.catalog import CustomizationType, load_catalog
    from customization_core.estimate import estimate_of
    from customization_core.validator import validate_dataset

    settings = for_type.checked(kind, model_id)
    _check_region(model_id, kind, region)
    hyperparameters = {"epochCount": str(epochs)} if epochs else {}
    with train.open("rb") as stream:
        report = validate_dataset(
            stream,
            model_id=model_id,
            customization_type=kind,
            hyperparameters=hyperparameters,
            price_per_1k_tokens_usd=price_per_1k_tokens,
            **settings.validator_kwargs(),
        )
    training = report.document["cost"]
    request_errors = [e for e in report.document["errors"] if e["file"] == "request"]
    if training is None or request_errors:
        for finding in request_errors:
            click.echo(f"{finding['code']}: {finding['message']}", err=True)
        sys.exit(EXIT_FAILED)
    if evaluate_samples and deploy_mode == "none":
        raise click.UsageError("--evaluate-samples needs --deploy provisioned or on-demand.")
    records = int(report.document["records"] or 0)
    tokens = int(report.document["tokens"]["total"] or 0)
    estimate = estimate_of(
        load_catalog(),
        model_id=model_id,
        kind=CustomizationType.parse(kind).value,
        training_cost=training,
        deploy={"mode": deploy_mode, "modelUnits": model_units, "ttlHours": ttl_hours},
        evaluate={"samples": evaluate_samples} if evaluate_samples else None,
        request_tokens=math.ceil(tokens / records) if records and tokens else None,
    )
    if as_json:
        click.echo(
            json.dumps({**estimate.to_dict(), "training": training}, indent=2, sort_keys=True)
        )
        return
    for line in estimate.lines():
        click.echo(line)
    click.echo("Tokens are a deliberate over-estimate. Prices and their sources:")
    for part in estimate.parts:
        click.echo(f"  {part.name}: {part.source}")
    if estimate.total_usd is None:
        hint = (
            " Give the training price with --price-per-1k-tokens."
            if "training" in estimate.unknown
            else ""
        )
        click.echo(
            f"No price is known for: {', '.join(estimate.unknown)}.{hint} "
            "bedrock-customize catalog --check compares the catalog with the AWS Price List. "
            "The pipeline holds a run whose total is unknown for approval when the stage "
            "sets approvalThresholdUsd."
        )
    if not report.valid:
        click.echo(
            f"The data has {report.document['error_count']} error(s): run bedrock-customize validate before submitting."
        )


COMMANDS = (validate, cost)
