"""``bedrock-customize check FOLDER``: every problem the pipeline would find, at once, offline."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber
from click.testing import CliRunner, Result

from bedrock_customize import check_cmd, check_model
from bedrock_customize import stack as stacks
from bedrock_customize.cli import main
from tests.unit.stubs import check_bedrock

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "data" / "corpus"
EXAMPLES = ROOT / "examples"
MICRO = "amazon.nova-micro-v1:0:128k"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0:200k"
LLAMA = "meta.llama3-3-70b-instruct-v1:0:128k"
GOOD_MANIFEST: dict[str, Any] = {
    "customizationType": "FINE_TUNING",
    "baseModelId": MICRO,
    "hyperParameters": {"epochCount": "2"},
}
# The verdict `check --offline --region us-east-1` (what `make local` runs) gives each
# example folder. examples/ is being rewritten: update this when a folder changes.
EXAMPLE_VERDICTS = {
    "broken-dataset": "reject",
    "dialogue-summaries": "accept",
    "distill-support": "accept",
    "image-captions": "accept",  # once `prepare` has written train.jsonl (as make demo does)
    "llama-wrong-region": "reject",
    "product-knowledge": "accept",
    "rft-arithmetic": "accept",
}
STAGES = {
    "defaultStage": "open",
    "defaults": {},
    "stages": {
        "open": {},
        "strict": {"allowedBaseModels": ["amazon.titan-text-express-v1:0:8k"]},
        # 1,000 USD per 1,000 tokens: any dataset is expensive.
        "priced": {"trainingPricesUsd": {MICRO: 1000}, "approvalThresholdUsd": 1},
        "cheap": {"trainingPricesUsd": {MICRO: 0.0001}, "approvalThresholdUsd": 5},
        "held": {"approvalThresholdUsd": 1},  # no price: a person decides
        "short": {"maxDeploymentTtlHours": 2},
        "tuned": {"defaultHyperparameters": {MICRO: {"learningRate": "1_0e-6", "epochCount": "3"}}},
        "private": {"dataRisk": {"pii": "block"}},
    },
}


ORIGINAL_CLIENTS = check_cmd.clients


@pytest.fixture(autouse=True)
def no_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """By default there are no credentials: nothing here reaches AWS."""

    def clients(
        *, region: str | None, profile: str | None, stack_name: str | None
    ) -> check_model.Live:
        return check_model.Live(None, region, skipped="no AWS credentials")

    monkeypatch.setattr(check_cmd, "clients", clients)


@pytest.fixture
def cdk_json(tmp_path: Path) -> Path:
    path = tmp_path / "cdk.json"
    path.write_text(json.dumps({"context": {"bedrock-customization": STAGES}}))
    return path


def folder(
    parent: Path,
    name: str = "good-job",
    manifest: dict[str, Any] | None = None,
    train: bytes | None = None,
) -> Path:
    """A job folder: job.json, and train.jsonl (Nova conversation records) unless ``train`` is b""."""
    job = parent / name
    job.mkdir(parents=True)
    (job / "job.json").write_text(json.dumps(GOOD_MANIFEST if manifest is None else manifest))
    data = (CORPUS / "conv_good.jsonl").read_bytes() if train is None else train
    if data:
        (job / "train.jsonl").write_bytes(data)
    return job


def run(job: Path, *args: str, cdk: Path | None = None) -> Result:
    extra = ["--cdk-json", str(cdk)] if cdk else []
    return CliRunner().invoke(main, ["check", str(job), *extra, *args])


def outcome(job: Path, *args: str, cdk: Path | None = None) -> tuple[int, dict[str, Any]]:
    result = run(job, "--json", *args, cdk=cdk)
    return result.exit_code, json.loads(result.stdout)


def codes(document: dict[str, Any]) -> list[str]:
    return [p["code"] for p in document["problems"]]


def test_a_good_folder_would_be_accepted(tmp_path: Path, cdk_json: Path) -> None:
    job = folder(tmp_path)
    result = run(job, "--region", "us-east-1", cdk=cdk_json)
    assert result.exit_code == 0, result.output
    lines = result.output.rstrip().splitlines()
    assert "jobs/good-job/" in lines[0]
    assert lines[-1] == f"{check_model.VERDICTS['accept']} (0 error(s), 0 warning(s))"
    _, document = outcome(job, "--region", "us-east-1", cdk=cdk_json)
    billed = document["cost"]["billed_tokens"]
    assert billed > 0
    assert any(f"{billed:,}" in n["message"] for n in document["notes"] if n["step"] == "cost")


@pytest.mark.parametrize("name", ["my job", "a+b", "a=b", "a@b", "a:b", "a..b", "café"])
def test_a_folder_name_bedrock_refuses_is_reported(tmp_path: Path, name: str) -> None:
    code, document = outcome(folder(tmp_path, name))
    assert code == 1
    (problem,) = [p for p in document["problems"] if p["step"] == "names"]
    assert (problem["code"], problem["where"]) == ("s3-uri-pattern", f"jobs/{name}/")
    assert document["verdict"] == "reject"


def test_a_data_key_bedrock_refuses_is_reported(tmp_path: Path) -> None:
    manifest = {**GOOD_MANIFEST, "trainingData": "my train.jsonl"}
    code, document = outcome(folder(tmp_path, manifest=manifest))
    assert code == 1
    (problem,) = [p for p in document["problems"] if p["step"] == "manifest"]
    assert problem["code"] == "manifest-invalid"
    assert "'my train.jsonl'" in problem["message"]  # the key, quoted
    (note,) = [n for n in document["notes"] if n["step"] == "data"]  # the data was not read
    assert "trainingData" in note["message"]
    assert document["report"] is None


def test_a_data_key_too_long_with_its_folder_is_reported(tmp_path: Path) -> None:
    key = "/".join(["x" * 200] * 4) + "/train.jsonl"  # fine alone, too long under the folder
    manifest = {**GOOD_MANIFEST, "trainingData": key}
    code, document = outcome(folder(tmp_path, "f" * 200, manifest=manifest))
    assert code == 1
    (problem,) = [p for p in document["problems"] if p["step"] == "names"]
    assert (problem["code"], problem["where"]) == ("s3-uri-pattern", f"jobs/{'f' * 200}/{key}")
    assert "1,024" in problem["message"]  # Bedrock's longest S3 URI, in characters


@pytest.mark.parametrize(
    "tags",
    [
        {"AWS:team": "support"},
        {"aws:team": "support"},
        {"bedrock-customization:run-id": "spoofed"},
        {"Bedrock-Customization:run-id": "spoofed"},
        {"team": "a\tb"},
        {"team": "a\nb"},
    ],
)
def test_a_tag_bedrock_or_the_pipeline_refuses_is_reported(
    tmp_path: Path, tags: dict[str, str]
) -> None:
    code, document = outcome(folder(tmp_path, manifest={**GOOD_MANIFEST, "tags": tags}))
    assert code == 1
    assert codes(document) == ["manifest-invalid"]
    assert "tags" in document["problems"][0]["message"]
    # The rest of the manifest was still judged: the data was read.
    assert document["report"] is not None


@pytest.mark.parametrize(
    ("key", "value"), [("learningRate", "1_0e-6"), ("epochCount", "\uff12")]
)  # "1_0e-6" and a full-width 2: Python's float() takes both, the API's parser need not
def test_a_hyperparameter_not_written_in_ascii_digits_is_reported(
    tmp_path: Path, key: str, value: str
) -> None:
    manifest = {**GOOD_MANIFEST, "hyperParameters": {key: value}}
    code, document = outcome(folder(tmp_path, manifest=manifest))
    assert code == 1
    (problem,) = document["problems"]
    assert (problem["step"], problem["code"]) == ("request", "hyperparameter-not-a-number")
    assert problem["where"] == f"job.json: hyperParameters.{key}"
    assert problem["severity"] == "error"


def test_every_mistake_is_reported_in_one_run(tmp_path: Path) -> None:
    manifest = {
        **GOOD_MANIFEST,
        "hyperParameters": {"learningRate": "1_0e-6", "epochCount": "\uff12"},
        "tags": {"AWS:team": "support", "team": "a\tb"},
    }
    bad_line = b'{"schemaVersion": "bedrock-conversation-2024", "messages": \n'
    train = (CORPUS / "conv_good.jsonl").read_bytes() + bad_line
    code, document = outcome(folder(tmp_path, "my job+1", manifest, train))
    assert code == 1
    found = {(p["step"], p["code"], p["where"]) for p in document["problems"]}
    assert ("names", "s3-uri-pattern", "jobs/my job+1/") in found
    assert (
        "request",
        "hyperparameter-not-a-number",
        "job.json: hyperParameters.learningRate",
    ) in found
    assert (
        "request",
        "hyperparameter-not-a-number",
        "job.json: hyperParameters.epochCount",
    ) in found
    assert ("data", "invalid-json", "training:11") in found
    tag_problems = [p for p in document["problems"] if p["step"] == "manifest"]
    assert tag_problems
    assert all("tags" in p["message"] for p in tag_problems)
    human = run(tmp_path / "my job+1").output
    headings = [line for line in human.splitlines() if not line.startswith(" ")]
    titles = dict(check_model.STEPS)
    assert headings[1:5] == [
        f"{titles[step]}:" for step in ("names", "manifest", "request", "live")
    ]  # in the pipeline's order
    assert headings[-1] == f"{check_model.VERDICTS['reject']} (5 error(s), 0 warning(s))"


def test_a_model_the_stage_does_not_allow_is_refused(tmp_path: Path, cdk_json: Path) -> None:
    code, document = outcome(folder(tmp_path), "--stage", "strict", cdk=cdk_json)
    assert code == 1
    (problem,) = document["problems"]
    assert (problem["step"], problem["code"]) == ("settings", "model-not-allowed")
    assert problem["where"] == "job.json: baseModelId"
    assert all(fact in problem["message"] for fact in ("allowedBaseModels", "strict", "cdk.json"))


def test_the_stage_defaults_lie_under_the_manifest_s_hyperparameters(
    tmp_path: Path, cdk_json: Path
) -> None:
    code, document = outcome(folder(tmp_path), "--stage", "tuned", cdk=cdk_json)
    assert code == 1
    (problem,) = document["problems"]  # the stage's learningRate; the manifest's epochCount wins
    assert problem["where"] == "job.json: hyperParameters.learningRate"
    assert document["report"]["request"]["hyperparameters"]["epochCount"] == "2"


def test_a_stack_names_its_stage(
    tmp_path: Path, cdk_json: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str | None] = []

    def clients(
        *, region: str | None, profile: str | None, stack_name: str | None
    ) -> check_model.Live:
        asked.append(stack_name)
        return check_model.Live(None, region, skipped="no AWS credentials")

    monkeypatch.setattr(check_cmd, "clients", clients)
    code, document = outcome(
        folder(tmp_path), "--stack", "BedrockCustomization-strict", cdk=cdk_json
    )
    assert code == 1
    assert codes(document) == ["model-not-allowed"]
    assert asked == ["BedrockCustomization-strict"]


def test_a_stack_that_cannot_be_read_is_an_access_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def clients(**_: str | None) -> check_model.Live:
        raise stacks.AccessError("Stack nope was not found in us-east-1: deploy it.")

    monkeypatch.setattr(check_cmd, "clients", clients)
    result = run(folder(tmp_path), "--stack", "nope", "--region", "us-east-1")
    assert result.exit_code == 3
    assert "Stack nope was not found in us-east-1" in result.stderr  # the AccessError, as raised


def test_offline_and_a_stack_are_a_usage_error(tmp_path: Path) -> None:
    result = run(folder(tmp_path), "--stack", "nope", "--offline")
    assert result.exit_code == 2
    assert all(option in result.output for option in ("--offline", "--stack", "--region"))


def test_an_unknown_stage_is_a_usage_error(tmp_path: Path, cdk_json: Path) -> None:
    result = run(folder(tmp_path), "--stage", "nope", cdk=cdk_json)
    assert result.exit_code == 2
    assert "'nope'" in result.output
    assert str(cdk_json) in result.output


def test_an_end_of_life_model_is_refused(tmp_path: Path) -> None:
    manifest = {**GOOD_MANIFEST, "baseModelId": HAIKU, "hyperParameters": {}}
    code, document = outcome(folder(tmp_path, manifest=manifest))
    assert code == 1
    (problem,) = [p for p in document["problems"] if p["code"] == "model-end-of-life"]
    assert (problem["step"], problem["severity"]) == ("request", "error")
    assert problem["where"] == "job.json: baseModelId"


def test_a_model_not_customizable_in_the_region_is_refused_with_where_it_is(
    tmp_path: Path,
) -> None:
    manifest = {**GOOD_MANIFEST, "baseModelId": LLAMA, "hyperParameters": {}}
    code, document = outcome(folder(tmp_path, manifest=manifest), "--region", "us-east-1")
    assert code == 1
    (problem,) = [p for p in document["problems"] if p["code"] == "region-not-supported"]
    assert all(region in problem["message"] for region in ("us-west-2", "us-east-1"))
    assert "--region us-west-2" in problem["message"]  # the fix names where it runs


def test_without_credentials_the_catalog_judges_and_says_so(tmp_path: Path) -> None:
    result = run(folder(tmp_path), "--region", "us-east-1")
    assert result.exit_code == 0, result.output
    assert (
        "live check skipped: no AWS credentials; judged by the catalog's Regions (" in result.output
    )


def test_without_a_region_nothing_judges_the_region_and_it_says_so(tmp_path: Path) -> None:
    result = run(folder(tmp_path))
    assert result.exit_code == 0, result.output
    assert "the Region was not judged (pass --region or --stack" in result.output


def test_the_real_clients_find_no_credentials_without_calling_aws(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.undo()  # the real check_cmd.clients, in an environment with no credentials
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    live = check_cmd.clients(region="us-east-1", profile=None, stack_name=None)
    assert (live.bedrock, live.region, live.skipped) == (None, "us-east-1", "no AWS credentials")


@pytest.fixture
def bedrock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """A Stubber'd Bedrock client in us-east-1, handed to `check --region us-east-1`."""
    with check_bedrock(monkeypatch) as (_client, stubber):
        yield stubber


