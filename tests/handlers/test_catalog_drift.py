"""`catalog --check` against the emulated account (emulator/account.json), which drifts from the catalog."""

from __future__ import annotations

from datetime import date
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from bedrock_customize.catalog_live import read_snapshot
from customization_core.catalog import load_catalog
from customization_core.catalog_check import check
from tests.handlers.conftest import Aws

TODAY = date(2026, 12, 1)


def _pricing() -> Any:
    """A Price List client that lists no customization product (nothing to compare)."""
    client = boto3.client("pricing", region_name="us-east-1")
    stub = Stubber(client)
    for _ in range(2):
        stub.add_response("get_products", {"PriceList": [], "FormatVersion": "aws_v1"})
    stub.activate()
    return client


def _kinds(found: Any) -> dict[str, set[str]]:
    kinds: dict[str, set[str]] = {}
    for difference in found.differences:
        kinds.setdefault(str(difference.kind), set()).add(difference.model_id)
    return kinds


def test_the_east_account_lost_cohere_and_offers_what_the_catalog_knows(aws: Aws) -> None:
    catalog = load_catalog()
    snapshot = read_snapshot(aws.bedrock, _pricing(), catalog, "us-east-1")
    found = check(catalog, snapshot, "us-east-1", today=TODAY)
    kinds = _kinds(found)
    lost = {model_id for kind, ids in kinds.items() if "lost" in kind for model_id in ids}
    # The emulated account has no Cohere (as AWS's current tables) and no Titan Premier.
    assert any(model_id.startswith("cohere.command-text-v14") for model_id in lost)
    assert any(model_id.startswith("amazon.titan-text-premier") for model_id in lost)
    # Nova and Titan Text Express are offered as the catalog says: no difference for them.
    every = {model_id for ids in kinds.values() for model_id in ids}
    assert not any(model_id.startswith("amazon.nova-micro") for model_id in every)


def test_the_west_account_reports_claude_3_haiku_legacy_past_its_end(aws: Aws) -> None:
    catalog = load_catalog()
    west = boto3.client("bedrock", region_name="us-west-2")
    snapshot = read_snapshot(west, _pricing(), catalog, "us-west-2")
    haiku = snapshot.models["anthropic.claude-3-haiku-20240307-v1:0:200k"]
    assert haiku.status == "LEGACY"
    assert haiku.end_of_life_date == date(2026, 9, 10)
    # The catalog already has the same end-of-life date: no lifecycle difference for it.
    found = check(catalog, snapshot, "us-west-2", today=TODAY)
    assert not any(
        "lifecycle" in str(d.kind) and d.model_id.startswith("anthropic.")
        for d in found.differences
    )


@pytest.mark.parametrize("region", ["us-east-1", "us-west-2"])
def test_every_model_the_account_offers_for_fine_tuning_is_known_or_reported(
    aws: Aws, region: str
) -> None:
    catalog = load_catalog()
    client = boto3.client("bedrock", region_name=region)
    snapshot = read_snapshot(client, _pricing(), catalog, region)
    found = check(catalog, snapshot, region, today=TODAY)
    offered = snapshot.listed["FINE_TUNING"]
    known = set(catalog.all_ids()) | {i for m in catalog.unsupported for i in m.model_ids}
    reported = {d.model_id for d in found.differences} | {
        model_id for model_id in offered if any(model_id in note for note in found.notes)
    }
    assert offered - known <= reported
