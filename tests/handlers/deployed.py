"""Runs taken past training for the handler tests: trained, deployed, evaluated, watched."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

import boto3
from botocore.config import Config

from customization_core import (
    dataset_step,
    deployment_watch,
    deployments,
    evaluate_step,
    job_steps,
)
from customization_core.run import Run, Status
from tests.handlers.conftest import Aws
from tests.handlers.runs import EXECUTION, MANIFEST, _records

DEPLOY = {"mode": "provisioned", "modelUnits": 1, "ttlHours": 2}
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def _trained(aws: Aws, files: dict[str, str] | None = None, **manifest: Any) -> Run:
    """A run through RecordResult, with the manifest's deploy and evaluate blocks.

    ``files``: the dataset (``train_jsonl``, ``validation_jsonl``), summaries by default.
    """
    source = aws.start(
        "summaries",
        {**MANIFEST, **manifest},
        **(files or {"train_jsonl": _records(20), "validation_jsonl": _records(6)}),
    )
    run = Run.model_validate(aws.validate(source, EXECUTION))
    assert run.status is Status.VALIDATING, run.reason
    run = Run.model_validate(
        dataset_step.validate_data(
            run,
            s3=aws.s3,
            registry=aws.registry,
            config=aws.config,
        )
    )
    assert run.status is Status.VALIDATING, run.reason
    run = Run.model_validate(
        job_steps.start_job(run, bedrock=aws.bedrock, registry=aws.registry, config=aws.config)
    )
    return Run.model_validate(
        job_steps.record_result(
            run,
            bedrock=aws.bedrock,
            s3=aws.s3,
            registry=aws.registry,
            config=aws.config,
        )
    )


def _deployed(aws: Aws, deploy: dict[str, Any] = DEPLOY, **manifest: Any) -> Run:
    run = _trained(aws, deploy=deploy, **manifest)
    run = Run.model_validate(deployments.check_model(run, bedrock=aws.bedrock, config=aws.config))
    run = Run.model_validate(
        deployments.start_deployment(
            run, bedrock=aws.bedrock, registry=aws.registry, config=aws.config
        )
    )
    while run.deployment and run.deployment["status"] == "CREATING":
        run = Run.model_validate(
            deployments.check_deployment(run, bedrock=aws.bedrock, config=aws.config)
        )
    return run


def _runtime(calls: list[tuple[str, str]] | None = None) -> Any:
    """A Bedrock Runtime client; ``calls`` collects (operation, modelId) of each request."""
    # No SDK retries: the state machine's retry is what is tested.
    runtime = boto3.client(
        "bedrock-runtime", region_name="us-east-1", config=Config(retries={"total_max_attempts": 1})
    )
    if calls is not None:

        def record(params: dict[str, Any], model: Any, **_: Any) -> None:
            calls.append((model.name, unquote(str(params["url_path"]).split("/")[2])))

        runtime.meta.events.register("before-call.bedrock-runtime", record)
    return runtime


def _evaluate(
    aws: Aws,
    run: Run,
    remaining_ms: int = 900_000,
    *,
    region: str = "us-east-1",
    calls: list[tuple[str, str]] | None = None,
) -> Run:
    return Run.model_validate(
        evaluate_step.evaluate(
            run,
            s3=aws.s3,
            runtime=_runtime(calls),
            registry=aws.registry,
            config=aws.config,
            remaining_ms=lambda: remaining_ms,
            region=region,
        )
    )


def _watch(aws: Aws, run: Run, now: datetime, cloudwatch: Any = None) -> Run:
    return Run.model_validate(
        deployment_watch.watch(
            run,
            registry=aws.registry,
            sns=aws.sns,
            cloudwatch=cloudwatch or boto3.client("cloudwatch", region_name="us-east-1"),
            config=aws.config,
            now=now,
        )
    )


def _conversations(n: int) -> str:
    """Records in Bedrock's conversation schema (Llama 3.2 / 3.3 and Nova fine-tuning)."""
    lines = [
        json.dumps(
            {
                "schemaVersion": "bedrock-conversation-2024",
                "system": [{"text": "You summarize conversations."}],
                "messages": [
                    {"role": "user", "content": [{"text": f"Summarize conversation {i}."}]},
                    {"role": "assistant", "content": [{"text": f"Summary {i}."}]},
                ],
            }
        )
        for i in range(n)
    ]
    return "\n".join(lines) + "\n"
