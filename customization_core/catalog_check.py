"""The catalog against one account's Bedrock and the AWS Price List: every difference, as data.

The catalog is a file read from AWS's pages on a day; Bedrock and the Price List are
what holds today. This module compares the two without calling AWS: the CLI reads a
``Snapshot`` (bedrock_customize/catalog_live.py) and hands it here.

What the snapshot holds, and where it comes from:

- ``listed``: ListFoundationModels(byCustomizationType=T) in the Region, for
  FINE_TUNING, CONTINUED_PRE_TRAINING and DISTILLATION (the API's ModelCustomization
  enum, botocore 1.44 ``bedrock/2023-04-20/service-2.json``);
- ``models``: GetFoundationModel for each catalog id customizable in the Region:
  ``customizationsSupported``, ``modelLifecycle`` (status ACTIVE or LEGACY, legacyTime,
  endOfLifeTime, startOfLifeTime, publicExtendedAccessTime) and ``inferenceTypesSupported``
  (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_GetFoundationModel.html);
- ``prices``: the Price List's products for the Region that price a custom model:
  training and storage, Provisioned Throughput by commitment term, on-demand custom-model
  inference (see ``parse_price_item`` for what is assumed of their attributes).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Final, Literal, get_args

from customization_core.catalog import Catalog, Commitment, CustomizationType, Model

# The API's customization types; DISTILLATION is listed and reported but never run here.
API_TYPES: Final = ("FINE_TUNING", "CONTINUED_PRE_TRAINING", "DISTILLATION")
NOT_RUN: Final = frozenset({"DISTILLATION"})
# A context-length variant (":128k", ":4k") is the id customized; the id without it names
# the same model, and either may be the one an API lists.
_CONTEXT_SUFFIX: Final = re.compile(r":[0-9]+k$")

DifferenceKind = Literal["gained", "lost", "region", "type", "lifecycle", "price"]
# What a price is for: customizing (training, storage) or serving the custom model
# (Provisioned Throughput per model unit and hour, on-demand inference per token).
Charge = Literal["training", "storage", "provisioned", "on-demand-input", "on-demand-output"]
COMMITMENTS: Final[tuple[Commitment, ...]] = get_args(Commitment)
# Records a difference under a key; the first reason given for a key stands.
Add = Callable[[tuple[str, ...], "Difference"], None]


@dataclass(frozen=True)
class LiveModel:
    """What GetFoundationModel says of one model id in the Region (dates in UTC)."""

    model_id: str
    customizations: frozenset[str] = frozenset()
    status: str | None = None  # ACTIVE or LEGACY
    legacy_date: date | None = None
    end_of_life_date: date | None = None
    start_of_life_date: date | None = None
    public_extended_access_date: date | None = None
    inference_types: frozenset[str] = frozenset()


@dataclass(frozen=True)
class LivePrice:
    """One Price List price for customizing a model, or serving its custom model, in the Region.

    ``names`` are what the product calls its model, best first (its ``model`` attribute,
    then the model part of its usagetype); the catalog model is found from them.
    ``usd`` is per 1,000 tokens (training, on-demand input and output), per custom model
    and month (storage) or per model unit and hour (provisioned, for ``commitment``);
    None when the product's unit, or a provisioned product's term, was not understood.
    ``base_model``: a base model's Provisioned Throughput product, which prices its custom
    models too where the Price List has no custom-model product for the term.
    """

    names: tuple[str, ...]
    charge: Charge
    usd: float | None
    unit: str
    usagetype: str
    commitment: Commitment | None = None  # provisioned only
    base_model: bool = False


@dataclass(frozen=True)
class Snapshot:
    """What the account's Bedrock and the Price List said, for one Region."""

    # API customizationType -> the model ids ListFoundationModels returned for it.
    listed: Mapping[str, frozenset[str]]
    # model id -> GetFoundationModel's answer, for the catalog ids looked up.
    models: Mapping[str, LiveModel] = field(default_factory=dict)
    # Catalog ids GetFoundationModel did not know in the Region.
    missing: frozenset[str] = frozenset()
    # None: the Price List was not read.
    prices: tuple[LivePrice, ...] | None = None


