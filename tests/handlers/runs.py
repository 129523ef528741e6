"""The runs a handler test starts from: a manifest, its records, and a run validated or started."""

from __future__ import annotations

import json
from typing import Any

from moto.bedrock.models import bedrock_backends

from customization_core import dataset_step, job_steps
from customization_core.run import PipelineConfig, Run
from tests.handlers.conftest import ACCOUNT, MODEL, REGION, Aws

EXECUTION = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:workflow:e1"
MANIFEST = {
    "customizationType": "FINE_TUNING",
    "baseModelId": MODEL,
    "hyperParameters": {"epochCount": 2},
}


def execution_input(run: Run) -> dict[str, str]:
    """The part of the execution input (the rule's) that names ``run``'s job.json version."""
    return {"bucket": run.source.bucket, "key": run.source.key, "versionId": run.source.version_id}


def _records(n: int, *, bad_line: int | None = None) -> str:
    lines = [
        json.dumps({"prompt": f"Summarize conversation {i}.", "completion": f"Summary {i}."})
        for i in range(n)
    ]
    if bad_line is not None:
        lines[bad_line - 1] = '{"prompt": "no completion"}'
    return "\n".join(lines) + "\n"


def _begin(
    aws: Aws, manifest: dict[str, Any] | bytes = MANIFEST, name: str = "summaries", **files: str
) -> Run:
    files = files or {"train_jsonl": _records(20)}
    source = aws.start(name, manifest, **files)
    state = aws.validate(source, EXECUTION)
    return Run.model_validate(state)


def _validated(aws: Aws, config: PipelineConfig | None = None, **kwargs: Any) -> Run:
    run = _begin(aws, **kwargs)
    return Run.model_validate(
        dataset_step.validate_data(
            run,
            s3=aws.s3,
            registry=aws.registry,
            config=config or aws.config,
        )
    )


def _started(aws: Aws) -> Run:
    run = _validated(aws)
    return Run.model_validate(
        job_steps.start_job(run, bedrock=aws.bedrock, registry=aws.registry, config=aws.config)
    )


def _job(aws: Aws, run: Run) -> Any:
    assert run.job_name is not None
    return bedrock_backends[ACCOUNT][REGION].model_customization_jobs[run.job_name]
