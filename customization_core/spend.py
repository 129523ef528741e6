"""What is billed now and who owns it: every Provisioned Throughput and custom model deployment.

``bedrock-customize spend`` and the scheduled sweep (customization_core/orphans.py) read the
same facts from Bedrock: every Provisioned Throughput and custom model deployment of the
account and Region, each with its owner tag (naming.OWNER_TAG, the stack that made it) and
run id tag (naming.RUN_ID_TAG), joined with the registry's live deployments and the
catalog's prices. The custom models themselves: customization_core/custom_models.py; what
each run was billed: customization_core/billed_spend.py.

The clients are passed in; nothing here reads the environment.

Fields relied on, from botocore 1.44.8's service models (released 2026-11-20, read
2026-12-02; botocore/data/bedrock/2023-04-20/service-2.json and paginators-1.json):

- ListProvisionedModelThroughputs (paginated: nextToken, result key
  provisionedModelSummaries): provisionedModelName, provisionedModelArn, modelArn,
  foundationModelArn, modelUnits, status (Creating | InService | Updating | Failed),
  commitmentDuration (OneMonth | SixMonths, absent without commitment), creationTime;
- ListCustomModelDeployments (paginated: nextToken, modelDeploymentSummaries):
  customModelDeploymentArn, customModelDeploymentName, modelArn, createdAt, status
  (Creating | Active | Failed); no model units (on-demand has none);
- ListTagsForResource(resourceARN): tags [{key, value}]; errors include
  AccessDeniedException and ResourceNotFoundException.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal

from customization_core.catalog import Catalog, Commitment
from customization_core.estimate import HOURS_PER_MONTH, money
from customization_core.faults import error_code
from customization_core.naming import OWNER_TAG, RUN_ID_TAG
from customization_core.registry import LIVE, LIVE_ATTRIBUTE

UNKNOWN: Final = "unknown"  # an owner whose tags cannot be read, a price not in the catalog
# Commitment terms as ListProvisionedModelThroughputs names them -> the catalog's keys.
COMMITMENTS: Final[Mapping[str, Commitment]] = {"OneMonth": "1-month", "SixMonths": "6-month"}
NO_COMMITMENT: Final[Commitment] = "none"

Kind = Literal["provisioned", "on-demand"]
# live: a live run of this stack owns it; orphaned: this stack's owner tag, no live run;
# foreign: another owner (or none); unknown: its tags could not be read.
Ownership = Literal["live", "orphaned", "foreign", "unknown"]
ORDER: Final[tuple[Ownership, ...]] = ("orphaned", "unknown", "live", "foreign")  # as listed


def utc_moment(value: Any) -> datetime:
    """A timestamp botocore parsed (or a string, from a stub): aware, in UTC."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def hours_since(since: datetime, now: datetime) -> float:
    """Hours from ``since`` to ``now`` (0 for a clock a little behind Bedrock's)."""
    return round(max(0.0, (now - since).total_seconds() / 3600), 2)


def base_model_id(arn: str | None) -> str | None:
    """``amazon.titan-text-express-v1:0:8k`` of a foundation-model ARN (None: not one)."""
    if not arn or ":foundation-model/" not in arn:
        return None
    return arn.split(":foundation-model/", 1)[1] or None


# Reading Bedrock ---------------------------------------------------------------------


def pages(client: Any, operation: str, key: str) -> list[dict[str, Any]]:
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
            created_at=utc_moment(p["creationTime"]),
            model_arn=str(p["modelArn"]),
            foundation_model_arn=str(p.get("foundationModelArn") or "") or None,
            model_units=int(p["modelUnits"]),
            commitment=p.get("commitmentDuration"),
        )
        for p in pages(bedrock, "list_provisioned_model_throughputs", "provisionedModelSummaries")
    ]
    found += [
        Listed(
            kind="on-demand",
            arn=str(d["customModelDeploymentArn"]),
            name=str(d["customModelDeploymentName"]),
            status=str(d["status"]),
            created_at=utc_moment(d["createdAt"]),
            model_arn=str(d["modelArn"]),
        )
        for d in pages(bedrock, "list_custom_model_deployments", "modelDeploymentSummaries")
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
                age_hours=hours_since(item.created_at, now),
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


def delete_command(kind: Kind, arn: str) -> str:
    """The AWS CLI command that deletes a deployment (an operator's, after a look)."""
    if kind == "provisioned":
        return f"aws bedrock delete-provisioned-model-throughput --provisioned-model-id {arn}"
    return f"aws bedrock delete-custom-model-deployment --custom-model-deployment-identifier {arn}"