@dataclass(frozen=True)
class Difference:
    """One way the catalog and the account disagree; ``message`` says it in one sentence."""

    kind: DifferenceKind
    model_id: str
    name: str | None
    customization: str | None  # the API's customizationType, when the difference has one
    catalog: str | None
    live: str | None
    message: str


@dataclass(frozen=True)
class Check:
    """The differences (each one means the catalog needs a look) and notes (no action needed)."""

    region: str
    differences: tuple[Difference, ...]
    notes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "differences": [asdict(d) for d in self.differences],
            "notes": list(self.notes),
        }


def compare(
    catalog: Catalog, snapshot: Snapshot, region: str, *, today: date | None = None
) -> list[Difference]:
    """Every difference between ``catalog`` and ``snapshot`` in ``region``."""
    return list(check(catalog, snapshot, region, today=today or date.today()).differences)


def check(catalog: Catalog, snapshot: Snapshot, region: str, *, today: date) -> Check:
    """The differences and the notes for ``region`` on ``today``."""
    found: dict[tuple[str, ...], Difference] = {}
    notes: list[str] = []

    def add(key: tuple[str, ...], difference: Difference) -> None:
        found.setdefault(key, difference)  # the first reason given for a key stands

    _unknown_ids(catalog, snapshot, region, add, notes)
    for model in catalog.models:
        _types(model, snapshot, region, today, add, notes)
        if _customizable(model, region):
            _lifecycle(model, snapshot, region, today, add)
    if snapshot.prices is None:
        notes.append("The Price List was not read: prices were not compared.")
    else:
        _prices(catalog, snapshot.prices, region, add, notes)
    return Check(region, tuple(found.values()), tuple(notes))


def base_id(model_id: str) -> str:
    """``model_id`` without its context-length suffix."""
    return _CONTEXT_SUFFIX.sub("", model_id)


def _customizable(model: Model, region: str) -> bool:
    return any(region in c.regions for c in model.customizations.values())


def _bases(model: Model) -> set[str]:
    return {base_id(i) for i in model.model_ids}


def _listed(model: Model, snapshot: Snapshot, api_type: str) -> list[str]:
    """The ids ListFoundationModels gave for ``api_type`` that name ``model``."""
    bases = _bases(model)
    return sorted(i for i in snapshot.listed.get(api_type, ()) if base_id(i) in bases)


def _detail(model: Model, snapshot: Snapshot) -> LiveModel | None:
    """GetFoundationModel's answer for the model: for the id it says is customizable, if any."""
    answers = [snapshot.models[i] for i in model.model_ids if i in snapshot.models]
    return next((a for a in answers if a.customizations), answers[0] if answers else None)


def customized_id(model: Model) -> str:
    """The id a customization job names: the context-length variant where the catalog has one."""
    return next((i for i in model.model_ids if _CONTEXT_SUFFIX.search(i)), model.primary_id)


def _unknown_ids(
    catalog: Catalog, snapshot: Snapshot, region: str, add: Add, notes: list[str]
) -> None:
    known = {base_id(i) for i in catalog.all_ids()}
    unsupported = {base_id(i): m for m in catalog.unsupported for i in m.model_ids}
    offered: dict[str, list[str]] = {}
    for api_type in API_TYPES:
        for model_id in snapshot.listed.get(api_type, ()):
            offered.setdefault(model_id, []).append(api_type)
    for model_id, types in sorted(offered.items()):
        base = base_id(model_id)
        if base in known:
            continue
        if base in unsupported:
            skipped = unsupported[base]
            notes.append(
                f"{skipped.name} ({model_id}) can be customized in {region}; this product "
                f"does not run it: {skipped.reason}."
            )
            continue
        run = [t for t in types if t not in NOT_RUN]
        if not run:
            notes.append(
                f"{model_id} offers {', '.join(types)} in {region}, which this product does not run."
            )
            continue
        add(
            ("gained", model_id),
            Difference(
                "gained",
                model_id,
                None,
                ", ".join(run),
                None,
                ", ".join(run),
                f"Bedrock in {region} offers {', '.join(run)} for {model_id}, a model the "
                "catalog does not know.",
            ),
        )


