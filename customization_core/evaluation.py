"""Scoring a custom model against its base on held-out records: ROUGE-L, exact match, length ratio.

ROUGE-L is the F1 of the longest common subsequence of words (Lin, 2004:
"ROUGE: A Package for Automatic Evaluation of Summaries", section 3), with
words lower-cased and punctuation dropped. The verdict compares the mean
ROUGE-L of the custom model with the base model's: the custom model is
promoted when it gains at least ``min_improvement`` points (0 to 1). When the
base model could not be asked (no on-demand way to invoke it in the Region),
the custom model is still scored, and the verdict is INCONCLUSIVE: a gain
over a base that gave no answers cannot be measured, and the deployment is
kept rather than torn down for losing a comparison that never took place.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, Final, Literal

from rapidfuzz.distance import LCSseq

from customization_core.graders import content_text

Verdict = Literal["PROMOTED", "NOT_PROMOTED", "UNSCORED", "INCONCLUSIVE"]
_WORD: Final = re.compile(r"\w+", re.UNICODE)


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def rouge_l(candidate: str, reference: str) -> float:
    """ROUGE-L F1 (beta 1) of ``candidate`` against ``reference``, from 0 to 1."""
    got, want = words(candidate), words(reference)
    if not got or not want:
        return 0.0
    # rapidfuzz's LCSseq (requirements.txt says why this one) compares the word lists
    # as sequences of hashable tokens: the length of their longest common subsequence.
    common = LCSseq.similarity(got, want)
    if common == 0:
        return 0.0
    precision, recall = common / len(got), common / len(want)
    return 2 * precision * recall / (precision + recall)


def exact_match(candidate: str, reference: str) -> bool:
    return words(candidate) == words(reference)


def length_ratio(candidate: str, reference: str) -> float:
    """Words in the answer per word of the reference (1.0: the same length)."""
    want = len(words(reference))
    return len(words(candidate)) / want if want else 0.0


@dataclass(frozen=True)
class Sample:
    """A held-out prompt and, for fine-tuning data, its reference completion."""

    prompt: str
    reference: str | None


@dataclass(frozen=True)
class Scores:
    rouge_l: float
    exact_match: float
    length_ratio: float


def score(candidate: str, reference: str) -> Scores:
    return Scores(
        rouge_l=rouge_l(candidate, reference),
        exact_match=1.0 if exact_match(candidate, reference) else 0.0,
        length_ratio=length_ratio(candidate, reference),
    )


def mean(scores: Iterable[Scores]) -> Scores | None:
    listed = list(scores)
    if not listed:
        return None
    n = len(listed)
    return Scores(
        rouge_l=sum(s.rouge_l for s in listed) / n,
        exact_match=sum(s.exact_match for s in listed) / n,
        length_ratio=sum(s.length_ratio for s in listed) / n,
    )


def verdict(
    base: Scores | None, custom: Scores | None, min_improvement: float, *, base_asked: bool = True
) -> Verdict:
    if custom is None:
        return "UNSCORED"  # prompts without references: answers are kept, not judged
    if not base_asked:
        return "INCONCLUSIVE"  # scored, but with nothing to compare the score with
    if base is None:
        return "UNSCORED"
    return "PROMOTED" if custom.rouge_l >= base.rouge_l + min_improvement else "NOT_PROMOTED"


def held_out(
    validation: Iterable[bytes] | None, training: Iterable[bytes], samples: int
) -> list[Sample]:
    """The first ``samples`` records of the validation file, or the last of the training file."""
    if validation is not None:
        chosen = list(_first(read_samples(validation), samples))
        if chosen:
            return chosen
    tail: list[Sample] = []
    for sample in read_samples(training):
        tail.append(sample)
        if len(tail) > samples:
            tail.pop(0)
    return tail


def _first(items: Iterator[Sample], n: int) -> Iterator[Sample]:
    for index, item in enumerate(items):
        if index >= n:
            return
        yield item


def read_samples(lines: Iterable[bytes]) -> Iterator[Sample]:
    """The samples of a JSONL stream (lines of neither format are skipped: validated before).

    Prompt/completion records as they are; conversations (Bedrock's conversation
    schema and Claude's messages) as their last user turn and the assistant's answer.
    """
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict):
            continue
        if isinstance(record.get("prompt"), str):
            completion = record.get("completion")
            reference = str(completion).strip() if completion is not None else None
            yield Sample(record["prompt"], reference)
        elif isinstance(record.get("messages"), list):
            sample = _conversation(record["messages"], record.get("reference_answer"))
            if sample:
                yield sample


def _conversation(messages: list[Any], reference: Any = None) -> Sample | None:
    """A conversation's last user turn and its answer: the assistant's, else ``reference``.

    A record whose last turn is the user's (a distillation prompt with no label, an RFT
    prompt) is a sample too: its reference is RFT's ``reference_answer`` as text, or None
    (a distillation prompt, answered by the teacher in the evaluation).
    """
    turns = [m for m in messages if isinstance(m, dict)]
    if turns and turns[-1].get("role") == "user":
        if reference is None:
            return Sample(content_text(turns[-1].get("content")), None)
        text = reference if isinstance(reference, str) else json.dumps(reference, sort_keys=True)
        return Sample(content_text(turns[-1].get("content")), text.strip())
    if len(turns) < 2 or turns[-1].get("role") != "assistant" or turns[-2].get("role") != "user":
        return None
    return Sample(
        content_text(turns[-2].get("content")), content_text(turns[-1].get("content")).strip()
    )


def report(
    results: list[dict[str, Any]],
    *,
    base_model: str | None,
    custom_model: str,
    min_improvement: float,
    base_skipped: str | None = None,
) -> dict[str, Any]:
    """The evaluation document (``runs/<run-id>/evaluation.json``) from per-sample results.

    Each result: ``prompt``, ``reference``, ``custom`` and (unless the base model
    was skipped, ``base_model`` None and ``base_skipped`` saying why) ``base`` answers.
    """
    base_asked = base_skipped is None
    scored = [r for r in results if r.get("reference")]
    base_scores = [score(r["base"], r["reference"]) for r in scored] if base_asked else []
    custom_scores = [score(r["custom"], r["reference"]) for r in scored]
    base_mean, custom_mean = mean(base_scores), mean(custom_scores)
    by_prompt = iter(custom_scores)
    base_by_prompt = iter(base_scores)
    samples = []
    for result in results:
        entry = dict(result)
        if result.get("reference"):
            entry["custom_scores"] = asdict(next(by_prompt))
            if base_asked:
                entry["base_scores"] = asdict(next(base_by_prompt))
        samples.append(entry)
    outcome = verdict(base_mean, custom_mean, min_improvement, base_asked=base_asked)
    return {
        "base_model": base_model,
        "base_skipped": base_skipped,
        "custom_model": custom_model,
        "samples": samples,
        "overall": {
            "base": asdict(base_mean) if base_mean else None,
            "custom": asdict(custom_mean) if custom_mean else None,
            "rouge_l_gain": (custom_mean.rouge_l - base_mean.rouge_l)
            if base_mean and custom_mean
            else None,
        },
        "min_improvement": min_improvement,
        "verdict": outcome,
    }


def summary(document: dict[str, Any]) -> str:
    """One line for notifications and the registry (with an RFT run's rewards, when graded)."""
    reward = document["overall"].get("reward") or {}
    line = _summary(document)
    if reward.get("custom") is None:
        return line
    base = f"{reward['base']:.3f} (base) -> " if reward.get("base") is not None else ""
    return f"{line} Mean reward by the {reward['grader']} grader: {base}{reward['custom']:.3f} (custom)."


def _summary(document: dict[str, Any]) -> str:
    overall = document["overall"]
    skipped = document.get("base_skipped")
    if skipped:
        custom = overall["custom"]
        if custom is None:
            return (
                f"{len(document['samples'])} prompts answered by the custom model only "
                f"(no references: not scored). Base model not compared: {skipped}"
            )
        return (
            f"ROUGE-L {custom['rouge_l']:.3f} (custom) on {len(document['samples'])} held-out "
            f"records; exact match {custom['exact_match']:.0%}; verdict {document['verdict']}. "
            f"Base model not compared: {skipped}"
        )
    if overall["base"] is None:
        return f"{len(document['samples'])} prompts answered by both models (no references: not scored)."
    base, custom = overall["base"], overall["custom"]
    return (
        f"ROUGE-L {base['rouge_l']:.3f} (base) -> {custom['rouge_l']:.3f} (custom) on "
        f"{len(document['samples'])} held-out records; exact match {base['exact_match']:.0%} -> "
        f"{custom['exact_match']:.0%}; verdict {document['verdict']}."
    )
