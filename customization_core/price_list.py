"""The AWS Price List's JSON, read as the prices of customizing a model or serving its custom model.

``parse_price_item`` turns one GetProducts ``PriceList`` entry into a ``LivePrice`` (what
is assumed of the products' attributes is said beside each pattern below); the
comparison with the catalog is customization_core/price_check.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

from customization_core.catalog import Commitment

# What a price is for: customizing (training, storage) or serving the custom model
# (Provisioned Throughput per model unit and hour, on-demand inference per token).
Charge = Literal["training", "storage", "provisioned", "on-demand-input", "on-demand-output"]
COMMITMENTS: Final[tuple[Commitment, ...]] = get_args(Commitment)


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
