"""The run contract: every value the handlers and the state-machine definition share.

The definition (stacks/definition.py, stacks/state_tasks.py) compares fields of the run
document with these values and matches errors by these names; the handlers
(customization_core's *_step.py, *_steps.py and deployment modules) set the fields and raise
the errors. Neither side spells a shared string itself, so a rename here changes both.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Final


class Status(StrEnum):
    """A run's status in the registry; the last four are terminal.

    DEPLOYED: the custom model serves from a deployment the workflow will delete
    at its end time (``deploy.ttlHours``); the run then ends SUCCEEDED.
    """

    RECEIVED = "RECEIVED"
    VALIDATING = "VALIDATING"
    AWAITING_APPROVAL = "AWAITING_APPROVAL"
    QUEUED = "QUEUED"
    TRAINING = "TRAINING"
    DEPLOYING = "DEPLOYING"
    EVALUATING = "EVALUATING"
    DEPLOYED = "DEPLOYED"
    SUCCEEDED = "SUCCEEDED"
    REJECTED = "REJECTED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL


TERMINAL: Final = frozenset({Status.SUCCEEDED, Status.REJECTED, Status.FAILED, Status.CANCELLED})
_ENDS: Final = frozenset({Status.FAILED, Status.CANCELLED})

# Which status may follow which (the registry refuses any other, by conditional update).
# A status may follow itself: a handler records progress without a new status. Nothing
# follows a terminal status; FAILED and CANCELLED may follow any other.
# DEPLOYING may follow VALIDATING and AWAITING_APPROVAL: a run that deploys an existing
# custom model (``trains`` False) trains nothing (customization_core/deploy_existing.py).
TRANSITIONS: Final[dict[Status, frozenset[Status]]] = {
    Status.RECEIVED: frozenset({Status.VALIDATING, Status.REJECTED}) | _ENDS,
    Status.VALIDATING: frozenset(
        {
            Status.VALIDATING,
            Status.AWAITING_APPROVAL,
            Status.QUEUED,
            Status.TRAINING,
            Status.DEPLOYING,
        }
    )
    | {Status.REJECTED}
    | _ENDS,
    # Itself: a retried RequestApproval stores its new task token.
    Status.AWAITING_APPROVAL: frozenset(
        {
            Status.AWAITING_APPROVAL,
            Status.QUEUED,
            Status.TRAINING,
            Status.DEPLOYING,
            Status.REJECTED,
        }
    )
    | _ENDS,
    Status.QUEUED: frozenset({Status.QUEUED, Status.TRAINING}) | _ENDS,
    Status.TRAINING: frozenset({Status.TRAINING, Status.DEPLOYING, Status.SUCCEEDED}) | _ENDS,
    Status.DEPLOYING: frozenset(
        {Status.DEPLOYING, Status.EVALUATING, Status.DEPLOYED, Status.SUCCEEDED}
    )
    | _ENDS,
    Status.EVALUATING: frozenset({Status.EVALUATING, Status.DEPLOYED, Status.SUCCEEDED}) | _ENDS,
    Status.DEPLOYED: frozenset({Status.DEPLOYED, Status.SUCCEEDED}) | _ENDS,
    **{status: frozenset() for status in TERMINAL},
}


def sources_of(target: Status) -> list[Status]:
    """The statuses a run may be in to move to ``target``, in declaration order."""
    return [source for source in Status if target in TRANSITIONS[source]]


# How often RecordFailure and Notify are retried on any error before the last resort (a
# message in the UnendedRuns queue, and the execution failing), and Cancel before its last
# attempt. The last attempt is a state of its own, told so in its input ("last": true):
# it names what Bedrock will not end instead of raising again.
LAST_RESORT_RETRIES: Final = 4
CANCEL_RETRIES: Final = 10


TIMESTAMP: Final = "%Y-%m-%dT%H:%M:%SZ"  # what a Wait state's TimestampPath accepts

# Where a Catch (its ResultPath) and a failure Pass state put ``{"Error", "Cause"}``
# beside the run document; RecordFailure takes it from there.
ERROR_FIELD: Final = "error"


def stamp(moment: datetime) -> str:
    """A moment as the run document's timestamps hold it (``wait_until``, a deployment's times)."""
    return moment.astimezone(UTC).strftime(TIMESTAMP)


def parse_stamp(text: str) -> datetime:
    return datetime.strptime(text, TIMESTAMP).replace(tzinfo=UTC)


class JobStatus(StrEnum):
    """``job_status``: one CheckJob poll's answer (Bedrock's own statuses folded to three)."""

    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    FAILED = "Failed"


class DeploymentStatus(StrEnum):
    """``deployment.status``: where a run's deployment is in its life."""

    WAITING_FOR_MODEL = "WAITING_FOR_MODEL"  # planned: the custom model is not Active yet
    MODEL_ACTIVE = "MODEL_ACTIVE"  # the model is Active: StartDeployment creates it next
    REQUESTED = "REQUESTED"  # the create was sent (or is about to be): it may exist by name
    CREATING = "CREATING"
    ACTIVE = "ACTIVE"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"
    EXPIRED = "EXPIRED"  # deleted at its end time
    DELETED = "DELETED"  # deleted for any other reason (lost to its base, failure, cancel)
    DELETE_FAILED = "DELETE_FAILED"  # still billed: an operator must delete it

    @property
    def gone(self) -> bool:
        return self in (DeploymentStatus.EXPIRED, DeploymentStatus.DELETED)


class NextAction(StrEnum):
    """``next_action``: what WatchDeployment decided."""

    WAIT = "wait"
    TEARDOWN = "teardown"
    KEEP = "keep"


class Errors:
    """The error names the definition's Retry and Catch rules match.

    The exception classes live where they are raised (customization_core/faults.py,
    job_steps.py, media.py, registry.py, snapshot.py); the definition reads their names
    from the classes (``Class.__name__``), never from a copy. These are the names no
    handler class has.
    """

    # Raised by Pass states of the definition, not by a handler.
    JOB_FAILED: Final = "JobFailed"
    DEPLOYMENT_FAILED: Final = "DeploymentFailed"
    # Step Functions' own names. Source:
    # https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
    ALL: Final = "States.ALL"
    TIMEOUT: Final = "States.Timeout"
    # Lambda's transient service errors, as the Lambda integration names them. Source:
    # https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html
    LAMBDA_TRANSIENT: Final = (
        "Lambda.TooManyRequestsException",
        "Lambda.ServiceException",
        "Lambda.AWSLambdaException",
        "Lambda.SdkClientException",
    )
