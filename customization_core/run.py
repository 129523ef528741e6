"""A run: what the workflow carries from state to state, and the settings it runs with."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from customization_core.contract import DeploymentStatus, JobStatus, NextAction, Status

__all__ = [
    "DeploymentStatus",
    "JobStatus",
    "NextAction",
    "PipelineConfig",
    "Run",
    "Source",
    "Status",
]


class PipelineConfig(BaseModel):
    """Deployment settings the handlers need (one JSON document, set by the stack)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    artifacts_bucket: str
    topic_arn: str
    bedrock_role_arn: str
    model_key_arn: str
    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]
    # The stack's name: the value of the owner tag (naming.OWNER_TAG) on every job, custom
    # model and deployment the pipeline creates, which the handlers' policies require.
    stack_name: str
    approval_threshold_usd: float | None = None
    allowed_models: tuple[str, ...] | None = None
    default_hyperparameters: dict[str, dict[str, str]] = Field(default_factory=dict)
    training_prices_usd: dict[str, float] = Field(default_factory=dict)
    # How often the workflow polls (seconds), and the longest a deployment may live (hours).
    poll_interval_seconds: int = 300
    max_deployment_ttl_hours: float = 72
    # Hours without an invocation after which a deployment is deleted early (the stage's
    # default; deploy.idleHours overrides it), and the most model units a run may deploy
    # without a person's approval.
    idle_hours: float = 4
    max_unapproved_model_units: int = 1
    # The workflow's time limit (hours): a run still open this long after its last change
    # has no execution left to end it (the sweep flags its deployment).
    workflow_limit_hours: float = 240
    # A base model Bedrock offers for customization that the catalog does not know:
    # "reject" (its limits are unknown) or "warn" (accepted; per-record limits skipped).
    unknown_models: Literal["reject", "warn"] = "reject"
    # The approval key (RequestApproval encrypts the task token with it, AnswerApproval
    # decrypts it), and the stage's approvers: IAM role or user ARN patterns, or None for
    # anyone but the submitter (customization_core/approval.py).
    approval_key_arn: str | None = None
    approvers: tuple[str, ...] | None = None
    # RFT: the stack's built-in grader function (unqualified ARN; None: the stage ships
    # none), and the names (or prefixes ending in *) of the users' own grader functions
    # Bedrock may invoke besides those tagged for this stack (type_settings.py).
    grader_function_arn: str | None = None
    grader_functions: tuple[str, ...] = ()
    # What the data risk scan's findings do, by kind: 'warn' or 'block' (stage setting dataRisk).
    data_risk: dict[str, str] = Field(default_factory=dict)


class Source(BaseModel):
    """The ``job.json`` object version that started the run.

    Validated by its field names (the run document), or by the names of the trigger rule's
    input, which is the execution's input: {"bucket", "key", "versionId", "etag", "time"}
    (stacks/workflow.py).
    """

    model_config = ConfigDict(frozen=True, validate_by_name=True, validate_by_alias=True)

    bucket: str
    key: str
    version_id: str = Field(alias="versionId")
    etag: str | None = None
    event_time: str | None = Field(default=None, alias="time")


class Run(BaseModel):
    """The state document the workflow passes between its tasks."""

    model_config = ConfigDict(extra="forbid")

    run_id: str
    source: Source
    execution_arn: str
    status: Status = Status.RECEIVED
    reason: str | None = None
    duplicate: bool = False  # another execution already handles this object version
    # The aws:userid that uploaded the manifest (its submitted-by tag): not its approver.
    submitted_by: str | None = None
    manifest_sha256: str | None = None
    # What Bedrock said of the base model in the stack's Region (customization_core/live.py),
    # and the request's warnings (a Legacy model, a model missing from AWS's current tables).
    model_check: dict[str, Any] | None = None
    warnings: list[str] = Field(default_factory=list)
    model_id: str | None = None
    customization_type: str | None = None
    hyperparameters: dict[str, str] = Field(default_factory=dict)  # as given, sent to Bedrock
    # Every hyperparameter as the job runs it: the given ones, and the catalog's defaults
    # for the rest. What the estimate, the report and the notification count (epochs).
    effective_hyperparameters: dict[str, str] = Field(default_factory=dict)
    custom_model_name: str | None = None
    # Distillation's teacher and RFT's grader as ValidateRequest resolved them
    # (customization_core/type_settings.py, grader_choice.py), and the job's
    # customizationConfig built from them: what StartJob sends.
    teacher: dict[str, Any] | None = None
    grader: dict[str, Any] | None = None
    customization_config: dict[str, Any] | None = None
    job_name: str | None = None
    training: dict[str, str] | None = None  # {"key", "version_id"}
    validation: dict[str, str] | None = None
    # The run's own copy of the validated versions (customization_core/snapshot.py):
    # all Bedrock is given to train on.
    snapshot: dict[str, Any] | None = None
    report_key: str | None = None
    report_summary: str | None = None
    tokens: int | None = None
    # The mean tokens of one training record: an evaluation request's size in the estimate.
    request_tokens: int | None = None
    # The total of the estimate (customization_core/estimate.py; None: a price is unknown)
    # and the estimate itself, in parts.
    cost_usd: float | None = None
    estimate: dict[str, Any] | None = None
    # False for a run that deploys an existing custom model (``bedrock-customize deploy``):
    # it trains nothing; ``model_of_run`` is the run that trained the model.
    trains: bool = True
    model_of_run: str | None = None
    needs_approval: bool = False
    job_arn: str | None = None
    # When the job should finish, estimated once by StartJob (customization_core/training_eta.py).
    training_eta: dict[str, str] | None = None
    job_status: JobStatus | None = None
    model_arn: str | None = None
    metrics: dict[str, Any] = Field(default_factory=dict)
    extra: dict[str, Any] = Field(
        default_factory=dict
    )  # deploy/evaluate/budget, recorded for later stages
    # After training (customization_core/deployment*.py): the deployment and its end of life,
    # the evaluation's progress and verdict, and what the workflow does next.
    deployment: dict[str, Any] | None = None
    evaluation: dict[str, Any] | None = None
    verdict: str | None = None
    wait_until: str | None = None  # a Wait state's timestamp (UTC, ISO 8601 with Z)
    next_action: NextAction | None = None

    def state(self) -> dict[str, Any]:
        """The run as the state machine carries it (JSON-ready)."""
        return self.model_dump(mode="json")
