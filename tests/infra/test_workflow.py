"""The workflow: trigger, state machine, handlers, registry, as synthesized."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.infra.synth import ROOT, Synth, as_list, statements

HANDLERS = (
    "validate_request", "validate_data", "estimate_cost", "request_approval", "start_job",
    "check_job", "record_result", "record_failure", "notify", "cancel",
    "check_model", "start_deployment", "check_deployment", "evaluate", "watch_deployment",
    "tear_down", "sweep_deployments", "answer_approval",
)  # fmt: skip
ELF_MACHINE_AARCH64 = 183  # e_machine of an ARM64 ELF file


def _definition(synth: Synth, machine_id: str = "StateMachine") -> dict[str, Any]:
    _, machine = synth.one("AWS::StepFunctions::StateMachine", f"Workflow/{machine_id}/")
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    text = "".join(p if isinstance(p, str) else json.dumps(p).replace('"', "'") for p in parts)
    definition: dict[str, Any] = json.loads(text)
    return definition


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
        assert props["ReservedConcurrentExecutions"] >= 1
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert props["KmsKeyArn"] == {"Fn::GetAtt": [data_key, "Arn"]}
        group = dev.template["Resources"][props["LoggingConfig"]["LogGroup"]["Ref"]]["Properties"]
        assert group["RetentionInDays"] == 30
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


def test_the_state_machine_logs_everything_traces_and_times_out(dev: Synth, prod: Synth) -> None:
    for synth, machine_id in ((dev, "StateMachine"), (prod, "StateMachine"), (dev, "EndRun")):
        _, machine = synth.one("AWS::StepFunctions::StateMachine", f"Workflow/{machine_id}/")
        props = machine["Properties"]
        assert props["StateMachineType"] == "STANDARD"
        assert props["TracingConfiguration"] == {"Enabled": True}
        assert props["LoggingConfiguration"]["Level"] == "ALL"
        group_arn = props["LoggingConfiguration"]["Destinations"][0]["CloudWatchLogsLogGroup"][
            "LogGroupArn"
        ]
        group = synth.template["Resources"][group_arn["Fn::GetAtt"][0]]["Properties"]
        assert "KmsKeyId" in group
        # workflowTimeoutHours plus maxDeploymentTtlHours: the workflow outlives any deployment.
        assert _definition(synth)["TimeoutSeconds"] == (168 + 72) * 3600


def _invokes_a_handler(state: dict[str, Any]) -> bool:
    """A Task state that calls one of the handlers (not the last resort's SQS message)."""
    return state["Type"] == "Task" and ":sqs:" not in json.dumps(state["Resource"])


def test_every_task_is_caught_and_recorded(dev: Synth) -> None:
    states = _definition(dev)["States"]
    tasks = {name: s for name, s in states.items() if _invokes_a_handler(s)}
    assert set(tasks) == {
        "ValidateRequest", "ValidateDataset", "EstimateCost", "RequestApproval", "StartJob",
        "CheckJob", "RecordResult", "RecordFailure", "RecordFailureLastAttempt", "Notify",
        "CheckModel", "StartDeployment",
        "CheckDeployment", "Evaluate", "WatchDeployment", "TearDown",
    }  # fmt: skip
    ended_elsewhere = {"ErrorEquals": ["RunEndedError"], "Next": "EndedElsewhere"}
    for name, task in tasks.items():
        if name in ("RecordFailure", "RecordFailureLastAttempt", "Notify"):
            continue  # the failure path itself: its last resort is below
        assert task["Catch"] == [
            # A handler that finds its run ended by the cancel path stops quietly.
            ended_elsewhere,
            {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "RecordFailure"},
        ], name
    assert states["EndedElsewhere"]["Type"] == "Succeed"
    assert states["RecordFailure"]["Next"] == "Notify"
    # RecordFailure and Notify: retried on anything; RecordFailure then has a last attempt,
    # told so; then the last resort, the original error kept.
    last_resort = {
        "ErrorEquals": ["States.ALL"],
        "ResultPath": "$.last_resort_error",
        "Next": "KeepUnendedRun",
    }
    assert states["RecordFailure"]["Catch"] == [
        ended_elsewhere,
        {"ErrorEquals": ["States.ALL"], "ResultPath": None, "Next": "RecordFailureLastAttempt"},
    ]
    assert states["RecordFailureLastAttempt"]["Catch"] == [ended_elsewhere, last_resort]
    assert states["RecordFailureLastAttempt"]["Next"] == "Notify"
    assert states["Notify"]["Catch"] == [last_resort]
    for name in ("RecordFailure", "Notify"):
        anything = [r for r in states[name]["Retry"] if r["ErrorEquals"] == ["States.ALL"]]
        assert [r["MaxAttempts"] for r in anything] == [4], name
    # RecordFailure takes whatever a Catch hands it; only the last attempt gives up.
    for name, last in (("RecordFailure", False), ("RecordFailureLastAttempt", True)):
        assert states[name]["Parameters"] == {
            "run.$": "$",
            "executionArn.$": "$$.Execution.Id",
            "last": last,
        }
    keep = states["KeepUnendedRun"]
    assert keep["Resource"].endswith(":states:::sqs:sendMessage")
    assert keep["Next"] == "RunEndUnrecorded"
    assert keep["Catch"] == [{"ErrorEquals": ["States.ALL"], "Next": "RunEndUnrecorded"}]
    assert states["RunEndUnrecorded"]["Type"] == "Fail"
    assert states["JobFailed"]["Next"] == "RecordFailure"
    assert states["DeploymentFailed"]["Next"] == "RecordFailure"


def test_bedrock_faults_and_a_full_quota_are_retried_with_backoff(dev: Synth) -> None:
    states = _definition(dev)["States"]
    retries = {tuple(r["ErrorEquals"]): r for r in states["StartJob"]["Retry"]}
    transient = retries[("BedrockThrottledError", "BedrockUnavailableError")]
    assert (transient["IntervalSeconds"], transient["BackoffRate"], transient["MaxAttempts"]) == (
        30,
        2,
        6,
    )
    queued = retries[("RunQueuedError",)]
    assert queued["IntervalSeconds"] * queued["MaxAttempts"] == 24 * 3600  # queueRetryHours
    # ValidateRequest asks Bedrock about the model; RecordResult reads the paid job.
    for state in ("CheckJob", "ValidateRequest", "RecordResult"):
        retried = {tuple(r["ErrorEquals"]) for r in states[state]["Retry"]}
        assert ("BedrockThrottledError", "BedrockUnavailableError") in retried, state


def test_the_job_loop_waits_polls_and_routes_on_status(dev: Synth) -> None:
    states = _definition(dev)["States"]
    assert states["StartJob"]["Next"] == "WaitForJob"
    assert states["WaitForJob"] == {"Type": "Wait", "Seconds": 300, "Next": "CheckJob"}
    routes = {c["StringEquals"]: c["Next"] for c in states["JobStatus?"]["Choices"]}
    assert routes == {"InProgress": "WaitForJob", "Completed": "RecordResult"}
    assert states["JobStatus?"]["Default"] == "JobFailed"
    # A completed job without a usable model ends FAILED, deploy block or not.
    assert states["RecordResult"]["Next"] == "ModelUsable?"
    assert states["ModelUsable?"]["Choices"] == [
        {"Variable": "$.status", "StringEquals": "FAILED", "Next": "Notify"}
    ]
    assert states["ModelUsable?"]["Default"] == "Deploy?"


def test_approval_waits_for_a_task_token_and_times_out(dev: Synth) -> None:
    states = _definition(dev)["States"]
    approval = states["RequestApproval"]
    assert approval["Resource"].endswith(":states:::lambda:invoke.waitForTaskToken")
    assert approval["Parameters"]["Payload"] == {"run.$": "$", "taskToken.$": "$$.Task.Token"}
    assert approval["TimeoutSeconds"] == 72 * 3600
    assert approval["ResultPath"] is None  # the run document passes through unchanged
    choices = states["Approval?"]["Choices"]
    assert {
        "Variable": "$.needs_approval",
        "BooleanEquals": True,
        "Next": "RequestApproval",
    } in choices


def _all_states(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every state, those of Map and Parallel branches included."""
    found: dict[str, dict[str, Any]] = {}
    for name, state in definition["States"].items():
        found[name] = state
        for branch in state.get("Branches", []):
            found.update(_all_states(branch))
        if "ItemProcessor" in state:
            found.update(_all_states(state["ItemProcessor"]))
    return found


def test_every_task_retries_a_throttled_lambda_invocation(dev: Synth) -> None:
    """Reserved concurrency is two runs: a third waits instead of failing (RecordFailure too)."""
    tasks = {
        n: s
        for machine in ("StateMachine", "EndRun")
        for n, s in _all_states(_definition(dev, machine)).items()
        if _invokes_a_handler(s)
    }
    assert {"RecordFailure", "Notify", "ValidateDataset", "Evaluate", "EndStoppedRun"} <= set(tasks)
    for name, state in tasks.items():
        retried = [
            r
            for r in state.get("Retry", [])
            if "Lambda.TooManyRequestsException" in r["ErrorEquals"]
        ]
        assert len(retried) == 1, name
        assert retried[0]["MaxAttempts"] >= 5, name


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
        parts = arn["Fn::Join"][1] if isinstance(arn, dict) else [arn]
        return str(parts[-1]).rsplit("foundation-model/", 1)[-1]

    asked = {tail(r) for r in by_action["bedrock:GetFoundationModel"]}
    assert asked == set(load_catalog().all_ids())


def test_a_duplicate_delivery_ends_quietly_and_rejections_are_notified(dev: Synth) -> None:
    states = _definition(dev)["States"]
    duplicate = states["Duplicate?"]["Choices"]
    assert {"Variable": "$.duplicate", "BooleanEquals": True, "Next": "AlreadyHandled"} in duplicate
    for choice in ("DatasetValid?", "Approval?"):
        assert {"Variable": "$.status", "StringEquals": "REJECTED", "Next": "Notify"} in states[
            choice
        ]["Choices"]
    # ValidateRequest also ends a run FAILED itself (Bedrock denied the model look-up): told.
    ended = {
        "Or": [
            {"Variable": "$.status", "StringEquals": "REJECTED"},
            {"Variable": "$.status", "StringEquals": "FAILED"},
        ],
        "Next": "Notify",
    }
    assert ended in duplicate
    outcome = states["Outcome?"]
    assert outcome["Choices"] == [
        {"Variable": "$.status", "StringEquals": "FAILED", "Next": "RunFailed"}
    ]


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


def test_stopping_an_execution_cancels_its_run_until_it_lands(dev: Synth) -> None:
    rules = [r["Properties"] for r in dev.resources("AWS::Events::Rule").values()]
    (stopped,) = [r for r in rules if r.get("EventPattern", {}).get("source") == ["aws.states"]]
    machine = dev.one("AWS::StepFunctions::StateMachine", "Workflow/StateMachine/")[0]
    assert stopped["EventPattern"]["detail"] == {
        "status": ["ABORTED", "TIMED_OUT", "FAILED"],
        "stateMachineArn": [{"Ref": machine}],
    }
    # Through EndRun, which retries the cancel handler with backoff, then keeps the event.
    (target,) = stopped["Targets"]
    end_run = dev.one("AWS::StepFunctions::StateMachine", "Workflow/EndRun/")[0]
    assert target["Arn"] == {"Ref": end_run}
    assert "DeadLetterConfig" in target
    states = _definition(dev, "EndRun")["States"]
    end = states["EndStoppedRun"]
    assert end["Parameters"] == {"event.$": "$", "last": False}
    assert states["EndStoppedRunLastAttempt"]["Parameters"] == {"event.$": "$", "last": True}
    (anything,) = [r for r in end["Retry"] if r["ErrorEquals"] == ["States.ALL"]]
    assert (anything["MaxAttempts"], anything["BackoffRate"], anything["MaxDelaySeconds"]) == (
        10,
        2,
        1800,
    )
    assert end["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": None, "Next": "EndStoppedRunLastAttempt"}
    ]
    assert states["EndStoppedRunLastAttempt"]["Catch"] == [
        {
            "ErrorEquals": ["States.ALL"],
            "ResultPath": "$.last_resort_error",
            "Next": "KeepUnendedExecution",
        }
    ]
    assert states["KeepUnendedExecution"]["Resource"].endswith(":states:::sqs:sendMessage")


def test_a_deploy_only_run_skips_the_dataset_and_training_but_not_the_gates(dev: Synth) -> None:
    # Given the definition, when a run trains nothing (``trains`` False: deployModel)
    states = _definition(dev)["States"]
    deploy_only = {"Variable": "$.trains", "BooleanEquals": False}

    # Then after ValidateRequest it goes to EstimateCost, not ValidateDataset ...
    duplicate = states["Duplicate?"]["Choices"]
    assert {**deploy_only, "Next": "EstimateCost"} in duplicate
    ended = next(i for i, c in enumerate(duplicate) if c["Next"] == "Notify")
    # (a refused one is told first, like a refused training run)
    assert ended < duplicate.index({**deploy_only, "Next": "EstimateCost"})
    assert states["Duplicate?"]["Default"] == "ValidateDataset"

    # ... through the same approval gate, then to the after-training branch, not StartJob
    assert states["EstimateCost"]["Next"] == "Approval?"
    assert states["RequestApproval"]["Next"] == "Trains?"
    assert states["Approval?"]["Default"] == "Trains?"
    assert states["Trains?"]["Type"] == "Choice"
    assert states["Trains?"]["Choices"] == [{**deploy_only, "Next": "Deploy?"}]
    assert states["Trains?"]["Default"] == "StartJob"
    # Deploy? is the after-training branch RecordResult leads to as well
    assert states["ModelUsable?"]["Default"] == "Deploy?"
    assert states["Deploy?"]["Default"] == "WaitForModel"
    # Nothing else reaches StartJob: a deploy-only run cannot train
    into_start_job = [
        name
        for name, state in states.items()
        if state.get("Next") == "StartJob"
        or state.get("Default") == "StartJob"
        or any(c.get("Next") == "StartJob" for c in state.get("Choices", []))
    ]
    assert into_start_job == ["Trains?"]


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
