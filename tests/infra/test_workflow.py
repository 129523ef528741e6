"""The workflow: trigger, state machine, handlers, registry, as synthesized."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.infra.policies import render
from tests.infra.synth import ROOT, Synth, as_list, statements

HANDLERS = (
    "validate_request", "validate_data", "estimate_cost", "request_approval", "start_job",
    "check_job", "record_result", "record_failure", "notify", "cancel",
    "check_model", "start_deployment", "check_deployment", "evaluate", "watch_deployment",
    "tear_down", "sweep_deployments", "answer_approval", "grader",
)  # fmt: skip
# Bedrock invokes the built-in grader with many samples at once (stacks/grading.py): it has
# no reserved concurrency, and its own environment (the pipeline's names its ARN).
GRADER = "grader"
ELF_MACHINE_AARCH64 = 183  # e_machine of an ARM64 ELF file


def _functions(synth: Synth) -> dict[str, dict[str, Any]]:
    found = {}
    for resource in synth.resources("AWS::Lambda::Function").values():
        handler = resource["Properties"].get("Handler", "")
        if handler.startswith("lambdas."):
            found[handler.split(".")[1]] = resource["Properties"]
    return found


def _policy_of(synth: Synth, name: str) -> list[dict[str, Any]]:
    pascal = "".join(part.capitalize() for part in name.split("_"))
    _, policy = synth.one("AWS::IAM::ManagedPolicy", f"Workflow/Functions/{pascal}Policy/")
    return statements(policy["Properties"]["PolicyDocument"])


def test_every_handler_runs_arm64_on_the_latest_python_in_the_vpc(dev: Synth) -> None:
    functions = _functions(dev)
    assert set(functions) == set(HANDLERS)
    workload = dev.one("AWS::EC2::SecurityGroup", "Network/WorkloadSecurityGroup/")[0]
    data_key = dev.one("AWS::KMS::Key", "Storage/DataKey/")[0]
    for name, props in functions.items():
        assert (
            ROOT / "lambdas" / name / "handler.py"
        ).exists()  # the stack mirrors lambdas/<name>/
        assert props["Handler"] == f"lambdas.{name}.handler.main"
        assert props["Runtime"] == "python3.14"
        assert props["Architectures"] == ["arm64"]
        assert props["VpcConfig"]["SecurityGroupIds"] == [{"Fn::GetAtt": [workload, "GroupId"]}]
        if name == GRADER:
            assert "ReservedConcurrentExecutions" not in props
        else:
            assert props["ReservedConcurrentExecutions"] >= 1
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert props["KmsKeyArn"] == {"Fn::GetAtt": [data_key, "Arn"]}
        group = dev.template["Resources"][props["LoggingConfig"]["LogGroup"]["Ref"]]["Properties"]
        assert group["RetentionInDays"] == 30
        if name == GRADER:
            assert set(props["Environment"]["Variables"]) >= {"ARTIFACTS_BUCKET"}
            continue
        config = props["Environment"]["Variables"]["PIPELINE_CONFIG"]
        assert "Fn::Join" in config  # tokens resolved into the JSON document at deploy time


def test_the_asset_carries_the_core_and_aarch64_dependencies(dev: Synth) -> None:
    code = _functions(dev)["validate_request"]["Code"]
    key = code["S3Key"] if isinstance(code["S3Key"], str) else ""
    asset = dev.outdir / f"asset.{key.removesuffix('.zip')}"
    assert (asset / "customization_core" / "data" / "models.json").exists()
    assert (asset / "lambdas" / "validate_request" / "handler.py").exists()
    shared_objects = list(asset.rglob("*.so"))
    assert any("pydantic_core" in str(p) for p in shared_objects)
    for library in shared_objects:
        header = library.read_bytes()[:20]
        assert header[:4] == b"\x7fELF"
        assert int.from_bytes(header[18:20], "little") == ELF_MACHINE_AARCH64, library


def test_the_assets_dependencies_are_the_versions_constraints_txt_pins(dev: Synth) -> None:
    code = _functions(dev)["validate_request"]["Code"]
    asset = dev.outdir / f"asset.{str(code['S3Key']).removesuffix('.zip')}"
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower().replace("_", "-")] = version
    installed = {}
    for info in asset.glob("*.dist-info"):
        name, version = info.name.removesuffix(".dist-info").rsplit("-", 1)
        installed[name.lower().replace("_", "-")] = version
    assert {"botocore", "pydantic", "rapidfuzz"} <= set(installed)
    assert {n: v for n, v in installed.items() if pins.get(n) != v} == {}


def test_validate_request_asks_about_the_catalogs_models_by_name(dev: Synth) -> None:
    from customization_core.catalog import load_catalog

    by_action = {
        a: as_list(s["Resource"])
        for s in _policy_of(dev, "validate_request")
        for a in as_list(s["Action"])
        if str(a).startswith("bedrock:")
    }
    # GetFoundationModelAvailability takes no resource type: "*" is all IAM accepts.
    assert by_action["bedrock:GetFoundationModelAvailability"] == ["*"]

    def tail(arn: Any) -> str:
        return render(arn).rsplit("foundation-model/", 1)[-1]

    asked = {tail(r) for r in by_action["bedrock:GetFoundationModel"]}
    # The catalog's models, and the distillation teachers of this Region (us-east-1).
    teachers = {"amazon.nova-pro-v1:0", "amazon.nova-premier-v1:0"}
    assert asked == set(load_catalog().all_ids()) | teachers


def test_only_job_json_uploads_to_the_inbox_start_a_run(dev: Synth) -> None:
    # The other S3 rule is the approvals' (tests/infra/test_approvals.py).
    (rule,) = [
        r
        for r in dev.resources("AWS::Events::Rule").values()
        if r["Properties"].get("EventPattern", {}).get("source") == ["aws.s3"]
        and "Workflow/" in r["Metadata"]["aws:cdk:path"]
    ]
    datasets = dev.one("AWS::S3::Bucket", "Storage/Datasets/")[0]
    assert rule["Properties"]["EventPattern"] == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {
            "bucket": {"name": [{"Ref": datasets}]},
            "object": {"key": [{"wildcard": "jobs/*/job.json"}]},
        },
    }
    (target,) = rule["Properties"]["Targets"]
    machine = dev.one("AWS::StepFunctions::StateMachine", "Workflow/StateMachine/")[0]
    assert target["Arn"] == {"Ref": machine}
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}
    queue = target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
    assert "KmsMasterKeyId" in dev.template["Resources"][queue]["Properties"]
    paths = target["InputTransformer"]["InputPathsMap"]
    assert paths["detail-object-version-id"] == "$.detail.object.version-id"


def test_start_job_may_pass_only_the_bedrock_role_only_to_bedrock(dev: Synth) -> None:
    role = dev.one("AWS::IAM::Role", "Identity/BedrockCustomizationRole/")[0]
    policy = {s["Sid"]: s for s in _policy_of(dev, "start_job")}
    assert policy["PassRoleToBedrock"]["Resource"] == {"Fn::GetAtt": [role, "Arn"]}
    assert policy["PassRoleToBedrock"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}
    }
    for statement in policy.values():
        if any(str(a).startswith("bedrock:") for a in as_list(statement["Action"])):
            assert statement["Resource"] != "*"
    assert "model-customization-job/*" in json.dumps(policy["CreateJob"]["Resource"])


def test_each_handler_gets_only_its_own_bedrock_actions(dev: Synth) -> None:
    def bedrock_actions(name: str) -> set[str]:
        return {
            a
            for s in _policy_of(dev, name)
            for a in as_list(s["Action"])
            if str(a).startswith("bedrock:")
        }

    deletes = {"bedrock:DeleteProvisionedModelThroughput", "bedrock:DeleteCustomModelDeployment"}
    assert bedrock_actions("check_job") == {"bedrock:GetModelCustomizationJob"}
    assert bedrock_actions("cancel") == {"bedrock:StopModelCustomizationJob", *deletes}
    # The failure path stops the job too (found by name when a crash lost its ARN).
    assert bedrock_actions("record_failure") == {"bedrock:StopModelCustomizationJob", *deletes}
    assert bedrock_actions("record_result") == {
        "bedrock:GetModelCustomizationJob",
        "bedrock:GetCustomModel",
    }
    assert bedrock_actions("tear_down") == deletes
    assert bedrock_actions("check_model") == {"bedrock:GetCustomModel"}
    # A create that lost its race with a cancel is undone by the handler that made it.
    assert bedrock_actions("start_deployment") == {
        "bedrock:CreateProvisionedModelThroughput",
        "bedrock:CreateCustomModelDeployment",
        "bedrock:TagResource",
        *deletes,
    }
    assert bedrock_actions("check_deployment") == {
        "bedrock:GetProvisionedModelThroughput",
        "bedrock:GetCustomModelDeployment",
    }
    assert bedrock_actions("evaluate") == {"bedrock:InvokeModel"}
    # A deploy-only manifest's model, by ARN: its status and its owner and run tags.
    assert bedrock_actions("validate_request") == {
        "bedrock:GetFoundationModel",
        "bedrock:GetFoundationModelAvailability",
        "bedrock:GetCustomModel",
        "bedrock:ListTagsForResource",
    }
    assert bedrock_actions("watch_deployment") == set()
    # The sweep lists what is deployed and reads its owner tag, to find orphans.
    assert bedrock_actions("sweep_deployments") == {
        "bedrock:ListProvisionedModelThroughputs",
        "bedrock:ListCustomModelDeployments",
        "bedrock:ListTagsForResource",
    }
    assert bedrock_actions("notify") == set()
    assert bedrock_actions("start_job") == {
        "bedrock:CreateModelCustomizationJob",
        "bedrock:TagResource",
        "bedrock:StopModelCustomizationJob",
    }


@pytest.mark.parametrize(("fixture", "protected"), [("dev", False), ("prod", True)])
def test_the_registry_is_encrypted_recoverable_and_protected(
    request: pytest.FixtureRequest, fixture: str, protected: bool
) -> None:
    synth: Synth = request.getfixturevalue(fixture)
    (table,) = synth.resources("AWS::DynamoDB::GlobalTable").values()
    props = table["Properties"]
    assert props["SSESpecification"]["SSEEnabled"] is True
    replica = props["Replicas"][0]
    assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert replica["DeletionProtectionEnabled"] is protected
    assert "KMSMasterKeyId" in json.dumps(replica["SSESpecification"])
    indexes = {
        i["IndexName"]: [k["AttributeName"] for k in i["KeySchema"]]
        for i in props["GlobalSecondaryIndexes"]
    }
    assert indexes == {
        "by-status": ["status", "updated_at"],
        # Sparse: only runs owning a deployment that may be alive (the sweep reads it).
        "live-deployments": ["deployment_live", "updated_at"],
    }


def test_the_dynamodb_endpoint_admits_only_the_registry(dev: Synth) -> None:
    for endpoint in dev.resources("AWS::EC2::VPCEndpoint").values():
        if "dynamodb" in json.dumps(endpoint["Properties"]["ServiceName"]):
            resources = statements(endpoint["Properties"]["PolicyDocument"])[0]["Resource"]
            assert "Registry" in json.dumps(resources)


def test_outputs_name_what_the_cli_needs(dev: Synth) -> None:
    assert {
        "RegistryTableName",
        "StateMachineArn",
        "UndeliveredRunsQueueUrl",
        "UnendedRunsQueueUrl",
    } <= set(dev.template["Outputs"])


def test_handlers_mirror_the_lambdas_folder() -> None:
    folders = {p.name for p in (ROOT / "lambdas").iterdir() if (p / "handler.py").exists()}
    assert folders == set(HANDLERS)


def test_validate_request_reads_only_custom_models_with_this_stacks_owner_tag(dev: Synth) -> None:
    # A deploy-only manifest names a model by ARN: ValidateRequest reads it and its tags,
    # and IAM lets it read no model another stack made (customization_core/deploy_existing.py).
    from customization_core.naming import OWNER_TAG
    from tests.infra.synth import ACCOUNT, REGION

    reads = [
        s
        for s in _policy_of(dev, "validate_request")
        if {"bedrock:GetCustomModel", "bedrock:ListTagsForResource"} & set(as_list(s["Action"]))
    ]
    assert {a for s in reads for a in as_list(s["Action"])} == {
        "bedrock:GetCustomModel",
        "bedrock:ListTagsForResource",
    }
    for statement in reads:
        assert as_list(statement["Resource"]) == [
            f"arn:aws:bedrock:{REGION}:{ACCOUNT}:custom-model/*"
        ]
        assert statement["Condition"] == {
            "StringEquals": {f"aws:ResourceTag/{OWNER_TAG}": dev.settings.stack_name}
        }
