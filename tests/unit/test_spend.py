"""``bedrock-customize spend`` and the sweep's orphan count: Bedrock, the registry, Cost Explorer.

Bedrock and Cost Explorer answer through botocore's Stubber, which checks each request
and each answer against botocore's service model (the field names are the model's), in
the order the code calls them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer
from botocore.stub import ANY, Stubber
from click.testing import CliRunner

from bedrock_customize import stack as stacks
from bedrock_customize.cli import main
from customization_core import billed_spend, custom_models, orphans, spend
from customization_core.catalog import load_catalog
from customization_core.estimate import Estimate, Part
from customization_core.naming import OWNER_TAG, RUN_ID_TAG
from tests.unit.stubs import REGION, offline_client

ACCOUNT = "123456789012"
STACK = "BedrockCustomization-dev"
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
EXPRESS = f"arn:aws:bedrock:{REGION}::foundation-model/amazon.titan-text-express-v1:0:8k"
LITE = f"arn:aws:bedrock:{REGION}::foundation-model/amazon.titan-text-lite-v1:0:4k"
NOVA = f"arn:aws:bedrock:{REGION}::foundation-model/amazon.nova-micro-v1:0:128k"
PREMIER = f"arn:aws:bedrock:{REGION}::foundation-model/amazon.titan-text-premier-v1:0:32k"


def _model(name: str) -> str:
    return f"arn:aws:bedrock:{REGION}:{ACCOUNT}:custom-model/{name}/abcdefghijkl"


def _pt(suffix: str) -> str:
    return f"arn:aws:bedrock:{REGION}:{ACCOUNT}:provisioned-model/{suffix * 12}"


def _deployment(suffix: str) -> str:
    return f"arn:aws:bedrock:{REGION}:{ACCOUNT}:custom-model-deployment/{suffix * 12}"


def _summary(name: str, arn: str, model: str, base: str, units: int, age_hours: float) -> Any:
    """A ProvisionedModelSummary with every field botocore's model requires."""
    created = NOW - timedelta(hours=age_hours)
    return {
        "provisionedModelName": name,
        "provisionedModelArn": arn,
        "modelArn": model,
        "desiredModelArn": model,
        "foundationModelArn": base,
        "modelUnits": units,
        "desiredModelUnits": units,
        "status": "InService",
        "creationTime": created,
        "lastModifiedTime": created,
    }


def _tags(**tags: str) -> dict[str, Any]:
    return {"tags": [{"key": k, "value": v} for k, v in tags.items()]}


def _owned(run_id: str, stack: str = STACK) -> dict[str, Any]:
    return _tags(**{OWNER_TAG: stack, RUN_ID_TAG: run_id})


# The account: four deployments of which one is this stack's and live ----------------------

LIVE_PT = _pt("a")  # run-a's, in the live-deployments index
ORPHAN_PT = _pt("b")  # this stack's owner tag, its run's record lost
FOREIGN_PT = _pt("c")  # another stack's
HIDDEN = _deployment("d")  # an on-demand deployment whose tags the caller may not read


def _stub_listing(stub: Stubber) -> None:
    """ListProvisionedModelThroughputs in two pages, then ListCustomModelDeployments."""
    stub.add_response(
        "list_provisioned_model_throughputs",
        {
            "provisionedModelSummaries": [
                _summary("bc-run-a", LIVE_PT, _model("run-a"), EXPRESS, 2, 5),
                _summary("bc-run-lost", ORPHAN_PT, _model("run-lost"), LITE, 1, 30),
            ],
            "nextToken": "page-2",
        },
        {},
    )
    stub.add_response(
        "list_provisioned_model_throughputs",
        {"provisionedModelSummaries": [_summary("theirs", FOREIGN_PT, NOVA, NOVA, 1, 100)]},
        {"nextToken": "page-2"},
    )
    stub.add_response(
        "list_custom_model_deployments",
        {
            "modelDeploymentSummaries": [
                {
                    "customModelDeploymentArn": HIDDEN,
                    "customModelDeploymentName": "hidden",
                    "modelArn": _model("hidden"),
                    "createdAt": NOW - timedelta(minutes=30),
                    "status": "Active",
                }
            ]
        },
        {},
    )


def _live_item(run_id: str, arn: str, name: str) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "status": "DEPLOYED",
        "deployment_live": "LIVE",
        "model_arn": _model(run_id),
        "deployment": {
            "mode": "provisioned",
            "arn": arn,
            "name": name,
            "status": "ACTIVE",
            "created_at": "2026-12-02T07:00:00Z",
        },
    }


