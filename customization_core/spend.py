"""What is billed now and who owns it: deployments, custom models, and billed spend per run.

``bedrock-customize spend`` and the scheduled sweep read the same facts from Bedrock:
every Provisioned Throughput and custom model deployment of the account and Region,
each with its owner tag (naming.OWNER_TAG, the stack that made it) and run id tag
(naming.RUN_ID_TAG), joined with the registry's live deployments and the catalog's
prices. A deployment that carries this stack's owner tag but no live run of this stack
owns is an *orphan*: a run whose registry record was lost, or a crash between a delete
that failed and its record. The sweep counts orphans (the OrphanedDeployments alarm).

The clients are passed in; nothing here reads the environment.

Fields relied on, from botocore 1.44.8's service models (released 2026-11-20, read
2026-12-02; botocore/data/bedrock/2023-04-20/service-2.json and paginators-1.json,
botocore/data/ce/2017-10-25/service-2.json):

- ListProvisionedModelThroughputs (paginated: nextToken, result key
  provisionedModelSummaries): provisionedModelName, provisionedModelArn, modelArn,
  foundationModelArn, modelUnits, status (Creating | InService | Updating | Failed),
  commitmentDuration (OneMonth | SixMonths, absent without commitment), creationTime;
- ListCustomModelDeployments (paginated: nextToken, modelDeploymentSummaries):
  customModelDeploymentArn, customModelDeploymentName, modelArn, createdAt, status
  (Creating | Active | Failed); no model units (on-demand has none);
- ListCustomModels (paginated: nextToken, modelSummaries): modelArn, modelName,
  creationTime, baseModelArn, customizationType, modelStatus; GetCustomModel: baseModelArn;
- ListTagsForResource(resourceARN): tags [{key, value}]; errors include
  AccessDeniedException and ResourceNotFoundException;
- GetCostAndUsage(TimePeriod {Start, End: exclusive, YYYY-MM-DD}, Granularity,
  Metrics, GroupBy [{Type: TAG, Key}], NextPageToken): ResultsByTime[].Groups[] with
  Keys ["<tag key>$<value>"] and Metrics {<metric>: {Amount, Unit}}; costs without the
  tag are the group "<tag key>$" (the GroupBy documentation: "When you group by the TAG
  type and include a valid tag key, you get all tag values, including empty strings").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final, Literal

from customization_core.catalog import Catalog, Commitment, CustomizationType
from customization_core.estimate import HOURS_PER_MONTH, Estimate, money
from customization_core.faults import error_code
from customization_core.naming import OWNER_TAG, RUN_ID_TAG
from customization_core.registry import LIVE, LIVE_ATTRIBUTE

# The sweep's metric: deployments with this stack's owner tag that no live run owns.
# (With the other metric names, customization_core/telemetry.py is its natural home.)
ORPHANED_DEPLOYMENTS: Final = "OrphanedDeployments"
UNKNOWN: Final = "unknown"  # an owner whose tags cannot be read, a price not in the catalog
NEVER: Final = "never"
SERVING: Final = "serving now"
DEFAULT_DAYS: Final = 30  # days of billed spend `spend` asks Cost Explorer for
COST_METRIC: Final = "UnblendedCost"  # what the account is billed, before credits and discounts
# Cost Explorer is a global service served from one endpoint in us-east-1 for the aws
# partition, whatever the caller's Region ("The Cost Explorer API provides the following
# endpoint: https://ce.us-east-1.amazonaws.com",
# https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/ce-api.html, read 2026-12-02);
# botocore 1.44.8's ce endpoint rules resolve every Region of the partition to it, signed
# for us-east-1 (checked: a client made in eu-west-1 calls https://ce.us-east-1.amazonaws.com).
# Each request costs USD 0.01, each page of a paginated answer counting as one ("The AWS
# Cost Explorer API incurs a charge of 0.01 per request",
# https://aws.amazon.com/aws-cost-management/aws-cost-explorer/faqs/, read 2026-12-02).
# How to make the run id tag billable: a user-defined tag is grouped by only once it is
# activated as a cost allocation tag in the Billing and Cost Management console, which only
# a management account or a standalone account can do; activation takes up to 24 hours.
# Sources (read 2026-12-02): https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/custom-tags.html
# and, for the 24 hours, .../aboutv2/activate-built-in-tags.html ("It can take up to 24 hours
# for tags to activate", said there of AWS-generated tags; taken to hold for user-defined ones).
ACTIVATE_TAG: Final = (
    f"activate the tag {RUN_ID_TAG} in the Billing and Cost Management console > Cost "
    "allocation tags > User-defined cost allocation tags (tick it, then Activate; the "
    "management or a standalone account can, and it takes up to 24 hours)"
)
# Commitment terms as ListProvisionedModelThroughputs names them -> the catalog's keys.
COMMITMENTS: Final[Mapping[str, Commitment]] = {"OneMonth": "1-month", "SixMonths": "6-month"}
NO_COMMITMENT: Final[Commitment] = "none"

Kind = Literal["provisioned", "on-demand"]
# live: a live run of this stack owns it; orphaned: this stack's owner tag, no live run;
# foreign: another owner (or none); unknown: its tags could not be read.
Ownership = Literal["live", "orphaned", "foreign", "unknown"]
ORDER: Final[tuple[Ownership, ...]] = ("orphaned", "unknown", "live", "foreign")  # as listed


def _moment(value: Any) -> datetime:
    """A timestamp botocore parsed (or a string, from a stub): aware, in UTC."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _hours(since: datetime, now: datetime) -> float:
    """Hours from ``since`` to ``now`` (0 for a clock a little behind Bedrock's)."""
    return round(max(0.0, (now - since).total_seconds() / 3600), 2)


