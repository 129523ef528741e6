"""A job folder judged as the pipeline will judge it, with every problem found at once.

The steps are ValidateRequest's, ValidateDataset's and EstimateCost's
(customization_core/steps.py), called through the same core functions. Where
the pipeline stops at the first refusal, this goes on: a manifest with a bad
field is judged again without it, so that the request, the data and the cost
are checked too and one run of ``check`` lists what a dozen uploads would.

Pure orchestration: the catalog, the stage's rules and a Bedrock client are
parameters; nothing here reads cdk.json or makes a client (check_cmd.py does).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final, Literal

import orjson
from pydantic import ValidationError

from bedrock_customize.stack import describe
from customization_core.bounded import MAX_LISTED, clip, quote, too_deep
from customization_core.catalog import Catalog
from customization_core.deployments import deploy_problem
from customization_core.estimate import approval_reasons, budget_problem, estimate_of
from customization_core.faults import BedrockThrottledError, BedrockUnavailableError, error_code
from customization_core.layout import MANIFEST_NAME, job_prefix
from customization_core.live import DENIED as LIVE_DENIED
from customization_core.live import LiveAnswer, ModelCheckDeniedError, check_live
from customization_core.manifest import (
    DEFAULT_VALIDATION_KEY,
    MAX_MANIFEST_BYTES,
    Manifest,
    data_keys,
    key_problem,
    parse_manifest,
    requested_hyperparameters,
)
from customization_core.media import LocalMediaResolver
from customization_core.request import CheckedRequest, check_request
from customization_core.validator import validate_dataset

Step = Literal["names", "manifest", "settings", "request", "deploy", "live", "data", "cost"]
Severity = Literal["error", "warning"]
Verdict = Literal["accept", "approval", "reject"]

# The pipeline's order (README, The workflow), each with the heading the output gives it.
STEPS: Final[tuple[tuple[Step, str], ...]] = (
    ("names", "Job folder and data keys (Bedrock's S3 URI rule)"),
    ("manifest", "The manifest (job.json)"),
    ("settings", "The stage's settings (cdk.json)"),
    ("request", "The request against the catalog"),
    ("deploy", "The deploy block"),
    ("live", "The live model check (Bedrock)"),
    ("data", "The data"),
    ("cost", "The cost"),
)
VERDICTS: Final[dict[Verdict, str]] = {
    "accept": "The pipeline would accept this run.",
    "approval": "The pipeline would hold it for approval: a person approves it before training.",
    "reject": "The pipeline would REJECT it.",
}
# Who may not ask Bedrock about models: the caller's role, or credentials AWS refuses.
DENIED_CODES: Final = frozenset(
    {
        *LIVE_DENIED,  # what the pipeline treats as its role's missing permission
        "AccessDenied",
        "UnauthorizedOperation",
        "ExpiredToken",
        "ExpiredTokenException",
        "RequestExpired",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
    }
)
NO_CREDENTIALS: Final = ("NoCredentialsError", "PartialCredentialsError")


@dataclass(frozen=True)
class Problem:
    """One reason the pipeline would refuse (error) or remark on (warning) the run."""

    step: Step
    severity: Severity
    where: str
    code: str
    message: str
    field: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "severity": self.severity,
            "where": self.where,
            "code": self.code,
            "field": self.field,
            "message": self.message,
        }


@dataclass(frozen=True)
class Note:
    """What was judged how (a skipped live check, the cost): not a problem, but said."""

    step: Step
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step, "message": self.message}


@dataclass(frozen=True)
class Rules:
    """The stage's settings the pipeline judges a run by (its PipelineConfig's share)."""

    stage: str
    allowed_models: tuple[str, ...] | None = None
    default_hyperparameters: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    approval_threshold_usd: float | None = None
    max_deployment_ttl_hours: float = 72
    max_unapproved_model_units: int = 1
    training_prices_usd: Mapping[str, float] = field(default_factory=dict)
    unknown_models: str = "reject"  # the stage's unknownModels: "reject" or "warn"

    @property
    def unknown_ok(self) -> bool:
        return self.unknown_models == "warn"


@dataclass(frozen=True)
class Live:
    """How to ask Bedrock: a client in ``region``, or why there is none (``skipped``).

    ``explicit``: the user named the Region or stack, so a denied check stops
    ``check`` (LiveDeniedError) instead of falling back to the catalog.
    """

    bedrock: Any | None
    region: str | None
    skipped: str | None = None
    explicit: bool = False


class LiveDeniedError(Exception):
    """AWS refused the live check the user asked for; the message says why and what to do."""


@dataclass(frozen=True)
class Job:
    """A job folder: its name under jobs/, job.json's bytes, and where each data key is locally."""

    name: str
    manifest: bytes | None  # None: there is no job.json
    locate: Callable[[str], Path | None]  # a key under the folder -> its local file (None: none)


