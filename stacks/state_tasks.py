"""The states every workflow path is made of: a handler task and its retries, the last resort.

Error names come from the run contract (customization_core/contract.py) and from the
exception classes themselves (``Class.__name__``), never from a copy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from customization_core.contract import CANCEL_RETRIES, Errors
from customization_core.faults import BedrockThrottledError, BedrockUnavailableError
from customization_core.registry import RunEndedError

RUN_ERRORS = [Errors.ALL]
# Retries of Bedrock's transient faults (seconds, attempts): about 10 minutes in all.
TRANSIENT_INTERVAL = 30
TRANSIENT_ATTEMPTS = 6
TRANSIENT_ERRORS = [BedrockThrottledError.__name__, BedrockUnavailableError.__name__]
# Lambda refuses an invocation past the function's reserved concurrency (two runs at once),
# and has its own transient faults: every state waits and asks again rather than failing
# the run (seconds, attempts: about 20 minutes).
LAMBDA_TRANSIENT = list(Errors.LAMBDA_TRANSIENT)
LAMBDA_THROTTLE_INTERVAL = 10
LAMBDA_THROTTLE_ATTEMPTS = 8
# RecordFailure and Notify: retried on any error, then the last resort (seconds).
LAST_RESORT_INTERVAL = 30
# Cancel: retried on any error with backoff, up to 30 minutes apart: about 5 hours in all.
CANCEL_INTERVAL = 60
CANCEL_MAX_DELAY_MINUTES = 30

TRANSIENT = sfn.RetryProps(
    errors=TRANSIENT_ERRORS,
    interval=cdk.Duration.seconds(TRANSIENT_INTERVAL),
    backoff_rate=2,
    max_attempts=TRANSIENT_ATTEMPTS,
    max_delay=cdk.Duration.minutes(5),
)


def vars_of(props: sfn.RetryProps) -> dict[str, Any]:
    """RetryProps as keyword arguments of add_retry."""
    return {
        "errors": props.errors,
        "interval": props.interval,
        "backoff_rate": props.backoff_rate,
        "max_attempts": props.max_attempts,
        "max_delay": props.max_delay,
    }


class Tasks:
    """Makes the states of a workflow in ``scope``: their names are its construct ids."""

    def __init__(
        self,
        scope: Construct,
        *,
        functions: Mapping[str, lambda_.IFunction],
        unended: sqs.IQueue,
    ) -> None:
        self.scope = scope
        self._functions = functions
        self._unended = unended

    def invoke(self, name: str, state: str, **options: Any) -> tasks.LambdaInvoke:
        # The function's own ARN as the resource: the task's output is the handler's
        # return value. A task that waits for a token needs the lambda:invoke integration.
        waits = "integration_pattern" in options
        invoked = tasks.LambdaInvoke(
            self.scope,
            state,
            lambda_function=self._functions[name],
            payload_response_only=not waits,
            **options,
        )
        # A handler that finds its run already ended (CANCELLED won a race) is not retried.
        invoked.add_retry(errors=[RunEndedError.__name__], max_attempts=0)
        invoked.add_retry(
            errors=LAMBDA_TRANSIENT,
            interval=cdk.Duration.seconds(LAMBDA_THROTTLE_INTERVAL),
            backoff_rate=2,
            max_attempts=LAMBDA_THROTTLE_ATTEMPTS,
            max_delay=cdk.Duration.minutes(5),
        )
        return invoked

    def last_resort(self) -> sfn.IChainable:
        """A run whose end cannot be recorded or told: a message for a person, and a loud failure.

        The execution fails (the ExecutionsFailed alarm), the UnendedRuns queue holds the run
        (its alarm), and the failed execution starts EndRun, which tries once more.
        """
        failed = sfn.Fail(
            self.scope,
            "RunEndUnrecorded",
            error="RunEndUnrecorded",
            cause="The run's end could not be recorded or notified; see the UnendedRuns queue.",
        )
        return self.keep_unended("KeepUnendedRun", failed)

    def keep_unended(self, id_: str, failed: sfn.Fail) -> sfn.IChainable:
        """Send the state and its execution to UnendedRuns, then fail (also if the send fails)."""
        send = tasks.SqsSendMessage(
            self.scope,
            id_,
            queue=self._unended,
            message_body=sfn.TaskInput.from_object(
                {
                    "executionArn": sfn.JsonPath.string_at("$$.Execution.Id"),
                    "state": sfn.JsonPath.entire_payload,
                }
            ),
            result_path=sfn.JsonPath.DISCARD,
        )
        send.add_catch(failed, errors=RUN_ERRORS)
        return send.next(failed)

    def until_last_attempt(
        self,
        name: str,
        state: str,
        payload: dict[str, Any],
        *,
        retry: sfn.RetryProps,
        last_resort: sfn.IChainable,
        ended_elsewhere: sfn.IChainable | None = None,
    ) -> tuple[tasks.LambdaInvoke, tasks.LambdaInvoke]:
        """A handler retried on any error, then once more in ``<state>LastAttempt``, then the last resort.

        The payload says which attempt it is ("last"): the last names what Bedrock will not
        end rather than failing again. The first's input passes to the last unchanged (the
        error that sent the run here included); the last resort keeps its own error apart.
        """

        def attempt(state_name: str, *, last: bool) -> tasks.LambdaInvoke:
            invoked = self.invoke(
                name,
                state_name,
                payload=sfn.TaskInput.from_object({**payload, "last": last}),
            )
            if ended_elsewhere is not None:
                invoked.add_catch(ended_elsewhere, errors=[RunEndedError.__name__])
            return invoked

        first = attempt(state, last=False)
        first.add_retry(**vars_of(retry))
        last = attempt(f"{state}LastAttempt", last=True)
        last.add_catch(last_resort, errors=RUN_ERRORS, result_path="$.last_resort_error")
        first.add_catch(last, errors=RUN_ERRORS, result_path=sfn.JsonPath.DISCARD)
        return first, last

    def end_run(self) -> sfn.IChainable:
        """EndRun: an execution that stopped, timed out or failed ends its run, until it lands.

        Started by the RunStopped rule with the status-change event. The cancel handler is
        idempotent; it is retried with backoff (about 5 hours), and on its last attempt names
        what Bedrock would not end. If even that fails, the event waits in UnendedRuns.
        """
        failed = sfn.Fail(
            self.scope, "RunNotEnded", error="RunNotEnded", cause="See the UnendedRuns queue."
        )
        ended = sfn.Succeed(self.scope, "RunEndRecorded")
        end, last_attempt = self.until_last_attempt(
            "cancel",
            "EndStoppedRun",
            {"event": sfn.JsonPath.entire_payload},
            retry=sfn.RetryProps(
                errors=RUN_ERRORS,
                interval=cdk.Duration.seconds(CANCEL_INTERVAL),
                backoff_rate=2,
                max_attempts=CANCEL_RETRIES,
                max_delay=cdk.Duration.minutes(CANCEL_MAX_DELAY_MINUTES),
            ),
            last_resort=self.keep_unended("KeepUnendedExecution", failed),
        )
        last_attempt.next(ended)
        return end.next(ended)