def _offered(stubber: Stubber, **availability: str) -> None:
    stubber.add_response(
        "get_foundation_model",
        {
            "modelDetails": {
                "modelArn": "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0",
                "modelId": MICRO,
                "customizationsSupported": ["FINE_TUNING"],
                "modelLifecycle": {"status": "ACTIVE"},
            }
        },
        {"modelIdentifier": MICRO},
    )
    stubber.add_response(
        "get_foundation_model_availability",
        {
            "modelId": "amazon.nova-micro-v1:0",
            "agreementAvailability": {"status": "AVAILABLE"},
            "authorizationStatus": availability.get("authorizationStatus", "AUTHORIZED"),
            "entitlementAvailability": "AVAILABLE",
            "regionAvailability": "AVAILABLE",
        },
        {"modelId": "amazon.nova-micro-v1:0"},
    )


def test_the_live_check_asks_bedrock_in_the_region(tmp_path: Path, bedrock: Stubber) -> None:
    _offered(bedrock)
    code, document = outcome(folder(tmp_path), "--region", "us-east-1")
    assert code == 0, document
    assert document["live_region"] == "us-east-1"
    assert any("Bedrock in us-east-1 was asked" in n["message"] for n in document["notes"])


def test_the_live_check_refuses_a_model_the_account_has_no_access_to(
    tmp_path: Path, bedrock: Stubber
) -> None:
    _offered(bedrock, authorizationStatus="NOT_AUTHORIZED")
    code, document = outcome(folder(tmp_path), "--region", "us-east-1")
    assert code == 1
    (problem,) = document["problems"]
    assert (problem["step"], problem["code"], problem["where"]) == (
        "live",
        "model-access-not-granted",
        "Bedrock in us-east-1",
    )