@pytest.fixture
def bedrock() -> Iterator[tuple[Any, Stubber]]:
    client = offline_client("bedrock")
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


def test_the_listing_reads_every_page_of_both_lists(bedrock: tuple[Any, Stubber]) -> None:
    client, stub = bedrock
    _stub_listing(stub)
    listed = spend.list_serving(client)
    assert [(i.kind, i.name) for i in listed] == [
        ("provisioned", "bc-run-a"),
        ("provisioned", "bc-run-lost"),
        ("provisioned", "theirs"),  # the second page
        ("on-demand", "hidden"),
    ]
    assert listed[0].model_units == 2
    assert listed[0].foundation_model_arn == EXPRESS
    assert listed[3].model_units is None  # on demand has none
    assert listed[1].created_at == NOW - timedelta(hours=30)


def _described() -> list[spend.Serving]:
    client = offline_client("bedrock")
    with Stubber(client) as stub:
        _stub_listing(stub)
        listed = spend.list_serving(client)
    tags: dict[str, dict[str, str] | None] = {
        LIVE_PT: {OWNER_TAG: STACK, RUN_ID_TAG: "run-a"},
        ORPHAN_PT: {OWNER_TAG: STACK, RUN_ID_TAG: "run-lost"},
        FOREIGN_PT: {OWNER_TAG: "OtherStack", RUN_ID_TAG: "their-run"},
        HIDDEN: None,  # AccessDeniedException
    }
    return spend.describe_serving(
        listed,
        tags=tags,
        live=spend.live_owners([_live_item("run-a", LIVE_PT, "bc-run-a")]),
        base_models={_model("hidden"): NOVA},
        catalog=load_catalog(),
        stack_name=STACK,
        now=NOW,
    )


def test_each_deployment_gets_its_owner_run_age_price_and_whether_a_live_run_owns_it() -> None:
    found = {s.name: s for s in _described()}
    live, orphan, foreign, hidden = (
        found["bc-run-a"],
        found["bc-run-lost"],
        found["theirs"],
        found["hidden"],
    )
    # An owned PT with a live run: 2 model units x Titan Express's $20.50 per unit-hour.
    assert (live.ownership, live.live_run, live.owner, live.run_id) == (
        "live",
        "run-a",
        STACK,
        "run-a",
    )
    assert live.hourly_usd == pytest.approx(41.0)
    assert live.age_hours == pytest.approx(5.0)
    assert live.base_model_id == "amazon.titan-text-express-v1:0:8k"
    # An owned PT with no live run: flagged.
    assert (orphan.ownership, orphan.live_run, orphan.run_id) == ("orphaned", None, "run-lost")
    assert orphan.hourly_usd == pytest.approx(7.1)
    # Another stack's.
    assert (foreign.ownership, foreign.owner) == ("foreign", "OtherStack")
    assert foreign.hourly_usd == pytest.approx(60.5)
    # Tags it may not read: owner unknown; on demand bills no hour; its base via its model.
    assert (hidden.ownership, hidden.owner, hidden.run_id) == ("unknown", "unknown", None)
    assert (hidden.hourly_usd, hidden.base_model_id) == (0.0, "amazon.nova-micro-v1:0:128k")
    # Orphans first: the ones a person must look at.
    assert _described()[0].name == "bc-run-lost"


def test_a_live_run_owns_its_deployment_by_name_when_its_arn_was_never_recorded() -> None:
    item = _live_item("run-a", LIVE_PT, "bc-run-a")
    del item["deployment"]["arn"]  # a crash between the create and its record
    owners = spend.live_owners(
        [item, {**_live_item("gone", _pt("e"), "x"), "deployment_live": None}]
    )
    assert owners == {"bc-run-a": "run-a"}  # a run outside the index owns nothing


def test_the_hourly_burn_adds_every_priced_deployment_and_names_the_unpriced() -> None:
    serving = _described()
    burn = spend.burn(serving)
    assert burn.known_usd == pytest.approx(41.0 + 7.1 + 60.5)
    assert burn.orphaned_usd == pytest.approx(7.1)
    assert burn.unpriced == ()
    assert burn.monthly_usd == pytest.approx(108.6 * 730)
    listed = spend.Listed(
        "provisioned", _pt("f"), "premier", "InService", NOW, _model("p"), PREMIER, 1
    )
    # Titan Premier has no Provisioned Throughput price in the catalog: unknown, named.
    (premier,) = spend.describe_serving(
        [listed],
        tags={listed.arn: {}},
        live={},
        base_models={},
        catalog=load_catalog(),
        stack_name=STACK,
        now=NOW,
    )
    assert (premier.hourly_usd, premier.owner, premier.ownership) == (None, None, "foreign")
    line = spend.burn([*serving, premier]).line()
    assert "and 1 with no price in the catalog: premier" in line
    assert "$7.10 an hour of it is orphaned" in line


