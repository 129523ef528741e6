"""Finding a deployed stack's resources, and turning AWS access problems into one sentence."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

DEFAULT_STACK = "BedrockCustomization-dev"
EXIT_ACCESS = 3  # AWS access errors: credentials, permissions, a missing stack


class AccessError(Exception):
    """The CLI could not reach what it needs in AWS; the message says why and what to do."""


@dataclass
class Stack:
    """A deployed stack: its outputs and a factory for AWS clients in its account and Region."""

    name: str
    outputs: dict[str, str]
    client: Callable[[str], Any]

    def output(self, key: str) -> str:
        if key not in self.outputs:
            raise AccessError(
                f"Stack {self.name} has no output {key}: redeploy it with this version (cdk deploy)."
            )
        return self.outputs[key]


def describe(error: Exception, action: str) -> str:
    """One sentence for an AWS error met while doing ``action``."""
    name = type(error).__name__
    if name in ("NoCredentialsError", "PartialCredentialsError"):
        return "No AWS credentials were found: set AWS_PROFILE (or --profile), or run `aws configure` / `aws sso login`."
    if name == "ProfileNotFound":
        return f"{error}: check --profile or AWS_PROFILE against ~/.aws/config."
    if name in ("EndpointConnectionError", "ConnectTimeoutError"):
        return f"AWS could not be reached while calling {action} ({error}); check the network and --region."
    response = getattr(error, "response", None)
    code = response.get("Error", {}).get("Code", "") if isinstance(response, dict) else ""
    message = (
        response.get("Error", {}).get("Message", "") if isinstance(response, dict) else str(error)
    )
    if code in ("ExpiredToken", "ExpiredTokenException", "RequestExpired"):
        return "Your AWS credentials have expired: sign in again (for example `aws sso login`)."
    if code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation"):
        return f"Access denied to {action}: your role needs that permission ({message})."
    if code in ("InvalidClientTokenId", "UnrecognizedClientException", "SignatureDoesNotMatch"):
        return "AWS does not recognize these credentials: check AWS_PROFILE or the access keys."
    return f"{action} failed: {code or name}: {message}"


def connect(name: str, *, region: str | None = None, profile: str | None = None) -> Stack:
    """The stack ``name`` from its CloudFormation outputs (raises AccessError)."""
    import boto3  # only commands that talk to AWS pay for the import
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        session = boto3.Session(region_name=region, profile_name=profile)
        cloudformation = session.client("cloudformation")
        stacks = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):
            where = session.region_name or "the default Region"
            raise AccessError(
                f"Stack {name} was not found in {where}: deploy it (cdk deploy -c stage=...) "
                "or pass --stack and --region."
            ) from None
        raise AccessError(describe(error, "cloudformation:DescribeStacks")) from None
    except BotoCoreError as error:
        raise AccessError(describe(error, "cloudformation:DescribeStacks")) from None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    return Stack(name=name, outputs=outputs, client=session.client)
