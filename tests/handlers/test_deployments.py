"""After training: deploy requests refused before training, the model Active, the deployment created and polled.

Bedrock deployments and invocations come from the emulator's patches of moto
(emulator/patches.py), installed for each test only (the ``bedrock`` fixture).
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from customization_core import (
    deployment_end,
    deployments,
    end_steps,
)
from customization_core.naming import OWNER_TAG, RUN_ID_TAG
from customization_core.run import PipelineConfig, Run, Status
from emulator import bedrock_deployments as emulated_deployments
from emulator.state import BEDROCK, Scenario
from tests.handlers.conftest import STACK, Aws
from tests.handlers.deployed import DEPLOY, _conversations, _deployed, _trained
from tests.handlers.runs import EXECUTION, MANIFEST, _records


def test_on_demand_for_a_model_without_it_is_rejected_with_the_models_that_have_it(
    aws: Aws,
) -> None:
    source = aws.start(
        "summaries", {**MANIFEST, "deploy": {"mode": "on-demand"}}, train_jsonl=_records(20)
    )
    run = Run.model_validate(aws.validate(source, EXECUTION))
    assert run.status is Status.REJECTED
    assert "deploy.mode on-demand is not available for amazon.titan-text-lite-v1:0:4k" in (
        run.reason or ""
    )
    assert "Amazon Nova Micro, Amazon Nova Lite, Amazon Nova Pro" in (run.reason or "")


def test_an_end_time_beyond_the_deployments_limit_is_rejected(aws: Aws) -> None:
    source = aws.start(
        "summaries",
        {**MANIFEST, "deploy": {"mode": "provisioned", "ttlHours": 500}},
        train_jsonl=_records(20),
    )
    run = Run.model_validate(aws.validate(source, EXECUTION))
    assert run.status is Status.REJECTED
    assert "deploy.ttlHours 500 is above this deployment's limit of 72 hours" in (run.reason or "")


def test_without_a_deploy_block_the_run_ends_at_record_result(bedrock: Aws) -> None:
    run = _trained(bedrock)
    assert (run.status, run.deployment) == (Status.SUCCEEDED, None)


def test_the_model_is_deployed_once_active_and_the_deployment_polled_until_it_serves(
    bedrock: Aws,
) -> None:
    run = _trained(bedrock, deploy=DEPLOY)
    assert run.status is Status.DEPLOYING
    assert run.deployment is not None
    assert run.deployment["status"] == "WAITING_FOR_MODEL"
    run = _deployed(bedrock)
    assert run.deployment is not None
    assert run.deployment["status"] == "ACTIVE"
    assert run.deployment["arn"].startswith(
        "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/"
    )
    assert BEDROCK.count("CreateProvisionedModelThroughput") == 1
    item = bedrock.item(run.run_id)
    assert item["deployment"]["arn"] == run.deployment["arn"]
    assert "Creating the Provisioned Throughput, 1 model unit(s)." in [
        h.get("reason") for h in item["history"]
    ]


def test_a_model_that_never_becomes_active_times_out(bedrock: Aws) -> None:
    BEDROCK.scenarios["jobs/summaries/"] = Scenario(model_creating_polls=10**6)
    config = bedrock.config.model_copy(update={"poll_interval_seconds": 3600})  # 6 polls in 6 h
    run = _trained(bedrock, deploy=DEPLOY)
    for _ in range(6):
        run = Run.model_validate(
            deployments.check_model(run, bedrock=bedrock.bedrock, config=config)
        )
        assert run.deployment is not None
        assert run.deployment["status"] == "WAITING_FOR_MODEL"
    run = Run.model_validate(deployments.check_model(run, bedrock=bedrock.bedrock, config=config))
    assert run.deployment is not None
    assert run.deployment["status"] == "TIMED_OUT"
    assert f"within {deployments.READY_WAIT_HOURS} hours" in (run.reason or "")


def test_a_failed_deployment_fails_the_run_and_is_deleted(bedrock: Aws) -> None:
    BEDROCK.scenarios["jobs/summaries/"] = Scenario(deployment_outcome="Failed")
    run = _deployed(bedrock)
    assert run.deployment is not None
    assert run.deployment["status"] == "FAILED"
    failed = Run.model_validate(
        end_steps.record_failure(
            run, {"Error": "DeploymentFailed"}, registry=bedrock.registry, bedrock=bedrock.bedrock
        )
    )
    assert failed.status is Status.FAILED
    assert failed.reason == (
        "Deploying the custom model failed: The deployment is Failed: Capacity for this model "
        "is not available (emulated). Its deployment was deleted."
    )
    assert BEDROCK.deployments == {}  # nothing left billing by the hour
    assert bedrock.item(run.run_id)["deployment"]["status"] == "DELETED"


@pytest.mark.parametrize(
    ("deploy", "model"),
    [
        (DEPLOY, None),  # Provisioned Throughput, the manifest's Titan model
        ({"mode": "on-demand", "ttlHours": 2}, "amazon.nova-micro-v1:0:128k"),
    ],
)
def test_every_deployment_carries_the_stacks_owner_tag(
    bedrock: Aws, deploy: dict[str, Any], model: str | None
) -> None:
    # Given a trained model, when StartDeployment creates its deployment, then the create
    # request tags it with the owner tag the handlers' policies require (stacks/bedrock_arns.py),
    # and the emulated Bedrock keeps the tags on the deployment, as Bedrock does.
    manifest: dict[str, Any] = {}
    files = None
    if model is not None:
        manifest["baseModelId"] = model
        files = {"train_jsonl": _conversations(20), "validation_jsonl": _conversations(6)}
    run = _deployed(bedrock, deploy, files=files, **manifest)
    assert run.deployment is not None
    assert run.deployment["status"] == "ACTIVE", run.reason
    found = emulated_deployments.find(run.deployment["arn"])
    assert found is not None
    assert found.tags == {OWNER_TAG: STACK, RUN_ID_TAG: run.run_id}


@pytest.mark.parametrize("mode", ["provisioned", "on-demand"])
def test_a_deployment_never_created_is_refused_and_there_is_nothing_to_delete(
    aws: Aws, mode: str
) -> None:
    # By name (no ARN recorded), a deployment never created carries no owner tag: Bedrock
    # refuses the delete, which means there is none. By its recorded ARN it exists: raise.
    operation = (
        "delete_provisioned_model_throughput"
        if mode == "provisioned"
        else "delete_custom_model_deployment"
    )
    stubber = Stubber(aws.bedrock)
    for _ in range(2):
        stubber.add_client_error(operation, service_error_code="AccessDeniedException")
    with stubber:
        assert deployment_end.delete_deployment(aws.bedrock, {"mode": mode, "name": "d"}) is False
        with pytest.raises(ClientError):
            deployment_end.delete_deployment(
                aws.bedrock, {"mode": mode, "name": "d", "arn": "arn:aws:bedrock:x"}
            )


def test_the_polling_limit_follows_the_poll_interval() -> None:
    config = PipelineConfig.model_validate(
        {
            "artifacts_bucket": "a",
            "topic_arn": "t",
            "bedrock_role_arn": "r",
            "model_key_arn": "k",
            "subnet_ids": [],
            "security_group_ids": [],
            "stack_name": "s",
            "poll_interval_seconds": 300,
        }
    )
    assert deployments._max_polls(config) == 72  # 6 hours of 5-minute polls