def test_a_denied_live_check_asked_for_is_an_access_error(tmp_path: Path, bedrock: Stubber) -> None:
    bedrock.add_client_error("get_foundation_model", "AccessDeniedException", "no")
    result = run(folder(tmp_path), "--region", "us-east-1")
    assert result.exit_code == 3
    assert "Access denied to bedrock:GetFoundationModel" in result.stderr
    assert result.stdout == ""


def test_a_denied_live_check_nobody_asked_for_falls_back_to_the_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bedrock: Stubber
) -> None:
    client = check_cmd.clients(region="us-east-1", profile=None, stack_name=None).bedrock
    monkeypatch.setattr(
        check_cmd, "clients", lambda **_: check_model.Live(client, "us-east-1", explicit=False)
    )  # the profile's Region, not --region
    bedrock.add_client_error("get_foundation_model", "AccessDeniedException", "no")
    result = run(folder(tmp_path))
    assert result.exit_code == 0, result.output
    assert "live check skipped: Access denied to bedrock:GetFoundationModel" in result.output
    assert "judged by the catalog's Regions" in result.output


def test_a_bad_dataset_line_is_reported_with_its_line(tmp_path: Path) -> None:
    train = (CORPUS / "conv_good.jsonl").read_bytes() + b"{not json}\n"
    result = run(folder(tmp_path, train=train))
    assert result.exit_code == 1
    (line,) = [line for line in result.output.splitlines() if "training:11:" in line]
    assert line.split()[:3] == ["ERROR", "training:11:", "invalid-json:"]


