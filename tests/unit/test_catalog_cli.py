"""``bedrock-customize catalog``: the table, --json, --model, and --check against stubbed AWS.

--check runs end to end on real boto3 clients behind botocore's Stubber (no network):
the command's seam, ``catalog_live.clients``, is replaced by one that hands them in.
The catalog for --check is the small one of test_catalog_check, so data-file edits
do not move these tests.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from click.testing import CliRunner, Result

from bedrock_customize import catalog_live, catalog_view
from bedrock_customize.cli import main
from customization_core.catalog import load_catalog
from tests.unit.test_catalog_check import CATALOG, LITE, REGION

EXPRESS = "amazon.titan-text-express-v1:0:8k"
LITE_BASE = "amazon.titan-text-lite-v1"
NEW_MODEL = "amazon.nova-9-v1:0"


def _run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


# ---- the catalog as it ships -------------------------------------------------------------


def test_the_table_has_a_row_per_model_id_with_types_regions_lifecycle_and_prices() -> None:
    result = _run("catalog")
    assert result.exit_code == 0, result.output
    out = result.output
    for model_id in load_catalog().all_ids():
        assert model_id in out
    assert "fine-tuning (prompt-completion)" in out
    assert "continued-pretraining (continued-pretraining)" in out
    assert "end of life since" in out  # the retired models say so, with their date
    assert "$0.0004" in out  # under a cent, with its digits
    assert "$0.00 " not in out
    assert "unknown" in out  # a model without a catalog price says so
    # The known models the product does not run, with their reason.
    for skipped in load_catalog().unsupported:
        assert skipped.model_ids[0] in out
        assert skipped.reason in out


def test_json_is_the_catalog_data() -> None:
    result = _run("catalog", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    models = {i: m for m in document["models"] for i in m["model_ids"]}
    assert set(models) == set(load_catalog().all_ids())
    express = models[EXPRESS]["customizations"]
    assert set(express) == {"FINE_TUNING", "CONTINUED_PRE_TRAINING"}
    assert express["FINE_TUNING"]["hyperparameters"]
    lite = models["amazon.titan-text-lite-v1:0:4k"]["customizations"]["FINE_TUNING"]
    assert lite["training_price_per_1k_tokens_usd"] > 0
    assert document["unsupported"][0]["reason"]


def test_region_and_type_filter_the_models() -> None:
    result = _run("catalog", "--json", "--region", "us-west-2", "--type", "continued-pretraining")
    assert result.exit_code == 0, result.output
    models = json.loads(result.output)["models"]
    assert models
    for model in models:
        assert "us-west-2" in model["customizations"]["CONTINUED_PRE_TRAINING"]["regions"]
    assert _run("catalog", "--json", "--region", "mars-north-1").output.count('"name"') == len(
        load_catalog().unsupported
    )


def test_one_model_in_full_shows_its_hyperparameters_and_sources() -> None:
    result = _run("catalog", "--model", EXPRESS)
    assert result.exit_code == 0, result.output
    assert "HYPERPARAMETER" in result.output
    assert "epochCount" in result.output
    assert "max tokens per record" in result.output
    assert "https://" in result.output


def test_an_unknown_model_is_a_usage_error_with_suggestions_and_an_unsupported_one_says_why() -> (
    None
):
    result = _run("catalog", "--model", "amazon.titan-text-expres-v1:0:8k")
    assert result.exit_code == 2
    assert EXPRESS in result.output
    skipped = load_catalog().unsupported[0]
    result = _run("catalog", "--model", skipped.model_ids[0])
    assert result.exit_code == 1
    assert skipped.reason in result.output


# ---- --check against stubbed AWS ---------------------------------------------------------


def _clients() -> tuple[Any, Any]:
    keys = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}  # never sent
    bedrock = boto3.client("bedrock", region_name=REGION, **keys)
    pricing = boto3.client("pricing", region_name="us-east-1", **keys)
    return bedrock, pricing


def _summaries(*ids: str) -> dict[str, Any]:
    return {
        "modelSummaries": [
            {"modelArn": f"arn:aws:bedrock:{REGION}::foundation-model/{i}", "modelId": i}
            for i in ids
        ]
    }


def _details(model_id: str, types: list[str], status: str = "ACTIVE") -> dict[str, Any]:
    lifecycle: dict[str, Any] = {"status": status}
    if status == "LEGACY":
        lifecycle["legacyTime"] = datetime(2026, 11, 1, tzinfo=UTC)
        lifecycle["endOfLifeTime"] = datetime(2027, 5, 1, tzinfo=UTC)
    return {
        "modelDetails": {
            "modelArn": f"arn:aws:bedrock:{REGION}::foundation-model/{model_id}",
            "modelId": model_id,
            "customizationsSupported": types,
            "inferenceTypesSupported": ["PROVISIONED"],
            "modelLifecycle": lifecycle,
        }
    }


def _price(usagetype: str, unit: str, usd: str) -> str:
    return json.dumps(
        {
            "product": {
                "productFamily": "Amazon Bedrock",
                "attributes": {"regionCode": REGION, "usagetype": usagetype},
                "sku": "S",
            },
            "serviceCode": "AmazonBedrock",
            "terms": {
                "OnDemand": {
                    "S.T": {
                        "priceDimensions": {"S.T.D": {"unit": unit, "pricePerUnit": {"USD": usd}}}
                    }
                }
            },
        }
    )


def _products_params(usage: str, **page: str) -> dict[str, Any]:
    """What GetProducts is asked for one usagetype part (``page``: NextToken after page one)."""
    return {
        "ServiceCode": "AmazonBedrock",
        "FormatVersion": "aws_v1",
        "Filters": [
            {"Type": "TERM_MATCH", "Field": "regionCode", "Value": REGION},
            {"Type": "CONTAINS", "Field": "usagetype", "Value": usage},
        ],
        **page,
    }


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Stubber, Stubber]]:
    """Stubbed bedrock and pricing clients behind the command's seam, and the test catalog."""
    bedrock, pricing = _clients()
    monkeypatch.setattr(catalog_view, "load_catalog", lambda: CATALOG)
    monkeypatch.setattr(
        catalog_live,
        "clients",
        lambda region, _profile: catalog_live.Clients(bedrock, pricing, region or REGION),
    )
    with Stubber(bedrock) as bedrock_stub, Stubber(pricing) as pricing_stub:
        yield bedrock_stub, pricing_stub
        bedrock_stub.assert_no_pending_responses()
        pricing_stub.assert_no_pending_responses()