def test_a_committed_provisioned_throughput_is_priced_at_its_terms_rate() -> None:
    listed = spend.Listed(
        "provisioned", _pt("g"), "six", "InService", NOW, NOVA, NOVA, 2, commitment="SixMonths"
    )
    assert spend.hourly_price(load_catalog(), listed, "amazon.nova-micro-v1:0:128k") == (
        pytest.approx(2 * 30.25)
    )


# The sweep ------------------------------------------------------------------------------


def test_the_sweep_counts_only_this_stacks_deployments_that_no_live_run_owns(
    bedrock: tuple[Any, Stubber],
) -> None:
    client, stub = bedrock
    _stub_listing(stub)
    read: list[str] = []

    def live() -> list[dict[str, Any]]:
        read.append("registry")
        return [_live_item("run-a", LIVE_PT, "bc-run-a")]

    # Only what no live run claims is looked at; the live one's tags are never read.
    stub.add_response("list_tags_for_resource", _owned("run-lost"), {"resourceARN": ORPHAN_PT})
    stub.add_response(
        "list_tags_for_resource", _owned("their-run", "OtherStack"), {"resourceARN": FOREIGN_PT}
    )
    stub.add_client_error(
        "list_tags_for_resource",
        service_error_code="AccessDeniedException",
        http_status_code=403,
        expected_params={"resourceARN": HIDDEN},
    )
    found = orphans.find_orphans(client, live, stack_name=STACK)
    assert [(o.name, o.run_id, o.kind) for o in found] == [
        ("bc-run-lost", "run-lost", "provisioned")
    ]
    assert read == ["registry"]
    assert spend.delete_command(found[0].kind, found[0].arn) == (
        f"aws bedrock delete-provisioned-model-throughput --provisioned-model-id {ORPHAN_PT}"
    )


def test_a_deployment_deleted_between_the_list_and_the_tag_read_is_no_orphan(
    bedrock: tuple[Any, Stubber],
) -> None:
    client, stub = bedrock
    stub.add_response(
        "list_provisioned_model_throughputs",
        {"provisionedModelSummaries": [_summary("bc-x", ORPHAN_PT, _model("x"), LITE, 1, 1)]},
        {},
    )
    stub.add_response("list_custom_model_deployments", {"modelDeploymentSummaries": []}, {})
    stub.add_client_error(
        "list_tags_for_resource",
        service_error_code="ResourceNotFoundException",
        http_status_code=404,
        expected_params={"resourceARN": ORPHAN_PT},
    )
    assert orphans.find_orphans(client, lambda: [], stack_name=STACK) == []


def test_the_sweep_raises_on_a_bedrock_fault_rather_than_count_nothing(
    bedrock: tuple[Any, Stubber],
) -> None:
    client, stub = bedrock
    stub.add_client_error(
        "list_provisioned_model_throughputs",
        service_error_code="AccessDeniedException",
        http_status_code=403,
    )
    with pytest.raises(client.exceptions.AccessDeniedException):
        orphans.find_orphans(client, lambda: [], stack_name=STACK)


# Custom models ----------------------------------------------------------------------------


def _model_summary(name: str, base: str, created: datetime, kind: str) -> dict[str, Any]:
    return {
        "modelArn": _model(name),
        "modelName": name,
        "creationTime": created,
        "baseModelArn": base,
        "baseModelName": base.rsplit("/", 1)[1],
        "customizationType": kind,
    }