def _with_an_address(tmp_path: Path, name: str) -> Path:
    lines = (CORPUS / "conv_good.jsonl").read_bytes().splitlines(keepends=True)
    record = json.loads(lines[3])
    record["messages"][0]["content"][0]["text"] += " Write to jane.doe@example.com."
    lines[3] = json.dumps(record).encode() + b"\n"
    return folder(tmp_path, name, train=b"".join(lines))


def test_personal_data_is_refused_where_the_stage_blocks_it_and_warned_elsewhere(
    tmp_path: Path, cdk_json: Path
) -> None:
    code, document = outcome(_with_an_address(tmp_path, "a"), "--stage", "private", cdk=cdk_json)
    assert code == 1
    (problem,) = [p for p in document["problems"] if p["code"] == "risk-pii-email"]
    assert (problem["severity"], problem["where"]) == ("error", "training:4")
    assert "jane.doe@example.com" not in json.dumps(document)  # masked everywhere
    code, document = outcome(_with_an_address(tmp_path, "b"), "--stage", "open", cdk=cdk_json)
    assert code == 0
    (problem,) = [p for p in document["problems"] if p["code"] == "risk-pii-email"]
    assert problem["severity"] == "warning"


def test_a_missing_training_file_is_reported(tmp_path: Path) -> None:
    code, document = outcome(folder(tmp_path, train=b""))
    assert code == 1
    (problem,) = document["problems"]
    assert (problem["code"], problem["where"]) == (
        "training-file-missing",
        "jobs/good-job/train.jsonl",
    )