def _account(
    stubs: tuple[Stubber, Stubber],
    *,
    fine_tuning: tuple[str, ...] = (LITE,),
    pretraining: tuple[str, ...] = (LITE,),
    status: str = "ACTIVE",
    training_usd: str = "0.0004000000",
    provisioned_usd: str = "7.1000000000",
    price_list_denied: bool = False,
) -> None:
    bedrock, pricing = stubs
    for api_type, ids in (
        ("FINE_TUNING", fine_tuning),
        ("CONTINUED_PRE_TRAINING", pretraining),
        ("DISTILLATION", ()),
    ):
        bedrock.add_response(
            "list_foundation_models", _summaries(*ids), {"byCustomizationType": api_type}
        )
    # The catalog ids customizable in the Region, in catalog order: Titan Text Lite's two.
    bedrock.add_response(
        "get_foundation_model", _details(LITE_BASE, [], status), {"modelIdentifier": LITE_BASE}
    )
    types = ["FINE_TUNING"] + (["CONTINUED_PRE_TRAINING"] if pretraining else [])
    bedrock.add_response(
        "get_foundation_model", _details(LITE, types, status), {"modelIdentifier": LITE}
    )
    if price_list_denied:
        pricing.add_client_error(
            "get_products", service_error_code="AccessDeniedException", http_status_code=400
        )
        return
    # Customization and custom-model inference, on two pages; then Provisioned Throughput.
    pricing.add_response(
        "get_products",
        {
            "FormatVersion": "aws_v1",
            "PriceList": [
                _price("USE1-TitanTextLite-Customization-Training", "1K tokens", training_usd),
                _price("USE1-TitanTextLite-Customization-Storage", "Month", "1.9500000000"),
            ],
            "NextToken": "page-2",
        },
        _products_params("ustom"),
    )
    pricing.add_response(
        "get_products",
        {
            "FormatVersion": "aws_v1",
            "PriceList": [
                _price("USE1-TitanTextLite-input-tokens-custom-model", "1M tokens", "0.30"),
                _price("USE1-TitanTextLite-output-tokens-custom-model", "1M tokens", "0.40"),
            ],
        },
        _products_params("ustom", NextToken="page-2"),
    )
    pt = "USE1-TitanTextLite-ProvisionedThroughput"
    pricing.add_response(
        "get_products",
        {
            "FormatVersion": "aws_v1",
            "PriceList": [
                _price(f"{pt}-NoCommit-ModelUnits", "Hrs", provisioned_usd),
                _price(f"{pt}-1month-ModelUnits", "Hrs", "6.4000000000"),
            ],
        },
        _products_params("ProvisionedThroughput"),
    )