def _types(
    model: Model, snapshot: Snapshot, region: str, today: date, add: Add, notes: list[str]
) -> None:
    detail = _detail(model, snapshot)
    ended = model.lifecycle is not None and model.lifecycle.ended(today)
    for api_type in API_TYPES:
        listed = _listed(model, snapshot, api_type)
        live = bool(listed) or (detail is not None and api_type in detail.customizations)
        if api_type in NOT_RUN:
            if live:
                notes.append(
                    f"{model.name} offers {api_type} in {region}, which this product does not run."
                )
            continue
        kind = CustomizationType(api_type)
        custom = model.customizations.get(kind)
        in_catalog = custom is not None and region in custom.regions
        key = (model.primary_id, api_type)
        if in_catalog and not live:
            if ended:
                notes.append(
                    f"{model.name} is past its end of life and Bedrock in {region} no longer "
                    f"offers {api_type} for it, as the catalog expects."
                )
                continue
            unknown = all(i in snapshot.missing for i in model.model_ids)
            also = "; GetFoundationModel does not know it there either" if unknown else ""
            add(
                ("types", *key),
                Difference(
                    "lost",
                    customized_id(model),
                    model.name,
                    api_type,
                    f"customizable in {region}",
                    "not listed",
                    f"The catalog says {model.name} runs {api_type} in {region}; Bedrock there "
                    f"does not list it{also}.",
                ),
            )
        elif live and not in_catalog:
            shown = listed[0] if listed else customized_id(model)
            if custom is not None:
                add(
                    ("types", *key),
                    Difference(
                        "region",
                        shown,
                        model.name,
                        api_type,
                        ", ".join(custom.regions),
                        region,
                        f"Bedrock in {region} offers {api_type} for {model.name}; the catalog "
                        f"lists it in {', '.join(custom.regions)} only.",
                    ),
                )
            else:
                add(
                    ("types", *key),
                    Difference(
                        "type",
                        shown,
                        model.name,
                        api_type,
                        ", ".join(t.value for t in model.customizations) or None,
                        api_type,
                        f"Bedrock in {region} offers {api_type} for {model.name}, a type the "
                        "catalog does not have for it.",
                    ),
                )


def _catalog_status(model: Model, today: date) -> str:
    lifecycle = model.lifecycle
    if lifecycle is None:
        return "active"
    if lifecycle.ended(today):
        return "end-of-life"
    return "legacy" if lifecycle.legacy(today) else "active"


def _lifecycle(model: Model, snapshot: Snapshot, region: str, today: date, add: Add) -> None:
    detail = _detail(model, snapshot)
    if detail is None or detail.status is None:
        return
    status = _catalog_status(model, today)
    lifecycle = model.lifecycle
    name, model_id = model.name, detail.model_id

    def differ(what: str, catalog: str | None, live: str | None, message: str) -> None:
        add(
            ("lifecycle", model.primary_id, what),
            Difference("lifecycle", model_id, name, None, catalog, live, message),
        )

    if detail.status == "LEGACY" and status == "active":
        until = detail.end_of_life_date or "a date AWS has not set"
        differ(
            "status",
            status,
            "LEGACY",
            f"Bedrock in {region} lists {name} as LEGACY (end of life {until}); the catalog "
            "says it is active.",
        )
    elif detail.status == "ACTIVE" and status != "active":
        differ(
            "status",
            status,
            "ACTIVE",
            f"Bedrock in {region} lists {name} as ACTIVE; the catalog says {status}.",
        )
    catalog_end = lifecycle.end_of_life_date if lifecycle else None
    if detail.end_of_life_date is not None and detail.end_of_life_date != catalog_end:
        differ(
            "end_of_life",
            str(catalog_end) if catalog_end else None,
            str(detail.end_of_life_date),
            f"Bedrock in {region} gives {name} end of life on {detail.end_of_life_date}; the "
            f"catalog says {catalog_end or 'none'}.",
        )
    catalog_legacy = lifecycle.legacy_date if lifecycle else None
    if detail.legacy_date is not None and detail.legacy_date != catalog_legacy:
        differ(
            "legacy",
            str(catalog_legacy) if catalog_legacy else None,
            str(detail.legacy_date),
            f"Bedrock in {region} made {name} legacy on {detail.legacy_date}; the catalog "
            f"says {catalog_legacy or 'never'}.",
        )


