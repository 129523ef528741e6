"""A boto3 client that never reaches AWS: a botocore Stubber answers each call."""

from __future__ import annotations

from typing import Any

import boto3

REGION = "us-east-1"


def offline_client(service: str, region: str = REGION) -> Any:
    """``service``'s client with made-up credentials, for a Stubber to answer."""
    return boto3.client(
        service,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - never sent: the Stubber answers
    )
