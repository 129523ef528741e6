"""The model catalog: what Bedrock accepts for each base model, with the source of each number.

The data lives in ``data/models.json``; this module loads it once, strictly
(an unknown key or a missing source is a bug in the data, caught by tests).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from datetime import date
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Family = Literal["titan", "cohere", "llama", "claude", "nova"]
DataFormat = Literal[
    "prompt-completion", "continued-pretraining", "conversation", "claude-messages"
]


class CustomizationType(StrEnum):
    """The API's customizationType values this product runs."""

    FINE_TUNING = "FINE_TUNING"
    CONTINUED_PRE_TRAINING = "CONTINUED_PRE_TRAINING"

    @property
    def cli_name(self) -> str:
        return {"FINE_TUNING": "fine-tuning", "CONTINUED_PRE_TRAINING": "continued-pretraining"}[
            self.value
        ]

    @classmethod
    def parse(cls, text: str) -> CustomizationType:
        """Accept the API value or the CLI spelling (``fine-tuning``, ``continued-pretraining``)."""
        for member in cls:
            if text in (member.value, member.cli_name):
                return member
        allowed = ", ".join(f"{m.cli_name} ({m.value})" for m in cls)
        raise ValueError(f"Unknown customization type {text!r}; allowed: {allowed}.")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RecordLimit(_Strict):
    min: int | None = Field(ge=0)
    max: int | None = Field(ge=1)
    source: str


class TokenLimit(_Strict):
    """Max tokens per record for the listed batch sizes (``None``: any batch size)."""

    batch_sizes: tuple[int, ...] | None
    tokens: int = Field(ge=1)


class Hyperparameter(_Strict):
    key: str
    type: Literal["int", "float"]
    min: float | None
    max: float | None
    default: str | None
    required: bool
    source: str

    def describe_range(self) -> str:
        low = "no minimum" if self.min is None else f"{_number(self.min)}"
        high = "no maximum" if self.max is None else f"{_number(self.max)}"
        kind = "a whole number" if self.type == "int" else "a number"
        return f"{kind} from {low} to {high}"


class Customization(_Strict):
    """What one customization type of one model accepts."""

    data_format: DataFormat
    alternate_formats: tuple[DataFormat, ...] = ()
    training_records: RecordLimit
    validation_records: RecordLimit
    # Where the docs (or the Service Quotas) limit training and validation together.
    total_records: RecordLimit | None = None
    max_tokens_per_record: tuple[TokenLimit, ...] = Field(min_length=1)
    max_tokens_per_record_source: str
    max_training_file_bytes: int | None
    max_validation_file_bytes: int | None
    file_size_source: str | None
    hyperparameters: tuple[Hyperparameter, ...]
    training_price_per_1k_tokens_usd: float | None
    monthly_storage_price_usd: float | None
    price_source: str | None

    @property
    def formats(self) -> tuple[DataFormat, ...]:
        return (self.data_format, *self.alternate_formats)

    def hyperparameter(self, key: str) -> Hyperparameter | None:
        return next((h for h in self.hyperparameters if h.key == key), None)

    def token_limit(self, batch_size: int | None) -> int:
        """Max tokens per record at ``batch_size``; the smallest limit when it is unknown."""
        if batch_size is not None:
            for limit in self.max_tokens_per_record:
                if limit.batch_sizes is None or batch_size in limit.batch_sizes:
                    return limit.tokens
        return min(limit.tokens for limit in self.max_tokens_per_record)


class Lifecycle(_Strict):
    """A model AWS has retired: new customization jobs on it are refused after ``date``."""

    status: Literal["legacy", "end-of-life"]
    date: date
    source: str


class Model(_Strict):
    name: str
    provider: str
    family: Family
    model_ids: tuple[str, ...] = Field(min_length=1)
    model_ids_source: str
    customizations: dict[CustomizationType, Customization] = Field(min_length=1)
    lifecycle: Lifecycle | None = None
    # Whether its custom models can be deployed for on-demand inference (CreateCustomModelDeployment);
    # every custom model can be served by provisioned throughput.
    on_demand_deployment: bool = False
    on_demand_deployment_source: str | None = None

    @model_validator(mode="after")
    def _on_demand_has_a_source(self) -> Model:
        if self.on_demand_deployment and not self.on_demand_deployment_source:
            raise ValueError(f"{self.name}: on_demand_deployment needs its source")
        return self

    @property
    def primary_id(self) -> str:
        return self.model_ids[0]


class Catalog(_Strict):
    catalog_date: date
    models: tuple[Model, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _ids_are_unique(self) -> Catalog:
        seen: dict[str, str] = {}
        for model in self.models:
            for model_id in model.model_ids:
                if model_id in seen:
                    raise ValueError(f"{model_id} is listed by {seen[model_id]} and {model.name}")
                seen[model_id] = model.name
        return self

    def by_id(self) -> Mapping[str, Model]:
        return {model_id: model for model in self.models for model_id in model.model_ids}

    def find(self, model_id: str) -> Model | None:
        return self.by_id().get(model_id)

    def all_ids(self) -> Iterator[str]:
        for model in self.models:
            yield from model.model_ids

    def on_demand_models(self) -> list[str]:
        """Names of the models whose custom models can be deployed on demand."""
        return [m.name for m in self.models if m.on_demand_deployment]

    def suggest(self, model_id: str) -> list[str]:
        """The catalog ids closest to a mistyped one."""
        return difflib.get_close_matches(model_id, list(self.all_ids()), n=3, cutoff=0.6)


@cache
def load_catalog() -> Catalog:
    """The packaged catalog (parsed once per process)."""
    text = resources.files("customization_core").joinpath("data/models.json").read_text("utf-8")
    return Catalog.model_validate_json(text)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