def test_a_cost_over_the_budget_is_refused(tmp_path: Path, cdk_json: Path) -> None:
    manifest = {**GOOD_MANIFEST, "budgetUsd": 5}
    code, document = outcome(folder(tmp_path, manifest=manifest), "--stage", "priced", cdk=cdk_json)
    assert code == 1
    (problem,) = document["problems"]
    assert (problem["step"], problem["code"]) == ("cost", "over-budget")
    assert problem["where"] == "job.json: budgetUsd"
    assert "$5.00" in problem["message"]


@pytest.mark.parametrize(("stage", "held"), [("priced", True), ("held", True), ("cheap", False)])
def test_a_cost_over_the_threshold_or_unknown_waits_for_a_person(
    tmp_path: Path, cdk_json: Path, stage: str, held: bool
) -> None:
    result = run(folder(tmp_path), "--stage", stage, cdk=cdk_json)
    assert result.exit_code == 0, result.output
    verdict = check_model.VERDICTS["approval" if held else "accept"]
    assert result.output.splitlines()[-1].startswith(verdict)


def test_a_deployment_longer_than_the_stage_allows_is_refused(
    tmp_path: Path, cdk_json: Path
) -> None:
    manifest = {**GOOD_MANIFEST, "deploy": {"mode": "provisioned", "ttlHours": 5}}
    code, document = outcome(folder(tmp_path, manifest=manifest), "--stage", "short", cdk=cdk_json)
    assert code == 1
    assert codes(document) == ["deploy-refused"]


