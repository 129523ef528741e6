"""The run registry: one DynamoDB item per run, with its status history.

Item: ``run_id`` (partition key), ``status``, ``updated_at`` (the GSI
``by-status`` lists runs by status and time), ``history`` (a list of
``{status, at, reason}``, history_entry), and the run's fields as they become known.
The one gateway to the table for the handlers and the CLI alike: writes (claim, update,
note, answer, annotate, extend_deployment) and reads (get, by_status, scan). The table
is passed in (a boto3 ``Table``, or registry_client.ClientTable over a low-level
client): this module imports no boto3.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

from customization_core.contract import Status, sources_of
from customization_core.run import Run

BY_STATUS_INDEX: Final = "by-status"
# A sparse index of the runs that own a deployment which may be alive (created, being
# created, or not deleted): the sweep reads it whatever the run's status.
LIVE_DEPLOYMENTS_INDEX: Final = "live-deployments"
LIVE_ATTRIBUTE: Final = "deployment_live"
LIVE: Final = "LIVE"


class TransitionRefusedError(Exception):
    """The registry refused a status change the run contract does not allow."""

    def __init__(self, run_id: str, held: Status | None, wanted: Status) -> None:
        self.run_id, self.held, self.wanted = run_id, held, wanted
        where = held.value if held else "no registry item"
        super().__init__(f"Run {run_id} cannot move from {where} to {wanted.value}.")


class RunEndedError(TransitionRefusedError):
    """The run already ended (CANCELLED wins every race): the caller stops quietly.

    A handler that loses this race undoes what it just created before raising it.
    """


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def history_entry(status: Status, at: str, reason: str | None = None) -> dict[str, Any]:
    """One entry of a run's ``history``: the status it entered, when, and why (if said)."""
    entry = {"status": status.value, "at": at}
    return {**entry, "reason": reason} if reason else entry


# Never shown (CLI, report page): a task token (stacks of an earlier version stored it) and
# its ciphertext.
SECRET_ATTRIBUTES: Final = frozenset({"approval_token", "approval_token_ciphertext"})


def plain(value: Any, *, hide: frozenset[str] = frozenset()) -> Any:
    """A registry value as JSON types (DynamoDB's Decimals become ints or floats).

    ``hide``: attribute names left out at every level (what the CLI never prints).
    """
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain(v, hide=hide) for k, v in value.items() if k not in hide}
    if isinstance(value, list):
        return [plain(v, hide=hide) for v in value]
    return value


def run_of_item(item: dict[str, Any]) -> Run:
    """The run document of a registry item (its Run fields, as JSON types)."""
    return Run.model_validate({k: v for k, v in plain(item).items() if k in Run.model_fields})


def _dynamo(value: Any) -> Any:
    """Floats become Decimals (DynamoDB has no float); empty strings are dropped."""
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _dynamo(v) for k, v in value.items() if v is not None and v != ""}
    if isinstance(value, list | tuple):
        return [_dynamo(v) for v in value]
    return value


def _expression(
    sets: list[str],
    names: dict[str, str],
    values: dict[str, Any],
    fields: dict[str, Any],
    live_deployment: bool | None,
) -> str:
    """The UpdateExpression: ``sets``, each field that has a value, and the live-index key.

    ``live_deployment`` True adds the run to the live-deployments index, False removes it,
    None leaves it as it is. ``names`` and ``values`` are filled in.
    """
    sets = list(sets)
    for i, (name, value) in enumerate(sorted(fields.items())):
        if value is None:
            continue
        names[f"#f{i}"] = name
        values[f":f{i}"] = _dynamo(value)
        sets.append(f"#f{i} = :f{i}")
    removes = []
    if live_deployment is not None:
        names["#live"] = LIVE_ATTRIBUTE
        if live_deployment:
            values[":live"] = LIVE
            sets.append("#live = :live")
        else:
            removes.append("#live")
    return "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")


