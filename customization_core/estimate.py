"""One estimate of everything a run may spend, shown apart and in total, before any of it.

The parts, each with its price and where the price came from:

- training: billed tokens (tokens x epochs) x the training price (customization_core/cost.py);
- storage: the custom model's first month of storage;
- deployment: Provisioned Throughput, model units x hours x the hourly no-commitment
  price; an on-demand deployment has no hourly charge, so it shows the price of 1,000
  requests of the evaluation's size as a guide;
- evaluation: the requests the evaluation makes, priced on demand (the base model always,
  the custom model too when it is deployed on demand).

A part whose price is unknown makes the total unknown: an unknown total cannot be shown
to be under a threshold or a budget, so a person decides (``approval_reasons``).
Source of what is billed: https://aws.amazon.com/bedrock/pricing/ (read 2026-12-02).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Final, Literal

from customization_core.catalog import Catalog, CustomizationType, Model
from customization_core.cost import CostEstimate, TeacherCost

# AWS's pricing pages count a month as 730 hours.
HOURS_PER_MONTH: Final = 730
# A deployment with no end time (ttlHours: null) is priced for its first month.
NO_END_HOURS: Final = HOURS_PER_MONTH
# The evaluation's answers are at most this long (customization_core/evaluate_step.py).
ANSWER_TOKENS: Final = 512
GUIDE_REQUESTS: Final = 1000

PartName = Literal["training", "teacher", "storage", "deployment", "evaluation"]


def money(usd: float | None) -> str:
    """Dollars as people read them: cents above a cent, two figures below (``$0.004``)."""
    if usd is None:
        return "unknown"
    if usd == 0:
        return "$0.00"
    if abs(usd) >= 0.01:
        return f"${usd:,.2f}"
    digits = 1 - math.floor(math.log10(abs(usd)))
    text = f"{usd:.{digits}f}".rstrip("0")
    return f"${text}"


@dataclass(frozen=True)
class Part:
    """One thing the run pays for: its dollars (None: no price known), how, and the price's source."""

    name: PartName
    usd: float | None
    detail: str
    source: str

    def line(self) -> str:
        return f"{self.name}: {money(self.usd)} ({self.detail})"


@dataclass(frozen=True)
class Estimate:
    parts: tuple[Part, ...]

    @property
    def total_usd(self) -> float | None:
        if any(p.usd is None for p in self.parts):
            return None
        return round(sum(p.usd or 0.0 for p in self.parts), 9)

    @property
    def known_usd(self) -> float:
        """What the parts with a price add up to (a floor when the total is unknown)."""
        return round(sum(p.usd or 0.0 for p in self.parts), 9)

    @property
    def unknown(self) -> tuple[PartName, ...]:
        return tuple(p.name for p in self.parts if p.usd is None)

    def part(self, name: PartName) -> Part | None:
        return next((p for p in self.parts if p.name == name), None)

    def total_line(self) -> str:
        if self.total_usd is not None:
            return f"total: {money(self.total_usd)}"
        return (
            f"total: unknown, at least {money(self.known_usd)} (no price for: "
            f"{', '.join(self.unknown)})"
        )

    def lines(self) -> list[str]:
        """The parts, then the total: what check, cost, the approval and the notice print."""
        return [*(p.line() for p in self.parts), self.total_line()]

    def to_dict(self) -> dict[str, Any]:
        return {
            "parts": [asdict(p) for p in self.parts],
            "total_usd": self.total_usd,
            "known_usd": self.known_usd,
        }

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> Estimate:
        return cls(
            tuple(
                Part(
                    name=p["name"],
                    usd=None if p.get("usd") is None else float(p["usd"]),
                    detail=str(p.get("detail", "")),
                    source=str(p.get("source", "")),
                )
                for p in document.get("parts") or ()
            )
        )


