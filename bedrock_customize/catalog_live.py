"""What one account's Bedrock and the AWS Price List say today, read for `catalog --check`.

The clients are parameters (tests hand in Stubber-backed ones); ``clients`` is the one
place that makes real ones, and the seam tests replace. Every AWS fault leaves as a
``LiveReadError`` naming the action, which the command turns into one sentence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final

import click

from customization_core.catalog import Catalog
from customization_core.catalog_check import API_TYPES, LiveModel, Snapshot
from customization_core.faults import error_code
from customization_core.live import NOT_FOUND as LIVE_NOT_FOUND
from customization_core.price_list import LivePrice
from customization_core.price_list import parse_price_item as parse_price

# The Price List Query API answers at api.pricing.us-east-1 and api.pricing.ap-south-1
# (AWS Price List API reference, "Service Endpoint"; botocore 1.44 also lists
# eu-central-1), and any endpoint gives every Region's prices: one endpoint serves all.
PRICE_LIST_REGION: Final = "us-east-1"
PRICE_LIST_SERVICE: Final = "AmazonBedrock"
# The usagetype parts that fetch every product pricing a custom model, one paginated
# GetProducts query each (see customization_core/price_list.py for what is assumed):
# "ustom" is in …-Customization-Training and -Storage, …-input-tokens-custom-model and
# …-ProvisionedThroughput-Custom-NoCommit-…, whether or not CONTAINS is case-sensitive (the
# API reference does not say); "ProvisionedThroughput" adds the base models' terms
# (…-ProvisionedThroughput-1month-ModelUnits), whose price a custom model pays.
# CONTAINS: "the field value contains the provided value as a substring" (API_pricing_Filter).
PRICE_USAGES: Final = ("ustom", "ProvisionedThroughput")
NOT_FOUND: Final = LIVE_NOT_FOUND  # what GetFoundationModel answers for a model it does not know


class LiveReadError(Exception):
    """An AWS call failed: ``action`` is the IAM action, ``cause`` the botocore error."""

    def __init__(self, action: str, cause: BaseException) -> None:
        super().__init__(f"{action}: {cause}")
        self.action = action
        self.cause = cause


@dataclass(frozen=True)
class Clients:
    """A bedrock client in the Region checked, a pricing client at the Price List endpoint."""

    bedrock: Any
    pricing: Any
    region: str | None  # None: neither --region nor the profile names one


def clients(region: str | None, profile: str | None) -> Clients:
    """Real clients from the environment's (or ``profile``'s) credentials."""
    import boto3  # only --check pays for the import
    from botocore.exceptions import BotoCoreError

    try:
        session = boto3.Session(region_name=region, profile_name=profile)
    except BotoCoreError as error:  # ProfileNotFound
        raise LiveReadError("boto3.Session", error) from None
    where = region or session.region_name
    try:
        bedrock = session.client("bedrock", region_name=where) if where else None
    except BotoCoreError as error:  # InvalidRegionError: "us east 1"
        raise click.BadParameter(str(error), param_hint="--region") from None
    pricing = session.client("pricing", region_name=PRICE_LIST_REGION)
    return Clients(bedrock, pricing, where)


def read_snapshot(bedrock: Any, pricing: Any, catalog: Catalog, region: str) -> Snapshot:
    """Bedrock's listings and model details in ``region``, and the Price List's prices there."""
    listed = {
        api_type: frozenset(
            str(summary["modelId"])
            for summary in _call(
                "bedrock:ListFoundationModels",
                bedrock.list_foundation_models,
                byCustomizationType=api_type,
            ).get("modelSummaries", [])
        )
        for api_type in API_TYPES
    }
    models: dict[str, LiveModel] = {}
    missing: set[str] = set()
    for model in catalog.models:
        if not any(region in c.regions for c in model.customizations.values()):
            continue
        for model_id in model.model_ids:
            answer = _call(
                "bedrock:GetFoundationModel",
                bedrock.get_foundation_model,
                found=False,
                modelIdentifier=model_id,
            )
            if answer is None:
                missing.add(model_id)
            else:
                models[model_id] = live_model(model_id, answer.get("modelDetails") or {})
    return Snapshot(listed, models, frozenset(missing), read_prices(pricing, region))


def live_model(model_id: str, details: dict[str, Any]) -> LiveModel:
    """GetFoundationModel's ``modelDetails`` as the comparison reads them."""
    lifecycle = details.get("modelLifecycle") or {}
    return LiveModel(
        model_id=model_id,
        customizations=frozenset(details.get("customizationsSupported") or ()),
        status=lifecycle.get("status"),
        legacy_date=_day(lifecycle.get("legacyTime")),
        end_of_life_date=_day(lifecycle.get("endOfLifeTime")),
        start_of_life_date=_day(lifecycle.get("startOfLifeTime")),
        public_extended_access_date=_day(lifecycle.get("publicExtendedAccessTime")),
        inference_types=frozenset(details.get("inferenceTypesSupported") or ()),
    )


def read_prices(pricing: Any, region: str) -> tuple[LivePrice, ...]:
    """The Price List's custom-model prices for ``region``: customization and deployment.

    A product two queries return is read once.
    """
    prices = (
        parse_price(item) for usage in PRICE_USAGES for item in _products(pricing, region, usage)
    )
    return tuple(dict.fromkeys(price for price in prices if price is not None))


def _products(pricing: Any, region: str, usage: str) -> Iterator[str]:
    """Every page's products whose usagetype contains ``usage``, in ``region``."""
    pages = pricing.get_paginator("get_products").paginate(
        ServiceCode=PRICE_LIST_SERVICE,
        FormatVersion="aws_v1",
        Filters=[
            {"Type": "TERM_MATCH", "Field": "regionCode", "Value": region},
            {"Type": "CONTAINS", "Field": "usagetype", "Value": usage},
        ],
    )
    try:
        for page in pages:
            yield from page.get("PriceList", [])
    except Exception as error:
        raise _wrapped("pricing:GetProducts", error) from None


def _call(
    action: str, operation: Callable[..., Any], *, found: bool = True, **arguments: str
) -> Any:
    """The operation's answer; None when ``found`` is False and AWS does not know the id."""
    try:
        return operation(**arguments)
    except Exception as error:
        code = _code(error)
        if not found and code in NOT_FOUND:
            return None
        raise _wrapped(action, error) from None


def _wrapped(action: str, error: Exception) -> Exception:
    """A LiveReadError for botocore's faults; anything else is a bug and stays itself."""
    if type(error).__module__.startswith("botocore") or hasattr(error, "response"):
        return LiveReadError(action, error)
    return error


_code = error_code  # one reading of a botocore error's code (customization_core/faults.py)


def _day(value: Any) -> date | None:
    """A lifecycle timestamp as its UTC day (boto3 gives datetimes; JSON fixtures give text)."""
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value).date()
    if isinstance(value, str) and value:
        return _day(datetime.fromisoformat(value.replace("Z", "+00:00")))
    return None
