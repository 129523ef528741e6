"""EstimateCost and RequestApproval: price the run, refuse it over its budget, hold it for a person.

The estimate is customization_core/estimate.py's; who may answer, and how the task token
is kept, customization_core/approval.py's.
"""

from __future__ import annotations

from typing import Any

from customization_core import approval, layout
from customization_core.catalog import Catalog, load_catalog
from customization_core.estimate import approval_reasons, budget_problem, estimate_of
from customization_core.naming import notice_subject
from customization_core.notify_step import estimate_text
from customization_core.registry import Registry
from customization_core.rejection import reject
from customization_core.run import PipelineConfig, Run, Status


def estimate_cost(
    run: Run, *, registry: Registry, config: PipelineConfig, catalog: Catalog | None = None
) -> dict[str, Any]:
    """Price the whole run; refuse it over its own budget; hold it for a person at a gate.

    The estimate (customization_core/estimate.py) has the training, the first month of
    storage, the deployment and the evaluation apart; budgetUsd and the approval
    threshold apply to its total. The deployment gates hold whatever the threshold.
    """
    deploy = run.extra.get("deploy")
    estimate = estimate_of(
        catalog or load_catalog(),
        model_id=run.model_id,
        kind=run.customization_type,
        training_cost=run.extra.get("training_cost"),
        deploy=deploy,
        evaluate=run.extra.get("evaluate"),
        request_tokens=run.request_tokens,
        trains=run.trains,
    )
    run.estimate = estimate.to_dict()
    run.cost_usd = estimate.total_usd
    budget = run.extra.get("budgetUsd")
    over = budget_problem(estimate, float(budget) if budget is not None else None)
    if over:
        return reject(
            run,
            registry,
            f"{over}: raise budgetUsd, or spend less (less data, fewer epochs, fewer "
            "model units, a shorter ttlHours). The estimate: " + "; ".join(estimate.lines()),
            cost_usd=run.cost_usd,
            estimate=run.estimate,
        )
    reasons = approval_reasons(
        estimate,
        deploy,
        threshold_usd=config.approval_threshold_usd,
        max_unapproved_units=config.max_unapproved_model_units,
        budget_usd=float(budget) if budget is not None else None,
    )
    run.needs_approval = bool(reasons)
    run.extra["approval_reasons"] = reasons
    # An unknown total removes the training-only figure ValidateDataset recorded.
    registry.annotate(
        run.run_id,
        remove=("cost_usd",) if run.cost_usd is None else (),
        cost_usd=run.cost_usd,
        estimate=run.estimate,
    )
    return run.state()


def request_approval(
    run: Run, task_token: str, *, registry: Registry, sns: Any, kms: Any, config: PipelineConfig
) -> None:
    """Store the task token, encrypted for this run, and tell people how to approve or reject.

    Only the ciphertext reaches the registry: AnswerApproval alone may decrypt it, for an
    answer someone other than the submitter uploaded (customization_core/approval.py).
    """
    if config.approval_key_arn is None:
        raise ValueError("The pipeline configuration names no approval key (approval_key_arn).")
    ciphertext = approval.encrypt_token(
        kms, key_arn=config.approval_key_arn, run_id=run.run_id, token=task_token
    )
    registry.update(run, Status.AWAITING_APPROVAL, approval_token_ciphertext=ciphertext)
    what = (
        "training"
        if run.trains
        else f"deploying the custom model of run {run.model_of_run}"
        if run.model_of_run
        else f"deploying the custom model {run.model_arn}"
    )
    why = "; ".join(run.extra.get("approval_reasons") or ()) or "the stage asks for it"
    sns.publish(
        TopicArn=config.topic_arn,
        Subject=notice_subject(f"Approval needed: {run.run_id}"),
        Message=(
            f"Run {run.run_id} needs approval before {what}: {why}.\n"
            f"Model: {run.model_id} ({run.customization_type})\n"
            f"{estimate_text(run)}\n"
            f"Dataset: {run.report_summary or 'not read (nothing is trained)'}\n"
            f"Submitted by: {run.submitted_by} (who may not answer it)\n\n"
            f"Approve:  bedrock-customize approve {run.run_id}\n"
            f"Reject:   bedrock-customize reject {run.run_id} --reason '...'\n"
            f"Or upload {layout.answer_key(run.run_id)} to the datasets bucket, "
            f'{{"answer": "approve"}} or {{"answer": "reject", "reason": "..."}}, tagged '
            f"{approval.ANSWERED_BY}=<your UserId from aws sts get-caller-identity>."
        ),
    )
