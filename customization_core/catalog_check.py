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
  inference (customization_core/price_list.py reads them and says what is assumed of
  their attributes; customization_core/price_check.py compares them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Final

from customization_core.catalog import Catalog, CustomizationType, Model
from customization_core.catalog_difference import (
    Add,
    Difference,
    base_id,
    customizable,
    customized_id,
)
from customization_core.price_check import compare_prices
from customization_core.price_list import LivePrice

# The customization types ListFoundationModels and GetFoundationModel report (botocore
# 1.44.8, bedrock 2023-04-20: the ModelCustomization enum of byCustomizationType has these
# three; RFT is not reported, so the catalog alone says where it runs). All are run here.
API_TYPES: Final = ("FINE_TUNING", "CONTINUED_PRE_TRAINING", "DISTILLATION")
NOT_RUN: Final[frozenset[str]] = frozenset()


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
        if customizable(model, region):
            _lifecycle(model, snapshot, region, today, add)
    if snapshot.prices is None:
        notes.append("The Price List was not read: prices were not compared.")
    else:
        compare_prices(catalog, snapshot.prices, region, add, notes)
    return Check(region, tuple(found.values()), tuple(notes))


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
