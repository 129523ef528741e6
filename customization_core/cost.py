"""Training cost: tokens x epochs x the catalog's price (or the deployment's override)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from customization_core.request import CheckedRequest


@dataclass(frozen=True)
class CostEstimate:
    epochs: int
    training_tokens: int
    billed_tokens: int
    price_per_1k_tokens_usd: float | None
    price_source: str
    estimated_usd: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "epochs": self.epochs,
            "training_tokens": self.training_tokens,
            "billed_tokens": self.billed_tokens,
            "price_per_1k_tokens_usd": self.price_per_1k_tokens_usd,
            "price_source": self.price_source,
            "estimated_usd": self.estimated_usd,
        }

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> CostEstimate:
        price = document.get("price_per_1k_tokens_usd")
        usd = document.get("estimated_usd")
        return cls(
            epochs=int(document["epochs"]),
            training_tokens=int(document["training_tokens"]),
            billed_tokens=int(document["billed_tokens"]),
            price_per_1k_tokens_usd=None if price is None else float(price),
            price_source=str(document.get("price_source", "")),
            estimated_usd=None if usd is None else float(usd),
        )


def estimate_cost(
    request: CheckedRequest,
    training_tokens: int,
    *,
    catalog_date: date,
    price_override: float | None = None,
) -> CostEstimate | None:
    """Bedrock bills customization per token processed: training tokens x epochs.

    Source: https://aws.amazon.com/bedrock/pricing/ (model customization).
    Token counts are the validator's over-estimates, so the cost errs high too.
    """
    custom = request.customization
    if custom is None:
        return None
    epochs = request.effective_int("epochCount") or 1
    billed = training_tokens * epochs
    if price_override is not None:
        price: float | None = price_override
        source = "deployment setting (overrides the catalog)"
    else:
        price = custom.training_price_per_1k_tokens_usd
        source = (
            f"catalog of {catalog_date.isoformat()}: {custom.price_source}"
            if price is not None
            else "no price in the catalog for this model; supply one (stage setting trainingPricesUsd, or --price-per-1k-tokens)"
        )
    # Not rounded to cents: a small run costs fractions of a cent, shown as such (estimate.money).
    estimated = round(billed / 1000 * price, 6) if price is not None else None
    return CostEstimate(epochs, training_tokens, billed, price, source, estimated)
