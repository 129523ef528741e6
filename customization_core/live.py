"""The live model check: Bedrock itself, in the stack's Region, says what this account can customize.

A catalog frozen in a file goes stale (models retire, Regions change, access is
granted per account), so before any data is read ValidateRequest asks:

- GetFoundationModel: ``customizationsSupported`` (FINE_TUNING, CONTINUED_PRE_TRAINING and
  DISTILLATION only; other types are judged from the catalog), ``modelLifecycle``
  (ACTIVE or LEGACY with ``endOfLifeTime``);
- GetFoundationModelAvailability: ``authorizationStatus``, ``entitlementAvailability``,
  ``agreementAvailability.status`` and ``regionAvailability``.

Shapes and enums: botocore 1.44.8, ``data/bedrock/2023-04-20/service-2.json`` (read
2026-12-01); https://docs.aws.amazon.com/bedrock/latest/APIReference/API_GetFoundationModel.html
and API_GetFoundationModelAvailability.html. The catalog still supplies the limits and,
in refusals, the Regions where the model can be customized.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final

from customization_core.catalog import Catalog, CustomizationType
from customization_core.faults import error_code, reraise_bedrock
from customization_core.findings import Finding, Source, error, warning
from customization_core.regions import region_problem

# customizationType values GetFoundationModel reports; others are decided by the catalog.
API_REPORTED: Final = frozenset({"FINE_TUNING", "CONTINUED_PRE_TRAINING", "DISTILLATION"})
NOT_FOUND: Final = ("ResourceNotFoundException", "ValidationException")
DENIED: Final = ("AccessDeniedException", "UnauthorizedException")
# A context-length variant (":128k", ":300k") is customized, but model access is granted
# to the model itself; availability is asked of the id without that suffix.
_CONTEXT_SUFFIX: Final = re.compile(r":[0-9]+k$")


class ModelCheckDeniedError(Exception):
    """The stack's role may not ask Bedrock about models: a deployment fault, not the user's."""


@dataclass(frozen=True)
class LiveAnswer:
    """What Bedrock said about the model (recorded on the run) and what follows from it."""

    findings: tuple[Finding, ...]
    details: dict[str, Any]

    @property
    def errors(self) -> list[str]:
        return [f.message for f in self.findings if f.severity == "error"]


def availability_id(model_id: str) -> str:
    return _CONTEXT_SUFFIX.sub("", model_id)


def check_live(
    bedrock: Any,
    model_id: str,
    kind: CustomizationType,
    *,
    region: str,
    catalog: Catalog,
    now: datetime,
) -> LiveAnswer:
    """Ask Bedrock about ``model_id`` for ``kind`` in ``region``; raise only for AWS faults."""
    model = catalog.find(model_id)
    # Where else it can run, when the catalog says this Region is not one of them.
    advice = (region_problem(model, kind, region) or "") if model else ""
    name = model.name if model else model_id
    details = _call(
        bedrock.get_foundation_model, "bedrock:GetFoundationModel", modelIdentifier=model_id
    )
    if details is None:
        return LiveAnswer(
            (
                _refuse(
                    "model-not-offered",
                    f"Bedrock in {region} does not offer {model_id} to this account. {advice}".strip(),
                ),
            ),
            {"region": region, "offered": False},
        )
    found = details.get("modelDetails") or {}
    findings: list[Finding] = []
    supported = [str(t) for t in found.get("customizationsSupported") or []]
    if kind.value in API_REPORTED and kind.value not in supported:
        offered = ", ".join(supported) or "no customization"
        findings.append(
            _refuse(
                "customization-not-offered",
                f"Bedrock in {region} offers {name} for {offered}, not {kind.value}. {advice}".strip(),
            )
        )
    findings.extend(_lifecycle(found.get("modelLifecycle") or {}, name, now))
    answer = _call(
        bedrock.get_foundation_model_availability,
        "bedrock:GetFoundationModelAvailability",
        modelId=availability_id(model_id),
    )
    if answer is not None:
        findings.extend(_availability(answer, name, region, advice))
    recorded = {
        "region": region,
        "offered": True,
        "customizations_supported": supported,
        "lifecycle": _jsonable(found.get("modelLifecycle") or {}),
        "availability": _jsonable(
            {k: v for k, v in (answer or {}).items() if k != "ResponseMetadata"}
        ),
    }
    return LiveAnswer(tuple(findings), recorded)


def check_teacher_live(
    bedrock: Any, teacher_model_id: str, *, region: str, now: datetime
) -> LiveAnswer:
    """Bedrock's answer on a distillation teacher: offered here, not past its end, accessible.

    The teacher is invoked, not customized, so its ``customizationsSupported`` is not asked;
    its model access is, as a job whose teacher the account may not invoke fails.
    """
    details = _call(
        bedrock.get_foundation_model,
        "bedrock:GetFoundationModel",
        modelIdentifier=availability_id(teacher_model_id),
    )
    if details is None:
        return LiveAnswer(
            (
                _refuse(
                    "teacher-not-offered",
                    f"Bedrock in {region} does not offer the teacher {teacher_model_id} to this account.",
                ),
            ),
            {"region": region, "offered": False},
        )
    found = details.get("modelDetails") or {}
    findings = _lifecycle(found.get("modelLifecycle") or {}, teacher_model_id, now)
    answer = _call(
        bedrock.get_foundation_model_availability,
        "bedrock:GetFoundationModelAvailability",
        modelId=availability_id(teacher_model_id),
    )
    if answer is not None:
        findings.extend(_availability(answer, f"the teacher {teacher_model_id}", region, ""))
    recorded = {
        "region": region,
        "offered": True,
        "lifecycle": _jsonable(found.get("modelLifecycle") or {}),
        "availability": _jsonable(
            {k: v for k, v in (answer or {}).items() if k != "ResponseMetadata"}
        ),
    }
    return LiveAnswer(tuple(findings), recorded)


def _call(operation: Any, action: str, **arguments: str) -> dict[str, Any] | None:
    """The operation's answer; None when Bedrock does not know the model here."""
    try:
        return dict(operation(**arguments))
    except Exception as problem:
        code = error_code(problem)
        if code in NOT_FOUND:
            return None
        if code in DENIED:
            raise ModelCheckDeniedError(
                f"{action} was denied ({code}): the ValidateRequest function's role needs it; "
                "redeploy the stack or restore its policy."
            ) from problem
        reraise_bedrock(problem)
        raise


