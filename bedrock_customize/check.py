"""A job folder judged as the pipeline will judge it, with every problem found at once.

The steps are ValidateRequest's, ValidateDataset's and EstimateCost's
(customization_core/request_step.py, dataset_step.py and approval_steps.py), called
through the same core functions. Where
the pipeline stops at the first refusal, this goes on: a manifest with a bad
field is judged again without it, so that the request, the data and the cost
are checked too and one run of ``check`` lists what a dozen uploads would.

Pure orchestration: the catalog, the stage's rules and a Bedrock client are
parameters; nothing here reads cdk.json or makes a client (check_cmd.py does).
"""

from __future__ import annotations

import math
from datetime import date, datetime
from pathlib import Path

import orjson
from pydantic import ValidationError

from bedrock_customize.check_data import check_cost, check_data
from bedrock_customize.check_live import ask_bedrock
from bedrock_customize.check_model import Job, Live, Outcome, Rules, severity_of
from bedrock_customize.check_type import check_type
from customization_core.bounded import MAX_LISTED, clip, quote, too_deep
from customization_core.catalog import Catalog
from customization_core.deployments import deploy_problem
from customization_core.layout import MANIFEST_NAME, job_prefix
from customization_core.manifest import Manifest, data_keys, key_problem, requested_hyperparameters
from customization_core.manifest_parse import MAX_MANIFEST_BYTES, parse_manifest
from customization_core.request import check_request


def check_job(
    job: Job,
    *,
    catalog: Catalog,
    rules: Rules | None,
    live: Live,
    today: date,
    now: datetime,
    media_root: Path | None = None,
    price_override: float | None = None,
) -> Outcome:
    """Judge ``job`` as the pipeline would; raises only LiveDeniedError (an explicit check refused)."""
    folder = job_prefix(job.name)
    outcome = Outcome(folder=folder)
    bad_folder = key_problem(folder)
    if bad_folder:
        outcome.add(
            "names",
            "error",
            folder,
            "s3-uri-pattern",
            f"The job folder cannot be trained from: {bad_folder} (the folder's name is the job's).",
        )
    manifest, dropped = _manifest(job, folder, outcome)
    if manifest is None:
        return outcome
    if not bad_folder:  # a bad folder makes every key bad: said once, above
        for key in data_keys(folder, manifest):
            bad_key = key_problem(key)
            if bad_key:
                outcome.add(
                    "names",
                    "error",
                    key,
                    "s3-uri-pattern",
                    f"The data cannot be trained from: {bad_key}.",
                )
    _allowed(manifest, rules, outcome)
    unknown_ok = bool(rules and rules.unknown_ok)
    answer = ask_bedrock(live, manifest, catalog, now, outcome, unknown_ok=unknown_ok)
    # As the pipeline: the stage's defaults under the manifest's own values.
    hyperparameters = requested_hyperparameters(
        manifest,
        rules.default_hyperparameters if rules else {},
        catalog.hyperparameter_keys(manifest.base_model_id, manifest.customization_type),
    )
    checked = check_request(
        catalog,
        manifest.base_model_id,
        manifest.customization_type,
        hyperparameters,
        # Bedrock's answer judges the Region when there is one (as in the pipeline);
        # without it, the catalog's Regions do.
        region=None if answer is not None else live.region,
        today=today,
        unknown_ok=unknown_ok,
    )
    for finding in checked.findings:
        where = f"{MANIFEST_NAME}: {finding.field}" if finding.field else MANIFEST_NAME
        outcome.add("request", severity_of(finding.severity), where, finding.code, finding.message)
    check_type(manifest, catalog, live.region, outcome)  # distillation's teacher, RFT's grader
    refusal = deploy_problem(
        manifest.deploy.model_dump(by_alias=True),
        manifest.base_model_id,
        catalog,
        rules.max_deployment_ttl_hours if rules else math.inf,
    )
    if refusal:
        outcome.add("deploy", "error", f"{MANIFEST_NAME}: deploy", "deploy-refused", refusal)
    if "trainingData" in dropped or "validationData" in dropped:
        outcome.note(
            "data", "The data was not checked: fix trainingData/validationData in job.json first."
        )
    else:
        price = price_override
        if price is None and rules is not None:
            price = rules.training_prices_usd.get(manifest.base_model_id)
        check_data(
            job,
            folder,
            manifest,
            checked,
            price,
            media_root,
            catalog,
            outcome,
            unknown_ok=unknown_ok,
            data_risk=rules.data_risk if rules is not None else {},
        )
    check_cost(manifest, rules, catalog, outcome)
    return outcome


