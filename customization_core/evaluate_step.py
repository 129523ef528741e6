"""Evaluate: ask the base model and the deployed custom model the same held-out prompts.

Samples are the first ``evaluate.samples`` records of the validation file (or
the last of the training file when there is none), read from the pinned
object versions; for continued pre-training, the manifest's
``evaluate.prompts``. Answers are kept in ``runs/<run-id>/evaluation-partial.json``
as they come, so an invocation that runs out of time (or a throttled one,
retried by the workflow) continues where it stopped. The scored document
goes to ``runs/<run-id>/evaluation.json``.

The base model is asked by the id that invokes it on demand in the Lambda's
Region (``Model.invocation_id``): its model id, or the system-defined inference
profile the catalog lists for the Region. Llama 3.2 / 3.3 and Nova 2 Lite
answer on demand only through a profile (profiles:
https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-support.html;
a bare id is a ValidationException, "Invocation of model ID ... with on-demand
throughput isn't supported. Retry your request with the ID or ARN of an
inference profile that contains this model.", as reported in
https://github.com/aws-samples/sample-well-architected-acceleration-with-generative-ai/issues/8).
Where the catalog lists none for the Region, the custom model is scored alone
and the report says why the base was skipped (verdict INCONCLUSIVE). The
custom model is always asked through its deployment ARN, never a profile.
Both go through the same API, chosen by the training data's format
(``inference.api_for``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final

from customization_core import evaluation
from customization_core.catalog import Catalog, CustomizationType, Model, load_catalog
from customization_core.faults import bedrock_faults
from customization_core.grader_eval import graded_verdict
from customization_core.inference import Api, api_for, invoke
from customization_core.layout import evaluation_keys
from customization_core.registry import Registry
from customization_core.report_publish import refresh_page
from customization_core.run import PipelineConfig, Run, Status

MAX_ANSWER_TOKENS: Final = 512  # enough for a summary or an answer; evaluation uses temperature 0
# Stop invoking when less than this is left of the Lambda's time (milliseconds).
SAFETY_MS: Final = 60_000


def _keys(run: Run) -> tuple[str, str]:
    return evaluation_keys(run.run_id)


def _samples(run: Run, s3: Any) -> list[evaluation.Sample]:
    settings = run.extra.get("evaluate") or {}
    prompts = list(settings.get("prompts") or [])
    if run.customization_type == CustomizationType.CONTINUED_PRE_TRAINING:
        return [evaluation.Sample(p, None) for p in prompts]
    count = int(settings.get("samples", 20))
    assert run.training is not None
    bucket = run.source.bucket

    def lines(pinned: dict[str, str]) -> Any:
        return s3.get_object(Bucket=bucket, Key=pinned["key"], VersionId=pinned["version_id"])[
            "Body"
        ].iter_lines()

    chosen = evaluation.held_out(
        lines(run.validation) if run.validation else None, lines(run.training), count
    )
    return chosen + [evaluation.Sample(p, None) for p in prompts]


def evaluate(
    run: Run,
    *,
    s3: Any,
    runtime: Any,
    registry: Registry,
    config: PipelineConfig,
    remaining_ms: Callable[[], int],
    region: str,
    catalog: Catalog | None = None,
) -> dict[str, Any]:
    """Answer the next samples within the time left; score and decide once all are answered.

    ``region``: the Region the runtime client calls (the Lambda's), which decides
    how the base model can be invoked on demand.
    """
    assert run.deployment is not None
    assert run.evaluation is not None
    assert run.model_id
    catalog = catalog or load_catalog()
    model = catalog.find(run.model_id)
    assert model is not None  # ValidateRequest checked it
    base_id = model.invocation_id(region)
    skipped = None if base_id is not None else _why_no_base(model, region)
    api = _api(model, run.customization_type)
    partial_key, final_key = _keys(run)
    start = int(run.evaluation.get("next", 0))
    if start == 0:
        registry.update(
            run,
            Status.EVALUATING,
            reason="Comparing the custom model with its base."
            if skipped is None
            else f"Scoring the custom model alone. {skipped}",
        )
        samples = _samples(run, s3)
        results: list[dict[str, Any]] = [
            {"prompt": s.prompt, "reference": s.reference} for s in samples
        ]
    else:
        results = json.loads(
            s3.get_object(Bucket=config.artifacts_bucket, Key=partial_key)["Body"].read()
        )
    custom_id = run.deployment["arn"]
    sides = (
        [("custom", custom_id)] if base_id is None else [("base", base_id), ("custom", custom_id)]
    )
    # Distillation: the teacher answers too, by the id its job named it by; its answer is
    # the reference of a prompt that had none (what the student was taught to say).
    teacher_id = (run.teacher or {}).get("identifier")
    if teacher_id:
        sides.append(("teacher", teacher_id))
    index = start
    try:
        while index < len(results) and remaining_ms() > SAFETY_MS:
            result = results[index]
            for side, model_id in sides:
                if side not in result:
                    result[side] = _ask(runtime, model_id, model, api, result["prompt"])
            index += 1
    finally:
        s3.put_object(
            Bucket=config.artifacts_bucket,
            Key=partial_key,
            Body=json.dumps(results).encode(),
            ContentType="application/json",
        )
        run.evaluation["next"] = index
    if index < len(results):
        run.evaluation["done"] = False
        return run.state()
    if teacher_id:
        for result in results:
            if not result.get("reference") and result.get("teacher"):
                result["reference"], result["reference_from"] = result["teacher"], "teacher"
    document = evaluation.report(
        results,
        base_model=base_id,
        custom_model=custom_id,
        min_improvement=float((run.extra.get("evaluate") or {}).get("minImprovement", 0.0)),
        base_skipped=skipped,
    )
    document["api"] = api
    if teacher_id:
        document["teacher_model"] = teacher_id
    if run.grader is not None and run.grader.get("kind") == "builtin":
        # RFT: the verdict is the run's own grader's, not ROUGE-L against a reference
        # that may be a number or an object (customization_core/grader_eval.py).
        graded_verdict(
            document,
            run.grader,
            min_improvement=float((run.extra.get("evaluate") or {}).get("minImprovement", 0.0)),
        )
    s3.put_object(
        Bucket=config.artifacts_bucket,
        Key=final_key,
        Body=json.dumps(document, indent=2).encode(),
        ContentType="application/json",
    )
    location = f"s3://{config.artifacts_bucket}/{final_key}"
    run.verdict = document["verdict"]
    run.evaluation.update(
        done=True,
        report=location,
        summary=evaluation.summary(document),
        overall=document["overall"],
        **({"base_skipped": skipped} if skipped else {}),
    )
    registry.update(
        run,
        Status.EVALUATING,
        reason=run.evaluation["summary"],
        verdict=run.verdict,
        evaluation={k: v for k, v in run.evaluation.items() if k != "next"},
    )
    # The page shows the verdict and each record's answers while the deployment still serves.
    refresh_page(run.run_id, s3=s3, registry=registry, config=config)
    return run.state()


def _api(model: Model, customization_type: str | None) -> Api:
    """Converse when the run trained on messages; the family's InvokeModel body otherwise."""
    kind = CustomizationType(customization_type or CustomizationType.FINE_TUNING)
    customization = model.customizations.get(kind)
    return api_for(model.family, customization.data_format if customization else None)


def _why_no_base(model: Model, region: str) -> str:
    """Why the base model cannot be asked in ``region`` (``invocation_id`` gave None)."""
    listed = ", ".join(sorted(model.inference_profiles)) or "none"
    return (
        f"{model.name} answers on demand only through an inference profile, and the catalog "
        f"lists none for {region} (Regions with one: {listed}); the base model was not asked."
    )


def _ask(runtime: Any, model_id: str, model: Model, api: Api, prompt: str) -> str:
    # A throttled call raises BedrockThrottledError: the workflow retries, the answers so far kept.
    with bedrock_faults():
        reply = invoke(
            runtime,
            model_id,
            model.family,
            prompt,
            max_tokens=MAX_ANSWER_TOKENS,
            temperature=0.0,
            api=api,
        )
    return reply.text.strip()