def test_check_of_an_account_that_matches_exits_0(aws: tuple[Stubber, Stubber]) -> None:
    _account(aws)  # the fixture asserts every page of every Price List query was asked for
    result = _run("catalog", "--check", "--region", REGION)
    assert result.exit_code == 0, result.output
    assert "no difference" in result.output
    assert "price" not in result.output  # every catalog price was found: no note says otherwise


def test_check_prints_a_provisioned_throughput_difference_like_any_price(
    aws: tuple[Stubber, Stubber],
) -> None:
    _account(aws, provisioned_usd="8.0000000000")
    result = _run("catalog", "--check", "--region", REGION, "--json")
    assert result.exit_code == 1, result.output
    (difference,) = json.loads(result.stdout)["differences"]
    assert (difference["kind"], difference["model_id"], difference["customization"]) == (
        "price",
        LITE,
        None,
    )
    assert (difference["catalog"], difference["live"]) == ("$7.10", "$8.00")
    assert (
        "Provisioned Throughput, no commitment (per model unit per hour)" in (difference["message"])
    )


def test_check_prints_every_difference_and_exits_1(aws: tuple[Stubber, Stubber]) -> None:
    _account(
        aws,
        fine_tuning=(LITE, NEW_MODEL),
        pretraining=(),
        status="LEGACY",
        training_usd="0.0006000000",
    )
    result = _run("catalog", "--check", "--region", REGION)
    assert result.exit_code == 1, result.output
    out = result.output
    assert NEW_MODEL in out  # gained
    assert "lost" in out
    assert "CONTINUED_PRE_TRAINING" in out
    assert "LEGACY" in out
    assert "2027-05-01" in out  # the end of life Bedrock gives
    assert "$0.0006" in out
    assert "Traceback" not in out


def test_check_json_gives_the_differences_as_data(aws: tuple[Stubber, Stubber]) -> None:
    _account(aws, fine_tuning=(LITE, NEW_MODEL), training_usd="0.0006000000")
    result = _run("catalog", "--check", "--region", REGION, "--json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    kinds = sorted((d["kind"], d["model_id"], d["customization"]) for d in document["differences"])
    assert kinds == [
        ("gained", NEW_MODEL, "FINE_TUNING"),
        ("price", LITE, "CONTINUED_PRE_TRAINING"),
        ("price", LITE, "FINE_TUNING"),
    ]
    assert document["region"] == REGION


def test_check_by_type_keeps_that_type_s_differences(aws: tuple[Stubber, Stubber]) -> None:
    _account(aws, training_usd="0.0006000000")
    result = _run("catalog", "--check", "--region", REGION, "--json", "--type", "fine-tuning")
    assert result.exit_code == 1
    (difference,) = json.loads(result.stdout)["differences"]
    assert difference["customization"] == "FINE_TUNING"


def test_access_denied_exits_3_with_one_sentence(aws: tuple[Stubber, Stubber]) -> None:
    bedrock, _ = aws
    bedrock.add_client_error(
        "list_foundation_models",
        service_error_code="AccessDeniedException",
        service_message="User is not authorized to perform: bedrock:ListFoundationModels",
        http_status_code=403,
    )
    result = _run("catalog", "--check", "--region", REGION)
    assert result.exit_code == 3
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Access denied to bedrock:ListFoundationModels")


def test_price_list_denied_exits_3_naming_its_action(aws: tuple[Stubber, Stubber]) -> None:
    _account(aws, price_list_denied=True)
    result = _run("catalog", "--check", "--region", REGION)
    assert result.exit_code == 3
    assert "pricing:GetProducts" in result.stderr


def test_an_unknown_profile_exits_3_through_the_real_clients(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "config"
    config.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(config))
    result = _run("catalog", "--check", "--region", REGION, "--profile", "nobody")
    assert result.exit_code == 3
    assert "nobody" in result.stderr
    assert "Traceback" not in result.output


def test_check_without_a_region_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        catalog_live, "clients", lambda _r, _p: catalog_live.Clients(None, None, None)
    )
    result = _run("catalog", "--check")
    assert result.exit_code == 2
    assert "--region" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--check", "--model", EXPRESS], "leave out --model"),
        (["--profile", "p"], "--profile is for --check only"),
    ],
)
def test_options_that_do_not_go_together_are_usage_errors(args: list[str], message: str) -> None:
    result = _run("catalog", *args)
    assert result.exit_code == 2
    assert message in result.output