def test_a_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    result = run(tmp_path / "absent")
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_a_missing_manifest_is_reported(tmp_path: Path) -> None:
    job = folder(tmp_path)
    (job / "job.json").unlink()
    code, document = outcome(job)
    assert code == 1
    assert codes(document) == ["manifest-missing"]


@pytest.mark.parametrize(
    "example", sorted(p.name for p in EXAMPLES.iterdir() if (p / "job.json").is_file())
)
def test_each_example_gets_its_expected_verdict(example: str, tmp_path: Path) -> None:
    assert example in EXAMPLE_VERDICTS, f"add examples/{example} to EXAMPLE_VERDICTS"
    job, extra = EXAMPLES / example, []
    spec = job / "prepare.json"
    if spec.exists():
        # As `make demo` does: prepare writes train.jsonl naming the media in the bucket,
        # and the check reads the media from the folder (--media-root).
        prepared = tmp_path / "jobs" / example
        shutil.copytree(job, prepared)
        prefix = f"s3://datasets-bucket/jobs/{example}/"
        args = [
            a.replace("{media_uri_prefix}", prefix) for a in json.loads(spec.read_text())["args"]
        ]
        made = CliRunner().invoke(
            main,
            ["prepare", str(job / json.loads(spec.read_text())["source"]), *args,
             "-o", str(prepared / "train.jsonl")],
        )  # fmt: skip
        assert made.exit_code == 0, made.output
        job, extra = prepared, ["--media-root", str(tmp_path)]
    code, document = outcome(job, "--offline", "--region", "us-east-1", *extra)
    assert document["verdict"] == EXAMPLE_VERDICTS[example], document["problems"]
    assert code == (1 if EXAMPLE_VERDICTS[example] == "reject" else 0)


def test_a_malformed_region_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(check_cmd, "clients", ORIGINAL_CLIENTS)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    result = run(folder(tmp_path), "--region", "us east 1")
    assert result.exit_code == 2
    assert "--region" in result.output


def test_unknown_models_warn_is_judged_as_the_pipeline_judges_it(tmp_path: Path) -> None:
    premier = "amazon.nova-premier-v1:0:300k"  # not in the catalog
    cdk = tmp_path / "cdk.json"
    stages: dict[str, Any] = json.loads(json.dumps(STAGES))  # a copy to add a stage to
    stages["stages"]["lenient"] = {"unknownModels": "warn"}
    cdk.write_text(json.dumps({"context": {"bedrock-customization": stages}}))
    job = folder(
        tmp_path / "jobs", manifest={"customizationType": "FINE_TUNING", "baseModelId": premier}
    )
    code, rejected = outcome(job, "--region", "us-east-1", "--offline", cdk=cdk)
    assert code == 1
    assert "unknown-model" in codes(rejected)
    code, lenient = outcome(
        job, "--region", "us-east-1", "--offline", "--stage", "lenient", cdk=cdk
    )
    assert code == 0, lenient["problems"]
    assert "model-limits-unknown" in codes(lenient)


def test_a_folder_prepared_at_run_time_says_how_its_records_are_written() -> None:
    code, document = outcome(EXAMPLES / "image-captions", "--offline", "--region", "us-east-1")
    assert code == 1
    (missing,) = [p for p in document["problems"] if p["code"] == "training-file-missing"]
    assert "prepare.json" in missing["message"]
    assert "make demo" in missing["message"]


def test_a_deploy_only_folder_says_what_is_judged_when_it_runs(
    tmp_path: Path, cdk_json: Path
) -> None:
    manifest = {"deployModel": "summaries-0123456789ab", "deploy": {"mode": "on-demand"}}
    code, document = outcome(folder(tmp_path, manifest=manifest, train=b""), cdk=cdk_json)
    assert code == 0, document
    notes = [n["message"] for n in document["notes"] if n["step"] == "manifest"]
    assert any("A deploy-only manifest (deployModel summaries-0123456789ab)" in n for n in notes)
    assert not any("names no base model" in n for n in notes)
