"""Finding a deployed stack's resources, turning AWS access problems into one sentence; exit codes."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import click

if TYPE_CHECKING:
    from customization_core.registry import Registry

DEFAULT_STACK = "BedrockCustomization-dev"
# The CLI's exit codes (2, a usage error, is click's).
EXIT_OK: Final = 0
EXIT_FAILED: Final = 1  # the thing asked about failed: invalid data, a refused answer, a failed run
EXIT_ACCESS: Final = 3  # AWS access errors: credentials, permissions, a missing stack
EXIT_INTERRUPTED: Final = 130  # Ctrl-C while following a run (the run goes on)
# Where `make emulator` says where it listens; the CLI's --local reads it.
LOCAL_STATE_ENV = "BEDROCK_CUSTOMIZE_EMULATOR"


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

    def registry(self) -> Registry:
        """The stack's run registry (customization_core/registry.py) through its DynamoDB client."""
        from customization_core.registry import Registry
        from customization_core.registry_client import ClientTable

        return Registry(ClientTable(self.client("dynamodb"), self.output("RegistryTableName")))


def describe(error: BaseException, action: str) -> str:
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


def local_state_path() -> Path:
    """The file the running emulator writes (endpoint, Region, stack outputs)."""
    configured = os.environ.get(LOCAL_STATE_ENV)
    return Path(configured) if configured else Path.home() / ".bedrock-customize" / "emulator.json"


def connect_local(person: str | None = None) -> Stack:
    """The stack served by the local emulator (`make emulator`), through its endpoint.

    ``person`` (``--profile`` with ``--local``): act as that IAM user of the emulated
    account (made on first use), so one person can submit and another approve.
    """
    import boto3
    from botocore.config import Config

    path = local_state_path()
    start = "start it with `make emulator` in another terminal, then try again"
    try:
        state = json.loads(path.read_text())
    except FileNotFoundError:
        raise AccessError(
            f"The local emulator is not running ({path} is missing): {start}."
        ) from None
    except ValueError:
        raise AccessError(f"{path} is not the emulator's state file: {start}.") from None
    try:
        os.kill(int(state["pid"]), 0)
    except (ProcessLookupError, KeyError, ValueError):
        raise AccessError(f"The local emulator recorded in {path} has stopped: {start}.") from None
    except PermissionError:
        pass  # alive, run by someone else
    # The emulator accepts any key; these never leave this machine.
    session = boto3.Session(
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 - a placeholder the emulator ignores
        region_name=state["region"],
    )
    config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2})
    if person:
        session = _local_person(session, person, endpoint=state["endpoint"], config=config)

    def client(service: str) -> Any:
        return session.client(service, endpoint_url=state["endpoint"], config=config)

    return Stack(name=f"{state['stack']} (local)", outputs=state["outputs"], client=client)


def _local_person(session: Any, name: str, *, endpoint: str, config: Any) -> Any:
    """A session signed with a fresh access key of the emulated IAM user ``name``."""
    import boto3

    iam = session.client("iam", endpoint_url=endpoint, config=config)
    try:
        iam.get_user(UserName=name)
    except iam.exceptions.NoSuchEntityException:
        iam.create_user(UserName=name)
    except Exception as error:  # a name IAM refuses: say so, not a traceback
        raise AccessError(f"--profile {name!r} with --local: {error}") from None
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return boto3.Session(
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
        region_name=session.region_name,
    )


@dataclass(frozen=True)
class Where:
    """Where the stack is, as the command line says: a deployed stack, or the local emulator."""

    stack_name: str
    region: str | None
    profile: str | None
    local: bool

    @property
    def suffix(self) -> str:
        """What to add to a suggested command so that it goes to the same place."""
        return " --local" if self.local else ""

    def open(self) -> Stack:
        """The stack; an access problem is one sentence and exit code 3."""
        try:
            if self.local:
                return connect_local(self.profile)
            return connect(self.stack_name, region=self.region, profile=self.profile)
        except AccessError as error:
            click.echo(str(error), err=True)
            sys.exit(EXIT_ACCESS)


def stack_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """--stack, --region, --profile and --local, handed to the command as ``where``."""

    @functools.wraps(function)
    def command(
        *args: Any,
        stack_name: str,
        region: str | None,
        profile: str | None,
        local: bool,
        **kwargs: Any,
    ) -> Any:
        return function(*args, where=Where(stack_name, region, profile, local), **kwargs)

    wrapped: Callable[..., Any] = command
    for option in (
        click.option(
            "--local",
            is_flag=True,
            help="Use the local emulator (`make emulator`) instead of AWS.",
        ),
        click.option(
            "--profile",
            help="AWS profile (default: the environment's); with --local, the emulated "
            "IAM user to act as (another person than the submitter can approve).",
        ),
        click.option("--region", help="AWS Region of the stack (default: the profile's)."),
        click.option(
            "--stack",
            "stack_name",
            default=DEFAULT_STACK,
            show_default=True,
            help="The deployed stack.",
        ),
    ):
        wrapped = option(wrapped)
    return wrapped


def aws(action: str, call: Callable[[], Any]) -> Any:
    """Run one AWS call; an access problem becomes one sentence and exit code 3."""
    try:
        return call()
    except Exception as error:
        cause: BaseException = error
        if type(error).__module__.startswith("boto3") and error.__context__ is not None:
            cause = error.__context__  # S3 transfers wrap the ClientError that says why
        if type(cause).__module__.startswith("botocore") or hasattr(cause, "response"):
            click.echo(describe(cause, action), err=True)
            sys.exit(EXIT_ACCESS)
        raise
