"""ValidateRequest's deploy-only path: an existing custom model, by run id or ARN (issue 14).

A deploy-only manifest (``{"deployModel": ..., "deploy": ...}``) trains nothing: the run
copies what the after-training states need from the run that trained the model, links
both ways, and is refused, in a sentence, when the model cannot be deployed.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from customization_core import (
    approval_steps,
    dataset_step,
    deployments,
    evaluate_step,
    faults,
    job_steps,
)
from customization_core.run import Run, Status
from emulator.state import BEDROCK, Scenario
from tests.handlers.conftest import ACCOUNT, REGION, Aws
from tests.handlers.deployed import DEPLOY, _trained
from tests.handlers.runs import MANIFEST, _records

DEPLOYING = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:workflow:deploy"
NOVA_MICRO = "amazon.nova-micro-v1:0:128k"  # on-demand deployments exist for it (catalog)


def _deploy(aws: Aws, model: str, *, name: str = "deploy-summaries", **fields: Any) -> Run:
    """Upload a deploy-only manifest for ``model`` and run ValidateRequest on it."""
    manifest = {"deployModel": model, "deploy": DEPLOY, **fields}
    source = aws.start(name, manifest)
    return Run.model_validate(aws.validate(source, f"{DEPLOYING}-{source.version_id}"))


def _train_as(aws: Aws, name: str, stack_name: str, **manifest: Any) -> Run:
    """A run trained by ``stack_name``'s pipeline (its model carries that owner tag)."""
    config = aws.config.model_copy(update={"stack_name": stack_name})
    source = aws.start(name, {**MANIFEST, **manifest}, train_jsonl=_records(10))
    run = Run.model_validate(aws.validate(source, f"{DEPLOYING}-{name}", config=config))
    run = Run.model_validate(
        dataset_step.validate_data(run, s3=aws.s3, registry=aws.registry, config=config)
    )
    run = Run.model_validate(
        job_steps.start_job(run, bedrock=aws.bedrock, registry=aws.registry, config=config)
    )
    return Run.model_validate(
        job_steps.record_result(
            run, bedrock=aws.bedrock, s3=aws.s3, registry=aws.registry, config=config
        )
    )


def _rejected(run: Run) -> str:
    assert run.status is Status.REJECTED, run.state()
    assert run.reason
    return run.reason


# A run id: the model its run trained, deployed by a run of its own -----------------------


def test_a_run_id_deploys_its_model_with_what_the_training_run_knew(aws: Aws) -> None:
    # Given a run that trained a model and deployed nothing
    trained = _trained(aws)
    assert trained.status is Status.SUCCEEDED
    assert trained.deployment is None

    # When a deploy-only manifest names it, with an evaluation
    run = _deploy(aws, trained.run_id, evaluate={"samples": 3}, budgetUsd=5)

    # Then the new run trains nothing and carries the training run's model and data
    assert run.status is Status.VALIDATING, run.reason
    assert run.trains is False
    assert run.model_of_run == trained.run_id
    assert run.model_arn == trained.model_arn
    assert (run.model_id, run.customization_type) == (trained.model_id, "FINE_TUNING")
    assert run.training == trained.training
    assert run.validation == trained.validation
    assert run.snapshot == trained.snapshot
    assert run.effective_hyperparameters == trained.effective_hyperparameters
    assert run.job_name is None  # nothing to stop on failure or cancel
    assert run.tokens is None  # nothing trained, so no training tokens are counted
    assert run.extra == {
        "deploy": {"mode": "provisioned", "modelUnits": 1, "ttlHours": 2.0, "idleHours": None},
        "evaluate": {"samples": 3, "minImprovement": 0.0, "prompts": []},
        "budgetUsd": 5.0,
        "tags": {},
    }
    # What RecordResult plans for a training run, planned here (deployments.plan)
    assert run.deployment is not None
    assert (run.deployment["mode"], run.deployment["status"]) == (
        "provisioned",
        "WAITING_FOR_MODEL",
    )
    assert run.deployment["name"] == f"bc-{run.run_id}"[:63]
    assert run.evaluation == {"planned": True, "done": False, "next": 0}

    # And the registry records it as a run of its own, linked both ways
    item = aws.item(run.run_id)
    assert (item["status"], item["trains"], item["model_of_run"]) == (
        "VALIDATING",
        False,
        trained.run_id,
    )
    assert item["model_arn"] == trained.model_arn
    assert item["request"]["deploy"]["mode"] == "provisioned"
    assert aws.item(trained.run_id)["deployment_runs"] == [run.run_id]
    assert aws.item(trained.run_id)["status"] == "SUCCEEDED"  # its own status is untouched
    assert BEDROCK.count("CreateModelCustomizationJob") == 1  # the training run's only

    # And the evaluation's held-out records are the training run's validation file
    samples = evaluate_step._samples(run, aws.s3)
    assert [s.reference for s in samples] == ["Summary 0.", "Summary 1.", "Summary 2."]

    # And EstimateCost prices what it spends: the deployment and the evaluation only
    priced = Run.model_validate(
        approval_steps.estimate_cost(run, registry=aws.registry, config=aws.config)
    )
    assert priced.estimate is not None
    assert [p["name"] for p in priced.estimate["parts"]] == ["deployment", "evaluation"]


