"""A distillation teacher: the model whose answers a student learns, the students it teaches, where."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from customization_core.strict_data import Strict


@dataclass(frozen=True, kw_only=True)
class Teacher(Strict):
    """A model that can teach in a distillation job, the students it teaches, and where.

    ``invocation`` "inference-profile": the job must name it by a cross-Region inference
    profile (``profiles``: Region -> profile id), as Nova Premier; else by its model id.
    Its on-demand prices price the answers it writes for the prompts (page
    ``model-distillation``: the teacher's responses are billed at on-demand rates).
    """

    name: str
    model_ids: tuple[str, ...] = field(metadata={"min_length": 1})
    students: tuple[str, ...] = field(metadata={"min_length": 1})
    regions: tuple[str, ...] = field(metadata={"min_length": 1})
    invocation: Literal["model-id", "inference-profile"] = "model-id"
    profiles: dict[str, str] = field(default_factory=dict)
    # The longest answer it may write per prompt (maxResponseLengthForInference), tokens.
    max_response_length: int | None = None
    input_per_1k_tokens_usd: float | None = None
    output_per_1k_tokens_usd: float | None = None
    price_source: str | None = None
    price_read: date | None = None
    source: str

    def __post_init__(self) -> None:
        if self.invocation == "inference-profile" and not self.profiles:
            raise ValueError(f"{self.name}: invocation inference-profile needs profiles")

    def identifier(self, region: str) -> str | None:
        """What a job in ``region`` names the teacher by (None: it does not teach there)."""
        if region not in self.regions:
            return None
        if self.invocation == "inference-profile":
            return self.profiles.get(region)
        return self.model_ids[0]

    def known_as(self, model_id: str) -> bool:
        return model_id in self.model_ids or model_id in self.profiles.values()
