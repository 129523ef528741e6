"""The stage's monthly budget (issue 14): on the owner tag, alerting the encrypted topic."""

from __future__ import annotations

import json
import re
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest

from customization_core.naming import OWNER_TAG
from stacks.settings import CONTEXT_KEY, Settings, load_settings
from tests.infra.synth import ACCOUNT, CONTEXT, REGION, Synth, as_list, statements, synthesize

BUDGETS = "budgets.amazonaws.com"


@pytest.fixture(scope="module")
def agnostic(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """dev with a budget of its own, for an account CloudFormation fills in at deploy time."""
    base = load_settings(CONTEXT[CONTEXT_KEY], stage="dev", region=REGION)
    settings = Settings.model_validate(
        {**base.model_dump(by_alias=True), "monthlyBudgetUsd": 123.45}
    )
    return synthesize(settings, Path(tmp_path_factory.mktemp("budget")))


def _budget(synth: Synth) -> dict[str, Any]:
    (budget,) = synth.resources("AWS::Budgets::Budget").values()
    properties: dict[str, Any] = budget["Properties"]
    return properties


def _budget_statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for statement in statements(document):
        principal = statement.get("Principal")
        if isinstance(principal, dict) and BUDGETS in as_list(principal.get("Service")):
            found.append(statement)
    return found


def _topic(synth: Synth) -> tuple[str, dict[str, Any]]:
    return synth.one("AWS::SNS::Topic", "Notifications/Topic")


def _topic_policy(synth: Synth) -> dict[str, Any]:
    (policy,) = synth.resources("AWS::SNS::TopicPolicy").values()
    document: dict[str, Any] = policy["Properties"]["PolicyDocument"]
    return document


def _topic_key_policy(synth: Synth) -> dict[str, Any]:
    """The key policy of the key that encrypts the topic."""
    _, topic = _topic(synth)
    key_id, _ = topic["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"]
    document: dict[str, Any] = synth.template["Resources"][key_id]["Properties"]["KeyPolicy"]
    return document


def test_a_stage_without_the_setting_has_no_budget_and_grants_budgets_nothing(
    dev: Synth,
) -> None:
    assert dev.settings.monthly_budget_usd is None
    assert dev.resources("AWS::Budgets::Budget") == {}
    assert _budget_statements(_topic_policy(dev)) == []
    assert _budget_statements(_topic_key_policy(dev)) == []


def test_the_prod_stage_of_cdk_json_has_its_monthly_budget(prod: Synth) -> None:
    configured = CONTEXT[CONTEXT_KEY]["stages"]["prod"]["monthlyBudgetUsd"]
    data = _budget(prod)["Budget"]
    assert data["BudgetLimit"] == {"Amount": configured, "Unit": "USD"}
    assert (data["BudgetType"], data["TimeUnit"]) == ("COST", "MONTHLY")
    # One budget per deployment: budget names are unique per account, across Regions.
    assert data["BudgetName"] == f"{prod.settings.stack_name}-{REGION}"


def test_the_amount_is_the_stages_own(agnostic: Synth) -> None:
    data = _budget(agnostic)["Budget"]
    assert data["BudgetLimit"] == {"Amount": 123.45, "Unit": "USD"}
    assert data["BudgetName"] == f"{agnostic.settings.stack_name}-{REGION}"


def test_the_budget_counts_the_costs_carrying_the_owner_tag_the_handlers_set(
    prod: Synth,
) -> None:
    stack_name = prod.settings.stack_name
    assert _budget(prod)["Budget"]["CostFilters"] == {
        "TagKeyValue": [f"user:{OWNER_TAG}${stack_name}"]
    }
    # The value is the one the handlers tag jobs, custom models and deployments with.
    configs = [
        json.dumps(f["Properties"]["Environment"]["Variables"]["PIPELINE_CONFIG"])
        for f in prod.resources("AWS::Lambda::Function").values()
        if "PIPELINE_CONFIG" in f["Properties"].get("Environment", {}).get("Variables", {})
    ]
    assert configs
    for config in configs:
        assert re.findall(r'\\"stack_name\\":\\"([^\\"]+)\\"', config) == [stack_name]


def test_actual_and_forecast_spend_alert_the_topic_at_80_and_100_percent(prod: Synth) -> None:
    topic_id, _ = _topic(prod)
    notifications = _budget(prod)["NotificationsWithSubscribers"]
    found = {
        (n["Notification"]["NotificationType"], n["Notification"]["Threshold"])
        for n in notifications
    }
    assert len(notifications) == 4
    assert found == {("ACTUAL", 80), ("ACTUAL", 100), ("FORECASTED", 80), ("FORECASTED", 100)}
    for n in notifications:
        assert n["Notification"]["ComparisonOperator"] == "GREATER_THAN"
        assert n["Notification"]["ThresholdType"] == "PERCENTAGE"
        assert n["Subscribers"] == [{"SubscriptionType": "SNS", "Address": {"Ref": topic_id}}]


def _bound_to_this_budget(statement: dict[str, Any], budget_name: str) -> None:
    condition = statement["Condition"]
    assert condition["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    pattern = condition["ArnLike"]["aws:SourceArn"]
    assert fnmatchcase(f"arn:aws:budgets::{ACCOUNT}:budget/{budget_name}", pattern)
    assert not fnmatchcase(f"arn:aws:budgets::{ACCOUNT}:budget/another-budget", pattern)
    assert not fnmatchcase(f"arn:aws:budgets::444455556666:budget/{budget_name}", pattern)


def test_budgets_may_publish_to_the_topic_for_this_budget_of_this_account_only(
    prod: Synth,
) -> None:
    topic_id, _ = _topic(prod)
    (publish,) = _budget_statements(_topic_policy(prod))
    assert publish["Effect"] == "Allow"
    assert publish["Action"] == "sns:Publish"
    assert publish["Resource"] == {"Ref": topic_id}
    _bound_to_this_budget(publish, _budget(prod)["Budget"]["BudgetName"])


def test_budgets_may_encrypt_with_the_topics_key_for_this_budget_only(prod: Synth) -> None:
    # The topic is encrypted with a customer managed key: Budgets must be let use it.
    (use,) = _budget_statements(_topic_key_policy(prod))
    assert use["Effect"] == "Allow"
    assert set(as_list(use["Action"])) == {"kms:Decrypt", "kms:GenerateDataKey"}
    assert use["Resource"] == "*"  # in a key policy: this key
    _bound_to_this_budget(use, _budget(prod)["Budget"]["BudgetName"])


def test_an_account_agnostic_stack_binds_budgets_to_the_deploying_account(
    agnostic: Synth,
) -> None:
    name = _budget(agnostic)["Budget"]["BudgetName"]
    for document in (_topic_policy(agnostic), _topic_key_policy(agnostic)):
        (statement,) = _budget_statements(document)
        condition = statement["Condition"]
        assert condition["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
        assert condition["ArnLike"]["aws:SourceArn"] == {
            "Fn::Join": ["", ["arn:aws:budgets::", {"Ref": "AWS::AccountId"}, f":budget/{name}"]]
        }
