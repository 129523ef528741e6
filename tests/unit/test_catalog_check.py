"""compare(): the catalog against a live snapshot, one kind of difference at a time.

The catalog here is built in the test (two models, one unsupported), so the data file
can change without changing what these tests mean.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from customization_core.catalog import Catalog
from customization_core.catalog_check import (
    LiveModel,
    LivePrice,
    Snapshot,
    check,
    compare,
    match_price,
    parse_price_item,
    usd,
)

TODAY = date(2026, 12, 1)
REGION = "us-east-1"
SOURCE = "https://docs.aws.amazon.com/bedrock/latest/userguide/custom-models.html"
LITE = "amazon.titan-text-lite-v1:0:4k"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0:200k"
LLAMA_31 = "meta.llama3-1-70b-instruct-v1:0:128k"
LLAMA_33 = "meta.llama3-3-70b-instruct-v1:0:128k"


def _custom(regions: list[str], price: float | None = None, storage: float | None = None) -> Any:
    limit = {"min": 1, "max": 10_000, "source": SOURCE}
    return {
        "data_format": "prompt-completion",
        "regions": regions,
        "regions_source": SOURCE,
        "training_records": limit,
        "validation_records": limit,
        "max_tokens_per_record": [{"batch_sizes": None, "tokens": 4096}],
        "max_tokens_per_record_source": SOURCE,
        "max_training_file_bytes": None,
        "max_validation_file_bytes": None,
        "file_size_source": None,
        "hyperparameters": [],
        "training_price_per_1k_tokens_usd": price,
        "monthly_storage_price_usd": storage,
        "price_source": "https://aws.amazon.com/bedrock/pricing/" if price else None,
    }


def _model(name: str, ids: list[str], family: str, **customizations: Any) -> dict[str, Any]:
    return {
        "name": name,
        "provider": name.split()[0],
        "family": family,
        "model_ids": ids,
        "model_ids_source": SOURCE,
        "customizations": customizations,
    }


def _llama(name: str, ids: list[str]) -> dict[str, Any]:
    return _model(name, ids, "llama", FINE_TUNING=_custom(["us-west-2"]))


def _catalog() -> Catalog:
    lite = _model(
        "Amazon Titan Text G1 - Lite",
        ["amazon.titan-text-lite-v1", LITE],
        "titan",
        FINE_TUNING=_custom([REGION, "us-west-2"], price=0.0004, storage=1.95),
        CONTINUED_PRE_TRAINING=_custom([REGION, "us-west-2"], price=0.0004, storage=1.95),
    )
    haiku = _model(
        "Anthropic Claude 3 Haiku",
        [HAIKU],
        "claude",
        FINE_TUNING=_custom(["us-west-2"]),
    )
    haiku["lifecycle"] = {
        "status": "legacy",
        "legacy_date": "2026-03-10",
        "end_of_life_date": "2027-09-10",
        "source": SOURCE,
        "read": "2026-12-01",
    }
    return Catalog.model_validate(
        {
            "catalog_date": "2026-12-01",
            "models": [
                lite,
                haiku,
                _llama("Meta Llama 3.1 70B Instruct", [LLAMA_31]),
                _llama("Meta Llama 3.3 70B Instruct", [LLAMA_33]),
            ],
            "unsupported": [
                {
                    "name": "Amazon Nova Canvas",
                    "model_ids": ["amazon.nova-canvas-v1:0"],
                    "reason": "image generation",
                    "source": SOURCE,
                }
            ],
        }
    )


CATALOG = _catalog()


def _matching(**changes: Any) -> Snapshot:
    """A snapshot of an account that agrees with CATALOG in us-east-1, with ``changes``."""
    fields: dict[str, Any] = {
        "listed": {
            "FINE_TUNING": frozenset({LITE, "amazon.nova-canvas-v1:0"}),
            "CONTINUED_PRE_TRAINING": frozenset({LITE}),
            "DISTILLATION": frozenset(),
        },
        "models": {
            LITE: LiveModel(
                LITE,
                frozenset({"FINE_TUNING", "CONTINUED_PRE_TRAINING"}),
                status="ACTIVE",
                inference_types=frozenset({"PROVISIONED"}),
            ),
            "amazon.titan-text-lite-v1": LiveModel(
                "amazon.titan-text-lite-v1", frozenset(), status="ACTIVE"
            ),
        },
        "prices": (
            LivePrice(("TitanTextLite",), "training", 0.0004, "1K tokens", "USE1-TitanTextLite-Customization-Training"),
            LivePrice(("TitanTextLite",), "storage", 1.95, "Month", "USE1-TitanTextLite-Customization-Storage"),
        ),
    }  # fmt: skip
    fields.update(changes)
    return Snapshot(**fields)


def _kinds(snapshot: Snapshot) -> list[tuple[str, str, str | None]]:
    return [
        (d.kind, d.model_id, d.customization)
        for d in compare(CATALOG, snapshot, REGION, today=TODAY)
    ]


def test_an_account_that_matches_the_catalog_has_no_difference() -> None:
    result = check(CATALOG, _matching(), REGION, today=TODAY)
    assert result.differences == ()
    # The unsupported model Bedrock lists is a note, with the catalog's reason.
    assert any("Amazon Nova Canvas" in n and "image generation" in n for n in result.notes)


def test_a_model_the_catalog_does_not_know_is_gained() -> None:
    listed = dict(_matching().listed)
    listed["FINE_TUNING"] = listed["FINE_TUNING"] | {"amazon.nova-9-v1:0"}
    (difference,) = compare(CATALOG, _matching(listed=listed), REGION, today=TODAY)
    assert (difference.kind, difference.model_id) == ("gained", "amazon.nova-9-v1:0")
    assert difference.customization == "FINE_TUNING"
    assert "does not know" in difference.message


def test_a_model_only_offered_for_distillation_is_a_note_not_a_difference() -> None:
    listed = {**_matching().listed, "DISTILLATION": frozenset({"amazon.nova-9-v1:0"})}
    result = check(CATALOG, _matching(listed=listed), REGION, today=TODAY)
    assert result.differences == ()
    assert any("DISTILLATION" in n and "does not run" in n for n in result.notes)


def test_a_type_bedrock_no_longer_lists_is_lost() -> None:
    listed = {**_matching().listed, "CONTINUED_PRE_TRAINING": frozenset()}
    models = {
        **_matching().models,
        LITE: LiveModel(LITE, frozenset({"FINE_TUNING"}), status="ACTIVE"),
    }
    snapshot = _matching(listed=listed, models=models)
    assert _kinds(snapshot) == [("lost", LITE, "CONTINUED_PRE_TRAINING")]


def test_a_model_listed_in_a_region_the_catalog_does_not_have_is_a_region_difference() -> None:
    listed = {**_matching().listed}
    listed["FINE_TUNING"] = listed["FINE_TUNING"] | {HAIKU}
    (difference,) = compare(CATALOG, _matching(listed=listed), REGION, today=TODAY)
    assert (difference.kind, difference.model_id, difference.live) == ("region", HAIKU, REGION)
    assert difference.catalog == "us-west-2"


def test_a_type_the_catalog_does_not_have_for_a_model_is_a_type_difference() -> None:
    listed = {**_matching().listed}
    listed["CONTINUED_PRE_TRAINING"] = listed["CONTINUED_PRE_TRAINING"] | {HAIKU}
    assert _kinds(_matching(listed=listed)) == [("type", HAIKU, "CONTINUED_PRE_TRAINING")]


def test_legacy_in_bedrock_but_active_in_the_catalog_is_a_lifecycle_difference() -> None:
    models = {
        **_matching().models,
        LITE: LiveModel(
            LITE,
            frozenset({"FINE_TUNING", "CONTINUED_PRE_TRAINING"}),
            status="LEGACY",
            legacy_date=date(2026, 11, 1),
            end_of_life_date=date(2027, 5, 1),
        ),
    }
    differences = compare(CATALOG, _matching(models=models), REGION, today=TODAY)
    assert {d.kind for d in differences} == {"lifecycle"}
    assert [(d.catalog, d.live) for d in differences] == [
        ("active", "LEGACY"),
        (None, "2027-05-01"),
        (None, "2026-11-01"),
    ]
    assert "LEGACY (end of life 2027-05-01)" in differences[0].message


def test_an_end_of_life_date_that_moved_is_a_lifecycle_difference() -> None:
    data = CATALOG.model_dump(mode="json")
    data["models"][1]["customizations"]["FINE_TUNING"]["regions"].append(REGION)
    catalog = Catalog.model_validate(data)
    listed = {**_matching().listed}
    listed["FINE_TUNING"] = listed["FINE_TUNING"] | {HAIKU}
    models = {
        **_matching().models,
        HAIKU: LiveModel(
            HAIKU,
            frozenset({"FINE_TUNING"}),
            status="LEGACY",
            legacy_date=date(2026, 3, 10),
            end_of_life_date=date(2027, 12, 31),
        ),
    }
    (difference,) = compare(catalog, _matching(listed=listed, models=models), REGION, today=TODAY)
    assert (difference.kind, difference.catalog, difference.live) == (
        "lifecycle",
        "2027-09-10",
        "2027-12-31",
    )


def test_a_changed_or_newly_published_price_is_a_price_difference() -> None:
    prices = (
        LivePrice(("Titan Text Lite",), "training", 0.0006, "1K tokens", "USE1-TitanTextLite-Customization-Training"),
        LivePrice(("Titan Text Lite",), "storage", 1.95, "Month", "USE1-TitanTextLite-Customization-Storage"),
    )  # fmt: skip
    differences = compare(CATALOG, _matching(prices=prices), REGION, today=TODAY)
    assert [(d.kind, d.customization, d.catalog, d.live) for d in differences] == [
        ("price", "FINE_TUNING", "$0.0004", "$0.0006"),
        ("price", "CONTINUED_PRE_TRAINING", "$0.0004", "$0.0006"),
    ]


def test_missing_prices_are_notes_and_an_unread_price_list_says_so() -> None:
    result = check(CATALOG, _matching(prices=()), REGION, today=TODAY)
    assert result.differences == ()
    assert any("no model customization prices" in n for n in result.notes)
    result = check(CATALOG, _matching(prices=None), REGION, today=TODAY)
    assert result.differences == ()
    assert any("was not read" in n for n in result.notes)


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (("Llama3-3-70B",), LLAMA_33),
        (("Llama 3.1 70B Instruct",), LLAMA_31),
        (("TitanTextLite",), LITE),
        (("Claude 3 Haiku",), HAIKU),
        (("amazon.titan-text-lite-v1",), LITE),
        (("Llama 70B",), None),  # two Llamas fit equally: none is chosen
        (("NovaCanvas",), None),
    ],
)
def test_price_list_names_find_their_catalog_model(
    names: tuple[str, ...], expected: str | None
) -> None:
    model = match_price(names, CATALOG)
    assert (model.model_ids[-1] if model else None) == expected


def _product(usagetype: str, unit: str, price: str, **attributes: str) -> str:
    sku = "SKU1"
    return json.dumps(
        {
            "product": {
                "productFamily": "Amazon Bedrock",
                "attributes": {"regionCode": REGION, "usagetype": usagetype, **attributes},
                "sku": sku,
            },
            "serviceCode": "AmazonBedrock",
            "terms": {
                "OnDemand": {
                    f"{sku}.T": {
                        "priceDimensions": {
                            f"{sku}.T.D": {"unit": unit, "pricePerUnit": {"USD": price}}
                        }
                    }
                }
            },
        }
    )


def test_price_list_products_parse_into_per_1k_token_and_monthly_prices() -> None:
    training = parse_price_item(
        _product("USW2-Llama3-3-70B-Customization-Training", "1M tokens", "8.0000000000")
    )
    assert training is not None
    assert (training.charge, training.usd, training.names) == ("training", 0.008, ("Llama3-3-70B",))
    storage = parse_price_item(
        _product("USE1-Nova2.0Lite-Customization-Storage", "Month", "1.95", model="Nova 2.0 Lite")
    )
    assert storage is not None
    assert (storage.charge, storage.usd, storage.names) == (
        "storage",
        1.95,
        ("Nova 2.0 Lite", "Nova2.0Lite"),
    )
    odd = parse_price_item(_product("USE1-X-Customization-Training", "Hours", "1"))
    assert odd is not None
    assert odd.usd is None
    assert parse_price_item(_product("USE1-Claude2.0-input-tokens", "1K tokens", "0.008")) is None


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, "unknown"), (1.95, "$1.95"), (0.0004, "$0.0004"), (0.008, "$0.008"), (2.0, "$2.00")],
)
def test_amounts_under_a_cent_keep_their_digits(value: float | None, text: str) -> None:
    assert usd(value) == text
