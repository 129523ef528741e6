"""AWS faults as the exceptions the state machine's Retry and Catch rules match by name."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

THROTTLED: Final = ("ThrottlingException", "TooManyRequestsException")
UNAVAILABLE: Final = (
    "InternalServerException",
    "ServiceUnavailableException",
    "ModelNotReadyException",
)


class BedrockThrottledError(Exception):
    """Bedrock throttled the call (ThrottlingException): retried with backoff."""


class BedrockUnavailableError(Exception):
    """Bedrock failed on its side (InternalServerException, ServiceUnavailable): retried."""


def error_code(error: BaseException) -> str:
    response = getattr(error, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


def reraise_bedrock(error: Exception) -> None:
    """Raise the retryable exception for a transient Bedrock fault; return for any other."""
    code = error_code(error)
    if code in THROTTLED:
        raise BedrockThrottledError(str(error)) from error
    if code in UNAVAILABLE:
        raise BedrockUnavailableError(str(error)) from error


@contextmanager
def bedrock_faults() -> Iterator[None]:
    """Within the block, Bedrock's transient faults become the retryable exceptions."""
    try:
        yield
    except Exception as error:
        reraise_bedrock(error)
        raise