def test_custom_models_have_their_storage_price_and_last_deployment(
    bedrock: tuple[Any, Stubber],
) -> None:
    client, stub = bedrock
    stub.add_response(
        "list_custom_models",
        {
            "modelSummaries": [
                _model_summary("run-a", EXPRESS, NOW - timedelta(days=3), "FINE_TUNING"),
                _model_summary("run-old", LITE, NOW - timedelta(days=40), "CONTINUED_PRE_TRAINING"),
            ],
            "nextToken": "more",
        },
        {},
    )
    stub.add_response(
        "list_custom_models",
        {
            "modelSummaries": [
                _model_summary("run-new", LITE, NOW - timedelta(hours=2), "FINE_TUNING"),
                _model_summary("strange", NOVA, NOW - timedelta(days=1), "IMPORTED"),
            ]
        },
        {"nextToken": "more"},
    )
    runs = [
        _live_item("run-a", LIVE_PT, "bc-run-a"),
        {
            "run_id": "run-old",
            "status": "SUCCEEDED",
            "model_arn": _model("run-old"),
            "deployment": {"status": "EXPIRED", "created_at": "2026-11-01T10:00:00Z"},
        },
        {"run_id": "run-new", "status": "SUCCEEDED", "model_arn": _model("run-new")},
    ]
    models = custom_models.describe_models(
        custom_models.list_models(client),
        runs=runs,
        serving=_described(),
        catalog=load_catalog(),
        now=NOW,
    )
    found = {m.name: m for m in models}
    assert [m.name for m in models] == ["run-new", "strange", "run-a", "run-old"]  # newest first
    assert found["run-a"].last_deployment == "serving now"  # its Provisioned Throughput
    assert found["run-old"].last_deployment == "2026-11-01T10:00:00Z"
    assert found["run-new"].last_deployment == "never"  # this stack's, never deployed
    assert found["strange"].last_deployment == "unknown"  # not in this stack's registry
    assert found["run-a"].monthly_storage_usd == pytest.approx(1.95)
    assert found["run-old"].monthly_storage_usd == pytest.approx(1.95)  # continued pre-training
    assert found["strange"].monthly_storage_usd is None  # a type the catalog does not price
    assert (found["run-a"].run_id, found["strange"].run_id) == ("run-a", None)
    assert found["run-old"].age_hours == pytest.approx(40 * 24)
    assert found["run-new"].base_model_id == "amazon.titan-text-lite-v1:0:4k"


# Billed spend per run (Cost Explorer) --------------------------------------------------

TODAY = date(2026, 12, 2)
REQUEST = {
    "TimePeriod": {"Start": "2026-11-02", "End": "2026-12-02"},
    "Granularity": "MONTHLY",
    "Metrics": ["UnblendedCost"],
    "GroupBy": [{"Type": "TAG", "Key": RUN_ID_TAG}],
}


def _group(value: str, amount: str) -> dict[str, Any]:
    return {
        "Keys": [f"{RUN_ID_TAG}${value}"],
        "Metrics": {"UnblendedCost": {"Amount": amount, "Unit": "USD"}},
    }


def _period(start: str, end: str, *groups: dict[str, Any]) -> dict[str, Any]:
    return {"TimePeriod": {"Start": start, "End": end}, "Groups": list(groups), "Estimated": False}


@pytest.fixture
def ce() -> Iterator[tuple[Any, Stubber]]:
    client = offline_client("ce")
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


def _estimate(*usd: float | None) -> dict[str, Any]:
    names = ("training", "storage", "deployment")
    return Estimate(tuple(Part(names[i], u, "d", "s") for i, u in enumerate(usd))).to_dict()  # type: ignore[arg-type]


def test_billed_spend_per_run_is_summed_over_pages_and_joined_to_the_estimates(
    ce: tuple[Any, Stubber],
) -> None:
    client, stub = ce
    stub.add_response(
        "get_cost_and_usage",
        {
            "ResultsByTime": [
                _period("2026-11-02", "2026-12-01", _group("run-a", "12.5"), _group("", "999.0"))
            ],
            "NextPageToken": "next",
        },
        REQUEST,
    )
    stub.add_response(
        "get_cost_and_usage",
        {
            "ResultsByTime": [
                _period(
                    "2026-12-01", "2026-12-02", _group("run-a", "1.25"), _group("other", "0.004")
                )
            ]
        },
        {**REQUEST, "NextPageToken": "next"},
    )
    billed = billed_spend.billed_by_run(client, days=30, today=TODAY)
    assert billed.status == "ok"
    # The untagged group (all other spend of the account) is not a run.
    assert billed.by_run == {"run-a": pytest.approx(13.75), "other": pytest.approx(0.004)}
    runs: list[dict[str, Any]] = [
        {"run_id": "run-a", "estimate": _estimate(10.0, 1.95, 2.0), "cost_usd": 13.95},
        {"run_id": "run-b", "estimate": _estimate(0.5, None), "cost_usd": None},
        {"run_id": "run-c", "cost_usd": 0.75},  # a run of before the estimate in parts
        {"run_id": "run-d"},  # nothing estimated, nothing billed: not listed
    ]
    rows = {r.run_id: r for r in billed_spend.join_spend(billed, runs)}
    assert set(rows) == {"run-a", "run-b", "run-c", "other"}
    assert rows["run-a"].billed_usd == pytest.approx(13.75)
    assert rows["run-a"].estimate_usd == pytest.approx(13.95)
    # An estimate with an unknown part: no total, and what the priced parts add up to.
    assert (rows["run-b"].billed_usd, rows["run-b"].estimate_usd) == (0.0, None)
    assert rows["run-b"].estimate_known_usd == pytest.approx(0.5)
    assert rows["run-c"].estimate_usd == pytest.approx(0.75)
    assert (rows["other"].in_registry, rows["other"].estimate_usd) == (False, None)