def base_model_id(arn: str | None) -> str | None:
    """``amazon.titan-text-express-v1:0:8k`` of a foundation-model ARN (None: not one)."""
    if not arn or ":foundation-model/" not in arn:
        return None
    return arn.split(":foundation-model/", 1)[1] or None


# Reading Bedrock ---------------------------------------------------------------------


def _pages(client: Any, operation: str, key: str) -> list[dict[str, Any]]:
    return [
        item for page in client.get_paginator(operation).paginate() for item in page.get(key, [])
    ]


@dataclass(frozen=True)
class Listed:
    """One Provisioned Throughput or custom model deployment, as Bedrock lists it."""

    kind: Kind
    arn: str
    name: str
    status: str
    created_at: datetime
    model_arn: str
    foundation_model_arn: str | None = None  # Provisioned Throughput only
    model_units: int | None = None  # Provisioned Throughput only
    commitment: str | None = None


def list_serving(bedrock: Any) -> list[Listed]:
    """Every Provisioned Throughput and custom model deployment, all pages."""
    found = [
        Listed(
            kind="provisioned",
            arn=str(p["provisionedModelArn"]),
            name=str(p["provisionedModelName"]),
            status=str(p["status"]),
            created_at=_moment(p["creationTime"]),
            model_arn=str(p["modelArn"]),
            foundation_model_arn=str(p.get("foundationModelArn") or "") or None,
            model_units=int(p["modelUnits"]),
            commitment=p.get("commitmentDuration"),
        )
        for p in _pages(bedrock, "list_provisioned_model_throughputs", "provisionedModelSummaries")
    ]
    found += [
        Listed(
            kind="on-demand",
            arn=str(d["customModelDeploymentArn"]),
            name=str(d["customModelDeploymentName"]),
            status=str(d["status"]),
            created_at=_moment(d["createdAt"]),
            model_arn=str(d["modelArn"]),
        )
        for d in _pages(bedrock, "list_custom_model_deployments", "modelDeploymentSummaries")
    ]
    return found


class Gone:
    """The resource was deleted between the list and the tag read."""


