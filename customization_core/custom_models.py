"""The account's custom models: their age, base model, storage price and last deployment.

``bedrock-customize spend`` lists them beside what serves (customization_core/spend.py).

Fields relied on, from botocore 1.44.8's service models (released 2026-11-20, read
2026-12-02; botocore/data/bedrock/2023-04-20/service-2.json and paginators-1.json):
ListCustomModels (paginated: nextToken, modelSummaries): modelArn, modelName,
creationTime, baseModelArn, customizationType, modelStatus; GetCustomModel: baseModelArn.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Final

from customization_core.catalog import Catalog, CustomizationType
from customization_core.spend import (
    UNKNOWN,
    Serving,
    base_model_id,
    hours_since,
    pages,
    utc_moment,
)

NEVER: Final = "never"
SERVING: Final = "serving now"


@dataclass(frozen=True)
class StoredModel:
    name: str
    arn: str
    created_at: datetime
    age_hours: float
    base_model_id: str | None
    customization_type: str | None
    run_id: str | None  # the run of this stack that trained it
    last_deployment: str  # SERVING, a time, NEVER (a run of this stack made it), or UNKNOWN
    monthly_storage_usd: float | None

    def to_dict(self) -> dict[str, Any]:
        document = asdict(self)
        document["created_at"] = self.created_at.isoformat(timespec="seconds")
        return document


def list_models(bedrock: Any) -> list[dict[str, Any]]:
    """Every custom model of the account and Region (ListCustomModels, all pages)."""
    return pages(bedrock, "list_custom_models", "modelSummaries")


def storage_price(catalog: Catalog, base: str | None, kind: str | None) -> float | None:
    """The catalog's monthly storage price of a custom model of ``base`` made by ``kind``."""
    model = catalog.find(base) if base else None
    if model is None or kind not in tuple(CustomizationType):
        return None
    custom = model.customizations.get(CustomizationType(str(kind)))
    return custom.monthly_storage_price_usd if custom else None


def _deployed_at(item: Mapping[str, Any]) -> str | None:
    deployment = item.get("deployment") or {}
    for key in ("created_at", "requested_at"):
        if deployment.get(key):
            return str(deployment[key])
    return None


def describe_models(
    models: Iterable[Mapping[str, Any]],
    *,
    runs: Iterable[Mapping[str, Any]],
    serving: Iterable[Serving],
    catalog: Catalog,
    now: datetime,
) -> list[StoredModel]:
    """Each custom model with its age, base, storage price and last deployment.

    ``runs``: every registry item of this stack. The last deployment is "serving now" when a
    listed deployment serves it, else the newest deployment a run of this stack made of it,
    "never" when a run of this stack made or used it but none deployed it, "unknown" when
    this stack's registry does not know the model (another stack's, or made by hand).
    """
    known: dict[str, list[Mapping[str, Any]]] = {}
    for item in runs:
        if item.get("model_arn"):
            known.setdefault(str(item["model_arn"]), []).append(item)
    served = {s.model_arn for s in serving}
    found = []
    for model in models:
        arn = str(model["modelArn"])
        created = utc_moment(model["creationTime"])
        base = base_model_id(model.get("baseModelArn"))
        kind = model.get("customizationType")
        mine = known.get(arn, [])
        times = sorted(t for t in (_deployed_at(i) for i in mine) if t)
        last = SERVING if arn in served else times[-1] if times else NEVER if mine else UNKNOWN
        trained = [i for i in mine if i.get("trains", True) is not False]
        found.append(
            StoredModel(
                name=str(model["modelName"]),
                arn=arn,
                created_at=created,
                age_hours=hours_since(created, now),
                base_model_id=base,
                customization_type=str(kind) if kind else None,
                run_id=str(trained[0]["run_id"]) if trained else None,
                last_deployment=last,
                monthly_storage_usd=storage_price(catalog, base, str(kind) if kind else None),
            )
        )
    return sorted(found, key=lambda m: m.created_at, reverse=True)
