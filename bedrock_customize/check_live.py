"""The live model check of ``check``: Bedrock asked about the model (and a distillation
teacher) in the run's Region.

The pipeline's ValidateRequest asks the same (customization_core/live.py). When the
caller may not ask, or nobody answers, the catalog's Regions judge instead and a note
says so; a check the user asked for explicitly (--region, --stack) that AWS refuses
stops ``check`` (LiveDeniedError).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Final

from bedrock_customize.check_model import Live, LiveDeniedError, Outcome, severity_of
from bedrock_customize.stack import describe
from customization_core.bounded import clip
from customization_core.catalog import Catalog, CustomizationType
from customization_core.faults import BedrockThrottledError, BedrockUnavailableError, error_code
from customization_core.live import (
    API_REPORTED,
    LiveAnswer,
    ModelCheckDeniedError,
    check_live,
    check_teacher_live,
)
from customization_core.live import DENIED as LIVE_DENIED
from customization_core.manifest import Manifest

# Who may not ask Bedrock about models: the caller's role, or credentials AWS refuses.
DENIED_CODES: Final = frozenset(
    {
        *LIVE_DENIED,  # what the pipeline treats as its role's missing permission
        "AccessDenied",
        "UnauthorizedOperation",
        "ExpiredToken",
        "ExpiredTokenException",
        "RequestExpired",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
    }
)
NO_CREDENTIALS: Final = ("NoCredentialsError", "PartialCredentialsError")


def ask_bedrock(
    live: Live,
    manifest: Manifest,
    catalog: Catalog,
    now: datetime,
    outcome: Outcome,
    *,
    unknown_ok: bool = False,
) -> LiveAnswer | None:
    """Bedrock's answer, or None (and a note saying how the Region was judged instead)."""
    fallback = (
        f"judged by the catalog's Regions ({catalog.catalog_date.isoformat()})"
        if live.region
        else "the Region was not judged (pass --region or --stack, or set one in the profile)"
    )
    if live.bedrock is None or live.region is None:
        why = live.skipped or ("no AWS Region" if live.region is None else "no Bedrock client")
        outcome.note("live", f"live check skipped: {why}; {fallback}.")
        return None
    if catalog.find(manifest.base_model_id) is None and not unknown_ok:
        outcome.note(
            "live", "live check skipped: the catalog does not know the model (see the request)."
        )
        return None
    answer = _asked(
        live,
        lambda: check_live(
            live.bedrock,
            manifest.base_model_id,
            manifest.customization_type,
            region=str(live.region),
            catalog=catalog,
            now=now,
        ),
        fallback,
        outcome,
    )
    if answer is None:
        return None
    outcome.live_region = live.region
    outcome.note(
        "live", f"Bedrock in {live.region} was asked about {clip(manifest.base_model_id)}."
    )
    if manifest.customization_type.value not in API_REPORTED:
        outcome.note(
            "live",
            f"Bedrock does not report {manifest.customization_type.value} in a model's "
            "customizationsSupported: the catalog's Regions decide where it runs.",
        )
    _add(live, answer, outcome)
    teacher = catalog.find_teacher(manifest.teacher_model_id or "")
    if manifest.customization_type is CustomizationType.DISTILLATION and teacher is not None:
        # The job invokes the teacher: it must be offered here and accessible to the account.
        asked = _asked(
            live,
            lambda: check_teacher_live(
                live.bedrock, teacher.model_ids[0], region=str(live.region), now=now
            ),
            fallback,
            outcome,
        )
        if asked is not None:
            outcome.note(
                "live", f"Bedrock in {live.region} was asked about the teacher {teacher.name}."
            )
            _add(live, asked, outcome)
    return answer


def _add(live: Live, answer: LiveAnswer, outcome: Outcome) -> None:
    for finding in answer.findings:
        outcome.add(
            "live",
            severity_of(finding.severity),
            f"Bedrock in {live.region}",
            finding.code,
            finding.message,
            finding.field,
        )


def _asked(
    live: Live, ask: Callable[[], LiveAnswer], fallback: str, outcome: Outcome
) -> LiveAnswer | None:
    """``ask``'s answer, or None and a note (or LiveDeniedError) when Bedrock did not give one."""
    try:
        return ask()
    except (BedrockThrottledError, BedrockUnavailableError) as fault:
        outcome.note("live", f"live check skipped: Bedrock did not answer ({fault}); {fallback}.")
        return None
    except ModelCheckDeniedError as denied:
        _denied(
            live,
            describe(denied.__cause__ or denied, "bedrock:GetFoundationModel"),
            fallback,
            outcome,
        )
        return None
    except Exception as error:
        if type(error).__name__ in NO_CREDENTIALS:
            outcome.note("live", f"live check skipped: no AWS credentials; {fallback}.")
            return None
        if not (type(error).__module__.startswith("botocore") or hasattr(error, "response")):
            raise
        sentence = describe(error, "bedrock:GetFoundationModel")
        if error_code(error) in DENIED_CODES:
            _denied(live, sentence, fallback, outcome)
        else:
            outcome.note("live", f"live check skipped: {sentence}; {fallback}.")
        return None


def _denied(live: Live, sentence: str, fallback: str, outcome: Outcome) -> None:
    if live.explicit:
        raise LiveDeniedError(sentence)
    outcome.note("live", f"live check skipped: {sentence}; {fallback}.")
