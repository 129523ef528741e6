"""The evaluate function may invoke base models through the inference profiles it uses.

Llama 3.2 / 3.3 and Nova 2 Lite answer on demand only through a system-defined
inference profile. AWS's documented IAM for one: the profile ARN and, for calls
through it, the foundation model in each Region the profile routes to. Source:
https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-prereq.html
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest

from customization_core.catalog import load_catalog
from stacks.bedrock_arns import base_model_profiles
from tests.infra.policies import render
from tests.infra.synth import ACCOUNT, Synth, as_list, stage_settings, statements, synthesize

ALLOWED = (
    "meta.llama3-3-70b-instruct-v1:0:128k",
    "amazon.nova-2-lite-v1:0:256k",
    "amazon.titan-text-lite-v1:0:4k",
)


def _catalog_profiles(region: str) -> list[str]:
    """Profiles of the models that answer on demand only through one (the others by their id)."""
    return sorted(
        {
            m.inference_profiles[region]
            for m in load_catalog().models
            if region in m.inference_profiles and m.base_invocation == "inference-profile"
        }
    )


@pytest.fixture(scope="module")
def us_east(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """A stage in us-east-1, where the catalog lists US profiles (every model allowed)."""
    settings = stage_settings("dev", region="us-east-1")
    return synthesize(settings, tmp_path_factory.mktemp("us-east"))


def _evaluate_policy(synth: Synth) -> dict[str | None, dict[str, Any]]:
    _, policy = synth.one("AWS::IAM::ManagedPolicy", "Functions/EvaluatePolicy")
    return {s.get("Sid"): s for s in statements(policy["Properties"]["PolicyDocument"])}


def test_the_catalogs_profiles_in_the_stacks_region_are_invokable(us_east: Synth) -> None:
    profiles = _evaluate_policy(us_east)["InvokeBaseModelProfiles"]
    assert profiles["Action"] == "bedrock:InvokeModel"  # Converse is authorized by it too
    arns = sorted(render(r) for r in as_list(profiles["Resource"]))
    assert arns == [
        f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/{profile}"
        for profile in _catalog_profiles("us-east-1")
    ]
    for profile in ("us.amazon.nova-2-lite-v1:0", "us.meta.llama3-3-70b-instruct-v1:0"):
        assert f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/{profile}" in arns


def test_the_models_behind_them_in_every_region_only_through_those_profiles(
    us_east: Synth,
) -> None:
    policy = _evaluate_policy(us_east)
    behind = policy["InvokeModelsBehindProfiles"]
    assert behind["Action"] == "bedrock:InvokeModel"
    resources = sorted(render(r) for r in as_list(behind["Resource"]))
    assert resources == [
        f"arn:aws:bedrock:*::foundation-model/{profile.split('.', 1)[1]}"
        for profile in _catalog_profiles("us-east-1")
    ]
    assert "arn:aws:bedrock:*::foundation-model/amazon.nova-2-lite-v1:0" in resources
    assert "arn:aws:bedrock:*::foundation-model/meta.llama3-3-70b-instruct-v1:0" in resources
    ((operator, condition),) = behind["Condition"].items()
    assert operator == "ArnEquals"
    assert sorted(render(r) for r in condition["bedrock:InferenceProfileArn"]) == sorted(
        render(r) for r in as_list(policy["InvokeBaseModelProfiles"]["Resource"])
    )


def test_allowed_base_models_narrow_the_profiles_to_theirs() -> None:
    settings = stage_settings("dev", region="us-east-1", allowedBaseModels=list(ALLOWED))
    stack = cdk.Stack(cdk.App(), "S", env=cdk.Environment(account=ACCOUNT, region="us-east-1"))
    profiles, behind = base_model_profiles(stack, settings.allowed_base_models)
    assert [render(stack.resolve(p)) for p in profiles] == [
        f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/us.amazon.nova-2-lite-v1:0",
        f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/us.meta.llama3-3-70b-instruct-v1:0",
    ]  # Titan answers by its model id: no profile for it
    assert [render(stack.resolve(b)) for b in behind] == [
        "arn:aws:bedrock:*::foundation-model/amazon.nova-2-lite-v1:0",
        "arn:aws:bedrock:*::foundation-model/meta.llama3-3-70b-instruct-v1:0",
    ]


def test_an_environment_agnostic_stack_gets_every_profile_the_catalog_lists() -> None:
    settings = stage_settings("dev")
    stack = cdk.Stack(cdk.App(), "S")  # no env: the Region is a token
    profiles, _ = base_model_profiles(stack, settings.allowed_base_models)
    listed = {
        p
        for m in load_catalog().models
        if m.base_invocation == "inference-profile"
        for p in m.inference_profiles.values()
    }
    assert len(profiles) == len(listed)


def test_the_wildcard_region_of_each_model_behind_a_profile_is_acknowledged_one_by_one(
    us_east: Synth,
) -> None:
    acknowledged = [
        finding["acknowledgedId"]
        for report in us_east.report["pluginReports"]
        for finding in report.get("suppressedViolations", [])
        if "::foundation-model/" in finding["acknowledgedId"]
        and "EvaluatePolicy" in str(finding.get("resource", finding))
    ]
    for model_id in ("amazon.nova-2-lite-v1:0", "meta.llama3-3-70b-instruct-v1:0"):
        assert any(f"bedrock:*::foundation-model/{model_id}" in a for a in acknowledged), model_id


@pytest.fixture(scope="module")
def eu_west(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """A stage in eu-west-1, where the catalog lists no customization and no profile."""
    settings = stage_settings("dev", region="eu-west-1")
    return synthesize(settings, tmp_path_factory.mktemp("eu-west"))


def test_synth_warns_when_no_model_can_be_customized_in_the_stacks_region(
    eu_west: Synth,
) -> None:
    annotations = [
        v
        for report in eu_west.report["pluginReports"]
        if report["pluginName"] == "Construct Annotations"
        for v in report["violations"]
    ]
    (warning,) = annotations
    assert warning["severity"] == "warning"
    assert "eu-west-1" in warning["description"]


def test_a_region_without_profiles_in_the_catalog_grants_none(eu_west: Synth) -> None:
    policy = _evaluate_policy(eu_west)  # eu-west-1: the catalog lists no profile there
    assert "InvokeBaseModelProfiles" not in policy
    assert "InvokeModelsBehindProfiles" not in policy
    assert "InvokeModels" in policy  # the base models by id, as before
    assert "InvokeOwnDeployments" in policy  # and the deployments this stack made