# ---- prices ------------------------------------------------------------------------------


# Every price the catalog holds for a model, in the order the differences are listed.
_CHARGES: Final[tuple[tuple[Charge, Commitment | None], ...]] = (
    ("training", None),
    ("storage", None),
    *(("provisioned", term) for term in COMMITMENTS),
    ("on-demand-input", None),
    ("on-demand-output", None),
)
_TERMS: Final[dict[Commitment, str]] = {
    "none": "no commitment",
    "1-month": "1-month commitment",
    "6-month": "6-month commitment",
}


def _prices(
    catalog: Catalog, prices: tuple[LivePrice, ...], region: str, add: Add, notes: list[str]
) -> None:
    if not prices:
        notes.append(
            f"The Price List has no model customization or custom-model deployment prices for "
            f"{region} that this tool recognizes: prices were not compared."
        )
        return
    matched: dict[str, list[LivePrice]] = {}
    strays: set[str] = set()
    unread = sorted({f"{p.usagetype} ({p.unit or 'no unit'})" for p in prices if p.usd is None})
    if unread:
        notes.append(
            f"Price List prices in {region} in a unit or term this tool does not read: "
            f"{', '.join(unread)}."
        )
    for price in prices:
        model = match_price(price.names, catalog)
        if model is not None:
            matched.setdefault(model.primary_id, []).append(price)
        elif not price.base_model:  # every base model has Provisioned Throughput: not news
            strays.add(price.usagetype)
    if strays:
        notes.append(
            f"Price List custom-model prices in {region} that match no catalog model: "
            f"{', '.join(sorted(strays))}."
        )
    for model in catalog.models:
        if not _customizable(model, region):
            continue
        own = matched.get(model.primary_id, [])
        for charge, commitment in _CHARGES:
            _price(model, charge, commitment, own, region, add, notes)


def _what(charge: Charge, commitment: Commitment | None) -> str:
    """The charge as the messages name it, with its unit."""
    if charge == "provisioned":
        term = _TERMS[commitment] if commitment else "unknown term"
        return f"Provisioned Throughput, {term} (per model unit per hour)"
    return {
        "training": "training (per 1,000 tokens)",
        "storage": "storage (per month)",
        "on-demand-input": "on-demand custom-model inference, input (per 1,000 tokens)",
        "on-demand-output": "on-demand custom-model inference, output (per 1,000 tokens)",
    }[charge]


def _catalog_prices(
    model: Model, charge: Charge, commitment: Commitment | None, region: str
) -> list[tuple[str | None, float | None]]:
    """(customizationType, the catalog's price) for each place the catalog gives ``charge``.

    Training and storage are priced per customization type in ``region``; serving the
    custom model once per model (customizationType None).
    """
    if charge in ("training", "storage"):
        return [
            (
                kind.value,
                c.training_price_per_1k_tokens_usd
                if charge == "training"
                else c.monthly_storage_price_usd,
            )
            for kind, c in model.customizations.items()
            if region in c.regions
        ]
    prices = model.deployment_prices
    if prices is None:
        return [(None, None)]
    if charge == "provisioned":
        hourly = prices.provisioned_hourly_usd
        return [(None, hourly.get(commitment) if commitment else None)]
    if charge == "on-demand-input":
        return [(None, prices.on_demand_input_per_1k_tokens_usd)]
    return [(None, prices.on_demand_output_per_1k_tokens_usd)]