def test_the_deploy_only_run_goes_on_through_the_after_training_states(aws: Aws) -> None:
    # Given a deploy-only run that passed ValidateRequest (VALIDATING, nothing trained)
    run = _deploy(aws, _trained(aws).run_id)
    assert run.status is Status.VALIDATING, run.reason

    # When the after-training states run on it
    run = Run.model_validate(deployments.check_model(run, bedrock=aws.bedrock, config=aws.config))
    run = Run.model_validate(
        deployments.start_deployment(
            run, bedrock=aws.bedrock, registry=aws.registry, config=aws.config
        )
    )

    # Then its model is deployed, the run DEPLOYING, straight from VALIDATING
    assert run.status is Status.DEPLOYING
    assert run.deployment is not None
    assert run.deployment["arn"] in BEDROCK.deployments
    history = [h["status"] for h in aws.item(run.run_id)["history"]]
    assert history[-3:] == ["VALIDATING", "DEPLOYING", "DEPLOYING"]


def test_an_approved_deploy_only_run_deploys_straight_from_awaiting_approval(aws: Aws) -> None:
    # Given a deploy-only run a gate held for approval (RequestApproval recorded it)
    run = _deploy(aws, _trained(aws).run_id)
    aws.registry.update(run, Status.AWAITING_APPROVAL)

    # When, approved, it goes on: no job, so no TRAINING in between
    run = Run.model_validate(deployments.check_model(run, bedrock=aws.bedrock, config=aws.config))
    run = Run.model_validate(
        deployments.start_deployment(
            run, bedrock=aws.bedrock, registry=aws.registry, config=aws.config
        )
    )

    # Then the registry lets it deploy
    assert run.status is Status.DEPLOYING
    history = [h["status"] for h in aws.item(run.run_id)["history"]]
    assert "TRAINING" not in history
    assert history[-3:] == ["AWAITING_APPROVAL", "DEPLOYING", "DEPLOYING"]


def test_each_deployment_of_a_model_is_linked_from_its_training_run(aws: Aws) -> None:
    trained = _trained(aws)
    first = _deploy(aws, trained.run_id)
    second = _deploy(aws, trained.run_id, name="deploy-summaries-again")
    assert first.run_id != second.run_id
    assert aws.item(trained.run_id)["deployment_runs"] == [first.run_id, second.run_id]


def test_a_deployment_runs_id_deploys_the_model_of_its_training_run(aws: Aws) -> None:
    trained = _trained(aws)
    first = _deploy(aws, trained.run_id)
    again = _deploy(aws, first.run_id, name="deploy-again")
    assert again.status is Status.VALIDATING, again.reason
    assert (again.model_of_run, again.model_arn) == (trained.run_id, trained.model_arn)
    assert aws.item(trained.run_id)["deployment_runs"] == [first.run_id, again.run_id]


def test_a_run_whose_own_deployment_failed_still_has_its_model_deployed(aws: Aws) -> None:
    # Given a trained run whose deployment failed (no model units granted, say): FAILED
    trained = _trained(aws, deploy=DEPLOY)
    aws.registry.update(trained, Status.FAILED, reason="Deploying the custom model failed: quota.")

    # Then its model, which Bedrock keeps, can be deployed by a run of its own
    run = _deploy(aws, trained.run_id)
    assert run.status is Status.VALIDATING, run.reason
    assert run.model_arn == trained.model_arn