def estimate_run(
    *,
    model: Model | None,
    kind: str | None,
    training: CostEstimate | None,
    deploy: Mapping[str, Any] | None,
    evaluate: Mapping[str, Any] | None,
    request_tokens: int | None,
    trains: bool = True,
) -> Estimate:
    """The run's estimate. ``deploy`` and ``evaluate`` are the manifest's blocks (camelCase).

    ``request_tokens``: the mean tokens of one record (an evaluation prompt's size).
    ``trains``: False for a run that deploys an existing custom model (no training and no
    new storage).
    """
    parts: list[Part] = []
    if trains:
        parts.append(_training(training))
        if training is not None and training.teacher is not None:
            parts.append(_teacher(training.teacher))
        parts.append(_storage(model, kind))
    mode = str((deploy or {}).get("mode", "none"))
    if mode != "none":
        parts.append(_deployment(model, deploy or {}, request_tokens))
        if evaluate is not None:
            parts.append(_evaluation(model, mode, evaluate, request_tokens))
    return Estimate(tuple(parts))


def estimate_of(
    catalog: Catalog,
    *,
    model_id: str | None,
    kind: str | None,
    training_cost: Mapping[str, Any] | None,
    deploy: Mapping[str, Any] | None,
    evaluate: Mapping[str, Any] | None,
    request_tokens: int | None,
    trains: bool = True,
) -> Estimate:
    """``estimate_run`` from what a run or a check carries: ids, the validator's cost document."""
    return estimate_run(
        model=catalog.find(model_id) if model_id else None,
        kind=kind,
        training=CostEstimate.from_dict(training_cost) if training_cost else None,
        deploy=deploy,
        evaluate=evaluate,
        request_tokens=request_tokens,
        trains=trains,
    )


def _training(training: CostEstimate | None) -> Part:
    if training is None:
        return Part("training", None, "not estimated: the data was not counted", "none")
    return Part(
        "training",
        training.estimated_usd,
        f"{training.training_tokens:,} tokens x {training.epochs} epoch(s) = "
        f"{training.billed_tokens:,} billed tokens x "
        f"{_per_1k(training.price_per_1k_tokens_usd)} per 1,000",
        training.price_source,
    )


def _teacher(teacher: TeacherCost) -> Part:
    return Part(
        "teacher",
        teacher.estimated_usd,
        f"{teacher.model_id} answers the prompts: {teacher.prompt_tokens:,} input tokens x "
        f"{_per_1k(teacher.input_per_1k_tokens_usd)} + {teacher.response_tokens:,} output "
        f"tokens x {_per_1k(teacher.output_per_1k_tokens_usd)} per 1,000",
        teacher.source,
    )


def _storage(model: Model | None, kind: str | None) -> Part:
    custom = (
        model.customizations.get(CustomizationType(kind))
        if model and kind in tuple(CustomizationType)
        else None
    )
    price = custom.monthly_storage_price_usd if custom else None
    source = (
        f"{custom.price_source} (read {custom.price_read})"
        if custom and custom.price_source and price is not None
        else "no storage price in the catalog for this model"
    )
    return Part("storage", price, "the custom model's first month of storage", source)


def _deployment(model: Model | None, deploy: Mapping[str, Any], request_tokens: int | None) -> Part:
    prices = model.deployment_prices if model else None
    source = (
        f"{prices.source} (read {prices.read.isoformat()})"
        if prices
        else "no deployment price in the catalog for this model"
    )
    if deploy.get("mode") == "provisioned":
        units = int(deploy.get("modelUnits", 1))
        ttl = deploy.get("ttlHours")
        hours = float(ttl) if ttl is not None else float(NO_END_HOURS)
        hourly = prices.provisioned_hourly_usd.get("none") if prices else None
        span = f"{hours:g} h" if ttl is not None else f"{hours:g} h (no end time: its first month)"
        detail = (
            f"Provisioned Throughput, {units} model unit(s) x {span} x "
            f"{money(hourly)} per model unit per hour, no commitment"
        )
        usd = round(units * hours * hourly, 9) if hourly is not None else None
        return Part("deployment", usd, detail, source)
    per_request = _request_usd(model, request_tokens)
    guide = (
        f"{money(per_request * GUIDE_REQUESTS)} per {GUIDE_REQUESTS:,} requests of "
        f"about {request_tokens or 0:,} input and {ANSWER_TOKENS} output tokens"
        if per_request is not None
        else "its per-token price is not in the catalog"
    )
    # An on-demand deployment bills the tokens it serves, nothing by the hour.
    return Part("deployment", 0.0, f"on demand, no hourly charge; {guide}", source)


