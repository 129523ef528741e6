"""A stand-in catalog entry for a model Bedrock offers but the catalog does not know."""

from __future__ import annotations

from customization_core.catalog import (
    Customization,
    CustomizationType,
    Family,
    Model,
    RecordLimit,
    TokenLimit,
)

# The providers' id prefixes, to guess the family of a model the catalog does not know.
_FAMILIES: dict[str, Family] = {
    "amazon.nova": "nova",
    "amazon.titan": "titan",
    "cohere.": "cohere",
    "meta.": "llama",
    "anthropic.": "claude",
}
UNKNOWN_SOURCE = "not in the catalog: Bedrock's live answer admitted it (unknownModels: warn)"


def generic_model(model_id: str, kind: CustomizationType) -> Model:
    """A stand-in for a model Bedrock offers but the catalog does not know.

    Every format is accepted, no record, token or file limit is known and no
    hyperparameter range: only what every record must be (JSON objects in one
    format) is checked. Used only when a stage sets ``unknownModels: warn``.
    """
    family: Family = next(
        (f for prefix, f in _FAMILIES.items() if model_id.startswith(prefix)), "titan"
    )
    no_limit = RecordLimit(min=None, max=None, source=UNKNOWN_SOURCE)
    customization = Customization(
        data_format="conversation" if family in ("nova", "llama") else "prompt-completion",
        alternate_formats=tuple(
            f
            for f in (
                "prompt-completion",
                "conversation",
                "claude-messages",
                "continued-pretraining",
            )
            if f != ("conversation" if family in ("nova", "llama") else "prompt-completion")
        ),
        regions=("any",),
        regions_source=UNKNOWN_SOURCE,
        training_records=no_limit,
        validation_records=no_limit,
        max_tokens_per_record=(TokenLimit(batch_sizes=None, tokens=10**9),),
        max_tokens_per_record_source=UNKNOWN_SOURCE,
        max_training_file_bytes=None,
        max_validation_file_bytes=None,
        file_size_source=None,
        hyperparameters=(),
        training_price_per_1k_tokens_usd=None,
        monthly_storage_price_usd=None,
        price_source=None,
    )
    return Model(
        name=model_id,
        provider=model_id.split(".", 1)[0],
        family=family,
        model_ids=(model_id,),
        model_ids_source=UNKNOWN_SOURCE,
        customizations={kind: customization},
    )