# What cannot be deployed is refused, in a sentence ---------------------------------------


def test_an_unknown_run_is_refused_with_where_to_find_the_runs(aws: Aws) -> None:
    reason = _rejected(_deploy(aws, "nothing-here-0123456789ab"))
    assert reason == (
        "There is no run 'nothing-here-0123456789ab' in this stack's registry: deployModel "
        "names a run of this stack (`bedrock-customize list`) or a custom model ARN."
    )


def test_a_run_without_a_model_is_refused_saying_why_it_has_none(aws: Aws) -> None:
    # Given a run refused for its data (no job ran) and a run still validating
    bad = aws.start("broken", MANIFEST, train_jsonl=_records(20, bad_line=3))
    refused = Run.model_validate(aws.validate(bad, f"{DEPLOYING}-bad"))
    refused = Run.model_validate(
        dataset_step.validate_data(refused, s3=aws.s3, registry=aws.registry, config=aws.config)
    )
    assert refused.status is Status.REJECTED
    waiting = Run.model_validate(
        aws.validate(aws.start("waiting", MANIFEST, train_jsonl=_records(20)), f"{DEPLOYING}-w")
    )

    # Then deploying either says the run has no custom model, and why
    reason = _rejected(_deploy(aws, refused.run_id))
    assert reason.startswith(
        f"Run {refused.run_id} has no custom model: it ended REJECTED before Bedrock made one ("
    )
    assert "error(s) in the dataset" in reason
    assert reason.endswith("Only a run whose training job completed can be deployed.")
    reason = _rejected(_deploy(aws, waiting.run_id, name="deploy-waiting"))
    assert reason == (
        f"Run {waiting.run_id} has no custom model: it is still VALIDATING; deploy it once it "
        f"has SUCCEEDED (`bedrock-customize status {waiting.run_id}`). Only a run whose "
        "training job completed can be deployed."
    )
    assert "deployment_runs" not in aws.item(refused.run_id)  # nothing linked


def test_a_run_still_deploying_its_own_model_is_refused(aws: Aws) -> None:
    trained = _trained(aws, deploy=DEPLOY)
    assert trained.status is Status.DEPLOYING
    reason = _rejected(_deploy(aws, trained.run_id))
    assert reason.startswith(f"Run {trained.run_id} is still DEPLOYING its own model:")


def test_a_model_bedrock_reports_failed_is_refused(aws: Aws) -> None:
    BEDROCK.scenarios["jobs/summaries/"] = Scenario(model_outcome="Failed")
    trained = _trained(aws)
    assert trained.status is Status.FAILED  # the job completed without a usable model
    model_arn = aws.item(trained.run_id)["model_arn"]  # recorded, though unusable
    reason = _rejected(_deploy(aws, trained.run_id))
    assert reason.startswith(f"The custom model {model_arn} is Failed (")


def test_what_the_model_cannot_do_is_refused_before_anything_is_spent(aws: Aws) -> None:
    trained = _trained(aws)  # a Titan Lite model: no on-demand deployment
    on_demand = _rejected(_deploy(aws, trained.run_id, deploy={"mode": "on-demand"}))
    assert on_demand.startswith(
        "deploy.mode on-demand is not available for amazon.titan-text-lite-v1:0:4k"
    )
    too_long = _rejected(
        _deploy(
            aws, trained.run_id, name="deploy-long", deploy={"mode": "provisioned", "ttlHours": 500}
        )
    )
    assert "deploy.ttlHours 500 is above this deployment's limit of 72 hours" in too_long
    allowed = aws.config.model_copy(update={"allowed_models": (NOVA_MICRO,)})
    source = aws.start("deploy-other", {"deployModel": trained.run_id, "deploy": DEPLOY})
    run = Run.model_validate(aws.validate(source, DEPLOYING, config=allowed))
    assert _rejected(run) == (
        "The custom model of run "
        f"{trained.run_id} is of base model 'amazon.titan-text-lite-v1:0:4k', which is not "
        f"allowed in this deployment; allowed: {NOVA_MICRO}."
    )
    assert "deployment_runs" not in aws.item(trained.run_id)


