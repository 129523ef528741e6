"""The job manifest (``jobs/<name>/job.json``): what a user asks for, parsed strictly.

A manifest that does not parse ends its run REJECTED before any data is read;
``parse_manifest`` (customization_core/manifest_parse.py) returns the reasons as
sentences naming the field and what it allows (``ALLOWED``). Example::

    {
      "customizationType": "FINE_TUNING",
      "baseModelId": "amazon.titan-text-express-v1:0:8k",
      "hyperParameters": {"epochCount": 2, "learningRate": "0.00001"},
      "customModelName": "support-summaries",
      "tags": {"team": "support"},
      "deploy": {"mode": "provisioned", "modelUnits": 1, "ttlHours": 2},
      "evaluate": {"samples": 10},
      "budgetUsd": 50
    }

A deploy-only manifest (``bedrock-customize deploy``) names an existing custom model
instead of training one, by the run that trained it or by its ARN, and must deploy it::

    {
      "deployModel": "support-summaries-0123456789ab",
      "deploy": {"mode": "on-demand", "ttlHours": 4},
      "evaluate": {"samples": 10},
      "budgetUsd": 5
    }
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Collection, Mapping
from typing import Any, Final, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from customization_core.bounded import QUOTE_MAX, quote
from customization_core.catalog import CustomizationType
from customization_core.naming import (
    HASH_CHARS,
    MODEL_NAME_PATTERN,
    TAG_KEY_MAX,
    TAG_PATTERN,
    TAG_PREFIX,
    TAG_VALUE_MAX,
    s3_key_problem,
)
from customization_core.problems import not_allowed

# maxResponseLengthForInference: botocore 1.44.8 gives an Integer with no bound; the page
# model-distillation (read 2026-12-02) documents no range, so the cap is the teacher's
# (catalog) and, for a teacher without one, this: Nova Pro's largest output, 10K tokens
# (https://docs.aws.amazon.com/nova/latest/userguide/what-is-nova.html).
MAX_RESPONSE_LENGTH: Final = 10_000
# botocore 1.44.8 LambdaArn (bedrock 2023-04-20 service model): 1 to 512 characters.
LAMBDA_ARN_PATTERN: Final = re.compile(
    r"^arn:(aws[a-zA-Z-]*)?:lambda:[a-z]{2}(-gov)?-[a-z]+-\d{1}:\d{12}:function:[a-zA-Z0-9-_\.]+"
    r"(:(\$LATEST|[a-zA-Z0-9-_]+))?$"
)
# Bedrock takes 200 tags per job; the pipeline adds its lineage tags to the user's.
MAX_USER_TAGS: Final = 40
DEFAULT_TRAINING_KEY: Final = "train.jsonl"
DEFAULT_VALIDATION_KEY: Final = "validation.jsonl"
DEFAULT_TTL_HOURS: Final = 24.0  # a deployment nobody asked to keep is deleted after a day
# The deploy-only form's key: the custom model to deploy, by its run id or its ARN.
DEPLOY_MODEL: Final = "deployModel"
# A run id as naming.run_names makes it: the job folder's slug (at most 40 of a-z, 0-9 and
# '-') and the object version's hash.
RUN_ID_PATTERN: Final = re.compile(
    rf"^[a-z0-9](?:[a-z0-9-]{{0,38}}[a-z0-9])?-[0-9a-f]{{{HASH_CHARS}}}$"
)
# A custom model ARN, loosely: botocore's CustomModelArn (bedrock 2023-04-20 service model,
# botocore 1.44.8 of 2026-11-20) is arn:aws(|-us-gov|-cn|-iso|-iso-b):bedrock:REGION:ACCOUNT:
# custom-model/<base model id or imported>/<12 characters>, 20 to 1,011 characters; the
# emulator's (moto's) custom-model/<name> passes too. GetCustomModel judges the rest.
CUSTOM_MODEL_ARN_PATTERN: Final = re.compile(
    r"^arn:aws(-[a-z]+)*:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:custom-model/\S+$"
)
CUSTOM_MODEL_ARN_MAX: Final = 1011

ALLOWED: dict[str, str] = {
    "customizationType": "FINE_TUNING, CONTINUED_PRE_TRAINING, DISTILLATION or REINFORCEMENT_FINE_TUNING",
    "teacherModelId": "for DISTILLATION, a teacher of the base model from `bedrock-customize catalog --type distillation`, e.g. amazon.nova-pro-v1:0",
    "maxResponseLength": f"for DISTILLATION, a whole number of tokens from 1 to {MAX_RESPONSE_LENGTH:,}: the longest answer the teacher writes per prompt",
    "grader": 'for REINFORCEMENT_FINE_TUNING, a built-in grader {"name": "numeric", "params": {"tolerance": 0.01}} (`bedrock-customize catalog --graders`) or your own {"lambdaArn": "arn:aws:lambda:REGION:ACCOUNT:function:NAME"}',
    "baseModelId": "a base model id from `bedrock-customize catalog`, e.g. amazon.titan-text-express-v1:0:8k",
    "customModelName": "1 to 63 letters and digits, each optionally followed by one '_' or '-'",
    "hyperParameters": "an object of API hyperparameter names to strings or numbers",
    "trainingData": "a file name in the job's folder, e.g. train.jsonl",
    "validationData": "a file name in the job's folder, e.g. validation.jsonl, or null",
    "tags": f"an object of up to {MAX_USER_TAGS} tags: keys of 1 to {TAG_KEY_MAX} and values of up to {TAG_VALUE_MAX} ASCII letters, digits, spaces and . _ : / = + @ - (Bedrock's tag rule)",
    "mode": "none, provisioned or on-demand",
    "modelUnits": "a whole number from 1 to 10",
    "ttlHours": "a number of hours above 0, or null to keep the deployment until someone deletes it",
    "idleHours": "a number of hours above 0: the deployment is deleted after this long with no invocation",
    "samples": "a whole number from 1 to 1000",
    "minImprovement": "a number from 0 to 1: the ROUGE-L points (0 to 1) the custom model must gain over its base",
    "prompts": "a list of prompts to compare base and custom model on",
    "budgetUsd": "a number of dollars above 0",
    "deploy": 'an object such as {"mode": "provisioned", "ttlHours": 24}; in a deploy-only manifest (deployModel) mode is provisioned or on-demand',
    DEPLOY_MODEL: "a run id of this stack (e.g. summaries-0123456789ab, from `bedrock-customize list`) or a custom model ARN (arn:aws:bedrock:REGION:ACCOUNT:custom-model/...)",
}


class _Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True
    )


class Deploy(_Strict):
    """What to do with the custom model once trained (the deploy stage fills this in)."""

    mode: Literal["none", "provisioned", "on-demand"] = "none"
    model_units: int = Field(default=1, ge=1, le=10)
    ttl_hours: float | None = Field(default=DEFAULT_TTL_HOURS, gt=0)
    # Hours with no invocation before the deployment is deleted early; None: the stage's
    # deploymentIdleHours.
    idle_hours: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _idle_needs_an_end(self) -> Deploy:
        # A deployment kept with no end time ends its run at once: nothing watches it idle.
        if self.ttl_hours is None and self.idle_hours is not None:
            raise ValueError(
                "deploy.idleHours needs an end time: a deployment kept with ttlHours null is "
                "not watched, so it would never be deleted when idle; give ttlHours, or drop "
                "idleHours"
            )
        return self


class Evaluate(_Strict):
    """How to compare the custom model with its base (the evaluate stage fills this in)."""

    samples: int = Field(default=20, ge=1, le=1000)
    min_improvement: float = Field(default=0.0, ge=0, le=1)
    prompts: tuple[str, ...] = ()


class Grader(_Strict):
    """RFT's grader: a built-in one by name with its parameters, or the user's own function.

    The parameters are judged against the grader's own rules by ValidateRequest and the
    CLI (customization_core/rft_request.py); here only the shape.
    """

    name: str | None = Field(default=None, min_length=1, max_length=64)
    params: dict[str, Any] = Field(default_factory=dict)
    lambda_arn: str | None = Field(default=None, max_length=512)

    @model_validator(mode="after")
    def _one_kind(self) -> Grader:
        if (self.name is None) == (self.lambda_arn is None):
            raise ValueError(not_allowed("grader", ALLOWED["grader"]))
        if self.lambda_arn is not None and self.params:
            raise ValueError(
                "grader.params are for a built-in grader (grader.name); your own function "
                "(grader.lambdaArn) reads what it needs from the records"
            )
        if self.lambda_arn is not None and not LAMBDA_ARN_PATTERN.fullmatch(self.lambda_arn):
            raise ValueError(not_allowed(self.lambda_arn, ALLOWED["grader"]))
        return self


class Manifest(_Strict):
    customization_type: CustomizationType
    base_model_id: str = Field(min_length=1, max_length=2048)
    custom_model_name: str | None = None
    hyper_parameters: dict[str, str | int | float] = Field(default_factory=dict)
    teacher_model_id: str | None = Field(default=None, min_length=1, max_length=2048)
    max_response_length: int | None = Field(default=None, ge=1, le=MAX_RESPONSE_LENGTH)
    grader: Grader | None = None
    training_data: str = DEFAULT_TRAINING_KEY
    validation_data: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    deploy: Deploy = Field(default_factory=Deploy)
    evaluate: Evaluate | None = None
    budget_usd: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _type_fields(self) -> Manifest:
        """Each type's own fields: a teacher for distillation, a grader for RFT, none elsewhere."""
        kind = self.customization_type
        distills = kind is CustomizationType.DISTILLATION
        if distills and self.teacher_model_id is None:
            raise ValueError(
                "DISTILLATION needs teacherModelId: "
                + ALLOWED["teacherModelId"].removeprefix("for DISTILLATION, ")
            )
        if not distills and (self.teacher_model_id or self.max_response_length):
            raise ValueError(
                f"only DISTILLATION takes teacherModelId and maxResponseLength, not {kind.value}"
            )
        reinforces = kind is CustomizationType.REINFORCEMENT_FINE_TUNING
        if reinforces and self.grader is None:
            raise ValueError(
                "REINFORCEMENT_FINE_TUNING needs a grader: "
                + ALLOWED["grader"].removeprefix("for REINFORCEMENT_FINE_TUNING, ")
            )
        if not reinforces and self.grader is not None:
            raise ValueError(f"only REINFORCEMENT_FINE_TUNING takes a grader, not {kind.value}")
        return self

    @model_validator(mode="after")
    def _evaluation_needs_a_deployment(self) -> Manifest:
        if self.evaluate is not None and self.deploy.mode == "none":
            raise ValueError(
                "evaluate needs a deployed custom model: set deploy.mode to provisioned or on-demand"
            )
        return self

    @field_validator("customization_type", mode="before")
    @classmethod
    def _type(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return CustomizationType.parse(value)
            except ValueError:
                raise ValueError(not_allowed(value, ALLOWED["customizationType"])) from None
        return value

    @field_validator("hyper_parameters", mode="before")
    @classmethod
    def _hyperparameter_values(cls, value: object) -> object:
        if isinstance(value, dict):
            for key, item in value.items():
                if isinstance(item, bool) or not isinstance(item, str | int | float):
                    raise ValueError(
                        not_allowed({key: item}, 'strings or numbers, e.g. {"epochCount": "2"}')
                    )
        return value

    @field_validator("custom_model_name")
    @classmethod
    def _model_name(cls, value: str | None) -> str | None:
        if value is not None and (len(value) > 63 or not MODEL_NAME_PATTERN.fullmatch(value)):
            raise ValueError(not_allowed(value, ALLOWED["customModelName"]))
        return value

    @field_validator("training_data", "validation_data")
    @classmethod
    def _in_folder(cls, value: str | None) -> str | None:
        """A data file must sit in the job's own folder (or below it), never outside."""
        if value is None:
            return None
        normal = posixpath.normpath(value)
        if not value or value.startswith("/") or normal.startswith("..") or normal == ".":
            raise ValueError(not_allowed(value, ALLOWED["trainingData"]))
        problem = key_problem(value)
        if problem:
            raise ValueError(problem)
        return normal

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        return _user_tags(value)


def _user_tags(value: dict[str, str]) -> dict[str, str]:
    """The manifest's ``tags``, as Bedrock's tag rule and the pipeline's own prefix allow."""
    if len(value) > MAX_USER_TAGS:
        raise ValueError(not_allowed(f"{len(value)} tags", ALLOWED["tags"]))
    for key, text in value.items():
        if not (0 < len(key) <= TAG_KEY_MAX and TAG_PATTERN.fullmatch(key)):
            raise ValueError(not_allowed(key, ALLOWED["tags"]))
        if not (len(text) <= TAG_VALUE_MAX and TAG_PATTERN.fullmatch(text)):
            raise ValueError(not_allowed(text, ALLOWED["tags"]))
        # AWS reserves the aws: prefix in any case; the pipeline's lineage tags use
        # its own prefix, which a user's tag must not spoof.
        if key.lower().startswith(("aws:", TAG_PREFIX.lower())):
            raise ValueError(
                not_allowed(key, f"keys that do not start with aws: or {TAG_PREFIX} (in any case)")
            )
    return value


class DeployManifest(_Strict):
    """The deploy-only form: deploy an existing custom model of this stack, train nothing.

    ``deployModel`` names it by the run that trained it or by its ARN; ValidateRequest
    finds the training run and copies what deploying and evaluating need from it.
    """

    deploy_model: str = Field(min_length=1, max_length=CUSTOM_MODEL_ARN_MAX)
    deploy: Deploy
    evaluate: Evaluate | None = None
    budget_usd: float | None = Field(default=None, gt=0)
    tags: dict[str, str] = Field(default_factory=dict)

    @field_validator("deploy_model")
    @classmethod
    def _model(cls, value: str) -> str:
        if not (RUN_ID_PATTERN.fullmatch(value) or CUSTOM_MODEL_ARN_PATTERN.fullmatch(value)):
            raise ValueError(not_allowed(value, ALLOWED[DEPLOY_MODEL]))
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        return _user_tags(value)

    @model_validator(mode="after")
    def _deploys(self) -> DeployManifest:
        if self.deploy.mode == "none":
            raise ValueError(
                f"a deploy-only manifest ({DEPLOY_MODEL}) only deploys, and its deploy.mode is "
                "none: set deploy.mode to provisioned or on-demand"
            )
        return self

    @property
    def run_id(self) -> str | None:
        """The training run ``deployModel`` names, or None when it names a model ARN."""
        return None if self.deploy_model.startswith("arn:") else self.deploy_model

    @property
    def model_arn(self) -> str | None:
        return self.deploy_model if self.deploy_model.startswith("arn:") else None

    def extra(self) -> dict[str, Any]:
        """deploy, evaluate, budgetUsd and tags as a training run records them (``run.extra``)."""
        return self.model_dump(
            mode="json", by_alias=True, include={"deploy", "evaluate", "budget_usd", "tags"}
        )


def key_problem(key: str) -> str | None:
    """``naming.s3_key_problem``'s sentence, with the key and its names quoted short.

    That sentence quotes them whole (``repr``): a 1,000-character key made one of
    over 2,000 characters. Each longer than QUOTE_MAX is put through ``quote``.
    """
    problem = s3_key_problem(key)
    if problem is None:
        return None
    for text in sorted({key, *key.split("/")}, key=len, reverse=True):
        if len(text) > QUOTE_MAX:
            problem = problem.replace(repr(text), quote(text))
    return problem


def requested_hyperparameters(
    manifest: Manifest,
    stage_defaults: Mapping[str, Mapping[str, str]],
    allowed: Collection[str] | None = None,
) -> dict[str, str | int | float]:
    """The stage's defaults for the model (``defaultHyperparameters``) under the manifest's own.

    ``allowed``: the hyperparameters the requested type takes (the catalog's). The stage's
    defaults are keyed by model, not by type: a fine-tuning default (epochCount) is not
    carried into a distillation run, which takes none, where the user could not undo it.
    """
    defaults = stage_defaults.get(manifest.base_model_id, {})
    if allowed is not None:
        defaults = {k: v for k, v in defaults.items() if k in allowed}
    return {**defaults, **manifest.hyper_parameters}


def data_keys(folder: str, manifest: Manifest) -> tuple[str, str]:
    """The S3 keys of the training and (default or given) validation file."""
    validation = manifest.validation_data or DEFAULT_VALIDATION_KEY
    return folder + manifest.training_data, folder + validation