class Registry:
    def __init__(self, table: Any, *, clock: Callable[[], str] = _now) -> None:
        self._table = table
        self._clock = clock

    def claim(self, run: Run) -> bool:
        """Record a new run; False when this object version already has one (a re-delivery).

        The same execution claiming again is its own retry (the state machine retries
        ValidateRequest after a throttled Bedrock look-up, or after Lambda lost its
        answer): it keeps its claim, whatever the run's status.
        """
        now = self._clock()
        item = _dynamo(
            {
                **run.state(),
                "status": run.status.value,
                "created_at": now,
                "updated_at": now,
                "history": [history_entry(run.status, now)],
            }
        )
        try:
            self._table.put_item(Item=item, ConditionExpression="attribute_not_exists(run_id)")
        except self._table.meta.client.exceptions.ConditionalCheckFailedException:
            held = self.get(run.run_id) or {}
            return bool(held.get("execution_arn") == run.execution_arn)
        return True

    def update(
        self,
        run: Run,
        status: Status,
        *,
        reason: str | None = None,
        live_deployment: bool | None = None,
        **fields: Any,
    ) -> None:
        """Move ``run`` to ``status`` (with ``reason``) and record ``fields``; appends to the history.

        Conditional: only from a status the contract lets move to ``status``
        (customization_core/contract.py). Raises RunEndedError when the run already
        ended, TransitionRefusedError for any other refused move. ``live_deployment``
        True or False adds the run to, or removes it from, the live-deployments index.
        """
        now = self._clock()
        entry = history_entry(status, now, reason)
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
        expression = _expression(sets, names, values, fields, live_deployment)
        sources = sources_of(status)
        for i, source in enumerate(sources):
            values[f":from{i}"] = source.value
        try:
            self._table.update_item(
                Key={"run_id": run.run_id},
                UpdateExpression=expression,
                ConditionExpression="#status IN ("
                + ", ".join(f":from{i}" for i in range(len(sources)))
                + ")",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except self._table.meta.client.exceptions.ConditionalCheckFailedException:
            item = self.get(run.run_id) or {}
            held = Status(str(item["status"])) if item else None
            if held is status and item.get("execution_arn") == run.execution_arn:
                # This execution's own end, written before its answer was lost (a retry):
                # done already, nothing to append.
                run.status = status
                return
            if held is not None and held.terminal:
                raise RunEndedError(run.run_id, held, status) from None
            raise TransitionRefusedError(run.run_id, held, status) from None
        run.status = status
        if reason is not None:
            run.reason = reason

    def note(
        self, run: Run, what: str, *, live_deployment: bool | None = None, **fields: Any
    ) -> None:
        """Record what a handler did after the run ended (``cleanup``), its status unchanged.

        A handler that lost a race with a cancel stops the job or deletes the deployment it
        had just created, and says so here; ``fields`` (a deployment's final state) too.
        """
        now = self._clock()
        names = {"#cleanup": "cleanup"}
        values: dict[str, Any] = {":entry": [{"at": now, "what": what}], ":empty": []}
        sets = ["#cleanup = list_append(if_not_exists(#cleanup, :empty), :entry)"]
        expression = _expression(sets, names, values, fields, live_deployment)
        self._table.update_item(
            Key={"run_id": run.run_id},
            UpdateExpression=expression,
            ConditionExpression="attribute_exists(run_id)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def answer(self, run_id: str, **fields: Any) -> bool:
        """Record the first answer to a run waiting for approval; False when it is not the first.

        Conditional: the run is AWAITING_APPROVAL and nobody answered it yet (``answered_by``),
        so of two answers racing exactly one is recorded (customization_core/approval.py).
        """
        names = {"#status": "status", "#by": "answered_by"}
        values: dict[str, Any] = {":waiting": Status.AWAITING_APPROVAL.value}
        try:
            self._table.update_item(
                Key={"run_id": run_id},
                UpdateExpression=_expression([], names, values, fields, None),
                ConditionExpression="#status = :waiting AND attribute_not_exists(#by)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except self._table.meta.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def annotate(self, run_id: str, *, remove: tuple[str, ...] = (), **fields: Any) -> None:
        """Record ``fields`` on a run and drop the attributes ``remove`` names; status unchanged."""
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        given = any(value is not None for value in fields.values())
        parts = [_expression([], names, values, fields, None)] if given else []
        if remove:
            names.update({f"#r{i}": name for i, name in enumerate(remove)})
            parts.append("REMOVE " + ", ".join(f"#r{i}" for i in range(len(remove))))
        if not parts:
            return
        self._table.update_item(
            Key={"run_id": run_id},
            UpdateExpression=" ".join(parts),
            ConditionExpression="attribute_exists(run_id)",
            ExpressionAttributeNames=names,
            **({"ExpressionAttributeValues": values} if values else {}),
        )

    def mark_notified(self, run: Run) -> None:
        """Record that the run's final notification went out (``notified_at``)."""
        self._table.update_item(
            Key={"run_id": run.run_id},
            UpdateExpression="SET notified_at = :now",
            ConditionExpression="attribute_exists(run_id)",
            ExpressionAttributeValues={":now": self._clock()},
        )

    def status_of(self, run_id: str) -> Status | None:
        item = self.get(run_id)
        return Status(item["status"]) if item else None

    def get(self, run_id: str) -> dict[str, Any] | None:
        item: dict[str, Any] | None = self._table.get_item(Key={"run_id": run_id}).get("Item")
        return item

    def extend_deployment(self, run_id: str, *, old: str, new: str, reason: str) -> bool:
        """Move a DEPLOYED run's deployment end time from ``old`` to ``new``; appends to the history.

        Only while it is still deployed with the end time ``old``: the workflow may be
        deleting it, or someone else extending it, at this moment. False when it changed.
        """
        now = self._clock()
        try:
            self._table.update_item(
                Key={"run_id": run_id},
                ConditionExpression="#s = :deployed AND deployment.expires_at = :old",
                UpdateExpression="SET deployment.expires_at = :new, updated_at = :now, "
                "history = list_append(history, :entry)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":deployed": Status.DEPLOYED.value,
                    ":old": old,
                    ":new": new,
                    ":now": now,
                    ":entry": [history_entry(Status.DEPLOYED, now, reason)],
                },
            )
        except self._table.meta.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def by_status(
        self, status: Status, *, newest_first: bool = False, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Runs in ``status`` (the by-status index): all pages, or the first ``limit`` runs."""
        return self._query(
            BY_STATUS_INDEX, "status", status.value, newest_first=newest_first, limit=limit
        )

    def with_live_deployment(self) -> list[dict[str, Any]]:
        """Every run, in any status, that owns a deployment which may be alive."""
        return self._query(LIVE_DEPLOYMENTS_INDEX, LIVE_ATTRIBUTE, LIVE)

    def scan(self) -> list[dict[str, Any]]:
        """Every run of the table, all pages, in no order."""
        return self._pages(self._table.scan, {})

    def _query(
        self,
        index: str,
        attribute: str,
        value: str,
        *,
        newest_first: bool = False,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        query: dict[str, Any] = {
            "IndexName": index,
            "KeyConditionExpression": "#s = :s",
            "ExpressionAttributeNames": {"#s": attribute},
            "ExpressionAttributeValues": {":s": value},
        }
        if newest_first:
            query["ScanIndexForward"] = False
        if limit:  # one page of at most ``limit`` items
            return list(self._table.query(**query, Limit=limit).get("Items", []))
        return self._pages(self._table.query, query)

    @staticmethod
    def _pages(
        call: Callable[..., dict[str, Any]], request: dict[str, Any]
    ) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            page = call(**request)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return items
            request = {**request, "ExclusiveStartKey": page["LastEvaluatedKey"]}
