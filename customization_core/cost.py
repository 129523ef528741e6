"""Training cost: tokens x epochs x the catalog's price (or the deployment's override)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, Final

from customization_core.request import CheckedRequest
from customization_core.teacher import Teacher

# The tokens a teacher's answer is counted at when the manifest gives no maxResponseLength:
# AWS documents no default for maxResponseLengthForInference (botocore 1.44.8 gives it no
# bound; page model-distillation, read 2026-12-02), so the estimate assumes this many and
# says so.
ASSUMED_RESPONSE_TOKENS: Final = 1000


@dataclass(frozen=True)
class TeacherCost:
    """Distillation's teacher: it answers every prompt, billed on demand (input and output)."""

    model_id: str
    prompt_tokens: int
    response_tokens: int
    input_per_1k_tokens_usd: float | None
    output_per_1k_tokens_usd: float | None
    source: str
    estimated_usd: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> TeacherCost:
        def number(key: str) -> float | None:
            value = document.get(key)
            return None if value is None else float(value)

        return cls(
            model_id=str(document["model_id"]),
            prompt_tokens=int(document["prompt_tokens"]),
            response_tokens=int(document["response_tokens"]),
            input_per_1k_tokens_usd=number("input_per_1k_tokens_usd"),
            output_per_1k_tokens_usd=number("output_per_1k_tokens_usd"),
            source=str(document.get("source", "")),
            estimated_usd=number("estimated_usd"),
        )


@dataclass(frozen=True)
class CostEstimate:
    epochs: int
    training_tokens: int
    billed_tokens: int
    price_per_1k_tokens_usd: float | None
    price_source: str
    estimated_usd: float | None
    teacher: TeacherCost | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "epochs": self.epochs,
            "training_tokens": self.training_tokens,
            "billed_tokens": self.billed_tokens,
            "price_per_1k_tokens_usd": self.price_per_1k_tokens_usd,
            "price_source": self.price_source,
            "estimated_usd": self.estimated_usd,
            "teacher": self.teacher.to_dict() if self.teacher else None,
        }

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> CostEstimate:
        price = document.get("price_per_1k_tokens_usd")
        usd = document.get("estimated_usd")
        return cls(
            epochs=int(document["epochs"]),
            training_tokens=int(document["training_tokens"]),
            billed_tokens=int(document["billed_tokens"]),
            price_per_1k_tokens_usd=None if price is None else float(price),
            price_source=str(document.get("price_source", "")),
            estimated_usd=None if usd is None else float(usd),
            teacher=TeacherCost.from_dict(document["teacher"]) if document.get("teacher") else None,
        )


def estimate_cost(
    request: CheckedRequest,
    training_tokens: int,
    *,
    catalog_date: date,
    price_override: float | None = None,
    teacher: Teacher | None = None,
    records: int = 0,
    max_response_length: int | None = None,
) -> CostEstimate | None:
    """Bedrock bills customization per token processed: training tokens x epochs.

    Source: https://aws.amazon.com/bedrock/pricing/ (model customization).
    Token counts are the validator's over-estimates, so the cost errs high too.
    Distillation (``teacher``): the teacher answers each of ``records`` prompts, billed at
    its on-demand prices, and the student trains on prompts and answers (one pass: the
    job takes no epochCount). Source: page model-distillation (Bedrock generates responses
    from the teacher, then fine-tunes the student), read 2026-12-02.
    """
    custom = request.customization
    if custom is None:
        return None
    epochs = request.effective_int("epochCount") or 1
    answers = records * (max_response_length or ASSUMED_RESPONSE_TOKENS) if teacher else 0
    training_tokens += answers
    billed = training_tokens * epochs
    if price_override is not None:
        price: float | None = price_override
        source = "deployment setting (overrides the catalog)"
    else:
        price = custom.training_price_per_1k_tokens_usd
        source = (
            f"catalog of {catalog_date.isoformat()}: {custom.price_source}"
            if price is not None
            else "no price in the catalog for this model; supply one (stage setting trainingPricesUsd, or --price-per-1k-tokens)"
        )
    # Not rounded to cents: a small run costs fractions of a cent, shown as such (estimate.money).
    estimated = round(billed / 1000 * price, 6) if price is not None else None
    taught = (
        _teacher_cost(teacher, training_tokens - answers, answers, max_response_length)
        if teacher
        else None
    )
    return CostEstimate(epochs, training_tokens, billed, price, source, estimated, taught)


def _teacher_cost(
    teacher: Teacher, prompt_tokens: int, answer_tokens: int, max_response_length: int | None
) -> TeacherCost:
    given = (
        ""
        if max_response_length
        else f" ({ASSUMED_RESPONSE_TOKENS:,} assumed per answer: no maxResponseLength given)"
    )
    inp, out = teacher.input_per_1k_tokens_usd, teacher.output_per_1k_tokens_usd
    usd = (
        round(prompt_tokens / 1000 * inp + answer_tokens / 1000 * out, 6)
        if inp is not None and out is not None
        else None
    )
    source = (
        f"{teacher.price_source} (read {teacher.price_read}){given}"
        if usd is not None
        else f"no on-demand price in the catalog for {teacher.name}{given}"
    )
    return TeacherCost(teacher.model_ids[0], prompt_tokens, answer_tokens, inp, out, source, usd)