def _price(
    model: Model,
    charge: Charge,
    commitment: Commitment | None,
    own: list[LivePrice],
    region: str,
    add: Add,
    notes: list[str],
) -> None:
    rows = [p for p in own if p.charge == charge and p.commitment == commitment]
    if any(not p.base_model for p in rows):
        rows = [p for p in rows if not p.base_model]  # the custom model's own price wins
    values = sorted({p.usd for p in rows if p.usd is not None})
    what = _what(charge, commitment)
    known = _catalog_prices(model, charge, commitment, region)
    if not values:
        if any(v is not None for _, v in known):
            notes.append(
                f"{model.name}: no {what} price found in the Price List for {region}; the "
                "catalog's was not checked."
            )
        return
    if len(values) > 1:
        listed = ", ".join(usd(v) for v in values)
        notes.append(
            f"{model.name}: the Price List gives several {what} prices in {region} ({listed}); "
            "not compared."
        )
        return
    live = values[0]
    for customization, value in known:
        if value is not None and math.isclose(value, live, rel_tol=1e-6, abs_tol=1e-12):
            continue
        subject = " ".join(w for w in (model.name, customization, what) if w)
        add(
            ("price", model.primary_id, customization or "", charge, commitment or ""),
            Difference(
                "price",
                customized_id(model),
                model.name,
                customization,
                usd(value),
                usd(live),
                f"{subject} in {region}: the catalog says {usd(value)}, the Price List "
                f"{usd(live)}.",
            ),
        )


def usd(value: float | None) -> str:
    """A dollar amount as people read it: ``$1.95``, ``$0.0004`` (never ``$0.00``), ``unknown``."""
    if value is None:
        return "unknown"
    text = format(_decimal(value), "f")
    whole, _, cents = text.partition(".")
    return f"${whole}.{cents.ljust(2, '0')}"


def _decimal(value: float) -> Decimal:
    # str() first: the shortest text that round-trips, so 0.0004 prints as 0.0004.
    return Decimal(str(value)).normalize()


# Product names and usagetype parts carry no words the catalog's names lack, except these.
_FILLER: Final = frozenset({"bedrock", "edition", "customization", "training", "storage"})


def _tokens(text: str) -> Counter[str]:
    """``Llama3-3-70B`` -> llama, 3, 3, 70, b; ``Nova2.0Lite`` -> nova, 2, lite."""
    text = re.sub(r"(\d)\.0(?!\d)", r"\1", text)
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", text)
    words = re.findall(r"[a-z]+|[0-9]+", text.lower())
    return Counter(w for w in words if w not in _FILLER)


def match_price(names: Iterable[str], catalog: Catalog) -> Model | None:
    """The catalog model a Price List product is for, or None when no one model fits.

    A name is a model id (matched exactly, context suffix aside) or a product name
    whose words all appear in one catalog model's name; where several do, the one with
    the fewest extra words wins, and a tie matches none. This is a heuristic: the Price
    List names models in its own words, not by model id.
    """
    by_base = {base_id(i): m for m in catalog.models for i in m.model_ids}
    for name in names:
        if base_id(name) in by_base:
            return by_base[base_id(name)]
        words = _tokens(name)
        if not words:
            continue
        fits = sorted(
            (sum((_tokens(m.name) - words).values()), index)
            for index, m in enumerate(catalog.models)
            if not words - _tokens(m.name)
        )
        if fits and (len(fits) == 1 or fits[0][0] < fits[1][0]):
            return catalog.models[fits[0][1]]
    return None


# ---- the Price List's JSON -------------------------------------------------------------

