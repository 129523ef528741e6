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
from customization_core.catalog_check import LiveModel, Snapshot, check, compare
from customization_core.catalog_difference import customized_id
from customization_core.price_check import match_price, usd
from customization_core.price_list import LivePrice, parse_price_item

TODAY = date(2026, 12, 1)
REGION = "us-east-1"
SOURCE = "https://docs.aws.amazon.com/bedrock/latest/userguide/custom-models.html"
LITE = "amazon.titan-text-lite-v1:0:4k"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0:200k"
LLAMA_31 = "meta.llama3-1-70b-instruct-v1:0:128k"
LLAMA_33 = "meta.llama3-3-70b-instruct-v1:0:128k"
# Titan Text Lite's deployment prices in the test catalog (made up: no AWS page says them).
PT_NONE, PT_1_MONTH, INPUT_1K, OUTPUT_1K = 7.1, 6.4, 0.0003, 0.0004


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
    lite["deployment_prices"] = {
        "provisioned_hourly_usd": {"none": PT_NONE, "1-month": PT_1_MONTH},
        "on_demand_input_per_1k_tokens_usd": INPUT_1K,
        "on_demand_output_per_1k_tokens_usd": OUTPUT_1K,
        "source": "https://aws.amazon.com/bedrock/pricing/",
        "read": "2026-12-01",
    }
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


# The Price List agreeing with Titan Text Lite's customization and deployment prices (a
# base-model Provisioned Throughput row per term).
CUSTOMIZATION_PRICES = (
    LivePrice(("TitanTextLite",), "training", 0.0004, "1K tokens", "USE1-TitanTextLite-Customization-Training"),
    LivePrice(("TitanTextLite",), "storage", 1.95, "Month", "USE1-TitanTextLite-Customization-Storage"),
)  # fmt: skip
DEPLOYMENT_PRICES = (
    LivePrice(("TitanTextLite",), "provisioned", PT_NONE, "Hrs", "USE1-TitanTextLite-ProvisionedThroughput-NoCommit-ModelUnits", "none", base_model=True),
    LivePrice(("TitanTextLite",), "provisioned", PT_1_MONTH, "Hrs", "USE1-TitanTextLite-ProvisionedThroughput-1month-ModelUnits", "1-month", base_model=True),
    LivePrice(("TitanTextLite",), "on-demand-input", INPUT_1K, "1K tokens", "USE1-TitanTextLite-input-tokens-custom-model"),
    LivePrice(("TitanTextLite",), "on-demand-output", OUTPUT_1K, "1K tokens", "USE1-TitanTextLite-output-tokens-custom-model"),
)  # fmt: skip


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
        "prices": (*CUSTOMIZATION_PRICES, *DEPLOYMENT_PRICES),
    }
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
    # Every price the catalog has was found and compared: no note says one was not.
    assert not any("price" in n for n in result.notes), result.notes


def test_a_model_the_catalog_does_not_know_is_gained() -> None:
    listed = dict(_matching().listed)
    listed["FINE_TUNING"] = listed["FINE_TUNING"] | {"amazon.nova-9-v1:0"}
    (difference,) = compare(CATALOG, _matching(listed=listed), REGION, today=TODAY)
    assert (difference.kind, difference.model_id) == ("gained", "amazon.nova-9-v1:0")
    assert difference.customization == "FINE_TUNING"
    assert "does not know" in difference.message


def test_a_model_the_catalog_lacks_offered_for_distillation_is_gained() -> None:
    # Distillation is run here since issue 16: a new student is a difference to act on.
    listed = {**_matching().listed, "DISTILLATION": frozenset({"amazon.nova-9-v1:0"})}
    result = check(CATALOG, _matching(listed=listed), REGION, today=TODAY)
    assert [(d.kind, d.model_id) for d in result.differences] == [("gained", "amazon.nova-9-v1:0")]


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
    assert any(
        "no model customization or custom-model deployment prices" in n for n in result.notes
    )
    result = check(CATALOG, _matching(prices=None), REGION, today=TODAY)
    assert result.differences == ()
    assert any("was not read" in n for n in result.notes)


def _deployment(*changed: LivePrice) -> tuple[LivePrice, ...]:
    """DEPLOYMENT_PRICES with the rows of the same usagetype replaced by ``changed``."""
    replaced = {p.usagetype for p in changed}
    return (*(p for p in DEPLOYMENT_PRICES if p.usagetype not in replaced), *changed)