def _manifest(job: Job, folder: str, outcome: Outcome) -> tuple[Manifest | None, frozenset[str]]:
    """The manifest (or, when it does not parse, what of it does) and the fields left out."""
    if job.manifest is None:
        outcome.add(
            "manifest",
            "error",
            folder + MANIFEST_NAME,
            "manifest-missing",
            f"There is no {MANIFEST_NAME}: write one in the folder (see README, The job manifest).",
        )
        return None, frozenset()
    parsed = parse_manifest(job.manifest)
    for problem in parsed.problems:
        outcome.add("manifest", "error", MANIFEST_NAME, "manifest-invalid", problem)
    if parsed.manifest is not None:
        return parsed.manifest, frozenset()
    if parsed.deployment is not None:
        outcome.note(
            "manifest",
            f"A deploy-only manifest (deployModel {clip(parsed.deployment.deploy_model)}): no "
            "data to check. ValidateRequest looks the model and its training run up when it "
            "runs; bedrock-customize deploy checks a run id before it uploads.",
        )
        return None, frozenset()
    salvaged, dropped = _salvage(job.manifest)
    if salvaged is None:
        outcome.note(
            "manifest",
            "The later steps were not run: job.json names no base model and type they can judge.",
        )
    elif dropped:
        names = [clip(name) for name in sorted(dropped)[:MAX_LISTED]]
        if len(dropped) > MAX_LISTED:
            names.append(f"and {len(dropped) - MAX_LISTED:,} more")
        outcome.note(
            "manifest", f"The later steps judged job.json without its invalid {', '.join(names)}."
        )
    return salvaged, dropped


def _salvage(data: bytes) -> tuple[Manifest | None, frozenset[str]]:
    """The manifest without the fields that fail, so later steps still see the rest."""
    if len(data) > MAX_MANIFEST_BYTES:
        return None, frozenset()
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None, frozenset()
    if not isinstance(raw, dict):
        return None, frozenset()
    dropped: set[str] = set()
    # A field nested too deep is left out unread (parse_manifest said why), as one that fails.
    while (deep := too_deep(raw)) is not None:
        if deep in ("baseModelId", "customizationType"):
            return None, frozenset()
        raw = {k: v for k, v in raw.items() if k != deep}
        dropped.add(str(deep))
    while True:
        try:
            return Manifest.model_validate(raw), frozenset(dropped)
        except ValidationError as error:
            failing = {str(e["loc"][0]) for e in error.errors() if e["loc"]}
            if not failing and "evaluate" in raw:
                failing = {"evaluate"}  # the one rule about the whole manifest is evaluate's
            failing &= set(raw)
            if not failing or failing & {"baseModelId", "customizationType"}:
                return None, frozenset(dropped)
            raw = {k: v for k, v in raw.items() if k not in failing}
            dropped |= failing


def _allowed(manifest: Manifest, rules: Rules | None, outcome: Outcome) -> None:
    if rules is None or rules.allowed_models is None:
        return
    if manifest.base_model_id not in rules.allowed_models:
        outcome.add(
            "settings",
            "error",
            f"{MANIFEST_NAME}: baseModelId",
            "model-not-allowed",
            f"Base model {quote(manifest.base_model_id)} is not allowed in stage {rules.stage}; "
            f"allowed: {', '.join(rules.allowed_models)}. Pick one of those, or add it to "
            f"allowedBaseModels of stage {rules.stage} in cdk.json.",
        )