# ASSUMED (not confirmed by an AWS page): a model customization product of service code
# AmazonBedrock has a ``usagetype`` of the form <Region prefix>-<model>-Customization-Training
# (per 1K tokens) or ...-Customization-Storage (per custom model and month). Seen in public
# code and Cost Explorer notes, e.g. USW2-Llama3-3-70B-Customization-Training,
# USE1-NovaCanvas-Customization-Training, USE1-Nova2.0Lite-Customization-Storage. Products
# carry ``regionCode``, ``usagetype``, ``feature``, ``model`` and ``provider`` attributes
# (an AmazonBedrock product quoted in github.com/aws/aws-cli/issues/9567); whether the
# customization products set ``model`` is not known, so the usagetype's model part is the
# fallback. ``feature`` and ``inferenceType`` are read too, in case a product says
# "customization" there instead.
_REGION_PREFIX: Final = re.compile(r"^[A-Z]{2,4}[0-9]?-")
_CHARGE_SUFFIX: Final = re.compile(r"-?customi[sz]ation-?(training|storage).*$", re.IGNORECASE)
# ASSUMED (third-party copies of the Price List, not an AWS page): Provisioned Throughput is
# priced per model unit and hour by a usagetype <prefix>-<model>-ProvisionedThroughput-
# [Custom-]<term>-ModelUnits, the term NoCommit, 1month or 6month, e.g.
# USE1-NovaLite-ProvisionedThroughput-1month-ModelUnits,
# USW2-Llama3-1-70B-ProvisionedThroughput-NoCommit-ModelUnits ($24.00 per hour) and
# USE1-TitanText-Premier-ProvisionedThroughput-Custom-NoCommit-ModelUnits (feature
# "Provisioned Throughput Inference - Custom - no commit"). A product without "Custom" is the
# base model's, whose price a custom model pays (page prov-throughput). Its price dimension
# may sit in OnDemand or in Reserved terms; a Reserved term's LeaseContractLength is read
# for the term when the usagetype names none.
_PROVISIONED: Final = re.compile(r"-?provisioned-?throughput(?P<rest>.*)$", re.IGNORECASE)
_COMMITMENT_WORDS: Final[tuple[tuple[Commitment, re.Pattern[str]], ...]] = (
    ("none", re.compile(r"no-?commit")),
    ("1-month", re.compile(r"(?<![0-9])1-?months?(?![a-z])")),
    ("6-month", re.compile(r"(?<![0-9])6-?months?(?![a-z])")),
)
# ASSUMED (the same copies): on-demand inference of a custom model is priced per 1K or 1M
# tokens by <prefix>-<model>-input-tokens-custom-model and ...-output-tokens-custom-model
# (e.g. USE1-NovaLite-input-tokens-custom-model, USE1-Nova2.0Lite-output-tokens-custom-model,
# one with feature "Model Customization"). The base model's USE1-NovaLite-input-tokens is
# not a custom-model price, nor are batch, cache, priority, flex or latency-optimized rows.
_CUSTOM_TOKENS: Final = re.compile(r"-(?P<side>input|output)-tokens?-custom-model$", re.IGNORECASE)
_OTHER_INFERENCE: Final = re.compile(r"batch|cache|priority|flex|latency", re.IGNORECASE)


