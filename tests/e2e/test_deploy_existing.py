"""`bedrock-customize deploy`: an existing custom model deployed by a run of its own (issue 14).

Against the served emulator (`make emulator`), through --local: a run trains a model and
deploys nothing; `deploy RUN_ID` then starts a deployment-only run through the same
workflow (estimate, gates, deployment, evaluation, end time, teardown), recorded as a run
of its own and linked to the run that trained the model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from bedrock_customize.cli import main
from bedrock_customize.stack import connect_local
from emulator.state import BEDROCK
from tests.e2e.conftest import until

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "dialogue-summaries"
NOVA_MICRO = "amazon.nova-micro-v1:0:128k"  # on-demand deployments exist for it (catalog)


def _cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _json(*args: str) -> Any:
    result = _cli(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _status(run_id: str) -> str:
    result = _cli("status", "--local", run_id, "--json")
    return str(json.loads(result.stdout)["status"]) if result.stdout else ""


def _states(run_id: str) -> list[str]:
    return [
        e["stateEnteredEventDetails"]["name"]
        for e in _json("logs", "--local", run_id)
        if "stateEnteredEventDetails" in e
    ]


def _deploy_manifests() -> list[str]:
    stack = connect_local()
    listing = stack.client("s3").list_objects_v2(
        Bucket=stack.output("DatasetsBucketName"), Prefix="jobs/deploy-"
    )
    return [o["Key"] for o in listing.get("Contents", [])]


@pytest.fixture(scope="module")
def trained_id(served: Path) -> str:
    """A run that trained a model and deployed nothing (its --wait output checked once)."""
    trained = _cli(
        "submit", "--local", "--name", "kept", "--model", NOVA_MICRO, "--type", "fine-tuning",
        "--train", str(EXAMPLES / "train.jsonl"),
        "--validation", str(EXAMPLES / "validation.jsonl"), "--wait",
    )  # fmt: skip
    assert trained.exit_code == 0, trained.output
    run_id = trained.stdout.strip()
    # It says how to deploy the model, not to invoke it: nothing serves it.
    assert "bedrock-customize invoke" not in trained.stderr
    assert f"bedrock-customize deploy {run_id} --on-demand --ttl-hours 2 --local" in (
        trained.stderr
    )
    return run_id


def test_a_trained_model_is_deployed_evaluated_and_torn_down_by_a_run_of_its_own(
    trained_id: str,
) -> None:
    # Given a run that trained a model and deployed nothing
    refused = _cli("invoke", "--local", trained_id, "--prompt", "hi")
    assert refused.exit_code == 1
    assert "A custom model answers through its deployment" in refused.stderr
    assert f"bedrock-customize deploy {trained_id} --on-demand --ttl-hours 2 --local" in (
        refused.stderr
    )
    jobs_before = BEDROCK.count("CreateModelCustomizationJob")

    # When it is deployed, with an evaluation, for an hour (3.6 s on the emulator)
    deployed = _cli(
        "deploy", "--local", trained_id, "--provisioned", "--ttl-hours", "1",
        "--evaluate-samples", "2", "--wait",
    )  # fmt: skip

    # Then a run of its own deploys and evaluates the model, and serves it
    assert deployed.exit_code == 0, deployed.output
    run_id = deployed.stdout.strip()  # the run id alone on stdout, as submit prints it
    assert run_id.startswith(f"deploy-{trained_id}"[:40])
    assert run_id != trained_id
    assert f"run {run_id} deploys the custom model of run {trained_id}" in deployed.stderr
    assert f"Run {run_id} is DEPLOYED: its model serves from" in deployed.stderr
    assert BEDROCK.count("CreateModelCustomizationJob") == jobs_before  # nothing trained
    shown = _json("show", "--local", run_id)
    assert (shown["trains"], shown["model_of_run"]) == (False, trained_id)
    assert shown["model_arn"] == _json("show", "--local", trained_id)["model_arn"]
    # (as the registry keeps it: no idleHours given, so the stage's applies)
    assert shown["request"]["deploy"] == {"mode": "provisioned", "modelUnits": 1, "ttlHours": 1}
    assert shown["verdict"] == "PROMOTED"  # compared with its base on the held-out records
    assert shown["evaluation"]["done"] is True

    # And the registry shows two runs, linked both ways
    training = _json("show", "--local", trained_id)
    assert training["deployment_runs"] == [run_id]
    assert training["status"] == "SUCCEEDED"
    human = _cli("show", "--local", trained_id).stdout
    assert "deployment_runs" in human
    assert run_id in human
    listed = {r["run_id"] for r in _json("list", "--local")}
    assert {trained_id, run_id} <= listed

    # And at its end time the deployment is deleted and the run SUCCEEDS
    until(lambda: _status(run_id) == "SUCCEEDED", timeout=60)
    ended = _json("show", "--local", run_id)
    assert ended["deployment"]["status"] == "EXPIRED"
    assert ended["reason"].startswith("The deployment reached its end time")
    assert BEDROCK.deployments == {}
    states = _states(run_id)
    assert states[:3] == ["ValidateRequest", "Duplicate?", "EstimateCost"]
    for skipped in ("ValidateDataset", "StartJob", "CheckJob", "RecordResult"):
        assert skipped not in states
    for state in ("Trains?", "Deploy?", "StartDeployment", "Evaluate", "TearDown", "Notify"):
        assert state in states
    # With nothing serving, invoke says how to deploy it again
    again = _cli("invoke", "--local", run_id, "--prompt", "hi")
    assert again.exit_code == 1
    assert f"bedrock-customize deploy {trained_id} --on-demand --ttl-hours 2 --local" in (
        again.stderr
    )


def test_a_model_deployed_by_its_arn_answers_by_either_run_id_until_cancelled(
    trained_id: str,
) -> None:
    # Given the model named by its ARN (the pipeline reads its owner and run-id tags, as
    # the enforced IAM allows), deployed on demand for a day (about 90 s on the emulator)
    model_arn = _json("show", "--local", trained_id)["model_arn"]
    # idleHours as long as its life: on a loaded machine the emulator's 4 idle hours
    # (14.4 s) can pass before it is invoked, and it would rightly be deleted as idle.
    deployed = _cli(
        "deploy", "--local", model_arn, "--on-demand", "--ttl-hours", "24",
        "--idle-hours", "24", "--wait",
    )  # fmt: skip
    assert deployed.exit_code == 0, deployed.output
    run_id = deployed.stdout.strip()
    assert f"run {run_id} deploys the custom model of {model_arn} (on-demand)" in deployed.stderr
    shown = _json("show", "--local", run_id)
    assert (shown["deployment"]["mode"], shown["deployment"]["status"]) == ("on-demand", "ACTIVE")
    assert shown["model_of_run"] == trained_id  # found by the model's run-id tag
    assert "verdict" not in shown  # no evaluate block: not compared with its base

    # Then either run's id invokes it, through its deployment
    served_by = shown["deployment"]["arn"]
    assert _json("invoke", "--local", run_id, "--prompt", "hi")["model"] == served_by
    assert _json("invoke", "--local", trained_id, "--prompt", "hi")["model"] == served_by
    assert run_id in _json("show", "--local", trained_id)["deployment_runs"]

    # And cancelling the deployment run deletes its deployment; the model stays
    assert _cli("cancel", "--local", run_id).exit_code == 0
    until(lambda: _status(run_id) == "CANCELLED", timeout=60)
    assert BEDROCK.deployments == {}
    assert _json("show", "--local", trained_id)["status"] == "SUCCEEDED"


def test_what_cannot_be_deployed_is_refused_before_anything_is_uploaded(served: Path) -> None:
    uploaded = _deploy_manifests()
    unknown = _cli("deploy", "--local", "no-such-run-0123456789ab", "--provisioned")
    assert unknown.exit_code == 1
    assert "There is no run 'no-such-run-0123456789ab'" in unknown.stderr

    broken = _cli(
        "submit", "--local", "--name", "broken", "--model", NOVA_MICRO, "--type", "fine-tuning",
        "--train", str(EXAMPLES.parent / "broken-dataset" / "train.jsonl"), "--force", "--wait",
    )  # fmt: skip
    assert broken.exit_code == 1
    broken_id = broken.stdout.strip()
    no_model = _cli("deploy", "--local", broken_id, "--on-demand")
    assert no_model.exit_code == 1
    assert f"Run {broken_id} has no custom model: it ended REJECTED before Bedrock made one" in (
        no_model.stderr
    )

    both = _cli("deploy", "--local", broken_id, "--provisioned", "--on-demand")
    assert both.exit_code == 2
    assert "Give --provisioned or --on-demand, not both" in both.output
    neither = _cli("deploy", "--local", broken_id)
    assert neither.exit_code == 2
    assert "Give --provisioned or --on-demand" in neither.output
    units = _cli("deploy", "--local", broken_id, "--on-demand", "--model-units", "2")
    assert units.exit_code == 2
    assert "--model-units is for --provisioned" in units.output
    bad = _cli("deploy", "--local", "Not A Run", "--provisioned")
    assert bad.exit_code == 2
    assert "Manifest field 'deployModel'" in bad.output
    assert _deploy_manifests() == uploaded


def test_a_deployment_a_gate_holds_waits_for_someone_else_to_approve_it(trained_id: str) -> None:
    # Given a deployment with no end time (a gate: a person approves it, whatever the price)
    held = _cli("deploy", "--local", trained_id, "--provisioned", "--keep-deployment")
    assert held.exit_code == 0, held.output
    run_id = held.stdout.strip()
    assert f"bedrock-customize approve {run_id} --local --profile approver" in held.stderr
    until(lambda: _status(run_id) == "AWAITING_APPROVAL", timeout=60)
    own = _cli("approve", "--local", run_id)  # its submitter may not
    assert own.exit_code == 1
    assert "someone else must approve or reject it" in own.stderr

    # When someone other than its submitter approves it
    approved = _cli("approve", "--local", run_id, "--profile", "approver")
    assert approved.exit_code == 0, approved.output

    # Then it deploys, without training, and keeps serving (no end time)
    until(lambda: _status(run_id) == "SUCCEEDED", timeout=60)
    shown = _json("show", "--local", run_id)
    assert shown["deployment"]["status"] == "ACTIVE"
    assert shown["reason"].startswith("Deployed with no end time")
    states = _states(run_id)
    assert states[states.index("RequestApproval") + 1 :][:2] == ["Trains?", "Deploy?"]
    assert "StartJob" not in states
    assert (
        _json("invoke", "--local", run_id, "--prompt", "hi")["model"]
        == (shown["deployment"]["arn"])
    )
    # (deleted here: nothing in the workflow ends a deployment kept on purpose)
    connect_local().client("bedrock").delete_provisioned_model_throughput(
        provisionedModelId=shown["deployment"]["arn"]
    )
