"""Bedrock's grader contract: a batch of samples in, one reward per sample out.

Event (page reward-functions, "Lambda function implementation details", read 2026-12-02):
a list of samples, each the training record's ``messages`` with the model's response
appended as the last (assistant) message, an ``id``, and the record's other fields
(``reference_answer`` among them) under ``metadata``; SageMaker's page for the same
grader shows them at the top level, so both are read. Answer: a list with, per sample,
``{"id", "aggregate_reward_score", "metrics_list": [{"name", "value", "type"}]}``, where
``type`` is "Reward" or "Metric".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from customization_core.graders import ConfiguredGrader, GraderInputError, response_text


class GraderEventError(ValueError):
    """An event that is not a list of samples."""


def grade_batch(
    event: object, grader: ConfiguredGrader, *, on_skip: Any = None
) -> list[dict[str, Any]]:
    """One answer per sample; a sample the grader cannot read scores 0 and is told to ``on_skip``."""
    if isinstance(event, dict) and isinstance(event.get("samples"), list):
        event = event["samples"]
    if not isinstance(event, list):
        raise GraderEventError(
            f"The grader takes a list of samples (Bedrock's RFT event); got {type(event).__name__}."
        )
    answers = []
    for index, sample in enumerate(event):
        if not isinstance(sample, dict):
            raise GraderEventError(f"Sample {index} is {type(sample).__name__}, not an object.")
        record = fields_of(sample)
        response = response_text(sample.get("messages"))
        try:
            reward = grader.grade(response, record)
            parts = grader.components(response, record)
        except GraderInputError as problem:
            if on_skip is not None:
                on_skip(sample.get("id"), str(problem))
            reward, parts = 0.0, {}
        metrics = [{"name": grader.name, "value": reward, "type": "Reward"}]
        metrics += [
            {"name": name, "value": value, "type": "Metric"} for name, value in parts.items()
        ]
        answers.append(
            {"id": sample.get("id"), "aggregate_reward_score": reward, "metrics_list": metrics}
        )
    return answers


def fields_of(sample: Mapping[str, Any]) -> dict[str, Any]:
    """The record's fields a grader reads: the top level's, under ``metadata``'s."""
    record = {k: v for k, v in sample.items() if k not in ("metadata", "messages")}
    metadata = sample.get("metadata")
    if isinstance(metadata, dict):
        record.update(metadata)
    return record