def parse_price_item(item: str | Mapping[str, Any]) -> LivePrice | None:
    """One GetProducts ``PriceList`` entry as a custom-model price; None for any other product.

    A custom-model price is a customization's (training, storage), or serving its custom
    model's: Provisioned Throughput by term, on-demand inference per input or output token.
    """
    document = json.loads(item) if isinstance(item, str) else item
    product = document.get("product") or {}
    attributes = product.get("attributes") or {}
    usagetype = str(attributes.get("usagetype", ""))
    feature = str(attributes.get("feature", ""))
    kind = _kind(usagetype, feature, attributes)
    if kind is None:
        return None
    charge, part, rest = kind
    chosen = _dimension(document, charge)
    if chosen is None:
        return None
    term_attributes, unit, amount = chosen
    value = _per_unit(amount, unit, charge)
    commitment: Commitment | None = None
    if charge == "provisioned":
        commitment = _commitment(f"{rest} {feature}") or _commitment(
            " ".join(str(v) for v in term_attributes.values())
        )
        if commitment is None:
            value = None  # a term this tool does not read
    names = [str(attributes[k]) for k in ("model", "modelId", "titanModel") if attributes.get(k)]
    if part:
        names.append(part)
    base_model = charge == "provisioned" and "custom" not in f"{rest} {feature}".lower()
    return LivePrice(tuple(names), charge, value, unit, usagetype, commitment, base_model)


def _kind(
    usagetype: str, feature: str, attributes: Mapping[str, Any]
) -> tuple[Charge, str, str] | None:
    """The charge a product is for, its usagetype's model part, and what follows that part."""
    model = _REGION_PREFIX.sub("", usagetype)
    if (provisioned := _PROVISIONED.search(model)) is not None:
        return "provisioned", model[: provisioned.start()], provisioned["rest"]
    if (tokens := _CUSTOM_TOKENS.search(model)) is not None:
        part = model[: tokens.start()]
        if _OTHER_INFERENCE.search(part):
            return None
        side: Charge = (
            "on-demand-input" if tokens["side"].lower() == "input" else "on-demand-output"
        )
        return side, part, ""
    described = " ".join(
        str(attributes.get(k, "")) for k in ("usagetype", "feature", "inferenceType")
    ).lower()
    if "customi" not in described:
        return None
    if "storage" in described:
        return "storage", _CHARGE_SUFFIX.sub("", model), ""
    if "train" in described:
        return "training", _CHARGE_SUFFIX.sub("", model), ""
    return None


def _dimension(
    document: Mapping[str, Any], charge: Charge
) -> tuple[Mapping[str, Any], str, float] | None:
    """(term attributes, unit, USD amount) of the product's price for ``charge``.

    OnDemand terms are read first, then Reserved ones; the first dimension in a unit
    ``charge`` is read in wins (a Reserved term may add an upfront fee), else the first
    with a USD amount. None: no dimension has one.
    """
    terms = document.get("terms") or {}
    first: tuple[Mapping[str, Any], str, float] | None = None
    for offer in ("OnDemand", "Reserved"):
        for term in (terms.get(offer) or {}).values():
            for dimension in (term.get("priceDimensions") or {}).values():
                try:
                    amount = float(str((dimension.get("pricePerUnit") or {}).get("USD")))
                except ValueError:  # no USD price, or not a number
                    continue
                found = (term.get("termAttributes") or {}, str(dimension.get("unit", "")), amount)
                if _per_unit(amount, found[1], charge) is not None:
                    return found
                first = first or found
    return first


def _commitment(text: str) -> Commitment | None:
    """The Provisioned Throughput term ``text`` names (NoCommit, 1month, "6 months"), if one."""
    words = re.sub(r"[\s_]+", "-", text.lower())
    return next((term for term, pattern in _COMMITMENT_WORDS if pattern.search(words)), None)


def _per_unit(amount: float, unit: str, charge: Charge) -> float | None:
    """``amount`` in the catalog's unit for ``charge``; None: unit not understood.

    Per 1,000 tokens (training, on-demand input and output), per month (storage), per
    model unit and hour (provisioned: Bedrock sells Provisioned Throughput by model unit).
    """
    text = unit.lower().replace(",", "").replace(" ", "")
    if charge == "storage":
        return amount if "month" in text or text == "mo" else None
    if charge == "provisioned":
        return amount if "hour" in text or "hr" in text else None
    if "token" not in text:
        return None
    if "1m" in text or "million" in text or "1000000" in text:
        return amount / 1000
    if "1k" in text or "thousand" in text or "1000" in text:
        return amount
    return amount * 1000  # per token
