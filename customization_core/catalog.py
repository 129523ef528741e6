"""The model catalog: what Bedrock accepts for each base model, with the source of each number.

The data lives in ``data/models.json``; this module loads it once, strictly
(an unknown key or a missing source is a bug in the data, caught by tests), into
frozen dataclasses (customization_core/strict_data.py): no pydantic to import, so
``validate`` starts fast.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Literal

from customization_core.strict_data import Strict
from customization_core.teacher import Teacher

Family = Literal["titan", "cohere", "llama", "claude", "nova"]
DataFormat = Literal[
    "prompt-completion",
    "continued-pretraining",
    "conversation",
    "claude-messages",
    # Distillation's prompts: the conversation format, its last turn the user's (the
    # teacher writes the answers). RFT's: chat messages with a reference_answer.
    "distillation-prompts",
    "rft-messages",
]


class CustomizationType(StrEnum):
    """The API's customizationType values this product runs."""

    FINE_TUNING = "FINE_TUNING"
    CONTINUED_PRE_TRAINING = "CONTINUED_PRE_TRAINING"
    DISTILLATION = "DISTILLATION"
    REINFORCEMENT_FINE_TUNING = "REINFORCEMENT_FINE_TUNING"

    @property
    def cli_name(self) -> str:
        return _CLI_NAMES[self.value]

    @classmethod
    def parse(cls, text: str) -> CustomizationType:
        """Accept the API value or the CLI spelling (``fine-tuning``, ``continued-pretraining``)."""
        for member in cls:
            if text in (member.value, member.cli_name):
                return member
        allowed = ", ".join(f"{m.cli_name} ({m.value})" for m in cls)
        raise ValueError(f"Unknown customization type {text!r}; allowed: {allowed}.")


_CLI_NAMES: dict[str, str] = {
    "FINE_TUNING": "fine-tuning",
    "CONTINUED_PRE_TRAINING": "continued-pretraining",
    "DISTILLATION": "distillation",
    "REINFORCEMENT_FINE_TUNING": "reinforcement-fine-tuning",
}


@dataclass(frozen=True, kw_only=True)
class RecordLimit(Strict):
    min: int | None = field(metadata={"ge": 0})
    max: int | None = field(metadata={"ge": 1})
    source: str


@dataclass(frozen=True, kw_only=True)
class TokenLimit(Strict):
    """Max tokens per record for the listed batch sizes (``None``: any batch size)."""

    batch_sizes: tuple[int, ...] | None
    tokens: int = field(metadata={"ge": 1})


@dataclass(frozen=True, kw_only=True)
class Hyperparameter(Strict):
    key: str
    type: Literal["int", "float", "choice"]
    min: float | None
    max: float | None
    default: str | None
    required: bool
    source: str
    # The values a "choice" takes (RFT's reasoningEffort: low, medium, high).
    choices: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if (self.type == "choice") != bool(self.choices):
            raise ValueError(f"{self.key}: choices go with type choice, and only with it")

    def describe_range(self) -> str:
        if self.type == "choice":
            return "one of " + ", ".join(self.choices)
        low = "no minimum" if self.min is None else f"{_number(self.min)}"
        high = "no maximum" if self.max is None else f"{_number(self.max)}"
        kind = "a whole number" if self.type == "int" else "a number"
        return f"{kind} from {low} to {high}"


@dataclass(frozen=True, kw_only=True)
class MediaLimit(Strict):
    """What one kind of media block (image or video) may hold in a record of this model."""

    # The block's "format" values, e.g. png, mp4.
    formats: tuple[str, ...] = field(metadata={"min_length": 1})
    max_per_record: int = field(metadata={"ge": 1})
    max_bytes: int = field(metadata={"ge": 1})
    min_pixels: int | None = None  # each side of an image, where documented
    max_pixels: int | None = None
    max_seconds: float | None = None  # a video's duration, where documented
    source: str


@dataclass(frozen=True, kw_only=True)
class Media(Strict):
    """The media a model's training records may carry; one modality per dataset."""

    image: MediaLimit | None = None
    video: MediaLimit | None = None


