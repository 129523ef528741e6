"""A low-level DynamoDB client seen as the boto3 ``Table`` the registry takes.

The CLI holds clients (made for a stack's account and Region, or the local
emulator's endpoint), not resources; this wraps one and the table's name so that
customization_core/registry.py reads and writes for the CLI exactly as it does for
the handlers. Values go in and come out as boto3's resource layer has them
(TypeSerializer, TypeDeserializer); ``meta.client`` is the client, for its exceptions.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Final

# The request and response members that hold DynamoDB-typed values.
_MAPS_IN: Final = ("Key", "Item", "ExclusiveStartKey")
_MAPS_OUT: Final = ("Item", "Attributes", "LastEvaluatedKey")


class ClientTable:
    """The Table methods the registry calls, over ``client`` and the table ``name``."""

    def __init__(self, client: Any, name: str) -> None:
        from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

        self.meta = SimpleNamespace(client=client)
        self._client, self._name = client, name
        self._serializer, self._deserializer = TypeSerializer(), TypeDeserializer()

    def get_item(self, **request: Any) -> dict[str, Any]:
        return self._call("get_item", request)

    def put_item(self, **request: Any) -> dict[str, Any]:
        return self._call("put_item", request)

    def update_item(self, **request: Any) -> dict[str, Any]:
        return self._call("update_item", request)

    def query(self, **request: Any) -> dict[str, Any]:
        return self._call("query", request)

    def scan(self, **request: Any) -> dict[str, Any]:
        return self._call("scan", request)

    def _call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        typed = {**request, "TableName": self._name}
        for member in (*_MAPS_IN, "ExpressionAttributeValues"):
            if member in typed:
                typed[member] = self._typed(typed[member])
        answer: dict[str, Any] = getattr(self._client, operation)(**typed)
        for member in _MAPS_OUT:
            if member in answer:
                answer[member] = self._untyped(answer[member])
        if "Items" in answer:
            answer["Items"] = [self._untyped(item) for item in answer["Items"]]
        return answer

    def _typed(self, values: dict[str, Any]) -> dict[str, Any]:
        return {k: self._serializer.serialize(v) for k, v in values.items()}

    def _untyped(self, values: dict[str, Any]) -> dict[str, Any]:
        return {k: self._deserializer.deserialize(v) for k, v in values.items()}
