"""EstimateCost and RequestApproval against moto: budgets, thresholds, the encrypted token."""

from __future__ import annotations

import json
from typing import Any

import pytest

from customization_core import approval_steps, validator
from customization_core.approval import decrypt_token
from customization_core.catalog import load_catalog
from customization_core.run import Run, Status
from tests.handlers.conftest import MODEL, Aws
from tests.handlers.runs import MANIFEST, _validated

UNPRICED = "amazon.titan-text-express-v1:0:8k"  # priced nowhere, in these tests


def _without_prices(monkeypatch: pytest.MonkeyPatch, model_id: str) -> None:
    """The catalog, with no training price for ``model_id`` (as a model AWS prices nowhere)."""
    catalog = load_catalog()
    model = catalog.find(model_id)
    assert model is not None
    unpriced = model.model_copy(
        update={
            "customizations": {
                kind: custom.model_copy(update={"training_price_per_1k_tokens_usd": None})
                for kind, custom in model.customizations.items()
            }
        }
    )
    changed = catalog.model_copy(
        update={"models": tuple(unpriced if m is model else m for m in catalog.models)}
    )
    monkeypatch.setattr(validator, "load_catalog", lambda: changed)


@pytest.mark.parametrize(
    ("threshold", "model", "price", "needs"),
    [
        (None, UNPRICED, None, False),  # no threshold: no approval step
        (100.0, MODEL, None, False),  # the catalog's price, far under the threshold
        (1.0, MODEL, 1000.0, True),  # an overridden price above it
        (100.0, UNPRICED, None, True),  # no price: cannot be shown to be under it
    ],
)
def test_runs_over_the_threshold_or_without_a_price_wait_for_approval(
    aws: Aws,
    monkeypatch: pytest.MonkeyPatch,
    threshold: float | None,
    model: str,
    price: float | None,
    needs: bool,
) -> None:
    _without_prices(monkeypatch, UNPRICED)
    config = aws.config.model_copy(
        update={
            "approval_threshold_usd": threshold,
            "training_prices_usd": {model: price} if price else {},
        }
    )
    run = _validated(aws, config, manifest={**MANIFEST, "baseModelId": model})
    result = Run.model_validate(
        approval_steps.estimate_cost(run, registry=aws.registry, config=config)
    )
    assert result.needs_approval is needs


def test_a_run_over_its_own_budget_is_rejected(aws: Aws) -> None:
    config = aws.config.model_copy(update={"training_prices_usd": {MODEL: 1000.0}})
    run = _validated(aws, config, manifest={**MANIFEST, "budgetUsd": 1})
    result = Run.model_validate(
        approval_steps.estimate_cost(run, registry=aws.registry, config=config)
    )
    assert result.status is Status.REJECTED
    assert "above the manifest's budgetUsd $1.00" in (result.reason or "")


@pytest.mark.parametrize(
    ("deploy", "reason"),
    [
        ({"mode": "provisioned", "ttlHours": None}, "no end time"),
        ({"mode": "provisioned", "modelUnits": 2, "ttlHours": 1}, "2 model units"),
    ],
)
def test_a_deployment_without_an_end_or_with_more_units_waits_for_approval_whatever_the_threshold(
    aws: Aws, deploy: dict[str, Any], reason: str
) -> None:
    config = aws.config.model_copy(update={"approval_threshold_usd": None})
    run = _validated(aws, config, manifest={**MANIFEST, "deploy": deploy})
    result = Run.model_validate(
        approval_steps.estimate_cost(run, registry=aws.registry, config=config)
    )
    assert result.needs_approval is True
    assert any(reason in why for why in result.extra["approval_reasons"])


def test_a_deployment_within_the_limits_needs_no_approval(aws: Aws) -> None:
    config = aws.config.model_copy(
        update={"approval_threshold_usd": None, "max_unapproved_model_units": 2}
    )
    deploy = {"mode": "provisioned", "modelUnits": 2, "ttlHours": 1}
    run = _validated(aws, config, manifest={**MANIFEST, "deploy": deploy})
    result = Run.model_validate(
        approval_steps.estimate_cost(run, registry=aws.registry, config=config)
    )
    assert result.needs_approval is False


def test_the_estimate_prices_the_deployment_and_the_threshold_applies_to_the_total(
    aws: Aws,
) -> None:
    # Titan Lite: $7.10 per model unit per hour (the catalog); 3 hours of 1 unit is $21.30.
    config = aws.config.model_copy(update={"approval_threshold_usd": 20.0})
    deploy = {"mode": "provisioned", "modelUnits": 1, "ttlHours": 3}
    run = _validated(aws, config, manifest={**MANIFEST, "deploy": deploy})
    result = Run.model_validate(
        approval_steps.estimate_cost(run, registry=aws.registry, config=config)
    )
    assert result.estimate is not None
    parts = {p["name"]: p["usd"] for p in result.estimate["parts"]}
    assert parts["deployment"] == pytest.approx(21.30)
    assert parts["storage"] == pytest.approx(1.95)
    assert result.cost_usd == pytest.approx(sum(parts.values()))
    assert result.needs_approval is True  # $21.30 + storage + training > $20
    item = aws.item(run.run_id)
    assert float(item["cost_usd"]) == pytest.approx(result.cost_usd)
    assert [p["name"] for p in item["estimate"]["parts"]] == [
        "training",
        "storage",
        "deployment",
    ]


def test_a_run_whose_deployment_is_over_its_budget_is_rejected_before_training(aws: Aws) -> None:
    deploy = {"mode": "provisioned", "modelUnits": 1, "ttlHours": 10}  # $71 of Titan Lite
    run = _validated(aws, manifest={**MANIFEST, "deploy": deploy, "budgetUsd": 50})
    result = Run.model_validate(
        approval_steps.estimate_cost(run, registry=aws.registry, config=aws.config)
    )
    assert result.status is Status.REJECTED
    assert "budgetUsd $50.00" in (result.reason or "")
    assert "deployment: $71.00" in (result.reason or "")


def test_approval_stores_only_the_encrypted_token_and_says_how_to_answer(aws: Aws) -> None:
    config = aws.config.model_copy(update={"approval_threshold_usd": 0.5})
    run = Run.model_validate(
        approval_steps.estimate_cost(_validated(aws), registry=aws.registry, config=config)
    )
    approval_steps.request_approval(
        run, "token-123", registry=aws.registry, sns=aws.sns, kms=aws.kms, config=aws.config
    )
    item = aws.item(run.run_id)
    assert item["status"] == "AWAITING_APPROVAL"
    assert "approval_token" not in item
    assert "token-123" not in json.dumps(item, default=str)  # only its ciphertext is kept
    assert (
        decrypt_token(
            aws.kms,
            key_arn=str(aws.config.approval_key_arn),
            run_id=run.run_id,
            ciphertext=item["approval_token_ciphertext"],
        )
        == "token-123"
    )
    (message,) = aws.sns.published
    assert f"bedrock-customize approve {run.run_id}" in message["Message"]
    assert f"approvals/{run.run_id}/answer.json" in message["Message"]
    assert "token-123" not in message["Message"]
    assert len(message["Subject"]) <= 100
    # Why it is held, and the estimate in parts and in total.
    assert "above the approval threshold $0.50" in message["Message"]
    assert "  storage: $1.95 (the custom model's first month of storage)" in message["Message"]
    assert "  total: $" in message["Message"]
