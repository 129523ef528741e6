"""The run's estimate in parts, its gates and its money, against the catalog's prices."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from customization_core.catalog import load_catalog
from customization_core.cost import CostEstimate
from customization_core.estimate import (
    NO_END_HOURS,
    Estimate,
    approval_reasons,
    budget_problem,
    estimate_run,
    money,
)

NOVA_LITE = "amazon.nova-lite-v1:0:300k"
TITAN_LITE = "amazon.titan-text-lite-v1:0:4k"


def _training(usd: float | None, tokens: int = 10_000, epochs: int = 2) -> CostEstimate:
    price = None if usd is None else usd / (tokens * epochs / 1000)
    return CostEstimate(epochs, tokens, tokens * epochs, price, "a test price", usd)


def _estimate(
    model_id: str = TITAN_LITE,
    *,
    training: CostEstimate | None = None,
    deploy: dict[str, Any] | None = None,
    evaluate: dict[str, Any] | None = None,
    request_tokens: int | None = 200,
    trains: bool = True,
) -> Estimate:
    return estimate_run(
        model=load_catalog().find(model_id),
        kind="FINE_TUNING",
        training=training if training is not None else _training(0.5),
        deploy=deploy,
        evaluate=evaluate,
        request_tokens=request_tokens,
        trains=trains,
    )


@pytest.mark.parametrize(
    ("usd", "text"),
    [
        (None, "unknown"),
        (0, "$0.00"),
        (0.004, "$0.004"),
        (0.00412, "$0.0041"),
        (0.0000035, "$0.0000035"),
        (0.0099, "$0.0099"),
        (0.01, "$0.01"),
        (1234.5, "$1,234.50"),
    ],
)
def test_money_shows_amounts_under_a_cent_as_such(usd: float | None, text: str) -> None:
    assert money(usd) == text


def test_a_small_run_is_not_priced_at_zero() -> None:
    # 10,000 tokens x 1 epoch of Titan Lite at the catalog's $0.0004 per 1,000 is $0.004.
    lite = load_catalog().find(TITAN_LITE)
    assert lite is not None
    price = lite.customizations[next(iter(lite.customizations))].training_price_per_1k_tokens_usd
    assert price == 0.0004
    cost = CostEstimate(1, 10_000, 10_000, price, "catalog", round(10_000 / 1000 * price, 6))
    line = estimate_run(
        model=lite,
        kind="FINE_TUNING",
        training=cost,
        deploy=None,
        evaluate=None,
        request_tokens=None,
    ).lines()[0]
    assert line.startswith("training: $0.004 (10,000 tokens x 1 epoch(s)")


def test_training_and_storage_alone_without_a_deployment() -> None:
    estimate = _estimate()
    assert [p.name for p in estimate.parts] == ["training", "storage"]
    assert estimate.total_usd == pytest.approx(0.5 + 1.95)
    assert estimate.lines()[-1] == "total: $2.45"


def test_provisioned_throughput_is_units_times_hours_times_the_hourly_price() -> None:
    # Titan Lite: $7.10 per model unit per hour, no commitment (the catalog).
    estimate = _estimate(deploy={"mode": "provisioned", "modelUnits": 2, "ttlHours": 3})
    deployment = estimate.part("deployment")
    assert deployment is not None
    assert deployment.usd == pytest.approx(2 * 3 * 7.10)
    assert "2 model unit(s) x 3 h x $7.10 per model unit per hour" in deployment.detail
    assert estimate.total_usd == pytest.approx(0.5 + 1.95 + 42.6)


def test_a_deployment_with_no_end_time_is_priced_for_its_first_month() -> None:
    estimate = _estimate(deploy={"mode": "provisioned", "modelUnits": 1, "ttlHours": None})
    deployment = estimate.part("deployment")
    assert deployment is not None
    assert deployment.usd == pytest.approx(NO_END_HOURS * 7.10)
    assert "no end time" in deployment.detail


def test_on_demand_has_no_hourly_charge_and_shows_a_guide_per_1000_requests() -> None:
    # Nova Lite on demand: $0.00006 in, $0.00024 out per 1,000 tokens (the catalog).
    estimate = _estimate(
        NOVA_LITE,
        deploy={"mode": "on-demand", "ttlHours": 24},
        evaluate={"samples": 10},
        request_tokens=1000,
    )
    deployment, evaluation = estimate.part("deployment"), estimate.part("evaluation")
    assert deployment is not None
    assert evaluation is not None
    assert deployment.usd == 0
    per_request = 1000 / 1000 * 0.00006 + 512 / 1000 * 0.00024
    assert f"{money(per_request * 1000)} per 1,000 requests" in deployment.detail
    # The base and the custom model each answer the 10 samples on demand.
    assert evaluation.usd == pytest.approx(20 * per_request)


def test_an_unknown_price_makes_the_total_unknown_but_keeps_what_is_known() -> None:
    estimate = _estimate(training=_training(None))
    assert estimate.total_usd is None
    assert estimate.known_usd == pytest.approx(1.95)
    assert estimate.lines()[-1] == "total: unknown, at least $1.95 (no price for: training)"


def test_a_deploy_only_run_prices_no_training_and_no_new_storage() -> None:
    estimate = _estimate(
        deploy={"mode": "provisioned", "modelUnits": 1, "ttlHours": 2}, trains=False
    )
    assert [p.name for p in estimate.parts] == ["deployment"]
    assert estimate.total_usd == pytest.approx(14.2)


def test_the_estimate_survives_its_json_form() -> None:
    estimate = _estimate(deploy={"mode": "provisioned", "modelUnits": 1, "ttlHours": 2})
    assert Estimate.from_dict(estimate.to_dict()) == estimate


def _reasons(estimate: Estimate, deploy: dict[str, Any] | None, **kwargs: Any) -> list[str]:
    return approval_reasons(
        estimate,
        deploy,
        threshold_usd=kwargs.get("threshold"),
        max_unapproved_units=kwargs.get("units", 1),
    )


def test_no_gate_holds_a_cheap_run_with_an_end() -> None:
    deploy = {"mode": "provisioned", "modelUnits": 1, "ttlHours": 1}
    assert _reasons(_estimate(deploy=deploy), deploy, threshold=100) == []


def test_the_threshold_applies_to_the_total_not_to_training_alone() -> None:
    deploy = {"mode": "provisioned", "modelUnits": 1, "ttlHours": 10}  # $71 of Titan Lite
    reasons = _reasons(_estimate(deploy=deploy), deploy, threshold=50)
    assert any("above the approval threshold $50.00" in r for r in reasons)
    assert any("the deployment alone is estimated at $71.00" in r for r in reasons)


def test_an_unknown_price_is_held_under_a_threshold() -> None:
    (reason,) = _reasons(_estimate(training=_training(None)), None, threshold=100)
    assert "training is unknown" in reason


def test_a_deployment_with_no_end_time_is_held_without_any_threshold() -> None:
    deploy = {"mode": "on-demand", "ttlHours": None}
    (reason,) = _reasons(_estimate(NOVA_LITE, deploy=deploy), deploy)
    assert "no end time" in reason


def test_more_model_units_than_the_stage_allows_are_held() -> None:
    deploy = {"mode": "provisioned", "modelUnits": 3, "ttlHours": 1}
    (reason,) = _reasons(_estimate(deploy=deploy), deploy, units=2)
    assert reason.startswith("3 model units is more than the 2")
    assert _reasons(_estimate(deploy=deploy), deploy, units=3) == []


def test_budget_applies_to_the_total_and_to_known_parts_when_a_price_is_unknown() -> None:
    deploy = {"mode": "provisioned", "modelUnits": 1, "ttlHours": 10}
    over = budget_problem(_estimate(deploy=deploy), 50)
    assert over is not None
    assert "total $73.45" in over
    assert budget_problem(_estimate(deploy=deploy), 100) is None
    unknown = budget_problem(_estimate(training=_training(None), deploy=deploy), 50)
    assert unknown is not None
    assert "already come to $72.95" in unknown
    assert budget_problem(_estimate(), None) is None


def test_every_deployment_price_in_the_catalog_has_a_source_and_a_day() -> None:
    catalog = load_catalog()
    priced = [m for m in catalog.models if m.deployment_prices]
    assert len(priced) >= 9
    for model in priced:
        prices = model.deployment_prices
        assert prices is not None
        assert prices.source
        assert prices.read <= date(2026, 12, 2)
        assert all(usd > 0 for usd in prices.provisioned_hourly_usd.values())


def test_a_budget_with_an_unknown_total_waits_for_a_person() -> None:
    estimate = _estimate(training=_training(None))
    reasons = approval_reasons(
        estimate, None, threshold_usd=None, max_unapproved_units=1, budget_usd=5
    )
    assert reasons == [
        "the price of training is unknown, so the total cannot be shown to be within the "
        "manifest's budgetUsd $5.00"
    ]
    known = approval_reasons(
        _estimate(), None, threshold_usd=None, max_unapproved_units=1, budget_usd=5
    )
    assert known == []
