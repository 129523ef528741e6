"""Settings: one validated object per stage; every bad value is one clear sentence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stacks.settings import (
    CONTEXT_KEY,
    GATEWAY_SERVICES,
    INTERFACE_SERVICES,
    Settings,
    SettingsError,
    load_settings,
)

ROOT = Path(__file__).resolve().parents[2]
CONTEXT: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"][CONTEXT_KEY]

GOOD_VPC = {
    "vpcId": "vpc-0a1b2c3d4e5f60718",
    "subnetIds": ["subnet-0a1b2c3d4e5f60718"],
    "routeTableIds": ["rtb-0a1b2c3d4e5f60718"],
    "availabilityZones": ["eu-west-1a"],
}


def _with(stage: dict[str, Any]) -> dict[str, Any]:
    return {**CONTEXT, "stages": {**CONTEXT["stages"], "test": stage}}


def _error(stage: dict[str, Any]) -> str:
    with pytest.raises(SettingsError) as raised:
        load_settings(_with(stage), stage="test")
    return str(raised.value)


def test_the_default_stage_is_dev_and_safe_defaults_fill_the_rest() -> None:
    settings = load_settings(CONTEXT, stage=None)
    assert settings.stage == "dev"
    assert settings.az_count == 1
    assert settings.removal_policy == "destroy"  # dev asks for it explicitly
    assert settings.interface_endpoints == INTERFACE_SERVICES
    assert settings.gateway_endpoints == GATEWAY_SERVICES
    assert settings.existing_vpc is None
    assert settings.stack_name == "BedrockCustomization-dev"


def test_prod_retains_stateful_resources_and_keeps_logs_two_years() -> None:
    settings = load_settings(CONTEXT, stage="prod", account="111122223333", region="eu-west-1")
    assert settings.retain
    assert settings.az_count == 3
    assert settings.log_retention_days == 731
    assert (settings.account, settings.region) == ("111122223333", "eu-west-1")


def test_a_stage_that_says_nothing_gets_retain() -> None:
    settings = load_settings({"stages": {"x": {}}}, stage="x")
    assert settings.removal_policy == "retain"
    assert settings.log_retention_days == 365


def test_an_existing_vpc_is_accepted_by_ids() -> None:
    settings = load_settings(_with({"existingVpc": GOOD_VPC}), stage="test")
    assert settings.existing_vpc is not None
    assert settings.existing_vpc.subnet_ids == ("subnet-0a1b2c3d4e5f60718",)


def test_duplicate_endpoints_are_collapsed_in_order() -> None:
    settings = load_settings(_with({"interfaceEndpoints": ["kms", "bedrock", "kms"]}), stage="test")
    assert settings.interface_endpoints == ("kms", "bedrock")


def test_settings_are_frozen() -> None:
    settings = load_settings(CONTEXT, stage="dev")
    with pytest.raises(ValueError, match="frozen"):
        settings.az_count = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("stage", "expected"),
    [
        (
            {"azCount": 4},
            "Setting 'bedrock-customization.stages.test.azCount' has 4, which is not allowed",
        ),
        ({"azCount": 4}, "allowed: 1, 2 or 3."),
        (
            {"removalPolicy": "delete"},
            "'retain' (keeps buckets, keys and logs when the stack is deleted) or 'destroy'",
        ),
        ({"logRetentionDays": 400}, None),
        ({"logRetentionDays": 42}, "42 is not allowed; allowed: 1, 3, 5, 7, 14, 30"),
        (
            {"vpcCidr": "10.0.0.0/8"},
            "'10.0.0.0/8' is not allowed; allowed: an IPv4 CIDR block from /16 to /24",
        ),
        ({"vpcCidr": "not-a-cidr"}, "'not-a-cidr' is not allowed"),
        ({"interfaceEndpoints": ["bedrock", "ec2"]}, "interfaceEndpoints.1' has 'ec2'"),
        (
            {"interfaceEndpoints": ["ec2"]},
            "a list drawn from bedrock, bedrock-runtime, states, kms, logs, sts, sns",
        ),
        ({"gatewayEndpoints": ["s4"]}, "a list drawn from s3, dynamodb"),
        (
            {"notificationEmails": ["not-an-address"]},
            "'not-an-address' is not allowed; allowed: a list of e-mail addresses",
        ),
        (
            {"azcount": 2},
            "'bedrock-customization.stages.test.azcount' is not a known setting; allowed keys:",
        ),
        ({"azcount": 2}, "azCount"),
        ({"existingVpc": {**GOOD_VPC, "vpcId": "vpc-x"}}, "existingVpc.vpcId' has 'vpc-x'"),
        (
            {"existingVpc": {**GOOD_VPC, "vpcId": "vpc-x"}},
            "allowed: an id such as vpc-0123456789abcdef0",
        ),
        ({"existingVpc": {**GOOD_VPC, "routeTableIds": []}}, "routeTableIds"),
        (
            {"existingVpc": {**GOOD_VPC, "availabilityZones": ["eu-west-1a", "eu-west-1b"]}},
            "one zone name such as us-east-1a per subnet",
        ),
        (
            {"existingVpc": {**GOOD_VPC, "subnetId": "subnet-0a1b2c3d4e5f60718"}},
            "allowed keys: availabilityZones, routeTableIds, subnetIds, vpcId",
        ),
        ({"noncurrentVersionDays": 0}, "a whole number of days from 1 to 3650"),
    ],
)
def test_a_bad_setting_is_one_sentence_naming_the_key_and_what_is_allowed(
    stage: dict[str, Any], expected: str | None
) -> None:
    if expected is None:  # 400 is one of the values CloudWatch Logs accepts
        assert load_settings(_with(stage), stage="test").log_retention_days == 400
        return
    message = _error(stage)
    assert expected in message
    assert "Traceback" not in message
    assert "pydantic" not in message.lower()


def test_every_problem_is_reported_not_just_the_first() -> None:
    message = _error({"azCount": 9, "removalPolicy": "nope"})
    assert len(message.splitlines()) == 2


def test_an_unknown_stage_lists_the_defined_ones() -> None:
    with pytest.raises(
        SettingsError, match=r"Stage 'qa' is not defined .* allowed stages: dev, prod"
    ):
        load_settings(CONTEXT, stage="qa")


def test_a_missing_context_block_says_what_it_needs() -> None:
    with pytest.raises(SettingsError, match="'defaultStage', 'defaults' and 'stages'"):
        load_settings(None, stage="dev")
    with pytest.raises(SettingsError, match="must be an object of named stages"):
        load_settings({"stages": []}, stage="dev")
    with pytest.raises(SettingsError, match=r"'bedrock-customization.stages.x' must be an object"):
        load_settings({"stages": {"x": ["azCount"]}}, stage="x")


def test_account_and_region_are_validated_too() -> None:
    with pytest.raises(SettingsError, match="a 12-digit AWS account id"):
        load_settings(CONTEXT, stage="dev", account="12345")
    assert isinstance(load_settings(CONTEXT, stage="dev", region="ap-southeast-2"), Settings)


def test_training_prices_override_the_catalog_per_known_model() -> None:
    settings = load_settings(
        _with({"trainingPricesUsd": {"amazon.titan-text-express-v1:0:8k": 0.008}}), stage="test"
    )
    assert settings.training_prices_usd == {"amazon.titan-text-express-v1:0:8k": 0.008}
    assert "'amazon.titan-nope' is not allowed; allowed: an object of catalog model ids" in _error(
        {"trainingPricesUsd": {"amazon.titan-nope": 0.008}}
    )
    assert "0 is not allowed" in _error(
        {"trainingPricesUsd": {"amazon.titan-text-express-v1:0:8k": 0}}
    )


def test_the_stage_region_is_judged_against_the_catalog_regions() -> None:
    from stacks.customization_stack import region_problems

    nova = "amazon.nova-micro-v1:0:128k"
    east = load_settings(_with({"allowedBaseModels": [nova]}), stage="test", region="us-east-1")
    assert region_problems(east) == []
    west = load_settings(_with({"allowedBaseModels": [nova]}), stage="test", region="us-west-2")
    (problem,) = region_problems(west)
    assert nova in problem
    assert "us-east-1" in problem
    # Without an allow-list, a Region where nothing can be customized is named.
    assert region_problems(load_settings(_with({}), stage="test", region="eu-west-1"))
    assert region_problems(load_settings(_with({}), stage="test", region="us-west-2")) == []
    # An environment-agnostic stack is judged at run time by the live check.
    assert region_problems(load_settings(_with({}), stage="test")) == []


@pytest.mark.parametrize(("value", "ok"), [("reject", True), ("warn", True), ("accept", False)])
def test_unknown_models_is_reject_or_warn(value: str, ok: bool) -> None:
    if ok:
        assert load_settings(_with({"unknownModels": value}), stage="test").unknown_models == value
    else:
        assert "unknownModels" in _error({"unknownModels": value})


def test_unknown_models_are_rejected_by_default() -> None:
    assert load_settings(_with({}), stage="test").unknown_models == "reject"
