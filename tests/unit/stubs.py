"""A boto3 client that never reaches AWS: a botocore Stubber answers each call."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

REGION = "us-east-1"


def offline_client(service: str, region: str = REGION) -> Any:
    """``service``'s client with made-up credentials, for a Stubber to answer."""
    return boto3.client(
        service,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - never sent: the Stubber answers
    )


@contextmanager
def check_bedrock(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Stubber]]:
    """A Stubber'd Bedrock client that `check --region R` uses for its live model check."""
    from bedrock_customize import check_cmd, check_model

    client = offline_client("bedrock")
    stubber = Stubber(client)

    def clients(
        *, region: str | None, profile: str | None, stack_name: str | None
    ) -> check_model.Live:
        return check_model.Live(client, region, explicit=region is not None)

    monkeypatch.setattr(check_cmd, "clients", clients)
    with stubber:
        yield client, stubber
    stubber.assert_no_pending_responses()
