"""The registry as the CLI reaches it: the core's Registry over a low-level DynamoDB client.

The client is stubbed (botocore Stubber): each test says which request the registry
sends, typed as DynamoDB takes it, and what it makes of the typed answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from botocore.stub import Stubber

from customization_core.contract import Status
from customization_core.registry import BY_STATUS_INDEX, Registry, history_entry, plain
from customization_core.registry_client import ClientTable
from tests.unit.stubs import offline_client

TABLE = "runs"
NOW = "2026-12-02T08:00:00+00:00"


@pytest.fixture
def stubbed() -> Iterator[tuple[Registry, Stubber]]:
    client = offline_client("dynamodb")
    with Stubber(client) as stub:
        yield Registry(ClientTable(client, TABLE), clock=lambda: NOW), stub
        stub.assert_no_pending_responses()


def _item(run_id: str, status: str, **fields: Any) -> dict[str, Any]:
    return {"run_id": {"S": run_id}, "status": {"S": status}, **fields}


def test_get_reads_the_item_as_python_values(stubbed: tuple[Registry, Stubber]) -> None:
    registry, stub = stubbed
    stub.add_response(
        "get_item",
        {"Item": _item("run-a", "SUCCEEDED", cost_usd={"N": "13.95"}, epochs={"N": "2"})},
        {"TableName": TABLE, "Key": {"run_id": {"S": "run-a"}}},
    )

    found = registry.get("run-a")

    assert found == {
        "run_id": "run-a",
        "status": "SUCCEEDED",
        "cost_usd": Decimal("13.95"),
        "epochs": Decimal(2),
    }
    assert plain(found) == {
        "run_id": "run-a",
        "status": "SUCCEEDED",
        "cost_usd": 13.95,
        "epochs": 2,
    }


def test_a_missing_run_is_none(stubbed: tuple[Registry, Stubber]) -> None:
    registry, stub = stubbed
    stub.add_response("get_item", {}, {"TableName": TABLE, "Key": {"run_id": {"S": "nope"}}})

    assert registry.get("nope") is None


def test_by_status_newest_first_asks_one_page_of_the_index(
    stubbed: tuple[Registry, Stubber],
) -> None:
    registry, stub = stubbed
    stub.add_response(
        "query",
        {"Items": [_item("run-b", "FAILED"), _item("run-a", "FAILED")]},
        {
            "TableName": TABLE,
            "IndexName": BY_STATUS_INDEX,
            "KeyConditionExpression": "#s = :s",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {":s": {"S": "FAILED"}},
            "ScanIndexForward": False,
            "Limit": 2,
        },
    )

    runs = registry.by_status(Status.FAILED, newest_first=True, limit=2)

    assert [r["run_id"] for r in runs] == ["run-b", "run-a"]


def test_scan_reads_every_page(stubbed: tuple[Registry, Stubber]) -> None:
    registry, stub = stubbed
    last = {"run_id": {"S": "run-a"}}
    stub.add_response(
        "scan",
        {"Items": [_item("run-a", "QUEUED")], "LastEvaluatedKey": last},
        {"TableName": TABLE},
    )
    stub.add_response(
        "scan",
        {"Items": [_item("run-b", "DEPLOYED")]},
        {"TableName": TABLE, "ExclusiveStartKey": last},
    )

    assert [r["run_id"] for r in registry.scan()] == ["run-a", "run-b"]


def _extend_request(reason: str) -> dict[str, Any]:
    entry = {"M": {"status": {"S": "DEPLOYED"}, "at": {"S": NOW}, "reason": {"S": reason}}}
    return {
        "TableName": TABLE,
        "Key": {"run_id": {"S": "run-a"}},
        "ConditionExpression": "#s = :deployed AND deployment.expires_at = :old",
        "UpdateExpression": "SET deployment.expires_at = :new, updated_at = :now, "
        "history = list_append(history, :entry)",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": {
            ":deployed": {"S": "DEPLOYED"},
            ":old": {"S": "2026-12-02T10:00:00Z"},
            ":new": {"S": "2026-12-02T12:00:00Z"},
            ":now": {"S": NOW},
            ":entry": {"L": [entry]},
        },
    }


def test_extend_moves_the_end_time_and_appends_a_history_entry(
    stubbed: tuple[Registry, Stubber],
) -> None:
    registry, stub = stubbed
    stub.add_response("update_item", {}, _extend_request("two more hours"))

    moved = registry.extend_deployment(
        "run-a", old="2026-12-02T10:00:00Z", new="2026-12-02T12:00:00Z", reason="two more hours"
    )

    assert moved is True


def test_extend_is_refused_when_the_run_changed_meanwhile(
    stubbed: tuple[Registry, Stubber],
) -> None:
    registry, stub = stubbed
    stub.add_client_error(
        "update_item",
        service_error_code="ConditionalCheckFailedException",
        expected_params=_extend_request("two more hours"),
    )

    moved = registry.extend_deployment(
        "run-a", old="2026-12-02T10:00:00Z", new="2026-12-02T12:00:00Z", reason="two more hours"
    )

    assert moved is False


def test_a_history_entry_carries_its_reason_only_when_there_is_one() -> None:
    assert history_entry(Status.QUEUED, NOW) == {"status": "QUEUED", "at": NOW}
    assert history_entry(Status.FAILED, NOW, "boom") == {
        "status": "FAILED",
        "at": NOW,
        "reason": "boom",
    }


def test_plain_hides_the_named_attributes_at_every_level() -> None:
    item = {"run_id": "r", "approval_token": "t", "history": [{"approval_token": "t", "n": 1}]}

    assert plain(item, hide=frozenset({"approval_token"})) == {
        "run_id": "r",
        "history": [{"n": 1}],
    }
