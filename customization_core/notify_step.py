"""Notify: tell people how the run ended, once (the registry records that it did)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from customization_core.catalog import load_catalog
from customization_core.deploy_existing import deploy_command
from customization_core.deployment_end import may_be_alive
from customization_core.estimate import Estimate, money
from customization_core.naming import notice_subject
from customization_core.registry import Registry
from customization_core.report_publish import LINK_SECONDS, refresh_page, report_link
from customization_core.run import PipelineConfig, Run, Status

LOGGER = logging.getLogger(__name__)


def notify(
    run: Run,
    *,
    sns: Any,
    config: PipelineConfig,
    registry: Registry,
    s3: Any = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Tell people how the run ended, once: a retry after the publish went out does nothing.

    (A crash between the publish and its record sends it twice: at least once, not at
    most once.) With ``s3``, the notice links to the run's report page (a presigned URL,
    signed here with no call) and the page is written after the notice went out.
    """
    if (registry.get(run.run_id) or {}).get("notified_at"):
        return run.state()
    lines = [
        f"Run: {run.run_id}",
        f"Status: {run.status.value}",
        f"Manifest: s3://{run.source.bucket}/{run.source.key} (version {run.source.version_id})",
    ]
    if run.reason:
        lines.append(f"Reason: {run.reason}")
    if run.model_id:
        lines.append(f"Base model: {run.model_id} ({run.customization_type})")
    if run.report_summary and run.report_summary not in (run.reason or ""):
        lines.append(f"Dataset: {run.report_summary}")
    if run.model_of_run:
        lines.append(f"Deploys the custom model trained by run {run.model_of_run}")
    if run.teacher:
        lines.append(f"Teacher: {run.teacher['model_id']} (distillation)")
    if run.grader:
        named = run.grader.get("name") or run.grader.get("lambda_arn")
        lines.append(f"Grader: {named} ({run.grader['kind']})")
    if run.tokens and run.trains:
        # As the report counts them: the catalog's default when the manifest gives none.
        epochs = int(
            run.effective_hyperparameters.get("epochCount")
            or run.hyperparameters.get("epochCount")
            or 1
        )
        # Distillation's student trains on the teacher's answers too (customization_core/cost.py).
        tokens = int((run.extra.get("training_cost") or {}).get("training_tokens") or run.tokens)
        lines.append(
            f"Training tokens: {tokens:,} per epoch x {epochs} epoch(s) = {tokens * epochs:,} "
            "billed (counted by the validator, which errs high)"
        )
    if run.estimate or run.tokens:
        lines.append(estimate_text(run))
    if run.job_arn:
        lines.append(f"Bedrock job: {run.job_arn}")
    if run.model_arn:
        lines.append(f"Custom model: {run.model_arn}")
    for name, value in sorted(run.metrics.items()):
        if name == "output_files":
            lines.append(f"Job outputs: {len(value)} file(s) under runs/{run.run_id}/output/")
        elif name == "diagnosis":
            lines.append(f"Diagnosis: {value}")
        elif name not in ("output_files_truncated", "best_epoch_count"):
            lines.append(f"{name}: {value}")
    if run.evaluation and run.evaluation.get("summary"):
        lines.append(
            f"Evaluation: {run.evaluation['summary']} (report: {run.evaluation['report']})"
        )
    deployment = run.deployment or {}
    if deployment.get("arn"):
        state = deployment.get("status", "")
        until = f", deleted at {deployment['deleted_at']}" if deployment.get("deleted_at") else ""
        lines.append(f"Deployment: {deployment['arn']} ({deployment['mode']}, {state}{until})")
    if run.status is Status.SUCCEEDED and run.model_arn and not may_be_alive(run.deployment):
        # Nothing serves it now: the command that deploys it in a run of its own.
        lines.append(f"Deploy it later: {deploy_command(run.state(), load_catalog())}")
    link = _link(s3, config.artifacts_bucket, run.run_id) if s3 is not None else None
    if link is not None:
        lines.append(
            f"Report: {link} (works for {LINK_SECONDS // 60} minutes; later: "
            f"bedrock-customize report {run.run_id})"
        )
    sns.publish(
        TopicArn=config.topic_arn,
        Subject=notice_subject(f"{run.status.value}: {run.run_id}"),
        Message="\n".join(lines),
    )
    registry.mark_notified(run)
    if s3 is not None:
        # After the notice: a page that is slow to draw, or cannot be, never holds it up.
        # (Until it is written the link shows the page RecordResult or Evaluate wrote.)
        refresh_page(run.run_id, s3=s3, registry=registry, config=config, now=now)
    return run.state()


def _link(s3: Any, bucket: str, run_id: str) -> str | None:
    """The notice's link to the page; None (no line) when it cannot be signed."""
    try:
        return report_link(s3, bucket, run_id)
    except Exception:  # a link is a convenience: the notice goes out without it
        LOGGER.warning("No link to the report page of %s", run_id, exc_info=True)
        return None


def estimate_text(run: Run) -> str:
    """The run's estimate in parts and in total, as check and cost print it."""
    if run.estimate:
        lines = Estimate.from_dict(run.estimate).lines()
        return "Estimated cost, before it was spent:\n" + "\n".join(f"  {line}" for line in lines)
    return f"Estimated cost: {money(run.cost_usd)} (training only)"