def test_no_group_with_a_run_id_means_the_tag_is_not_activated(ce: tuple[Any, Stubber]) -> None:
    client, stub = ce
    stub.add_response(
        "get_cost_and_usage",
        {"ResultsByTime": [_period("2026-11-02", "2026-12-02", _group("", "42.0"))]},
        REQUEST,
    )
    billed = billed_spend.billed_by_run(client, days=30, today=TODAY)
    assert (billed.status, billed.by_run) == ("not-activated", {})
    assert billed.message is not None
    assert "Cost allocation tags" in billed.message
    assert RUN_ID_TAG in billed.message
    rows = billed_spend.join_spend(billed, [{"run_id": "run-a", "cost_usd": 3.0}])
    assert [(r.run_id, r.billed_usd, r.estimate_usd) for r in rows] == [("run-a", None, 3.0)]


def test_cost_explorer_denied_is_said_in_one_line(ce: tuple[Any, Stubber]) -> None:
    client, stub = ce
    stub.add_client_error(
        "get_cost_and_usage",
        service_error_code="AccessDeniedException",
        service_message="User is not authorized to perform ce:GetCostAndUsage",
        http_status_code=400,
        expected_params=REQUEST,
    )
    billed = billed_spend.billed_by_run(client, days=30, today=TODAY)
    assert billed.status == "denied"
    assert billed.message == (
        "Billed spend per run is not shown: Cost Explorer access denied (ce:GetCostAndUsage, "
        "or Cost Explorer is not enabled for the account)."
    )


# The command --------------------------------------------------------------------------


def _scan_items(*items: dict[str, Any]) -> dict[str, Any]:
    serializer = TypeSerializer()
    stored = [json.loads(json.dumps(item), parse_float=Decimal) for item in items]  # no floats
    return {
        "Items": [
            {k: serializer.serialize(v) for k, v in item.items() if v is not None}
            for item in stored
        ],
        "Count": len(items),
        "ScannedCount": len(items),
    }


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Stubber]]:
    """The CLI's stack, whose clients answer through stubs (Bedrock, DynamoDB, Cost Explorer)."""
    clients = {name: offline_client(name) for name in ("bedrock", "dynamodb", "ce")}
    stubs = {name: Stubber(client) for name, client in clients.items()}
    monkeypatch.setattr(
        stacks,
        "connect",
        lambda name, **_: stacks.Stack(name, {"RegistryTableName": "runs"}, clients.__getitem__),
    )
    for stub in stubs.values():
        stub.activate()
    yield stubs
    for stub in stubs.values():
        stub.assert_no_pending_responses()
        stub.deactivate()


def _stub_account(stubs: dict[str, Stubber]) -> None:
    bedrock = stubs["bedrock"]
    _stub_listing(bedrock)
    stubs["dynamodb"].add_response(
        "scan",
        _scan_items(
            {
                **_live_item("run-a", LIVE_PT, "bc-run-a"),
                "estimate": _estimate(10.0, 1.95, 2.0),
                "cost_usd": 13.95,
            }
        ),
        {"TableName": "runs"},
    )
    bedrock.add_response("list_tags_for_resource", _owned("run-a"), {"resourceARN": LIVE_PT})
    bedrock.add_response("list_tags_for_resource", _owned("run-lost"), {"resourceARN": ORPHAN_PT})
    bedrock.add_response(
        "list_tags_for_resource", _owned("x", "OtherStack"), {"resourceARN": FOREIGN_PT}
    )
    bedrock.add_client_error(
        "list_tags_for_resource",
        service_error_code="AccessDeniedException",
        http_status_code=403,
        expected_params={"resourceARN": HIDDEN},
    )
    bedrock.add_response(
        "list_custom_models",
        {"modelSummaries": [_model_summary("run-a", EXPRESS, NOW, "FINE_TUNING")]},
        {},
    )
    # The hidden deployment's custom model is not listed: its base is asked for.
    bedrock.add_response(
        "get_custom_model",
        {
            "modelArn": _model("hidden"),
            "modelName": "hidden",
            "creationTime": NOW,
            "baseModelArn": NOVA,
        },
        {"modelIdentifier": _model("hidden")},
    )