def _prices(*deployment: LivePrice) -> tuple[LivePrice, ...]:
    return (*CUSTOMIZATION_PRICES, *deployment)


@pytest.mark.parametrize(
    ("changed", "catalog", "live", "charge"),
    [
        (
            LivePrice(("TitanTextLite",), "provisioned", 8.0, "Hrs", "USE1-TitanTextLite-ProvisionedThroughput-NoCommit-ModelUnits", "none", base_model=True),
            "$7.10",
            "$8.00",
            "Provisioned Throughput, no commitment (per model unit per hour)",
        ),
        (
            LivePrice(("TitanTextLite",), "provisioned", 6.0, "Hrs", "USE1-TitanTextLite-ProvisionedThroughput-1month-ModelUnits", "1-month", base_model=True),
            "$6.40",
            "$6.00",
            "Provisioned Throughput, 1-month commitment (per model unit per hour)",
        ),
        (
            LivePrice(("TitanTextLite",), "on-demand-input", 0.00035, "1K tokens", "USE1-TitanTextLite-input-tokens-custom-model"),
            "$0.0003",
            "$0.00035",
            "on-demand custom-model inference, input (per 1,000 tokens)",
        ),
        (
            LivePrice(("TitanTextLite",), "on-demand-output", 0.0006, "1K tokens", "USE1-TitanTextLite-output-tokens-custom-model"),
            "$0.0004",
            "$0.0006",
            "on-demand custom-model inference, output (per 1,000 tokens)",
        ),
    ],
)  # fmt: skip
def test_a_changed_deployment_price_is_one_price_difference_naming_its_charge(
    changed: LivePrice, catalog: str, live: str, charge: str
) -> None:
    # Given the Price List agrees with the catalog but for one deployment charge
    snapshot = _matching(prices=_prices(*_deployment(changed)))
    # When the catalog is checked
    (difference,) = compare(CATALOG, snapshot, REGION, today=TODAY)
    # Then that charge alone differs, for the model rather than one customization type
    assert (difference.kind, difference.model_id, difference.customization) == ("price", LITE, None)
    assert (difference.catalog, difference.live) == (catalog, live)
    # and its sentence names the model, the charge with its unit, the Region and both amounts
    for fact in ("Amazon Titan Text G1 - Lite", charge, REGION, catalog, live):
        assert fact in difference.message


def test_a_term_the_catalog_lacks_is_a_difference_and_one_it_has_but_aws_lacks_a_note() -> None:
    # Given a 6-month price the catalog does not have, and no 1-month price
    six = LivePrice(("TitanTextLite",), "provisioned", 5.2, "Hrs", "USE1-TitanTextLite-ProvisionedThroughput-6month-ModelUnits", "6-month", base_model=True)  # fmt: skip
    deployment = [p for p in DEPLOYMENT_PRICES if p.commitment != "1-month"]
    result = check(CATALOG, _matching(prices=_prices(*deployment, six)), REGION, today=TODAY)
    # Then the 6-month price is newly published and the 1-month one was not checked
    (difference,) = result.differences
    assert (difference.catalog, difference.live) == ("unknown", "$5.20")
    assert "6-month commitment" in difference.message
    assert any(
        "no Provisioned Throughput, 1-month commitment (per model unit per hour) price found" in n
        for n in result.notes
    )


def test_several_prices_for_one_charge_are_a_note_not_a_difference() -> None:
    # Given two custom-model Provisioned Throughput products for the same term
    custom = LivePrice(("TitanTextLite",), "provisioned", 9.0, "Hrs", "USE1-TitanTextLite-ProvisionedThroughput-Custom-NoCommit-ModelUnits", "none")  # fmt: skip
    other = LivePrice(("TitanTextLite",), "provisioned", 9.5, "Hrs", "USE1-TitanTextLite-ProvisionedThroughput-Custom-NoCommit-Other-ModelUnits", "none")  # fmt: skip
    result = check(
        CATALOG, _matching(prices=_prices(*DEPLOYMENT_PRICES, custom, other)), REGION, today=TODAY
    )
    # Then they are not compared (the base model's row is not used beside them either)
    assert result.differences == ()
    assert any(
        "several Provisioned Throughput, no commitment" in n and "($9.00, $9.50)" in n
        for n in result.notes
    )


