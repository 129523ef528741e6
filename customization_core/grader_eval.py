"""An RFT run's evaluation, scored by its own grader: the reward the model was trained for.

ROUGE-L against the reference (customization_core/evaluation.py) fits answers written as
text; an RFT reference is often a number or an object a grader reads a field of, where a
right answer shares few words with it. So for a run with a built-in grader each base and
custom answer is graded as Bedrock graded training samples, the overall gains a
``reward`` block, and the verdict compares mean rewards (``minImprovement`` in reward
points, 0 to 1).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from customization_core.graders import GraderInputError, configure


def graded_verdict(
    document: dict[str, Any], grader: Mapping[str, Any], *, min_improvement: float
) -> None:
    """Add each sample's rewards and the mean rewards to ``document``; set its verdict."""
    configured = configure(str(grader["name"]), grader.get("params") or {})
    sums: dict[str, list[float]] = {"base": [], "custom": []}
    for sample in document["samples"]:
        if not sample.get("reference"):
            continue
        record = {"reference_answer": _reference(str(sample["reference"]))}
        for side in sums:
            if side not in sample:
                continue
            try:
                reward = configured.grade(str(sample[side]), record)
            except GraderInputError:
                continue
            sample[f"{side}_reward"] = reward
            sums[side].append(reward)
    means = {side: sum(v) / len(v) if v else None for side, v in sums.items()}
    document["overall"]["reward"] = {**means, "grader": configured.name}
    base, custom = means["base"], means["custom"]
    if custom is None:
        return  # nothing graded: the ROUGE-L verdict stands
    if base is None:
        document["verdict"] = "INCONCLUSIVE"
        return
    document["verdict"] = "PROMOTED" if custom >= base + min_improvement else "NOT_PROMOTED"


def _reference(text: str) -> Any:
    """The reference as the record held it: an object or a list was written as JSON."""
    if text[:1] in "{[":
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text
