"""The synthesized app on an in-process AWS (moto), with the real handlers: what a user does.

``LocalCloud`` reads the stack template from the cloud assembly, creates its
resources (emulator/provision.py), judges every handler's call by the
synthesized IAM (emulator/iam/), and delivers S3 Object Created events through
the EventBridge rules of the template, as EventBridge would. With ``watch``
(``make emulator``), it also turns changes other clients make into events: new
object versions and stopped executions. See emulator/patches.py for what it
changes in moto.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from emulator import patches
from emulator.events import envelope, matches, object_created, transform
from emulator.iam import enforce, lambda_role, policies
from emulator.iam.lookup import AccountLookup
from emulator.lambda_service import HANDLER_LOCK, clear_handler_environment
from emulator.provision import StackResources
from emulator.state import ACCOUNT, BEDROCK, REGION

MOTO_CONFIG = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
}


@dataclass
class LocalCloud(StackResources):
    # What has already been turned into events: (key, version id), and the executions whose
    # end (ABORTED, FAILED, TIMED_OUT) was sent.
    delivered: set[tuple[str, str]] = field(default_factory=set)
    aborted: set[str] = field(default_factory=set)
    lock: threading.RLock = field(default_factory=threading.RLock)
    enforcer: enforce.Enforcer | None = None  # the synthesized IAM, once provisioned

    # Construction ------------------------------------------------------------------

    @classmethod
    @contextmanager
    def start(
        cls, assembly: Path, *, quiet: bool = False, watch: bool = False
    ) -> Iterator[LocalCloud]:
        """The stack of ``assembly`` (a cdk.out folder) running locally until the block ends.

        ``watch``: also deliver the events of changes other clients make (see ``watch``).
        """
        manifest = json.loads((assembly / "manifest.json").read_text())
        stacks = [
            (name, a)
            for name, a in manifest["artifacts"].items()
            if a.get("type") == "aws:cloudformation:stack"
        ]
        if len(stacks) != 1:
            raise ValueError(
                f"{assembly} holds {len(stacks)} stacks; the emulator runs exactly one"
            )
        ((stack_name, artifact),) = stacks
        template = json.loads((assembly / artifact["properties"]["templateFile"]).read_text())
        patches.install()
        BEDROCK.reset()
        # Fake credentials for the in-process AWS only: nothing here may reach a real account.
        fake = {
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_SESSION_TOKEN": "local",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
        }
        saved = {name: os.environ.get(name) for name in fake}
        os.environ.update(fake)
        try:
            with mock_aws(config=MOTO_CONFIG):  # type: ignore[call-overload]
                cloud = cls(template, quiet=quiet, name=stack_name)
                cloud.provision()
                # Every call a handler makes is judged by the synthesized IAM from here on.
                cloud.enforcer = enforce.Enforcer(
                    policies.read(
                        template,
                        cloud.resolve,
                        cloud.arns,
                        account=_account_of(artifact.get("environment", "")),
                        emulated=ACCOUNT,
                    ),
                    REGION,
                    ACCOUNT,
                    AccountLookup(ACCOUNT, REGION),
                )
                enforce.activate(cloud.enforcer)
                lambda_role.check(template, cloud.resolve, cloud.enforcer)
                stop = threading.Event()
                watcher = threading.Thread(
                    target=cloud.watch, args=(stop,), name="emulator-events", daemon=True
                )
                if watch:
                    watcher.start()
                try:
                    yield cloud
                finally:
                    stop.set()
                    if watch:
                        watcher.join(timeout=5)
        finally:
            enforce.activate(None)
            clear_handler_environment()
            with HANDLER_LOCK:
                for name, value in saved.items():
                    if value is None:
                        os.environ.pop(name, None)
                    else:
                        os.environ[name] = value

    # What a user does -------------------------------------------------------------

    def upload(self, key: str, body: bytes) -> dict[str, Any]:
        """Put an object into the datasets bucket and deliver its Object Created event."""
        bucket = self.output("DatasetsBucketName")
        with self.lock:
            put = self.client("s3").put_object(Bucket=bucket, Key=key, Body=body)
            self.delivered.add((key, put["VersionId"]))
        event = object_created(bucket, key, len(body), put["ETag"], put["VersionId"])
        return {"event": event, "executions": self.deliver(event)}

    def watch(self, stop: threading.Event, interval: float = 0.1) -> None:
        """Until ``stop``: turn changes made by other clients into the events AWS would send.

        A new object version in the datasets bucket becomes an Object Created event (S3 to
        EventBridge), a stopped execution its ABORTED status change (Step Functions to
        EventBridge). This is what lets the CLI, talking to the served emulator, start and
        cancel runs exactly as it does in AWS.
        """
        session = boto3.Session(region_name=REGION)  # its own: sessions are not thread-safe
        s3, sfn = session.client("s3"), session.client("stepfunctions")
        bucket = self.output("DatasetsBucketName")
        machines = [
            self.arns[lid] for lid, _ in self._resources("AWS::StepFunctions::StateMachine")
        ]
        while not stop.wait(interval):
            try:
                for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
                    for version in page.get("Versions", []):
                        seen = (version["Key"], version["VersionId"])
                        with self.lock:
                            if seen in self.delivered:
                                continue
                            self.delivered.add(seen)
                        self.deliver(
                            object_created(
                                bucket,
                                version["Key"],
                                version["Size"],
                                version["ETag"],
                                version["VersionId"],
                            )
                        )
                for machine in machines:
                    for status in ("ABORTED", "FAILED", "TIMED_OUT"):
                        ended = sfn.list_executions(stateMachineArn=machine, statusFilter=status)
                        for execution in ended["executions"]:
                            self._deliver_status(execution["executionArn"], status)
            except Exception as error:  # the watcher must outlive one bad poll
                print(f"emulator: event delivery failed: {error!r}", flush=True)

    def deliver(self, event: dict[str, Any]) -> list[str]:
        """Send an event to every rule of the template it matches, as EventBridge does."""
        started = []
        for _, rule in self._resources("AWS::Events::Rule"):
            if "EventPattern" not in rule:
                continue  # a schedule (the sweep): the emulator does not fire schedules
            if not matches(self.resolve(rule["EventPattern"]), event):
                continue
            for target in rule["Targets"]:
                arn = self.resolve(target["Arn"])
                payload = transform(target.get("InputTransformer"), event)
                if ":states:" in arn:
                    started.append(
                        self.client("stepfunctions").start_execution(
                            stateMachineArn=arn, name=event["id"], input=json.dumps(payload)
                        )["executionArn"]
                    )
                elif ":lambda:" in arn:
                    self.client("lambda").invoke(
                        FunctionName=arn.rsplit(":", 1)[1], Payload=json.dumps(payload).encode()
                    )
        return started

    def stop(self, execution_arn: str) -> None:
        """Stop an execution and send its ABORTED status change, as Step Functions does.

        Returns once what the status change started (EndRun) has ended too.
        """
        with self.lock:
            self.client("stepfunctions").stop_execution(
                executionArn=execution_arn, cause="Stopped by request"
            )
        self._deliver_status(execution_arn, "ABORTED")

    def _deliver_status(self, execution_arn: str, status: str) -> None:
        """Send an execution's status change once, and wait for the executions it starts."""
        with self.lock:
            if execution_arn in self.aborted:
                return
            self.aborted.add(execution_arn)
        described = self.client("stepfunctions").describe_execution(executionArn=execution_arn)
        started = self.deliver(
            envelope(
                "aws.states",
                "Step Functions Execution Status Change",
                execution_arn,
                {
                    "executionArn": execution_arn,
                    "stateMachineArn": described["stateMachineArn"],
                    "status": status,
                    "input": described["input"],
                },
            )
        )
        for execution in started:
            self._wait_for(execution, 120)

    def wait(self, execution_arn: str, timeout: float = 60) -> dict[str, Any]:
        """The execution once it has ended (or raises TimeoutError).

        An execution that failed or timed out sends its status change, as Step Functions
        does: what it starts (EndRun) has ended too when this returns.
        """
        described = self._wait_for(execution_arn, timeout)
        if described["status"] in ("FAILED", "TIMED_OUT", "ABORTED"):
            self._deliver_status(execution_arn, described["status"])
        return described

    def _wait_for(self, execution_arn: str, timeout: float) -> dict[str, Any]:
        sfn = self.client("stepfunctions")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            described: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
            if described["status"] != "RUNNING":
                return described
            time.sleep(0.05)
        raise TimeoutError(f"{execution_arn} still running after {timeout} s")

    def states_entered(self, execution_arn: str) -> list[str]:
        events = self.client("stepfunctions").get_execution_history(
            executionArn=execution_arn, maxResults=1000
        )["events"]
        return [
            e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e
        ]

    def run_id_of(self, execution_arn: str) -> str | None:
        """The run an execution handles, from the first task that reported it (None: not yet)."""
        history = self.client("stepfunctions").get_execution_history(
            executionArn=execution_arn, maxResults=1000
        )
        for event in history["events"]:
            details = event.get("lambdaFunctionSucceededEventDetails") or event.get(
                "taskSucceededEventDetails"
            )
            if details and '"run_id"' in details.get("output", ""):
                return str(json.loads(details["output"])["run_id"])
        return None

    def registry_item(self, run_id: str) -> dict[str, Any] | None:
        table = self.output("RegistryTableName")
        with HANDLER_LOCK:
            resource = self.clients.get("dynamodb-resource") or boto3.resource(
                "dynamodb", region_name=REGION
            )
            self.clients["dynamodb-resource"] = resource
        item = resource.Table(table).get_item(Key={"run_id": run_id}).get("Item")
        return dict(item) if item else None

    def notifications(self) -> list[dict[str, str]]:
        """Messages published to the topic since the last call (subject and text)."""
        sqs = self.client("sqs")
        found: list[dict[str, str]] = []
        while True:
            batch = sqs.receive_message(QueueUrl=self.inbox, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not batch:
                return found
            for message in batch:
                body = json.loads(message["Body"])
                found.append(
                    {"subject": body.get("Subject", ""), "message": body.get("Message", "")}
                )
                sqs.delete_message(QueueUrl=self.inbox, ReceiptHandle=message["ReceiptHandle"])


def _account_of(environment: str) -> str | None:
    """The account a stack was synthesized for (``aws://111122223333/us-east-1``), if any."""
    account = environment.removeprefix("aws://").split("/", 1)[0]
    return account if account.isdigit() else None