@dataclass
class Outcome:
    """Every problem, what was noted, and whether the run would wait for a person."""

    folder: str
    problems: list[Problem] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    needs_approval: bool = False
    cost: dict[str, Any] | None = None
    # The whole run's estimate in parts (customization_core/estimate.py), as EstimateCost has it.
    estimate: dict[str, Any] | None = None
    report: dict[str, Any] | None = None
    live_region: str | None = None  # the Region Bedrock answered for (None: no live check)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def verdict(self) -> Verdict:
        if self.errors:
            return "reject"
        return "approval" if self.needs_approval else "accept"

    def add(
        self,
        step: Step,
        severity: Severity,
        where: str,
        code: str,
        message: str,
        field: str | None = None,
    ) -> None:
        self.problems.append(Problem(step, severity, where, code, message, field))

    def note(self, step: Step, message: str) -> None:
        self.notes.append(Note(step, message))

    def to_dict(self) -> dict[str, Any]:
        return {
            "folder": self.folder,
            "verdict": self.verdict,
            "message": VERDICTS[self.verdict],
            "error_count": len(self.errors),
            "warning_count": len(self.warnings),
            "problems": [p.to_dict() for p in self.problems],
            "notes": [n.to_dict() for n in self.notes],
            "needs_approval": self.needs_approval,
            "cost": self.cost,
            "estimate": self.estimate,
            "live_region": self.live_region,
            "report": self.report,
        }


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
    answer = _ask_bedrock(live, manifest, catalog, now, outcome, unknown_ok=unknown_ok)
    # As the pipeline: the stage's defaults under the manifest's own values.
    hyperparameters = requested_hyperparameters(
        manifest, rules.default_hyperparameters if rules else {}
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
        outcome.add("request", _severity(finding.severity), where, finding.code, finding.message)
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
        _data(
            job,
            folder,
            manifest,
            checked,
            price,
            media_root,
            catalog,
            outcome,
            unknown_ok=unknown_ok,
        )
    _cost(manifest, rules, catalog, outcome)
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


def _ask_bedrock(
    live: Live,
    manifest: Manifest,
    catalog: Catalog,
    now: datetime,
    outcome: Outcome,
    *,
    unknown_ok: bool = False,
) -> LiveAnswer | None:
    """Bedrock's answer, or None (and a note saying how the Region was judged instead)."""
    fallback = (
        f"judged by the catalog's Regions ({catalog.catalog_date.isoformat()})"
        if live.region
        else "the Region was not judged (pass --region or --stack, or set one in the profile)"
    )
    if live.bedrock is None or live.region is None:
        why = live.skipped or ("no AWS Region" if live.region is None else "no Bedrock client")
        outcome.note("live", f"live check skipped: {why}; {fallback}.")
        return None
    if catalog.find(manifest.base_model_id) is None and not unknown_ok:
        outcome.note(
            "live", "live check skipped: the catalog does not know the model (see the request)."
        )
        return None
    try:
        answer = check_live(
            live.bedrock,
            manifest.base_model_id,
            manifest.customization_type,
            region=live.region,
            catalog=catalog,
            now=now,
        )
    except (BedrockThrottledError, BedrockUnavailableError) as fault:
        outcome.note("live", f"live check skipped: Bedrock did not answer ({fault}); {fallback}.")
        return None
    except ModelCheckDeniedError as denied:
        _denied(
            live,
            describe(denied.__cause__ or denied, "bedrock:GetFoundationModel"),
            fallback,
            outcome,
        )
        return None
    except Exception as error:
        if type(error).__name__ in NO_CREDENTIALS:
            outcome.note("live", f"live check skipped: no AWS credentials; {fallback}.")
            return None
        if not (type(error).__module__.startswith("botocore") or hasattr(error, "response")):
            raise
        sentence = describe(error, "bedrock:GetFoundationModel")
        if error_code(error) in DENIED_CODES:
            _denied(live, sentence, fallback, outcome)
        else:
            outcome.note("live", f"live check skipped: {sentence}; {fallback}.")
        return None
    outcome.live_region = live.region
    outcome.note(
        "live", f"Bedrock in {live.region} was asked about {clip(manifest.base_model_id)}."
    )
    for finding in answer.findings:
        outcome.add(
            "live",
            _severity(finding.severity),
            f"Bedrock in {live.region}",
            finding.code,
            finding.message,
            finding.field,
        )
    return answer


def _severity(value: str) -> Severity:
    return "error" if value == "error" else "warning"


def _denied(live: Live, sentence: str, fallback: str, outcome: Outcome) -> None:
    if live.explicit:
        raise LiveDeniedError(sentence)
    outcome.note("live", f"live check skipped: {sentence}; {fallback}.")


def _is_file(path: Path) -> bool:
    """Whether ``path`` is a file; False too when the system cannot look (a name over 255 bytes)."""
    try:
        return path.is_file()
    except OSError:  # ENAMETOOLONG: the manifest names a key no local file can have
        return False


def _prepared_hint(training: Path | None) -> str:
    """A folder whose records `prepare` writes (examples/image-captions): say how."""
    spec = training.parent / "prepare.json" if training else None
    if spec is None or not _is_file(spec):
        return ""
    return (
        f" This folder's records are written by `bedrock-customize prepare` with the "
        f"arguments in {spec} (they name media by their S3 URI): `make demo` runs it."
    )


def _data(
    job: Job,
    folder: str,
    manifest: Manifest,
    checked: CheckedRequest,
    price: float | None,
    media_root: Path | None,
    catalog: Catalog,
    outcome: Outcome,
    *,
    unknown_ok: bool = False,
) -> None:
    """ValidateDataset: the pinned files through the validator, with the request's hyperparameters."""
    training_key, validation_key = data_keys(folder, manifest)
    training = job.locate(manifest.training_data)
    if training is None or not _is_file(training):
        outcome.add(
            "data",
            "error",
            training_key,
            "training-file-missing",
            f"The training file {training_key} does not exist"
            + (f": put it at {training}." if training else "; upload it before job.json.")
            + _prepared_hint(training),
        )
        training = None
    validation = job.locate(manifest.validation_data or DEFAULT_VALIDATION_KEY)
    if validation is not None and not _is_file(validation):
        validation = None
    if validation is None and manifest.validation_data is not None:
        outcome.add(
            "data",
            "error",
            validation_key,
            "validation-file-missing",
            f"The validation file {validation_key} named by the manifest does not exist; "
            "add it, or remove validationData from job.json.",
        )
    if training is None:
        return
    if checked.model is None or checked.customization is None:
        outcome.note(
            "data", "The data was not checked: the request names no model and type to check it for."
        )
        return
    with ExitStack() as files:
        report = validate_dataset(
            files.enter_context(training.open("rb")),
            model_id=manifest.base_model_id,
            customization_type=manifest.customization_type,
            hyperparameters=checked.hyperparameters,
            validation=files.enter_context(validation.open("rb")) if validation else None,
            catalog=catalog,
            price_per_1k_tokens_usd=price,
            dataset_bucket=None,
            media=LocalMediaResolver(media_root) if media_root else None,
            unknown_ok=unknown_ok,
        )
    document = report.document
    outcome.report = document
    outcome.cost = document["cost"]
    kinds: tuple[tuple[Severity, str], ...] = (("error", "errors"), ("warning", "warnings"))
    for severity, kind in kinds:
        shown = [f for f in document[kind] if f["file"] != "request"]  # the request step said those
        for finding in shown:
            where = (
                finding["file"]
                if finding["line"] is None
                else f"{finding['file']}:{finding['line']}"
            )
            outcome.add(
                "data", severity, where, finding["code"], finding["message"], finding["field"]
            )
        more = document[f"{severity}_count"] - len(document[kind])
        if more > 0:
            outcome.note(
                "data", f"{more:,} more data {kind} than shown (the report keeps the first)."
            )


def _cost(manifest: Manifest, rules: Rules | None, catalog: Catalog, outcome: Outcome) -> None:
    """EstimateCost: the same estimate, budget and gates as the pipeline (customization_core/estimate.py)."""
    if outcome.report is None:
        outcome.note("cost", "The cost was not estimated: the data was not checked.")
        return
    document = outcome.report
    records = int(document.get("records") or 0)
    tokens = int((document.get("tokens") or {}).get("total") or 0)
    deploy = manifest.deploy.model_dump(mode="json", by_alias=True)
    evaluate = (
        manifest.evaluate.model_dump(mode="json", by_alias=True) if manifest.evaluate else None
    )
    estimate = estimate_of(
        catalog,
        model_id=manifest.base_model_id,
        kind=manifest.customization_type.value,
        training_cost=outcome.cost,
        deploy=deploy,
        evaluate=evaluate,
        request_tokens=math.ceil(tokens / records) if records and tokens else None,
    )
    outcome.estimate = estimate.to_dict()
    for line in estimate.lines():
        outcome.note("cost", line)
    over = budget_problem(estimate, manifest.budget_usd)
    if over:
        outcome.add(
            "cost",
            "error",
            f"{MANIFEST_NAME}: budgetUsd",
            "over-budget",
            f"{over}; raise budgetUsd, or spend less (less data, fewer epochs, fewer model "
            "units, a shorter deploy.ttlHours).",
        )
    reasons = approval_reasons(
        estimate,
        deploy,
        threshold_usd=rules.approval_threshold_usd if rules else None,
        max_unapproved_units=rules.max_unapproved_model_units if rules else 1,
        budget_usd=manifest.budget_usd,
    )
    outcome.needs_approval = bool(reasons)
    if reasons:
        stage = f" of stage {rules.stage}" if rules else ""
        outcome.note(
            "cost",
            f"It would wait for approval{stage}: {'; '.join(reasons)}. Someone other than the "
            "submitter approves it with bedrock-customize approve RUN_ID.",
        )


def by_step(outcome: Outcome) -> list[tuple[Step, str, list[Problem], list[Note]]]:
    """The problems and notes of each step that has any, in the pipeline's order."""
    grouped = []
    for step, title in STEPS:
        problems = [p for p in outcome.problems if p.step == step]
        notes = [n for n in outcome.notes if n.step == step]
        if problems or notes:
            grouped.append((step, title, problems, notes))
    return grouped


def verdict_line(outcome: Outcome) -> str:
    counts = f"{len(outcome.errors)} error(s), {len(outcome.warnings)} warning(s)"
    return f"{VERDICTS[outcome.verdict]} ({counts})"


def render_text(outcome: Outcome) -> list[str]:
    """The outcome for a person: each step's problems and notes, then the verdict."""
    lines = [f"Checked {outcome.folder} as the pipeline would:"]
    for _step, title, problems, notes in by_step(outcome):
        lines.append(f"{title}:")
        for p in problems:
            field_part = f" [{p.field}]" if p.field else ""
            lines.append(f"  {p.severity.upper():7} {p.where}: {p.code}{field_part}: {p.message}")
        lines.extend(f"  note    {n.message}" for n in notes)
    lines.append(verdict_line(outcome))
    return lines