def test_spend_prints_the_deployments_the_burn_the_models_and_the_billed_spend(
    account: dict[str, Stubber],
) -> None:
    _stub_account(account)
    account["ce"].add_response(
        "get_cost_and_usage",
        {"ResultsByTime": [_period("2026-11-02", "2026-12-02", _group("run-a", "0.004"))]},
        {**REQUEST, "TimePeriod": ANY},
    )
    result = CliRunner().invoke(main, ["spend"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "live run run-a" in out
    assert "Hourly burn: $108.60 an hour" in out
    assert "Orphaned: bc-run-lost carries this stack's owner tag (run run-lost)" in out
    assert f"--provisioned-model-id {ORPHAN_PT}" in out
    assert "unknown" in out  # the hidden deployment's owner
    assert "serving now" in out  # the custom model
    assert "$1.95" in out  # its storage a month
    # Sub-cent billed spend next to its estimate, as money() prints them.
    assert "$0.004" in out
    assert "$13.95" in out


def test_spend_json_is_one_document_and_cost_explorer_denied_still_prints_the_rest(
    account: dict[str, Stubber],
) -> None:
    _stub_account(account)
    account["ce"].add_client_error(
        "get_cost_and_usage", service_error_code="AccessDeniedException", http_status_code=400
    )
    result = CliRunner().invoke(main, ["spend", "--days", "7", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    ownership = {d["name"]: d["ownership"] for d in document["deployments"]}
    assert ownership == {
        "bc-run-a": "live",
        "bc-run-lost": "orphaned",
        "theirs": "foreign",
        "hidden": "unknown",
    }
    assert [o["name"] for o in document["orphaned"]] == ["bc-run-lost"]
    assert document["hourly_burn"]["orphaned_usd"] == pytest.approx(7.1)
    assert document["billed"]["status"] == "denied"
    assert document["billed"]["days"] == 7
    # Without billed spend, the run's estimate is still shown.
    assert [
        (r["run_id"], r["billed_usd"], r["estimate_usd"]) for r in document["billed"]["runs"]
    ] == [("run-a", None, pytest.approx(13.95))]
    assert document["custom_models"][0]["last_deployment"] == "serving now"


def test_spend_text_says_cost_explorer_was_denied_in_one_line(account: dict[str, Stubber]) -> None:
    _stub_account(account)
    account["ce"].add_client_error(
        "get_cost_and_usage", service_error_code="AccessDeniedException", http_status_code=400
    )
    result = CliRunner().invoke(main, ["spend"])
    assert result.exit_code == 0, result.output
    denied = [line for line in result.output.splitlines() if "Cost Explorer" in line]
    assert denied == [
        "Billed spend per run is not shown: Cost Explorer access denied (ce:GetCostAndUsage, or "
        "Cost Explorer is not enabled for the account)."
    ]
    assert "Hourly burn: $108.60 an hour" in result.output


def test_spend_denied_bedrock_is_one_sentence_and_exit_code_3(
    account: dict[str, Stubber],
) -> None:
    account["bedrock"].add_client_error(
        "list_provisioned_model_throughputs",
        service_error_code="AccessDeniedException",
        service_message="no",
        http_status_code=403,
    )
    result = CliRunner().invoke(main, ["spend"])
    assert result.exit_code == stacks.EXIT_ACCESS
    assert "Access denied to bedrock:ListProvisionedModelThroughputs" in result.output


def test_stage_names_the_stack_and_conflicts_with_another_stack(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[str] = []

    def connect(name: str, **_: Any) -> stacks.Stack:
        asked.append(name)
        raise stacks.AccessError(f"Stack {name} was not found")

    monkeypatch.setattr(stacks, "connect", connect)
    result = CliRunner().invoke(main, ["spend", "--stage", "prod"])
    assert (result.exit_code, asked) == (stacks.EXIT_ACCESS, ["BedrockCustomization-prod"])
    result = CliRunner().invoke(main, ["spend", "--stage", "prod", "--stack", "Other"])
    assert result.exit_code == 2
    assert "Give --stage or --stack, not both." in result.output