def test_a_custom_model_s_provisioned_price_wins_over_its_base_model_s() -> None:
    # Given the base model's row agrees with the catalog and a custom-model row does not
    custom = LivePrice(("TitanTextLite",), "provisioned", 7.9, "Hrs", "USE1-TitanTextLite-ProvisionedThroughput-Custom-NoCommit-ModelUnits", "none")  # fmt: skip
    result = check(
        CATALOG, _matching(prices=_prices(*DEPLOYMENT_PRICES, custom)), REGION, today=TODAY
    )
    # Then the custom model's price is the one compared: not two prices for one charge
    (difference,) = result.differences
    assert (difference.catalog, difference.live) == ("$7.10", "$7.90")
    assert not any("several" in n for n in result.notes)


def test_base_model_rows_for_models_not_in_the_catalog_are_not_strays() -> None:
    # Given Provisioned Throughput of a base model the catalog does not have, and a
    # custom-model price of one it does not have either
    base = LivePrice(("ClaudeSonnet",), "provisioned", 80.0, "Hrs", "USE1-ClaudeSonnet-ProvisionedThroughput-1month-ModelUnits", "1-month", base_model=True)  # fmt: skip
    custom = LivePrice(("Mistral",), "on-demand-input", 0.001, "1K tokens", "USE1-Mistral-input-tokens-custom-model")  # fmt: skip
    result = check(
        CATALOG, _matching(prices=_prices(*DEPLOYMENT_PRICES, base, custom)), REGION, today=TODAY
    )
    assert result.differences == ()
    (stray,) = [n for n in result.notes if "match no catalog model" in n]
    assert "USE1-Mistral-input-tokens-custom-model" in stray
    assert "ClaudeSonnet" not in stray


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


