"""The run registry: one DynamoDB item per run, with its status history.

Item: ``run_id`` (partition key), ``status``, ``updated_at`` (the GSI
``by-status`` lists runs by status and time), ``history`` (a list of
``{status, at, reason}``), and the run's fields as they become known.
The table is passed in (a boto3 ``Table``): this module imports no boto3.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

from customization_core.run import Run, Status

BY_STATUS_INDEX: Final = "by-status"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _dynamo(value: Any) -> Any:
    """Floats become Decimals (DynamoDB has no float); empty strings are dropped."""
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _dynamo(v) for k, v in value.items() if v is not None and v != ""}
    if isinstance(value, list | tuple):
        return [_dynamo(v) for v in value]
    return value


class Registry:
    def __init__(self, table: Any, *, clock: Callable[[], str] = _now) -> None:
        self._table = table
        self._clock = clock

    def claim(self, run: Run) -> bool:
        """Record a new run; False when this object version already has one (a re-delivery).

        The same execution claiming again is its own retry (the state machine retries
        ValidateRequest after a throttled Bedrock look-up): it keeps its claim while the
        run is still RECEIVED.
        """
        now = self._clock()
        item = _dynamo(
            {
                **run.state(),
                "status": run.status.value,
                "created_at": now,
                "updated_at": now,
                "history": [{"status": run.status.value, "at": now}],
            }
        )
        try:
            self._table.put_item(Item=item, ConditionExpression="attribute_not_exists(run_id)")
        except self._table.meta.client.exceptions.ConditionalCheckFailedException:
            held = self.get(run.run_id) or {}
            return bool(
                held.get("execution_arn") == run.execution_arn
                and held.get("status") == Status.RECEIVED.value
            )
        return True

    def update(self, run: Run, status: Status, *, reason: str | None = None, **fields: Any) -> None:
        """Move ``run`` to ``status`` (with ``reason``) and record ``fields``; appends to the history."""
        now = self._clock()
        entry = _dynamo({"status": status.value, "at": now, "reason": reason})
        values: dict[str, Any] = {
            ":status": status.value,
            ":now": now,
            ":entry": [entry],
            ":empty": [],
        }
        sets = [
            "#status = :status",
            "updated_at = :now",
            "history = list_append(if_not_exists(history, :empty), :entry)",
        ]
        names = {"#status": "status"}
        if reason is not None:
            sets.append("reason = :reason")
            values[":reason"] = reason
        for i, (name, value) in enumerate(sorted(fields.items())):
            if value is None:
                continue
            names[f"#f{i}"] = name
            values[f":f{i}"] = _dynamo(value)
            sets.append(f"#f{i} = :f{i}")
        self._table.update_item(
            Key={"run_id": run.run_id},
            UpdateExpression="SET " + ", ".join(sets),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
        run.status = status
        if reason is not None:
            run.reason = reason

    def get(self, run_id: str) -> dict[str, Any] | None:
        item: dict[str, Any] | None = self._table.get_item(Key={"run_id": run_id}).get("Item")
        return item

    def by_status(self, status: Status) -> list[dict[str, Any]]:
        """Every run in ``status`` (the by-status index), all pages."""
        items: list[dict[str, Any]] = []
        query: dict[str, Any] = {
            "IndexName": BY_STATUS_INDEX,
            "KeyConditionExpression": "#s = :s",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {":s": status.value},
        }
        while True:
            page = self._table.query(**query)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return items
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