@dataclass(frozen=True, kw_only=True)
class Customization(Strict):
    """What one customization type of one model accepts."""

    data_format: DataFormat
    alternate_formats: tuple[DataFormat, ...] = ()
    # The Regions where Bedrock runs this customization type for the model (AWS's table).
    regions: tuple[str, ...] = field(metadata={"min_length": 1})
    regions_source: str
    # Whether the API takes a validation file for it (Nova 2 Lite: no).
    validation_supported: bool = True
    # Per-side token caps where the docs give them per side (Cohere: input and output).
    max_prompt_tokens: int | None = None
    max_completion_tokens: int | None = None
    media: Media | None = None
    # Whether assistant turns may carry reasoningContent blocks (Nova 2 Lite).
    reasoning: bool = False
    training_records: RecordLimit
    validation_records: RecordLimit
    # Where the docs (or the Service Quotas) limit training and validation together.
    total_records: RecordLimit | None = None
    max_tokens_per_record: tuple[TokenLimit, ...] = field(metadata={"min_length": 1})
    max_tokens_per_record_source: str
    max_training_file_bytes: int | None
    max_validation_file_bytes: int | None
    file_size_source: str | None
    hyperparameters: tuple[Hyperparameter, ...]
    # How the job takes them: "string-map" (hyperParameters, every value a string) or
    # "rft" (customizationConfig.rftConfig.hyperParameters, typed: botocore 1.44.8
    # RFTHyperParameters); distillation takes none ("none").
    hyperparameters_as: Literal["string-map", "rft", "none"] = "string-map"
    training_price_per_1k_tokens_usd: float | None
    monthly_storage_price_usd: float | None
    price_source: str | None
    price_read: date | None = None  # the day the price was read at its source

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


@dataclass(frozen=True, kw_only=True)
class Lifecycle(Strict):
    """Where a model stands in AWS's model lifecycle (page ``model-lifecycle``).

    A Legacy model still runs until its end-of-life date; after it, Bedrock refuses
    new customization jobs. ``status`` is what the source said on ``read``; the
    dates decide, so a catalog read before a date still judges correctly after it.
    """

    status: Literal["active", "legacy", "end-of-life"]
    legacy_date: date | None = None
    end_of_life_date: date | None = None
    source: str
    read: date

    def ended(self, today: date) -> bool:
        """Past end of life on ``today``."""
        if self.end_of_life_date is not None:
            return today >= self.end_of_life_date
        return self.status == "end-of-life"

    def legacy(self, today: date) -> bool:
        """Legacy (still usable, with an end-of-life date) on ``today``."""
        if self.ended(today):
            return False
        return self.status == "legacy" or (
            self.legacy_date is not None and today >= self.legacy_date
        )


Commitment = Literal["none", "1-month", "6-month"]


@dataclass(frozen=True, kw_only=True)
class DeploymentPrices(Strict):
    """What serving a custom model of this base model costs, as AWS publishes it.

    Provisioned Throughput is billed per model unit per hour, at the base model's price
    (page ``prov-throughput``); the key is the commitment term, ``none`` for the hourly
    no-commitment purchase the pipeline makes. On-demand custom-model inference is billed
    per token at the base model's on-demand price (Nova page ``custom-fine-tune-odi``).
    """

    provisioned_hourly_usd: dict[Commitment, float] = field(default_factory=dict)
    on_demand_input_per_1k_tokens_usd: float | None = field(default=None, metadata={"gt": 0})
    on_demand_output_per_1k_tokens_usd: float | None = field(default=None, metadata={"gt": 0})
    source: str
    read: date

    def __post_init__(self) -> None:
        for term, usd in self.provisioned_hourly_usd.items():
            if not usd > 0:
                raise ValueError(f"provisioned_hourly_usd[{term}] must be above 0")