def _product(
    usagetype: str,
    unit: str,
    price: str,
    *,
    reserved: bool = False,
    lease: str | None = None,
    **attributes: str,
) -> str:
    """A GetProducts entry; ``reserved``: its price in a Reserved term after a $0 upfront fee."""
    sku = "SKU1"
    dimensions: dict[str, Any] = {f"{sku}.T.D": {"unit": unit, "pricePerUnit": {"USD": price}}}
    term: dict[str, Any] = {"priceDimensions": dimensions}
    if reserved:
        upfront = {"unit": "Quantity", "description": "Upfront Fee", "pricePerUnit": {"USD": "0"}}
        term["priceDimensions"] = {f"{sku}.T.U": upfront, **dimensions}
        term["termAttributes"] = {"PurchaseOption": "No Upfront"}
        if lease:
            term["termAttributes"]["LeaseContractLength"] = lease
    return json.dumps(
        {
            "product": {
                "productFamily": "Amazon Bedrock",
                "attributes": {"regionCode": REGION, "usagetype": usagetype, **attributes},
                "sku": sku,
            },
            "serviceCode": "AmazonBedrock",
            "terms": {"Reserved" if reserved else "OnDemand": {f"{sku}.T": term}},
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
    ("product", "expected"),
    [
        (
            _product("USE1-NovaLite-ProvisionedThroughput-1month-ModelUnits", "Hrs", "61.0000000000"),
            (("NovaLite",), "1-month", 61.0, True),
        ),
        (
            _product(
                "USE1-TitanText-Premier-ProvisionedThroughput-Custom-NoCommit-ModelUnits",
                "Hours",
                "26.5000000000",
                feature="Provisioned Throughput Inference - Custom - no commit",
            ),
            (("TitanText-Premier",), "none", 26.5, False),
        ),
        (  # the price in a Reserved term, after an upfront fee in a unit not per hour
            _product("USW2-Llama3-1-70B-ProvisionedThroughput-NoCommit-ModelUnits", "Hrs", "24.0000000000", reserved=True),
            (("Llama3-1-70B",), "none", 24.0, True),
        ),
        (  # the term from the Reserved term's lease when the usagetype names none
            _product("USE1-NovaLite-ProvisionedThroughput-ModelUnits", "Hrs", "55.0", reserved=True, lease="6 months"),
            (("NovaLite",), "6-month", 55.0, True),
        ),
    ],
)  # fmt: skip
def test_provisioned_throughput_products_parse_per_model_unit_hour_by_term(
    product: str, expected: tuple[tuple[str, ...], str, float, bool]
) -> None:
    price = parse_price_item(product)
    assert price is not None
    assert price.charge == "provisioned"
    assert (price.names, price.commitment, price.usd, price.base_model) == expected


@pytest.mark.parametrize(
    ("usagetype", "unit"),
    [
        ("USE1-NovaLite-ProvisionedThroughput-12month-ModelUnits", "Hrs"),  # a term not read
        ("USE1-NovaLite-ProvisionedThroughput-1month-ModelUnits", "Month"),  # not per hour
    ],
)
def test_a_provisioned_term_or_unit_not_understood_has_no_price(usagetype: str, unit: str) -> None:
    price = parse_price_item(_product(usagetype, unit, "61.0"))
    assert price is not None
    assert (price.charge, price.usd) == ("provisioned", None)


@pytest.mark.parametrize(
    ("usagetype", "unit", "amount", "attributes", "expected"),
    [
        ("USE1-NovaLite-input-tokens-custom-model", "1K tokens", "0.0000600000", {}, ("on-demand-input", 0.00006, ("NovaLite",))),
        ("USE1-Nova2.0Lite-output-tokens-custom-model", "1M tokens", "2.5000000000", {"feature": "Model Customization"}, ("on-demand-output", 0.0025, ("Nova2.0Lite",))),
        ("USE1-NovaLite-output-tokens-custom-model", "Million Tokens", "0.2400000000", {"model": "Nova Lite"}, ("on-demand-output", 0.00024, ("Nova Lite", "NovaLite"))),
    ],
)  # fmt: skip
def test_custom_model_inference_products_parse_into_per_1k_token_prices(
    usagetype: str,
    unit: str,
    amount: str,
    attributes: dict[str, str],
    expected: tuple[str, float, tuple[str, ...]],
) -> None:
    document = json.loads(_product(usagetype, unit, amount))
    document["product"]["attributes"].update(attributes)
    price = parse_price_item(document)  # a parsed document reads as its text does
    assert price is not None
    charge, per_1k, names = expected
    assert (price.charge, price.names) == (charge, names)
    assert price.usd == pytest.approx(per_1k)
    assert (price.commitment, price.base_model) == (None, False)


@pytest.mark.parametrize(
    ("usagetype", "feature"),
    [
        ("USE1-NovaLite-input-tokens", "On-demand Inference"),  # the base model's price
        ("USE1-NovaLite-output-tokens", "On-demand Inference"),
        ("USE1-NovaLite-input-tokens", "Model Customization"),
        ("USE1-NovaLite-cache-read-input-tokens-custom-model", "Model Customization"),
        ("USE1-NovaLite-batch-input-tokens-custom-model", "Model Customization"),
        ("USE1-NovaLite-input-tokens-batch-custom-model", "Model Customization"),
    ],
)
def test_base_model_and_other_inference_rows_are_not_custom_model_prices(
    usagetype: str, feature: str
) -> None:
    assert parse_price_item(_product(usagetype, "1K tokens", "0.00006", feature=feature)) is None


def test_a_parsed_provisioned_price_is_compared_with_the_catalog() -> None:
    # Given Llama 3.1 70B at $24.00 per model unit hour without commitment, in us-west-2
    data = CATALOG.model_dump(mode="json")
    data["models"][2]["deployment_prices"] = {
        "provisioned_hourly_usd": {"none": 24.0},
        "source": "https://aws.amazon.com/bedrock/pricing/",
        "read": "2026-12-01",
    }
    catalog = Catalog.model_validate(data)
    row = "USW2-Llama3-1-70B-ProvisionedThroughput-NoCommit-ModelUnits"

    def price_differences(amount: str) -> list[tuple[str, str | None, str | None]]:
        price = parse_price_item(_product(row, "Hrs", amount))
        assert price is not None
        differences = compare(catalog, _matching(prices=(price,)), "us-west-2", today=TODAY)
        return [(d.model_id, d.catalog, d.live) for d in differences if d.kind == "price"]

    # When the Price List says the same, then no price differs; when it moved, one does
    assert price_differences("24.0000000000") == []
    assert price_differences("26.0000000000") == [
        (customized_id(catalog.models[2]), "$24.00", "$26.00")
    ]


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, "unknown"), (1.95, "$1.95"), (0.0004, "$0.0004"), (0.008, "$0.008"), (2.0, "$2.00")],
)
def test_amounts_under_a_cent_keep_their_digits(value: float | None, text: str) -> None:
    assert usd(value) == text
