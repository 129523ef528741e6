"""The live model check: what Bedrock says in the stack's Region decides, before any data is read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from customization_core.catalog import CustomizationType, load_catalog
from customization_core.faults import BedrockThrottledError, BedrockUnavailableError
from customization_core.live import ModelCheckDeniedError, availability_id, check_live

CATALOG = load_catalog()
NOW = datetime(2026, 12, 1, tzinfo=UTC)
MICRO = "amazon.nova-micro-v1:0:128k"
FT = CustomizationType.FINE_TUNING


def _error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "Get")


class FakeBedrock:
    """Answers GetFoundationModel and GetFoundationModelAvailability as configured."""

    def __init__(
        self,
        *,
        details: dict[str, Any] | Exception | None = None,
        availability: dict[str, Any] | Exception | None = None,
    ) -> None:
        self.details = details
        self.availability = availability
        self.asked: list[tuple[str, str]] = []

    def get_foundation_model(self, *, modelIdentifier: str) -> dict[str, Any]:  # noqa: N803
        self.asked.append(("GetFoundationModel", modelIdentifier))
        if isinstance(self.details, Exception):
            raise self.details
        base = {
            "modelId": modelIdentifier,
            "customizationsSupported": ["FINE_TUNING", "DISTILLATION"],
            "modelLifecycle": {"status": "ACTIVE"},
        }
        return {"modelDetails": {**base, **(self.details or {})}}

    def get_foundation_model_availability(self, *, modelId: str) -> dict[str, Any]:  # noqa: N803
        self.asked.append(("GetFoundationModelAvailability", modelId))
        if isinstance(self.availability, Exception):
            raise self.availability
        base = {
            "authorizationStatus": "AUTHORIZED",
            "entitlementAvailability": "AVAILABLE",
            "agreementAvailability": {"status": "AVAILABLE"},
            "regionAvailability": "AVAILABLE",
        }
        return {"modelId": modelId, **base, **(self.availability or {})}


def _check(bedrock: FakeBedrock, model_id: str = MICRO, region: str = "us-east-1") -> Any:
    return check_live(bedrock, model_id, FT, region=region, catalog=CATALOG, now=NOW)


def _codes(answer: Any) -> list[str]:
    return [f.code for f in answer.findings]


def test_a_model_the_account_can_customize_here_passes_and_is_recorded() -> None:
    bedrock = FakeBedrock()
    answer = _check(bedrock)
    assert answer.findings == ()
    assert answer.details["customizations_supported"] == ["FINE_TUNING", "DISTILLATION"]
    # Access is asked of the model, not of its context-length variant.
    assert bedrock.asked == [
        ("GetFoundationModel", MICRO),
        ("GetFoundationModelAvailability", "amazon.nova-micro-v1:0"),
    ]


def test_a_model_unknown_in_this_region_is_refused_with_the_regions_that_can() -> None:
    answer = _check(
        FakeBedrock(details=_error("ResourceNotFoundException")),
        "meta.llama3-3-70b-instruct-v1:0:128k",
    )
    assert _codes(answer) == ["model-not-offered"]
    assert "us-west-2" in answer.findings[0].message
    assert answer.details["offered"] is False


def test_a_type_the_api_does_not_offer_is_refused() -> None:
    answer = _check(FakeBedrock(details={"customizationsSupported": ["DISTILLATION"]}))
    assert _codes(answer) == ["customization-not-offered"]


def test_types_the_api_does_not_report_are_left_to_the_catalog() -> None:
    # GetFoundationModel lists FINE_TUNING, CONTINUED_PRE_TRAINING and DISTILLATION only.
    answer = check_live(
        FakeBedrock(details={"customizationsSupported": []}),
        MICRO,
        CustomizationType.CONTINUED_PRE_TRAINING,
        region="us-east-1",
        catalog=CATALOG,
        now=NOW,
    )
    assert _codes(answer) == ["customization-not-offered"]


def test_a_legacy_model_is_accepted_with_a_warning_naming_its_end() -> None:
    lifecycle = {"status": "LEGACY", "endOfLifeTime": datetime(2027, 3, 1, tzinfo=UTC)}
    answer = _check(FakeBedrock(details={"modelLifecycle": lifecycle}))
    assert _codes(answer) == ["model-legacy"]
    assert answer.errors == []
    assert "2027-03-01" in answer.findings[0].message


def test_a_model_past_its_end_of_life_is_refused() -> None:
    lifecycle = {"status": "LEGACY", "endOfLifeTime": datetime(2026, 9, 10, tzinfo=UTC)}
    answer = _check(FakeBedrock(details={"modelLifecycle": lifecycle}))
    assert _codes(answer) == ["model-end-of-life"]


@pytest.mark.parametrize(
    ("availability", "code"),
    [
        ({"authorizationStatus": "NOT_AUTHORIZED"}, "model-access-not-granted"),
        ({"entitlementAvailability": "NOT_AVAILABLE"}, "model-not-entitled"),
        ({"agreementAvailability": {"status": "PENDING"}}, "model-agreement-missing"),
        ({"agreementAvailability": {"status": "NOT_AVAILABLE"}}, "model-agreement-missing"),
        ({"regionAvailability": "NOT_AVAILABLE"}, "model-not-offered"),
    ],
)
def test_each_availability_refusal_says_what_to_do(availability: dict[str, Any], code: str) -> None:
    answer = _check(FakeBedrock(availability=availability))
    assert _codes(answer) == [code]
    message = answer.findings[0].message
    # Each says what to do: ask for access, accept or wait for the agreement, or go elsewhere.
    assert any(
        hint in message for hint in ("Model access", "wait for it", "not available in us-east-1")
    ), message


@pytest.mark.parametrize(
    ("code", "raised"),
    [
        ("ThrottlingException", BedrockThrottledError),
        ("InternalServerException", BedrockUnavailableError),
        ("ServiceUnavailableException", BedrockUnavailableError),
    ],
)
@pytest.mark.parametrize("where", ["details", "availability"])
def test_transient_faults_of_either_lookup_are_retried(
    code: str, raised: type[Exception], where: str
) -> None:
    with pytest.raises(raised):
        _check(FakeBedrock(**{where: _error(code)}))


@pytest.mark.parametrize(
    ("where", "action"),
    [
        ("details", "bedrock:GetFoundationModel was denied"),
        ("availability", "bedrock:GetFoundationModelAvailability was denied"),
    ],
)
def test_access_denied_is_a_deployment_fault_naming_the_action(where: str, action: str) -> None:
    with pytest.raises(ModelCheckDeniedError, match=action):
        _check(FakeBedrock(**{where: _error("AccessDeniedException")}))


@pytest.mark.parametrize(
    ("model_id", "asked"),
    [
        ("amazon.nova-2-lite-v1:0:256k", "amazon.nova-2-lite-v1:0"),
        ("amazon.titan-text-express-v1:0:8k", "amazon.titan-text-express-v1:0"),
        ("amazon.titan-text-express-v1", "amazon.titan-text-express-v1"),
    ],
)
def test_availability_is_asked_of_the_model_without_its_context_suffix(
    model_id: str, asked: str
) -> None:
    assert availability_id(model_id) == asked


def test_a_refusal_in_a_region_the_catalog_lists_gives_no_region_advice() -> None:
    # Llama 3.3 runs in us-west-2: "only, not in us-west-2" would contradict itself.
    answer = _check(
        FakeBedrock(availability={"authorizationStatus": "NOT_AUTHORIZED"}),
        "meta.llama3-3-70b-instruct-v1:0:128k",
        region="us-west-2",
    )
    assert _codes(answer) == ["model-access-not-granted"]
    assert "not in us-west-2" not in answer.findings[0].message
    gone = _check(
        FakeBedrock(details=_error("ResourceNotFoundException")),
        "meta.llama3-3-70b-instruct-v1:0:128k",
        region="us-west-2",
    )
    assert "not in us-west-2" not in gone.findings[0].message
