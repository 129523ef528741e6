"""The model catalog: complete, sourced, consistent; lookups and limits work as documented."""

from __future__ import annotations

import pytest

from customization_core.catalog import CustomizationType, load_catalog

CATALOG = load_catalog()
AWS_PAGES = ("https://docs.aws.amazon.com/", "https://aws.amazon.com/")

# The models the product promises to cover, by one id each.
REQUIRED_IDS = (
    "amazon.titan-text-express-v1:0:8k",
    "amazon.titan-text-lite-v1:0:4k",
    "amazon.titan-text-premier-v1:0:32k",
    "cohere.command-text-v14:7:4k",
    "cohere.command-light-text-v14:7:4k",
    "meta.llama3-1-8b-instruct-v1:0:128k",
    "meta.llama3-1-70b-instruct-v1:0:128k",
    "meta.llama3-2-1b-instruct-v1:0:128k",
    "meta.llama3-2-3b-instruct-v1:0:128k",
    "meta.llama3-2-11b-instruct-v1:0:128k",
    "meta.llama3-2-90b-instruct-v1:0:128k",
    "meta.llama3-3-70b-instruct-v1:0:128k",
    "anthropic.claude-3-haiku-20240307-v1:0:200k",
    "amazon.nova-micro-v1:0:128k",
    "amazon.nova-lite-v1:0:300k",
    "amazon.nova-pro-v1:0:300k",
)


@pytest.mark.parametrize("model_id", REQUIRED_IDS)
def test_every_promised_model_is_in_the_catalog(model_id: str) -> None:
    assert CATALOG.find(model_id) is not None


def test_every_number_names_the_aws_page_it_came_from() -> None:
    for model in CATALOG.models:
        assert model.model_ids_source.startswith(AWS_PAGES), model.name
        for custom in model.customizations.values():
            limits = [custom.training_records, custom.validation_records]
            if custom.total_records:
                limits.append(custom.total_records)
            for limit in limits:
                assert limit.source.startswith(AWS_PAGES), model.name
            assert custom.max_tokens_per_record_source.startswith(AWS_PAGES), model.name
            if custom.max_training_file_bytes or custom.max_validation_file_bytes:
                assert (custom.file_size_source or "").startswith(AWS_PAGES), model.name
            if custom.training_price_per_1k_tokens_usd is not None:
                assert (custom.price_source or "").startswith(AWS_PAGES), model.name
            for spec in custom.hyperparameters:
                assert spec.source.startswith(AWS_PAGES), (model.name, spec.key)
                if spec.min is not None and spec.max is not None:
                    assert spec.min <= spec.max, (model.name, spec.key)
                if spec.default is not None:
                    value = float(spec.default)
                    assert spec.min is None or value >= spec.min, (model.name, spec.key)
                    assert spec.max is None or value <= spec.max, (model.name, spec.key)


def test_only_titan_express_and_lite_offer_continued_pretraining() -> None:
    offering = {
        model.name
        for model in CATALOG.models
        if CustomizationType.CONTINUED_PRE_TRAINING in model.customizations
    }
    assert offering == {"Amazon Titan Text G1 - Express", "Amazon Titan Text G1 - Lite"}


def test_formats_follow_the_model_families() -> None:
    formats: dict[str, set[str]] = {}
    for model in CATALOG.models:
        for kind, custom in model.customizations.items():
            if kind is CustomizationType.DISTILLATION:
                assert custom.data_format == "distillation-prompts", model.name
            elif kind is CustomizationType.REINFORCEMENT_FINE_TUNING:
                assert custom.data_format == "rft-messages", model.name
            else:
                formats.setdefault(model.family, set()).add(custom.data_format)
    assert formats["claude"] == {"claude-messages"}
    assert formats["nova"] == {"conversation"}
    assert formats["cohere"] == {"prompt-completion"}
    assert formats["titan"] == {"prompt-completion", "continued-pretraining"}


def test_token_limit_depends_on_batch_size_where_the_docs_say_so() -> None:
    express = CATALOG.find("amazon.titan-text-express-v1:0:8k")
    assert express is not None
    fine_tuning = express.customizations[CustomizationType.FINE_TUNING]
    assert fine_tuning.token_limit(1) == 4096
    assert fine_tuning.token_limit(3) == 2048
    # A batch size the tables do not cover, or none: the smallest limit, to be safe.
    assert fine_tuning.token_limit(40) == 2048
    assert fine_tuning.token_limit(None) == 2048


def test_unknown_ids_get_close_suggestions() -> None:
    assert "amazon.titan-text-express-v1:0:8k" in CATALOG.suggest(
        "amazon.titan-text-expres-v1:0:8k"
    )
    assert CATALOG.suggest("completely-different") == []


@pytest.mark.parametrize(
    ("text", "member"),
    [
        ("fine-tuning", CustomizationType.FINE_TUNING),
        ("FINE_TUNING", CustomizationType.FINE_TUNING),
        ("continued-pretraining", CustomizationType.CONTINUED_PRE_TRAINING),
        ("CONTINUED_PRE_TRAINING", CustomizationType.CONTINUED_PRE_TRAINING),
    ],
)
def test_customization_types_parse_from_api_and_cli_spellings(
    text: str, member: CustomizationType
) -> None:
    assert CustomizationType.parse(text) is member


def test_an_unknown_customization_type_lists_the_allowed_ones() -> None:
    with pytest.raises(
        ValueError,
        match=r"allowed: fine-tuning \(FINE_TUNING\), continued-pretraining.*, distillation "
        r"\(DISTILLATION\), reinforcement-fine-tuning",
    ):
        CustomizationType.parse("sft")
