"""The emulated account's Bedrock model offer, per Region, from ``account.json``.

moto implements none of GetFoundationModel, ListFoundationModels and
GetFoundationModelAvailability. Here they answer from a fixture that is kept
apart from the product's catalog (customization_core/data/models.json), so a
test can show the two drifting, as a real account and the catalog do.
CreateModelCustomizationJob is refused, with Bedrock's error, for a model,
type or Region the fixture does not offer. ``FAULTS`` injects throttling or
AccessDenied into the look-ups (the first N throttled, one count across them);
emulator/faults.py ``FAULTS``, installed with these operations, faults any
Bedrock operation by name and count.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from moto.bedrock.responses import BedrockResponse

from emulator import faults
from emulator.state import BedrockError

FIXTURE = Path(__file__).with_name("account.json")
# Availability of a model no entry overrides.
AVAILABLE: dict[str, Any] = {
    "authorizationStatus": "AUTHORIZED",
    "entitlementAvailability": "AVAILABLE",
    "agreementAvailability": {"status": "AVAILABLE"},
    "regionAvailability": "AVAILABLE",
}


@dataclass
class Faults:
    """Faults of the model look-ups: the first N throttled, or every one denied."""

    throttle_first: int = 0
    denied: bool = False
    calls: int = 0

    def reset(self) -> None:
        self.throttle_first, self.denied, self.calls = 0, False, 0

    def check(self, operation: str) -> None:
        self.calls += 1
        if self.denied:
            raise BedrockError(
                "AccessDeniedException",
                f"User is not authorized to perform: bedrock:{operation} (emulated).",
            )
        if self.calls <= self.throttle_first:
            raise BedrockError("ThrottlingException", "Rate exceeded (emulated).")


FAULTS = Faults()


@cache
def offer() -> dict[str, list[dict[str, Any]]]:
    """Region -> the model entries the account sees there."""
    regions: dict[str, list[dict[str, Any]]] = json.loads(FIXTURE.read_text("utf-8"))["regions"]
    return regions


def find(region: str, model_id: str) -> dict[str, Any] | None:
    bare = model_id.rsplit("/", 1)[-1]  # a foundation-model ARN or the id itself
    return next((m for m in offer().get(region, []) if m["modelId"] == bare), None)


def refusal(region: str, model_id: str, customization_type: str) -> str | None:
    """Bedrock's answer to a customization job the account cannot run (None: it can)."""
    entry = find(region, model_id)
    if entry is None:
        return f"The provided model identifier is invalid: {model_id} (emulated, {region})."
    if customization_type not in entry["customizationsSupported"]:
        return (
            f"The model {model_id} does not support customization type {customization_type} "
            f"in {region} (emulated)."
        )
    return None


def _details(region: str, account: str, entry: dict[str, Any]) -> dict[str, Any]:
    details = {k: v for k, v in entry.items() if k != "availability"}
    details["modelArn"] = f"arn:aws:bedrock:{region}::foundation-model/{entry['modelId']}"
    return details


def _get_foundation_model(self: BedrockResponse) -> str:
    FAULTS.check("GetFoundationModel")
    identifier = unquote(self.path.split("/foundation-models/", 1)[1])
    entry = find(self.region, identifier)
    if entry is None:
        raise BedrockError(
            "ResourceNotFoundException", f"Could not resolve the foundation model {identifier}."
        )
    return json.dumps({"modelDetails": _details(self.region, self.current_account, entry)})


def _get_foundation_model_availability(self: BedrockResponse) -> str:
    FAULTS.check("GetFoundationModelAvailability")
    identifier = unquote(self.path.split("/foundation-model-availability/", 1)[1])
    entry = find(self.region, identifier) or next(
        (m for m in offer().get(self.region, []) if m["modelId"].startswith(identifier + ":")),
        None,
    )
    if entry is None:
        raise BedrockError("ResourceNotFoundException", f"Model {identifier} was not found.")
    return json.dumps({"modelId": identifier, **AVAILABLE, **entry.get("availability", {})})


def _list_foundation_models(self: BedrockResponse) -> str:
    FAULTS.check("ListFoundationModels")
    wanted = self.querystring.get("byCustomizationType", [None])[0]
    summaries = [
        _details(self.region, self.current_account, entry)
        for entry in offer().get(self.region, [])
        if wanted is None or wanted in entry["customizationsSupported"]
    ]
    return json.dumps({"modelSummaries": summaries})


def install(assign: Callable[[Any, str, Any], None] = setattr) -> None:
    """Add the operations (``assign`` is setattr, or a test's monkeypatch.setattr)."""
    FAULTS.reset()
    # Tests of the handlers install the account alone: the faults registry comes with it.
    faults.install(assign)
    methods = {
        "get_foundation_model": _get_foundation_model,
        "get_foundation_model_availability": _get_foundation_model_availability,
        "list_foundation_models": _list_foundation_models,
    }
    for name, method in methods.items():
        assign(BedrockResponse, name, method)
