"""The catalog's prices against the Price List's, model by model and charge by charge."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal
from typing import Final

from customization_core.catalog import Catalog, Commitment, Model
from customization_core.catalog_difference import (
    Add,
    Difference,
    base_id,
    customizable,
    customized_id,
)
from customization_core.price_list import COMMITMENTS, Charge, LivePrice

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


def compare_prices(
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
        if not customizable(model, region):
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