def _evaluation(
    model: Model | None, mode: str, evaluate: Mapping[str, Any], request_tokens: int | None
) -> Part:
    samples = int(evaluate.get("samples", 20))
    prompts = len(evaluate.get("prompts") or ())
    requests = samples + prompts
    # The base model answers on demand; the custom one too when it is deployed on demand.
    calls = requests * (2 if mode == "on-demand" else 1)
    per_request = _request_usd(model, request_tokens)
    prices = model.deployment_prices if model else None
    source = (
        f"{prices.source} (read {prices.read.isoformat()})"
        if prices
        else "no on-demand price in the catalog for this model"
    )
    usd = round(calls * per_request, 9) if per_request is not None else None
    return Part(
        "evaluation",
        usd,
        f"{calls:,} on-demand requests of about {request_tokens or 0:,} input and "
        f"{ANSWER_TOKENS} output tokens",
        source,
    )


def _request_usd(model: Model | None, request_tokens: int | None) -> float | None:
    prices = model.deployment_prices if model else None
    if prices is None or request_tokens is None:
        return None
    if prices.on_demand_input_per_1k_tokens_usd is None:
        return None
    if prices.on_demand_output_per_1k_tokens_usd is None:
        return None
    return (
        request_tokens / 1000 * prices.on_demand_input_per_1k_tokens_usd
        + ANSWER_TOKENS / 1000 * prices.on_demand_output_per_1k_tokens_usd
    )


def _per_1k(price: float | None) -> str:
    return money(price) if price is not None else "no price"


# The gates -----------------------------------------------------------------------------


def approval_reasons(
    estimate: Estimate,
    deploy: Mapping[str, Any] | None,
    *,
    threshold_usd: float | None,
    max_unapproved_units: int,
    budget_usd: float | None = None,
) -> list[str]:
    """Why a person must approve the run before anything is spent (empty: nobody need).

    The deployment gates hold whatever the threshold: no end time, or more model units
    than the stage allows without approval.
    """
    reasons: list[str] = []
    total = estimate.total_usd
    if threshold_usd is not None:
        if total is None:
            reasons.append(
                f"the price of {', '.join(estimate.unknown)} is unknown, so the total cannot "
                f"be shown to be under the approval threshold {money(threshold_usd)}"
            )
        elif total > threshold_usd:
            reasons.append(
                f"the estimate {money(total)} is above the approval threshold {money(threshold_usd)}"
            )
        deployment = estimate.part("deployment")
        if deployment and deployment.usd is not None and deployment.usd > threshold_usd:
            reasons.append(
                f"the deployment alone is estimated at {money(deployment.usd)}, above "
                f"{money(threshold_usd)}"
            )
    if budget_usd is not None and total is None and estimate.known_usd <= budget_usd:
        reasons.append(
            f"the price of {', '.join(estimate.unknown)} is unknown, so the total cannot be "
            f"shown to be within the manifest's budgetUsd {money(budget_usd)}"
        )
    mode = str((deploy or {}).get("mode", "none"))
    if mode != "none" and (deploy or {}).get("ttlHours", 0) is None:
        reasons.append("the deployment has no end time (deploy.ttlHours: null)")
    units = int((deploy or {}).get("modelUnits", 1))
    if mode == "provisioned" and units > max_unapproved_units:
        reasons.append(
            f"{units} model units is more than the {max_unapproved_units} a run may deploy "
            "without approval (maxUnapprovedModelUnits)"
        )
    return reasons


def budget_problem(estimate: Estimate, budget_usd: float | None) -> str | None:
    """Why the run is over the manifest's budgetUsd (the total, or already its known parts)."""
    if budget_usd is None:
        return None
    total = estimate.total_usd
    if total is not None and total > budget_usd:
        return f"The estimated total {money(total)} is above the manifest's budgetUsd {money(budget_usd)}"
    if total is None and estimate.known_usd > budget_usd:
        return (
            f"The parts with a price already come to {money(estimate.known_usd)}, above the "
            f"manifest's budgetUsd {money(budget_usd)}"
        )
    return None
