"""Deployment settings: one typed object, validated once, built from cdk.json context.

A stage (``-c stage=prod``) picks one entry of ``bedrock-customization.stages``;
its keys are laid over ``bedrock-customization.defaults``. Account and region
come from the CDK CLI's ``CDK_DEFAULT_*`` variables, which ``app.py`` alone reads.
A bad value fails synth with one sentence naming the key and what it allows.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.alias_generators import to_camel

from customization_core.problems import describe, not_allowed
from customization_core.type_settings import GRADER_TAG

CONTEXT_KEY = "bedrock-customization"

InterfaceService = Literal[
    "bedrock", "bedrock-runtime", "states", "kms", "logs", "sts", "sns", "monitoring", "lambda"
]
GatewayService = Literal["s3", "dynamodb"]
INTERFACE_SERVICES: tuple[InterfaceService, ...] = (
    "bedrock",
    "bedrock-runtime",
    "states",
    "kms",
    "logs",
    "sts",
    "sns",
    # CloudWatch's API (com.amazonaws.<region>.monitoring): the watch's idle check.
    "monitoring",
    # Lambda's API: ValidateRequest reads an own grader's tags, StartJob adds the built-in
    # grader's aliases (stacks/grading.py).
    "lambda",
)
GATEWAY_SERVICES: tuple[GatewayService, ...] = ("s3", "dynamodb")

# Retention periods CloudWatch Logs accepts, in days. Source:
# https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html
LOG_RETENTION_DAYS: tuple[int, ...] = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545,
    731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip

# A model customization job takes 1 to 16 subnets. Source:
# https://docs.aws.amazon.com/bedrock/latest/APIReference/API_VpcConfig.html
MAX_JOB_SUBNETS = 16

# A Lambda function name, or a name prefix ending in "*": the characters and the 64 of
# CreateFunction's FunctionName (name form). Source, read 2026-12-02:
# https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html
_GRADER_FUNCTION = re.compile(r"^[a-zA-Z0-9_-]{1,64}\*?$")
MAX_GRADER_FUNCTIONS = 20  # names in the Bedrock role's policy (its size is bounded)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# An approver: an IAM role or user ARN pattern (aws:PrincipalArn), wildcards allowed.
_APPROVER = re.compile(
    r"^arn:aws(-[a-z]+)*:iam::(\d{12}|[*?]+):(role|user)/[A-Za-z0-9+=,.@_/*?-]{1,512}$"
)

# What each key allows, said once, in the words an error message needs.
ALLOWED: dict[str, str] = {
    "stage": "lower-case letters, digits and '-', starting with a letter, at most 20 characters",
    "account": "a 12-digit AWS account id",
    "region": "an AWS region name such as us-east-1",
    "azCount": "1, 2 or 3",
    "vpcCidr": "an IPv4 CIDR block from /16 to /24, such as 10.40.0.0/16",
    "existingVpc": "null, or an object with vpcId, subnetIds, routeTableIds and availabilityZones",
    "vpcId": "an id such as vpc-0123456789abcdef0",
    "subnetIds": f"1 to {MAX_JOB_SUBNETS} ids such as subnet-0123456789abcdef0",
    "routeTableIds": "one id such as rtb-0123456789abcdef0 per subnet, in the same order",
    "availabilityZones": "one zone name such as us-east-1a per subnet, in the same order",
    "interfaceEndpoints": "a list drawn from " + ", ".join(INTERFACE_SERVICES),
    "gatewayEndpoints": "a list drawn from " + ", ".join(GATEWAY_SERVICES),
    "removalPolicy": "'retain' (keeps buckets, keys and logs when the stack is deleted) or 'destroy'",
    "logRetentionDays": ", ".join(str(d) for d in LOG_RETENTION_DAYS),
    "noncurrentVersionDays": "a whole number of days from 1 to 3650",
    "notificationEmails": "a list of e-mail addresses",
    "tags": "an object of string keys and string values",
    "approvalThresholdUsd": "null (no approval step) or a number of dollars from 0; runs estimated above it wait for a person",
    "allowedBaseModels": "null (every catalog model) or a list of catalog model ids",
    "defaultHyperparameters": "an object of catalog model ids to objects of hyperparameter names and string values",
    "pollIntervalSeconds": "a whole number of seconds from 60 to 3600",
    "queueRetryHours": "a number of hours from 1 to 168",
    "approvalTimeoutHours": "a number of hours from 1 to 168",
    "approvers": (
        "null (anyone but the submitter may answer) or a list of IAM role or user ARN patterns "
        "('*' and '?' allowed), such as arn:aws:iam::111122223333:role/aws-reserved/"
        "sso.amazonaws.com/*/AWSReservedSSO_Approvers_*; a group is named by the role its "
        "members assume (IAM groups cannot be a request's principal)"
    ),
    "workflowTimeoutHours": "a number of hours from 1 to 720",
    "maxDeploymentTtlHours": "a number of hours from 1 to 720",
    "unknownModels": "'reject' (a base model missing from the catalog is refused: its limits are unknown) or 'warn' (accepted when Bedrock offers it, with a warning; per-record limits are not checked)",
    "graderFunctions": (
        f"a list of at most {MAX_GRADER_FUNCTIONS} Lambda function names of this account and "
        "Region (letters, digits, '-' and '_', 1 to 64 characters), each optionally ending in "
        "'*' to name a prefix, such as team-grader-*: the RFT graders Bedrock may invoke "
        f"besides the built-in one and functions tagged {GRADER_TAG}=<stack name>"
    ),
    "dataRisk": (
        "an object of risk kinds (leakage, duplicates, pii, secrets, outliers) to 'warn' "
        "(the default: a warning on the run) or 'block' (the run is rejected), such as "
        '{"pii": "block", "leakage": "warn"}'
    ),
    "trainingPricesUsd": "an object of catalog model ids to a training price in USD per 1,000 tokens (a number above 0)",
}


class SettingsError(ValueError):
    """A setting is missing or has a value the product does not allow."""


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True
    )


class ExistingVpc(_Model):
    """A VPC the platform team already runs; nothing is looked up at synth time."""

    vpc_id: str = Field(pattern=r"^vpc-[0-9a-f]{8,17}$")
    subnet_ids: tuple[str, ...] = Field(min_length=1, max_length=MAX_JOB_SUBNETS)
    route_table_ids: tuple[str, ...] = Field(min_length=1, max_length=MAX_JOB_SUBNETS)
    availability_zones: tuple[str, ...] = Field(min_length=1, max_length=MAX_JOB_SUBNETS)

    @field_validator("subnet_ids")
    @classmethod
    def _subnets(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _all_match(value, r"^subnet-[0-9a-f]{8,17}$")

    @field_validator("route_table_ids")
    @classmethod
    def _route_tables(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _all_match(value, r"^rtb-[0-9a-f]{8,17}$")

    @field_validator("availability_zones")
    @classmethod
    def _zones(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _all_match(value, r"^[a-z]{2}(-[a-z]+)+-\d[a-z]$")

    @model_validator(mode="after")
    def _same_lengths(self) -> ExistingVpc:
        n = len(self.subnet_ids)
        if len(self.route_table_ids) != n:
            raise ValueError(_bad("routeTableIds", self.route_table_ids))
        if len(self.availability_zones) != n:
            raise ValueError(_bad("availabilityZones", self.availability_zones))
        return self


class Settings(_Model):
    """Everything a deployment can choose. Defaults are the safe choice."""

    stage: str = Field(pattern=r"^[a-z][a-z0-9-]{0,19}$")
    account: str | None = Field(default=None, pattern=r"^\d{12}$")
    region: str | None = Field(default=None, pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    az_count: int = Field(default=2, ge=1, le=3)
    vpc_cidr: str = "10.40.0.0/16"
    existing_vpc: ExistingVpc | None = None
    interface_endpoints: tuple[InterfaceService, ...] = INTERFACE_SERVICES
    gateway_endpoints: tuple[GatewayService, ...] = GATEWAY_SERVICES
    removal_policy: Literal["retain", "destroy"] = "retain"
    log_retention_days: int = 365
    noncurrent_version_days: int = Field(default=90, ge=1, le=3650)
    notification_emails: tuple[str, ...] = ()
    tags: dict[str, str] = Field(default_factory=dict)
    # Per model id: the training price (USD per 1,000 tokens) cost estimates use
    # instead of the catalog's dated one (negotiated rates, newer list prices).
    training_prices_usd: dict[str, float] = Field(default_factory=dict)
    # The workflow. Bedrock jobs take hours; polling every 5 minutes (seconds)
    # costs a few state transitions per hour.
    approval_threshold_usd: float | None = Field(default=None, ge=0)
    allowed_base_models: tuple[str, ...] | None = None
    default_hyperparameters: dict[str, dict[str, str]] = Field(default_factory=dict)
    poll_interval_seconds: int = Field(default=300, ge=60, le=3600)
    queue_retry_hours: float = Field(default=24, ge=1, le=168)
    approval_timeout_hours: float = Field(default=72, ge=1, le=168)
    # Who may answer a run held for approval (aws:PrincipalArn patterns); None: anyone
    # who may upload to approvals/, except the run's submitter (stacks/approvals.py).
    approvers: tuple[str, ...] | None = Field(default=None, min_length=1, max_length=20)
    workflow_timeout_hours: float = Field(default=168, ge=1, le=720)
    # The longest a deployment may live (deploy.ttlHours and its extensions); the workflow's
    # time limit is workflowTimeoutHours plus this, since the workflow deletes it at the end.
    max_deployment_ttl_hours: float = Field(default=72, ge=1, le=720)
    # A deployment that gets no invocation for this long (hours) is deleted before its end
    # time; a manifest's deploy.idleHours overrides it (customization_core/deployment_watch.py).
    deployment_idle_hours: float = Field(default=4, ge=1, le=720)
    # More model units than this need a person's approval, whatever their price.
    max_unapproved_model_units: int = Field(default=1, ge=1, le=10)
    # An AWS Budgets budget on the project's tag, alerting the topic at 80% and 100% of
    # actual and forecast spend (stacks/budgets.py); None: no budget.
    monthly_budget_usd: float | None = Field(default=None, gt=0)
    # A model Bedrock offers for customization that the catalog does not know (yet).
    unknown_models: Literal["reject", "warn"] = "reject"
    # RFT: the users' own grader functions Bedrock may invoke by name (or prefix ending in *),
    # besides the built-in grader and functions tagged for this stack (stacks/grading.py).
    grader_functions: tuple[str, ...] = Field(default=(), max_length=MAX_GRADER_FUNCTIONS)
    # What the data risk scan's findings do, by kind (customization_core/risk_policy.py):
    # warnings unless a kind is set to block.
    data_risk: dict[str, str] = Field(default_factory=dict)

    @field_validator("data_risk")
    @classmethod
    def _data_risk(cls, value: dict[str, str]) -> dict[str, str]:
        from customization_core.risk_policy import RiskPolicy

        try:
            RiskPolicy.parse(value)
        except ValueError as problem:
            raise ValueError(f"the setting dataRisk: {problem}") from None
        return value

    @field_validator("grader_functions")
    @classmethod
    def _grader_functions(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if not _GRADER_FUNCTION.match(name):
                raise ValueError(_bad("graderFunctions", name))
        return tuple(dict.fromkeys(value))

    @model_validator(mode="after")
    def _graders_are_not_the_stacks_own(self) -> Settings:
        """No allow-listed name may cover this stack's functions (named after the stack)."""
        own = self.stack_name
        for name in self.grader_functions:
            prefix = name.removesuffix("*")
            covers = own.startswith(prefix) if name.endswith("*") else name.startswith(own)
            if covers or prefix.startswith(own):
                raise ValueError(
                    f"the setting graderFunctions {name!r} would let Bedrock invoke this stack's own "
                    f"functions (their names start with {own}); name your graders, or a prefix "
                    "of theirs only"
                )
        return self

    @field_validator("allowed_base_models")
    @classmethod
    def _allowed_models(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        from customization_core.catalog import load_catalog

        for model_id in value or ():
            if load_catalog().find(model_id) is None:
                raise ValueError(_bad("allowedBaseModels", model_id))
        return value

    @field_validator("approvers")
    @classmethod
    def _approvers(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for pattern in value or ():
            if not _APPROVER.match(pattern):
                raise ValueError(_bad("approvers", pattern))
        return value

    @field_validator("default_hyperparameters")
    @classmethod
    def _default_hyperparameters(
        cls, value: dict[str, dict[str, str]]
    ) -> dict[str, dict[str, str]]:
        from customization_core.catalog import load_catalog

        for model_id in value:
            if load_catalog().find(model_id) is None:
                raise ValueError(_bad("defaultHyperparameters", model_id))
        return value

    @field_validator("training_prices_usd")
    @classmethod
    def _prices(cls, value: dict[str, float]) -> dict[str, float]:
        from customization_core.catalog import load_catalog

        catalog = load_catalog()
        for model_id, price in value.items():
            if catalog.find(model_id) is None:
                raise ValueError(_bad("trainingPricesUsd", model_id))
            if not price > 0:
                raise ValueError(_bad("trainingPricesUsd", price))
        return value

    @field_validator("vpc_cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            network = ipaddress.IPv4Network(value)
        except ValueError:
            raise ValueError(_bad("vpcCidr", value)) from None
        if not 16 <= network.prefixlen <= 24:
            raise ValueError(_bad("vpcCidr", value))
        return value

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value not in LOG_RETENTION_DAYS:
            raise ValueError(_bad("logRetentionDays", value))
        return value

    @field_validator("notification_emails")
    @classmethod
    def _emails(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for email in value:
            if not _EMAIL.match(email):
                raise ValueError(_bad("notificationEmails", email))
        return value

    @field_validator("interface_endpoints", "gateway_endpoints")
    @classmethod
    def _unique(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        # Order is kept as written; duplicates would make two endpoints for one service.
        return tuple(dict.fromkeys(value))

    @property
    def retain(self) -> bool:
        return self.removal_policy == "retain"

    @property
    def stack_name(self) -> str:
        return f"BedrockCustomization-{self.stage}"


def load_settings(
    context: Mapping[str, Any] | None,
    *,
    stage: str | None,
    account: str | None = None,
    region: str | None = None,
) -> Settings:
    """Build the settings of one stage from the ``bedrock-customization`` context block."""
    if not isinstance(context, Mapping):
        raise SettingsError(
            f"cdk.json has no '{CONTEXT_KEY}' context object; "
            "it needs 'defaultStage', 'defaults' and 'stages' (see README, Configuration)."
        )
    stages = context.get("stages")
    if not isinstance(stages, Mapping) or not stages:
        raise SettingsError(f"Setting '{CONTEXT_KEY}.stages' must be an object of named stages.")
    chosen = stage or context.get("defaultStage")
    if chosen not in stages:
        raise SettingsError(
            f"Stage {chosen!r} is not defined in '{CONTEXT_KEY}.stages'; "
            f"allowed stages: {', '.join(sorted(stages))} (pass one with -c stage=NAME)."
        )
    defaults = context.get("defaults", {})
    overrides = stages[chosen]
    for where, block in (("defaults", defaults), (f"stages.{chosen}", overrides)):
        if not isinstance(block, Mapping):
            raise SettingsError(f"Setting '{CONTEXT_KEY}.{where}' must be an object of settings.")
    raw: dict[str, Any] = {**defaults, **overrides, "stage": chosen}
    # The CLI resolves these from the caller's profile; absent, the stack is
    # environment-agnostic and CloudFormation fills them in at deploy time.
    if account:
        raw["account"] = account
    if region:
        raw["region"] = region
    try:
        return Settings.model_validate(raw)
    except ValidationError as error:
        raise SettingsError(_describe(error, f"{CONTEXT_KEY}.stages.{chosen}")) from None


def _all_match(values: tuple[str, ...], pattern: str) -> tuple[str, ...]:
    for value in values:
        if not re.match(pattern, value):
            raise ValueError(f"{value!r} is not a valid id")
    return values


def _bad(key: str, value: object) -> str:
    return not_allowed(value, ALLOWED[key])


def _owner(path: list[str]) -> type[BaseModel]:
    return ExistingVpc if "existingVpc" in path else Settings


def _describe(error: ValidationError, prefix: str) -> str:
    return "\n".join(describe(error, noun="Setting", prefix=prefix, allowed=ALLOWED, owner=_owner))