def _lifecycle(lifecycle: dict[str, Any], name: str, now: datetime) -> list[Finding]:
    if lifecycle.get("status") != "LEGACY":
        return []
    end = lifecycle.get("endOfLifeTime")
    end_day = _day(end)
    if isinstance(end, datetime) and _utc(end) <= now:
        return [
            _refuse(
                "model-end-of-life",
                f"{name} reached end of life on {end_day}; Bedrock no longer customizes it. "
                "Pick a current model from `bedrock-customize catalog`.",
            )
        ]
    until = f"until {end_day}" if end_day else "until AWS sets its end of life"
    return [
        warning(
            Source.REQUEST,
            "model-legacy",
            f"Bedrock lists {name} as LEGACY: it can be customized {until}, and its custom "
            "models stop serving then. Plan a move to a current model.",
            field="baseModelId",
        )
    ]


def _availability(answer: dict[str, Any], name: str, region: str, advice: str) -> list[Finding]:
    found: list[Finding] = []
    if answer.get("regionAvailability") == "NOT_AVAILABLE":
        found.append(
            _refuse(
                "model-not-offered",
                f"{name} is not available in {region}. {advice}".strip(),
            )
        )
    if answer.get("authorizationStatus") == "NOT_AUTHORIZED":
        found.append(
            _refuse(
                "model-access-not-granted",
                f"This account has no access to {name} in {region}: request it in the Bedrock "
                "console (Model access), or ask your administrator to, then upload job.json again.",
            )
        )
    if answer.get("entitlementAvailability") == "NOT_AVAILABLE":
        found.append(
            _refuse(
                "model-not-entitled",
                f"This account is not entitled to {name} in {region} (an AWS Marketplace "
                "subscription or an account restriction); subscribe through Model access, "
                "then upload job.json again.",
            )
        )
    agreement = answer.get("agreementAvailability") or {}
    status = agreement.get("status")
    if status not in (None, "AVAILABLE"):
        extra = f": {agreement['errorMessage']}" if agreement.get("errorMessage") else ""
        what = (
            "is still pending; wait for it, then upload job.json again"
            if status == "PENDING"
            else "has not been accepted; accept the model's end-user license agreement in the "
            "Bedrock console (Model access), then upload job.json again"
        )
        found.append(_refuse("model-agreement-missing", f"The agreement for {name} {what}{extra}."))
    return found


def _refuse(code: str, message: str) -> Finding:
    return error(Source.REQUEST, code, message, field="baseModelId")


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _day(value: object) -> str:
    if isinstance(value, datetime):
        return _utc(value).date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return ""


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return _utc(value).isoformat()
    return value