@dataclass(frozen=True, kw_only=True)
class Model(Strict):
    name: str
    provider: str
    family: Family
    model_ids: tuple[str, ...] = field(metadata={"min_length": 1})
    model_ids_source: str
    customizations: dict[CustomizationType, Customization] = field(metadata={"min_length": 1})
    lifecycle: Lifecycle | None = None
    # Set when AWS's current customization tables no longer list the model: the live
    # check decides per account, and the catalog says so in a warning.
    docs_note: str | None = None
    # The Regions where its custom models can be deployed for on-demand inference
    # (CreateCustomModelDeployment), for models customized on or after ``on_demand_since``;
    # every custom model can be served by Provisioned Throughput.
    on_demand_deployment_regions: tuple[str, ...] = ()
    on_demand_since: date | None = None
    on_demand_deployment_source: str | None = None
    # How the base model answers on demand: by its model id, or only through a
    # system-defined inference profile (Region -> profile id) for the Regions listed.
    base_invocation: Literal["model-id", "inference-profile"] = "model-id"
    inference_profiles: dict[str, str] = field(default_factory=dict)
    inference_source: str | None = None
    deployment_prices: DeploymentPrices | None = None

    def __post_init__(self) -> None:
        if self.on_demand_deployment_regions and not self.on_demand_deployment_source:
            raise ValueError(f"{self.name}: on_demand_deployment_regions needs its source")
        if (self.inference_profiles or self.base_invocation != "model-id") and not (
            self.inference_source
        ):
            raise ValueError(f"{self.name}: inference_profiles needs its source")
        if self.base_invocation == "inference-profile" and not self.inference_profiles:
            raise ValueError(f"{self.name}: base_invocation inference-profile needs profiles")

    @property
    def primary_id(self) -> str:
        return self.model_ids[0]

    @property
    def on_demand_deployment(self) -> bool:
        return bool(self.on_demand_deployment_regions)

    def regions(self, kind: CustomizationType) -> tuple[str, ...]:
        """The Regions where ``kind`` runs for this model (none when it does not run)."""
        custom = self.customizations.get(kind)
        return custom.regions if custom else ()

    def invocation_id(self, region: str) -> str | None:
        """The id that invokes the base model on demand in ``region`` (None: none does).

        Its own model id where it answers by it: a cross-Region profile would send the
        prompts to other Regions. A profile only where the model answers through one.
        """
        if self.base_invocation == "model-id":
            return self.model_ids[0]
        return self.inference_profiles.get(region)


@dataclass(frozen=True, kw_only=True)
class UnsupportedModel(Strict):
    """A model AWS can customize that this product does not run, and why."""

    name: str
    model_ids: tuple[str, ...] = field(metadata={"min_length": 1})
    reason: str
    source: str


@dataclass(frozen=True, kw_only=True)
class TrainingSpeed(Strict):
    """The throughput a training ETA assumes before this stack has a past run of the model."""

    tokens_per_hour: float = field(default=2_000_000, metadata={"gt": 0})  # trained tokens/h
    source: str = "assumed"


@dataclass(frozen=True, kw_only=True)
class Catalog(Strict):
    catalog_date: date
    models: tuple[Model, ...] = field(metadata={"min_length": 1})
    unsupported: tuple[UnsupportedModel, ...] = ()
    teachers: tuple[Teacher, ...] = ()
    training_speed: TrainingSpeed = field(default_factory=TrainingSpeed)

    def __post_init__(self) -> None:
        seen: dict[str, str] = {}
        for model in self.models:
            for model_id in model.model_ids:
                if model_id in seen:
                    raise ValueError(f"{model_id} is listed by {seen[model_id]} and {model.name}")
                seen[model_id] = model.name

    def by_id(self) -> Mapping[str, Model]:
        return {model_id: model for model in self.models for model_id in model.model_ids}

    def find(self, model_id: str) -> Model | None:
        return self.by_id().get(model_id)

    def hyperparameter_keys(self, model_id: str, kind: CustomizationType) -> set[str] | None:
        """The hyperparameters ``kind`` of the model takes (None: the catalog does not know it)."""
        model = self.find(model_id)
        custom = model.customizations.get(kind) if model else None
        return {h.key for h in custom.hyperparameters} if custom else None

    def find_teacher(self, model_id: str) -> Teacher | None:
        """The teacher a model id or inference-profile id names (None: it teaches nothing)."""
        return next((t for t in self.teachers if t.known_as(model_id)), None)

    def teachers_of(self, student_id: str) -> list[Teacher]:
        """The teachers that can distill into the model ``student_id`` names."""
        student = self.find(student_id)
        ids = set(student.model_ids) if student else {student_id}
        return [t for t in self.teachers if ids & set(t.students)]

    def find_unsupported(self, model_id: str) -> UnsupportedModel | None:
        return next((m for m in self.unsupported if model_id in m.model_ids), None)

    def regions_for(self, kind: CustomizationType) -> dict[str, list[str]]:
        """Region -> names of the models that run ``kind`` there."""
        found: dict[str, list[str]] = {}
        for model in self.models:
            for region in model.regions(kind):
                found.setdefault(region, []).append(model.name)
        return dict(sorted(found.items()))

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
    return Catalog.model_validate_json(
        (Path(__file__).parent / "data" / "models.json").read_bytes()
    )


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