GONE: Final = Gone()
DENIED_CODES: Final = ("AccessDeniedException", "AccessDenied")


def read_tags(bedrock: Any, arn: str) -> dict[str, str] | Gone | None:
    """The resource's tags; None when the caller may not read them; GONE when it is gone."""
    try:
        answer = bedrock.list_tags_for_resource(resourceARN=arn)
    except Exception as error:
        code = error_code(error)
        if code in DENIED_CODES:
            return None
        if code == "ResourceNotFoundException":
            return GONE
        raise
    return {str(t["key"]): str(t["value"]) for t in answer.get("tags", [])}


# Who owns what --------------------------------------------------------------------------


def live_owners(items: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """ARN or name -> run id, for the registry's runs with a live deployment.

    ``items``: the live-deployments index (Registry.with_live_deployment), or any runs: only
    those in the index (``deployment_live`` LIVE) count. A run records its deployment's name
    before the create and its ARN after it (deployments.start_deployment).
    """
    owners: dict[str, str] = {}
    for item in items:
        if item.get(LIVE_ATTRIBUTE) != LIVE:
            continue
        deployment = item.get("deployment") or {}
        for key in ("arn", "name"):
            if deployment.get(key):
                owners[str(deployment[key])] = str(item["run_id"])
    return owners


@dataclass(frozen=True)
class Serving:
    """A listed deployment with its owner, its run, the live run owning it, and its price."""

    kind: Kind
    arn: str
    name: str
    status: str
    created_at: datetime
    age_hours: float
    model_arn: str
    base_model_id: str | None
    model_units: int | None
    owner: str | None  # OWNER_TAG's value; None: no owner tag; UNKNOWN: tags unreadable
    run_id: str | None  # RUN_ID_TAG's value
    live_run: str | None  # the run of this stack's registry whose live deployment it is
    ownership: Ownership
    hourly_usd: float | None  # None: no price known; 0.0: on demand (billed per token)

    def to_dict(self) -> dict[str, Any]:
        document = asdict(self)
        document["created_at"] = self.created_at.isoformat(timespec="seconds")
        return document


def ownership(owner: str | None, live_run: str | None, *, stack_name: str) -> Ownership:
    """live when a live run of this stack owns it, whatever its tags say; else by its owner tag."""
    if live_run is not None:
        return "live"
    if owner == UNKNOWN:
        return "unknown"
    return "orphaned" if owner == stack_name else "foreign"


def hourly_price(catalog: Catalog, listed: Listed, base_model: str | None) -> float | None:
    """What the deployment bills by the hour (USD), from the catalog's base-model prices.

    Provisioned Throughput: model units x the base model's price per model unit per hour for
    its commitment term (none: the no-commitment price). On demand: 0.0, it is billed per
    token served and nothing by the hour (customization_core/estimate.py, _deployment).
    """
    if listed.kind == "on-demand":
        return 0.0
    model = catalog.find(base_model) if base_model else None
    prices = model.deployment_prices if model else None
    term = COMMITMENTS.get(str(listed.commitment), NO_COMMITMENT)
    unit = prices.provisioned_hourly_usd.get(term) if prices else None
    if unit is None or listed.model_units is None:
        return None
    return round(listed.model_units * unit, 6)


def describe_serving(
    listed: Iterable[Listed],
    *,
    tags: Mapping[str, dict[str, str] | None],
    live: Mapping[str, str],
    base_models: Mapping[str, str | None],
    catalog: Catalog,
    stack_name: str,
    now: datetime,
) -> list[Serving]:
    """Join what Bedrock lists with its tags (None: unreadable), the live runs and prices.

    ``base_models``: custom model ARN -> its base model's foundation-model ARN (for a
    deployment, whose listing names only the custom model).
    """
    found = []
    for item in listed:
        read = tags.get(item.arn)
        owner = UNKNOWN if read is None else read.get(OWNER_TAG)
        base_arn = item.foundation_model_arn or base_models.get(item.model_arn)
        if base_arn is None and ":foundation-model/" in item.model_arn:
            base_arn = item.model_arn  # Provisioned Throughput of a base model itself
        base = base_model_id(base_arn)
        live_run = live.get(item.arn) or live.get(item.name)
        found.append(
            Serving(
                kind=item.kind,
                arn=item.arn,
                name=item.name,
                status=item.status,
                created_at=item.created_at,
                age_hours=_hours(item.created_at, now),
                model_arn=item.model_arn,
                base_model_id=base,
                model_units=item.model_units,
                owner=owner,
                run_id=None if read is None else read.get(RUN_ID_TAG),
                live_run=live_run,
                ownership=ownership(owner, live_run, stack_name=stack_name),
                hourly_usd=hourly_price(catalog, item, base),
            )
        )
    return sorted(found, key=lambda s: (ORDER.index(s.ownership), s.kind, s.name))


@dataclass(frozen=True)
class Burn:
    """What the listed deployments bill by the hour, as far as prices are known."""

    known_usd: float
    unpriced: tuple[str, ...]  # names of deployments with no price in the catalog
    orphaned_usd: float

    @property
    def monthly_usd(self) -> float:
        return round(self.known_usd * HOURS_PER_MONTH, 2)

    def line(self) -> str:
        text = (
            f"Hourly burn: {money(self.known_usd)} an hour (about {money(self.monthly_usd)} "
            f"a month of {HOURS_PER_MONTH} hours)"
        )
        if self.unpriced:
            text += f", and {len(self.unpriced)} with no price in the catalog: {', '.join(self.unpriced)}"
        if self.orphaned_usd:
            text += f"; {money(self.orphaned_usd)} an hour of it is orphaned"
        return text + "."


def burn(serving: Iterable[Serving]) -> Burn:
    """The total hourly burn of every listed deployment, whatever its owner or status."""
    items = list(serving)
    return Burn(
        known_usd=round(sum(s.hourly_usd or 0.0 for s in items), 6),
        unpriced=tuple(s.name for s in items if s.hourly_usd is None),
        orphaned_usd=round(sum(s.hourly_usd or 0.0 for s in items if s.ownership == "orphaned"), 6),
    )


# The sweep ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Orphan:
    kind: Kind
    arn: str
    name: str
    run_id: str | None
    created_at: str


def find_orphans(
    bedrock: Any,
    live_items: Callable[[], Iterable[Mapping[str, Any]]],
    *,
    stack_name: str,
) -> list[Orphan]:
    """Deployments that carry ``stack_name``'s owner tag and that no live run owns.

    Bedrock is listed first, then the registry is read (``live_items``), then the tags of
    what no live run claims: a run records its deployment in the live-deployments index
    before it creates it, and removes it after the delete, so anything listed before the
    registry was read, and still there after it, is owned or orphaned, not in between. A
    resource deleted meanwhile is gone (ResourceNotFoundException); one whose tags the
    caller may not read is not this stack's (the sweep may read only its own: the owner
    tag condition of its policy, stacks/workflow.py).
    """
    listed = list_serving(bedrock)
    live = live_owners(live_items())
    orphans = []
    for item in listed:
        if item.arn in live or item.name in live:
            continue
        tags = read_tags(bedrock, item.arn)
        if not isinstance(tags, dict) or tags.get(OWNER_TAG) != stack_name:
            continue
        orphans.append(
            Orphan(
                kind=item.kind,
                arn=item.arn,
                name=item.name,
                run_id=tags.get(RUN_ID_TAG),
                created_at=item.created_at.isoformat(timespec="seconds"),
            )
        )
    return orphans


def delete_command(kind: Kind, arn: str) -> str:
    """The AWS CLI command that deletes a deployment (an operator's, after a look)."""
    if kind == "provisioned":
        return f"aws bedrock delete-provisioned-model-throughput --provisioned-model-id {arn}"
    return f"aws bedrock delete-custom-model-deployment --custom-model-deployment-identifier {arn}"


# Custom models ----------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredModel:
    name: str
    arn: str
    created_at: datetime
    age_hours: float
    base_model_id: str | None
    customization_type: str | None
    run_id: str | None  # the run of this stack that trained it
    last_deployment: str  # SERVING, a time, NEVER (a run of this stack made it), or UNKNOWN
    monthly_storage_usd: float | None

    def to_dict(self) -> dict[str, Any]:
        document = asdict(self)
        document["created_at"] = self.created_at.isoformat(timespec="seconds")
        return document


def list_models(bedrock: Any) -> list[dict[str, Any]]:
    """Every custom model of the account and Region (ListCustomModels, all pages)."""
    return _pages(bedrock, "list_custom_models", "modelSummaries")


def storage_price(catalog: Catalog, base: str | None, kind: str | None) -> float | None:
    """The catalog's monthly storage price of a custom model of ``base`` made by ``kind``."""
    model = catalog.find(base) if base else None
    if model is None or kind not in tuple(CustomizationType):
        return None
    custom = model.customizations.get(CustomizationType(str(kind)))
    return custom.monthly_storage_price_usd if custom else None


def _deployed_at(item: Mapping[str, Any]) -> str | None:
    deployment = item.get("deployment") or {}
    for key in ("created_at", "requested_at"):
        if deployment.get(key):
            return str(deployment[key])
    return None


def describe_models(
    models: Iterable[Mapping[str, Any]],
    *,
    runs: Iterable[Mapping[str, Any]],
    serving: Iterable[Serving],
    catalog: Catalog,
    now: datetime,
) -> list[StoredModel]:
    """Each custom model with its age, base, storage price and last deployment.

    ``runs``: every registry item of this stack. The last deployment is "serving now" when a
    listed deployment serves it, else the newest deployment a run of this stack made of it,
    "never" when a run of this stack made or used it but none deployed it, "unknown" when
    this stack's registry does not know the model (another stack's, or made by hand).
    """
    known: dict[str, list[Mapping[str, Any]]] = {}
    for item in runs:
        if item.get("model_arn"):
            known.setdefault(str(item["model_arn"]), []).append(item)
    served = {s.model_arn for s in serving}
    found = []
    for model in models:
        arn = str(model["modelArn"])
        created = _moment(model["creationTime"])
        base = base_model_id(model.get("baseModelArn"))
        kind = model.get("customizationType")
        mine = known.get(arn, [])
        times = sorted(t for t in (_deployed_at(i) for i in mine) if t)
        last = SERVING if arn in served else times[-1] if times else NEVER if mine else UNKNOWN
        trained = [i for i in mine if i.get("trains", True) is not False]
        found.append(
            StoredModel(
                name=str(model["modelName"]),
                arn=arn,
                created_at=created,
                age_hours=_hours(created, now),
                base_model_id=base,
                customization_type=str(kind) if kind else None,
                run_id=str(trained[0]["run_id"]) if trained else None,
                last_deployment=last,
                monthly_storage_usd=storage_price(catalog, base, str(kind) if kind else None),
            )
        )
    return sorted(found, key=lambda m: m.created_at, reverse=True)


# Billed spend per run (Cost Explorer) --------------------------------------------------


@dataclass(frozen=True)
class Billed:
    """Cost Explorer's answer: spend per run id tag value, or why there is none."""

    status: Literal["ok", "not-activated", "denied", "error"]
    start: str
    end: str
    by_run: dict[str, float] = field(default_factory=dict)
    currency: str = "USD"
    message: str | None = None


def billed_by_run(ce: Any, *, days: int, today: date) -> Billed:
    """Spend grouped by the run id tag over the ``days`` full days before ``today`` (UTC).

    ``ce``: a Cost Explorer client (its endpoint is us-east-1's whatever the Region). Denied
    or failing, it says so in ``message``; with no group carrying a value, the tag is not
    activated as a cost allocation tag (or nothing tagged was billed in the window).
    """
    start, end = (today - timedelta(days=days)).isoformat(), today.isoformat()
    request: dict[str, Any] = {
        "TimePeriod": {"Start": start, "End": end},  # End is exclusive
        "Granularity": "MONTHLY",
        "Metrics": [COST_METRIC],
        "GroupBy": [{"Type": "TAG", "Key": RUN_ID_TAG}],
    }
    by_run: dict[str, float] = {}
    currency = "USD"
    try:
        while True:
            page = ce.get_cost_and_usage(**request)
            for period in page.get("ResultsByTime", []):
                for group in period.get("Groups", []):
                    key = str((group.get("Keys") or [""])[0])
                    value = key.split("$", 1)[1] if "$" in key else ""
                    metric = (group.get("Metrics") or {}).get(COST_METRIC) or {}
                    currency = str(metric.get("Unit") or currency)
                    if value:
                        amount = float(metric.get("Amount") or 0)
                        by_run[value] = round(by_run.get(value, 0.0) + amount, 6)
            token = page.get("NextPageToken")
            if not token:
                break
            request["NextPageToken"] = token
    except Exception as error:
        code = error_code(error)
        if not code:
            raise
        status: Literal["denied", "error"] = "denied" if code in DENIED_CODES else "error"
        why = (
            "access denied (ce:GetCostAndUsage, or Cost Explorer is not enabled for the account)"
            if status == "denied"
            else f"{code}: {getattr(error, 'response', {}).get('Error', {}).get('Message', '')}"
        )
        return Billed(
            status,
            start,
            end,
            message=f"Billed spend per run is not shown: Cost Explorer {why}.",
        )
    if not by_run:
        return Billed(
            "not-activated",
            start,
            end,
            currency=currency,
            message=(
                f"Billed spend per run is not shown: no spend from {start} to {end} carries "
                f"the tag {RUN_ID_TAG}. To see it, {ACTIVATE_TAG}."
            ),
        )
    return Billed("ok", start, end, by_run, currency)


@dataclass(frozen=True)
class RunSpend:
    run_id: str
    billed_usd: float | None
    estimate_usd: float | None  # the run's estimated total (None: a price was unknown)
    estimate_known_usd: float | None  # what the priced parts of the estimate add up to
    in_registry: bool


def join_spend(billed: Billed, runs: Iterable[Mapping[str, Any]]) -> list[RunSpend]:
    """Billed spend next to each run's estimate (registry ``estimate``, else ``cost_usd``).

    Runs of this registry with an estimate are listed even when nothing is billed for them
    yet; run ids Cost Explorer knows that this registry does not (another stack's runs
    share the tag key) are listed with ``in_registry`` False.
    """
    items = {str(i["run_id"]): i for i in runs}
    rows = []
    for run_id in sorted(set(billed.by_run) | {r for r, i in items.items() if _has_estimate(i)}):
        item = items.get(run_id)
        total, known = _estimate_of(item) if item is not None else (None, None)
        rows.append(
            RunSpend(
                run_id=run_id,
                billed_usd=billed.by_run.get(run_id, 0.0 if billed.status == "ok" else None),
                estimate_usd=total,
                estimate_known_usd=known,
                in_registry=item is not None,
            )
        )
    return rows


def _has_estimate(item: Mapping[str, Any]) -> bool:
    return bool(item.get("estimate")) or item.get("cost_usd") is not None


def _estimate_of(item: Mapping[str, Any]) -> tuple[float | None, float | None]:
    if item.get("estimate"):
        estimate = Estimate.from_dict(item["estimate"])
        return estimate.total_usd, estimate.known_usd
    cost = item.get("cost_usd")
    return (float(cost), float(cost)) if cost is not None else (None, None)
