"""``bedrock-customize spend --local`` and the sweep's orphan count, on the emulator.

The served emulator (as `make emulator`) runs a deployed run; a Provisioned Throughput
with this stack's owner tag but no run (an orphan) and another stack's deployment are
made beside it, as a crash or a colleague would leave them. Cost Explorer is moto's,
primed with the answer AWS would give for spend tagged with the run's id.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from bedrock_customize.cli import main
from bedrock_customize.stack import connect_local
from customization_core.naming import OWNER_TAG, RUN_ID_TAG
from customization_core.registry import LIVE, LIVE_ATTRIBUTE
from emulator.cloud import LocalCloud
from tests.e2e.conftest import TITAN_LITE, prompt_completion, serving, until
from tests.infra.synth import stage_settings, synthesize


def _cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _cost_explorer_answers(endpoint: str, run_id: str, usd: str) -> None:
    """Prime moto's Cost Explorer: spend grouped by the run id tag (and untagged spend)."""
    group = {"Metrics": {"UnblendedCost": {"Amount": usd, "Unit": "USD"}}}
    result = {
        "ResultsByTime": [
            {
                "TimePeriod": {"Start": "2026-11-01", "End": "2026-12-01"},
                "Groups": [
                    {"Keys": [f"{RUN_ID_TAG}${run_id}"], **group},
                    {"Keys": [f"{RUN_ID_TAG}$"], "Metrics": group["Metrics"]},
                ],
                "Estimated": True,
            }
        ]
    }
    request = urllib.request.Request(  # noqa: S310 - the emulator on 127.0.0.1
        f"{endpoint}/moto-api/static/ce/cost-and-usage-results",
        data=json.dumps({"results": [result]}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request) as answer:  # noqa: S310
        assert answer.status == 201


@pytest.fixture(scope="module")
def long_lived(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The dev stage with no early idle teardown: the run's deployment lives its 72 hours
    (about 4 minutes on the emulator), whatever the machine's load."""
    outdir = tmp_path_factory.mktemp("spend")
    synthesize(stage_settings("dev", deploymentIdleHours=720), outdir)
    return outdir


@pytest.fixture
def served(long_lived: Path, tmp_path: Path) -> Iterator[Path]:
    """The emulator served for this test alone (the sweep's test starts a cloud of its own)."""
    with serving(long_lived, tmp_path / "served") as state:
        yield state


def test_spend_local_tells_owned_orphaned_and_foreign_deployments_and_billed_spend(
    served: Path, tmp_path: Path
) -> None:
    train = tmp_path / "train.jsonl"
    train.write_bytes(prompt_completion(20))
    submitted = _cli(
        "submit", "--local", "--name", "spendy", "--model", TITAN_LITE, "--type", "fine-tuning",
        "--train", str(train), "--deploy", "provisioned", "--ttl-hours", "72", "--wait",
    )  # fmt: skip
    assert submitted.exit_code == 0, submitted.output
    run_id = submitted.stdout.strip()
    shown = json.loads(_cli("show", "--local", run_id, "--json").stdout)
    live_arn, model_arn = shown["deployment"]["arn"], shown["model_arn"]

    stack = connect_local()
    owner = json.loads(served.read_text())["stack"]
    bedrock = stack.client("bedrock")
    orphan = bedrock.create_provisioned_model_throughput(
        modelUnits=2,
        provisionedModelName="bc-lost-run",
        modelId=model_arn,
        tags=[{"key": OWNER_TAG, "value": owner}, {"key": RUN_ID_TAG, "value": "lost-run"}],
    )["provisionedModelArn"]
    foreign = bedrock.create_custom_model_deployment(
        modelDeploymentName="a-colleagues",
        modelArn=model_arn,
        tags=[{"key": OWNER_TAG, "value": "SomeoneElsesStack"}],
    )["customModelDeploymentArn"]
    _cost_explorer_answers(json.loads(served.read_text())["endpoint"], run_id, "0.0042")

    result = _cli("spend", "--local", "--json")
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    found = {d["arn"]: d for d in document["deployments"]}
    assert (found[live_arn]["ownership"], found[live_arn]["live_run"]) == ("live", run_id)
    assert (found[live_arn]["owner"], found[live_arn]["run_id"]) == (owner, run_id)
    # Titan Text Lite: $7.10 per model unit per hour, no commitment (the catalog).
    assert found[live_arn]["hourly_usd"] == pytest.approx(7.1)
    assert found[live_arn]["base_model_id"] == TITAN_LITE
    assert (found[orphan]["ownership"], found[orphan]["run_id"]) == ("orphaned", "lost-run")
    assert found[orphan]["hourly_usd"] == pytest.approx(14.2)
    assert (found[foreign]["ownership"], found[foreign]["kind"]) == ("foreign", "on-demand")
    assert document["hourly_burn"]["known_usd"] == pytest.approx(21.3)
    assert [o["arn"] for o in document["orphaned"]] == [orphan]
    (model,) = [m for m in document["custom_models"] if m["arn"] == model_arn]
    assert (model["run_id"], model["last_deployment"]) == (run_id, "serving now")
    assert model["monthly_storage_usd"] == pytest.approx(1.95)
    billed = document["billed"]
    assert billed["status"] == "ok"
    (row,) = [r for r in billed["runs"] if r["run_id"] == run_id]
    assert row["billed_usd"] == pytest.approx(0.0042)
    assert row["estimate_usd"] is not None  # the run's own estimate, from its registry item

    # Anyone of the emulated account may look (the emulator judges only the handlers' calls).
    as_someone = _cli("spend", "--local", "--profile", "analyst", "--json")
    assert as_someone.exit_code == 0, as_someone.output
    assert [o["arn"] for o in json.loads(as_someone.stdout)["orphaned"]] == [orphan]

    text = _cli("spend", "--local")
    assert text.exit_code == 0, text.output
    (orphaned,) = [line for line in text.stdout.splitlines() if line.startswith("Orphaned: ")]
    assert all(fact in orphaned for fact in ("bc-lost-run", "(run lost-run)", orphan))
    assert "$0.0042" in text.stdout  # sub-cent spend as money() prints it

    # End the run (its deployment is deleted) rather than leave its execution waiting; on a
    # very loaded machine its 72 hours may have passed already: cancel then exits 1.
    cancelled = _cli("cancel", "--local", run_id)
    ended = ("CANCELLED",) if cancelled.exit_code == 0 else ("SUCCEEDED",)
    until(lambda: json.loads(_cli("show", "--local", run_id, "--json").stdout)["status"] in ended)
    after = json.loads(_cli("spend", "--local", "--json").stdout)
    assert live_arn not in {d["arn"] for d in after["deployments"]}


# The sweep, as Lambda runs it, under the synthesized IAM ----------------------------------


def test_the_sweep_counts_the_orphan_with_only_its_own_permissions(cloud: LocalCloud) -> None:
    # The synthesized template as it is: the sweep's statements and the Bedrock endpoint's.
    bedrock = cloud.client("bedrock")  # the emulator's own client: not judged
    bedrock.create_model_customization_job(
        jobName="made-by-hand",
        customModelName="by-hand",
        roleArn=cloud.output("BedrockRoleArn"),
        baseModelIdentifier=TITAN_LITE,
        trainingDataConfig={"s3Uri": f"s3://{cloud.output('DatasetsBucketName')}/t.jsonl"},
        outputDataConfig={"s3Uri": f"s3://{cloud.output('ArtifactsBucketName')}/o/"},
        hyperParameters={},
    )
    model = bedrock.get_custom_model(modelIdentifier="by-hand")["modelArn"]

    def provisioned(name: str, owner: str) -> str:
        return str(
            bedrock.create_provisioned_model_throughput(
                modelUnits=1,
                provisionedModelName=name,
                modelId=model,
                tags=[{"key": OWNER_TAG, "value": owner}],
            )["provisionedModelArn"]
        )

    live, orphan = provisioned("bc-live", cloud.name), provisioned("bc-orphan", cloud.name)
    foreign = provisioned("theirs", "SomeoneElsesStack")
    cloud.client("dynamodb").put_item(
        TableName=cloud.output("RegistryTableName"),
        Item={
            "run_id": {"S": "live"},
            "status": {"S": "DEPLOYED"},
            "updated_at": {"S": "2026-12-02T10:00:00+00:00"},
            LIVE_ATTRIBUTE: {"S": LIVE},
            "deployment": {"M": {"arn": {"S": live}, "name": {"S": "bc-live"}}},
        },
    )
    (sweep,) = [
        name
        for logical_id, name in cloud.physical.items()
        if logical_id.startswith("WorkflowFunctionsSweepDeployments")
        and cloud.template["Resources"][logical_id]["Type"] == "AWS::Lambda::Function"
    ]
    assert cloud.enforcer is not None
    cloud.enforcer.denials.clear()  # the job made by hand had its own (its data is fake)
    answer = cloud.client("lambda").invoke(FunctionName=sweep, Payload=b"{}")
    payload = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, payload
    assert payload["orphaned"] == [orphan]
    # The only refusal: the other stack's tags, which the owner tag condition keeps it from.
    assert [(d.action, d.resource) for d in cloud.enforcer.denials] == [
        ("bedrock:ListTagsForResource", foreign)
    ]