def test_a_deploy_only_manifest_with_a_training_field_is_refused_naming_it(aws: Aws) -> None:
    source = aws.start(
        "deploy-mixed", {"deployModel": "summaries-0123456789ab", "baseModelId": NOVA_MICRO}
    )
    reason = _rejected(Run.model_validate(aws.validate(source, DEPLOYING)))
    assert reason.startswith(
        "The manifest is not valid: Manifest field 'baseModelId' does not go with deployModel"
    )
    assert "Manifest field 'deploy' is missing" in reason


# A custom model ARN: this stack's own models only ----------------------------------------


def test_an_arn_of_this_stacks_model_is_linked_to_the_run_that_trained_it(aws: Aws) -> None:
    trained = _trained(aws)
    assert trained.model_arn
    run = _deploy(aws, trained.model_arn, evaluate={"samples": 2})
    assert run.status is Status.VALIDATING, run.reason
    assert (run.model_of_run, run.model_id) == (trained.run_id, trained.model_id)
    assert run.validation == trained.validation
    assert aws.item(trained.run_id)["deployment_runs"] == [run.run_id]


def test_a_model_another_stack_made_is_refused(aws: Aws) -> None:
    # Given a custom model made by another stack's pipeline (its owner tag names that stack)
    foreign = _train_as(aws, "theirs", "SomeoneElsesStack")
    assert foreign.model_arn

    # Then this stack refuses to deploy it, and says whose it is
    reason = _rejected(_deploy(aws, foreign.model_arn))
    assert reason == (
        f"The custom model {foreign.model_arn} was not made by this stack: its "
        "bedrock-customization:stack tag is 'SomeoneElsesStack', not "
        "'BedrockCustomization-test'. This stack deploys only the models it trained."
    )
    assert "deployment_runs" not in aws.item(foreign.run_id)


def test_a_model_that_does_not_exist_is_refused(aws: Aws) -> None:
    missing = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:custom-model/gone-0123456789ab"
    reason = _rejected(_deploy(aws, missing))
    assert reason.startswith(f"The custom model {missing} cannot be read by this stack")
    assert "it does not exist, or it is not one this stack made" in reason


def test_a_model_refused_by_iam_is_refused_as_not_this_stacks(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As in AWS, where the function may read only models with this stack's owner tag
    trained = _trained(aws)
    assert trained.model_arn

    def denied(**_: Any) -> Any:
        raise ClientError(
            {"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}},
            "GetCustomModel",
        )

    monkeypatch.setattr(aws.bedrock, "get_custom_model", denied)
    reason = _rejected(_deploy(aws, trained.model_arn))
    assert "cannot be read by this stack (AccessDeniedException)" in reason


def test_a_model_whose_run_is_gone_deploys_from_what_bedrock_says(aws: Aws) -> None:
    # Given this stack's model whose training run is no longer in the registry
    trained = _trained(aws)
    assert trained.model_arn
    aws.table.delete_item(Key={"run_id": trained.run_id})

    # Then it is deployed from GetCustomModel's answer, but not evaluated on held-out data
    run = _deploy(aws, trained.model_arn)
    assert run.status is Status.VALIDATING, run.reason
    assert (run.model_id, run.customization_type) == (trained.model_id, "FINE_TUNING")
    assert run.model_of_run == trained.run_id  # from the model's run-id tag
    assert run.training is None
    reason = _rejected(_deploy(aws, trained.model_arn, name="deploy-eval", evaluate={}))
    assert reason.startswith(
        f"evaluate compares the model on its training run's held-out records, and run "
        f"{trained.run_id} is not in this stack's registry"
    )


def test_throttling_while_reading_the_model_is_retried_not_judged(aws: Aws) -> None:
    trained = _trained(aws)

    def throttled(**_: Any) -> Any:
        raise ClientError(
            {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "GetCustomModel"
        )

    source = aws.start("deploy-busy", {"deployModel": trained.run_id, "deploy": DEPLOY})
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(aws.bedrock, "get_custom_model", throttled)
        with pytest.raises(faults.BedrockThrottledError):
            aws.validate(source, DEPLOYING)
    # The retry (the same execution) goes on from the claim, Bedrock answering again
    run = Run.model_validate(aws.validate(source, DEPLOYING))
    assert run.status is Status.VALIDATING, run.reason
    assert json.loads(json.dumps(run.state()))["trains"] is False
