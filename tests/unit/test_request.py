"""Requests: model, type and hyperparameters are checked against the catalog; values become strings."""

from __future__ import annotations

from datetime import date

import pytest

from customization_core.catalog import CustomizationType, load_catalog
from customization_core.findings import Finding, Severity
from customization_core.request import check_request

CATALOG = load_catalog()
EXPRESS = "amazon.titan-text-express-v1:0:8k"


# Titan Text is missing from AWS's current fine-tuning tables: every request on it says so.
NOT_IN_DOCS = "model-not-in-current-docs"


def _problems(request: object) -> list[Finding]:
    return [f for f in request.findings if f.code != NOT_IN_DOCS]  # type: ignore[attr-defined]


def _codes(request: object) -> list[str]:
    return [f.code for f in _problems(request)]


def test_a_good_request_normalizes_numbers_to_the_strings_the_api_wants() -> None:
    checked = check_request(
        CATALOG,
        EXPRESS,
        "fine-tuning",
        {"epochCount": 2, "learningRate": 0.000005, "batchSize": "1"},
    )
    assert checked.valid
    assert checked.hyperparameters == {"epochCount": "2", "learningRate": "5e-06", "batchSize": "1"}
    assert checked.effective("learningRateWarmupSteps") is not None  # the catalog default
    assert checked.effective_int("epochCount") == 2


def test_an_unknown_model_suggests_close_ids_and_lists_the_allowed() -> None:
    checked = check_request(CATALOG, "amazon.titan-text-express-v2:0:8k", "fine-tuning")
    (finding,) = checked.findings
    assert finding.code == "unknown-model"
    assert "Did you mean amazon.titan-text-express-v1:0:8k" in finding.message
    assert "amazon.nova-pro-v1:0:300k" in finding.message
    assert not checked.valid


def test_continued_pretraining_on_llama_is_refused_with_what_it_supports() -> None:
    checked = check_request(CATALOG, "meta.llama3-1-8b-instruct-v1:0:128k", "continued-pretraining")
    (finding,) = checked.findings
    assert finding.code == "unsupported-customization"
    assert "it supports: fine-tuning (FINE_TUNING)" in finding.message


@pytest.mark.parametrize(
    ("hyperparameters", "code", "fragment"),
    [
        (
            {"epochs": 2},
            "unknown-hyperparameter",
            "allowed: epochCount (a whole number from 1 to 10",
        ),
        (
            {"epochCount": 0},
            "hyperparameter-out-of-range",
            "epochCount must be a whole number from 1 to 10; got 0.",
        ),
        ({"epochCount": "11"}, "hyperparameter-out-of-range", "got '11'"),
        ({"epochCount": "two"}, "hyperparameter-not-a-number", "got 'two'"),
        ({"epochCount": 2.5}, "hyperparameter-not-an-integer", "got 2.5"),
        ({"epochCount": True}, "hyperparameter-not-a-number", "got True"),
        ({"learningRate": "nan"}, "hyperparameter-not-a-number", "got 'nan'"),
        (
            {"learningRate": 2},
            "hyperparameter-out-of-range",
            "learningRate must be a number from 0 to 1",
        ),
    ],
)
def test_bad_hyperparameters_are_findings_that_say_what_is_allowed(
    hyperparameters: dict[str, object], code: str, fragment: str
) -> None:
    checked = check_request(CATALOG, EXPRESS, "fine-tuning", hyperparameters)  # type: ignore[arg-type]
    (finding,) = _problems(checked)
    assert (finding.code, finding.field) == (code, f"hyperParameters.{next(iter(hyperparameters))}")
    assert fragment in finding.message


def test_an_integer_written_as_a_float_string_is_accepted_as_an_integer() -> None:
    checked = check_request(CATALOG, EXPRESS, "fine-tuning", {"epochCount": "3.0"})
    assert checked.valid
    assert checked.hyperparameters == {"epochCount": "3"}


HAIKU = "anthropic.claude-3-haiku-20240307-v1:0:200k"


def test_a_model_past_end_of_life_is_refused_with_the_date() -> None:
    checked = check_request(CATALOG, HAIKU, "fine-tuning", today=date(2026, 12, 1))
    assert _codes(checked) == ["model-end-of-life"]
    assert not checked.valid
    assert "2026-09-10" in checked.findings[0].message


def test_a_legacy_model_before_its_end_is_a_warning_naming_the_end() -> None:
    checked = check_request(CATALOG, HAIKU, "fine-tuning", today=date(2026, 5, 1))
    (finding,) = checked.findings
    assert (finding.code, finding.severity) == ("model-legacy", Severity.WARNING)
    assert "2026-09-10" in finding.message
    assert checked.valid


def test_a_model_missing_from_the_current_tables_is_a_warning_only() -> None:
    checked = check_request(CATALOG, EXPRESS, "fine-tuning")
    assert [f.code for f in checked.findings] == [NOT_IN_DOCS]
    assert checked.valid


@pytest.mark.parametrize(
    ("model_id", "region", "ok"),
    [
        ("amazon.nova-micro-v1:0:128k", "us-east-1", True),
        ("amazon.nova-micro-v1:0:128k", "us-west-2", False),
        ("amazon.nova-micro-v1:0:128k", "eu-west-1", False),
        ("meta.llama3-3-70b-instruct-v1:0:128k", "us-west-2", True),
        ("meta.llama3-3-70b-instruct-v1:0:128k", "us-east-1", False),
        ("amazon.nova-2-lite-v1:0:256k", "us-east-1", True),
    ],
)
def test_the_catalog_regions_decide_when_a_region_is_given(
    model_id: str, region: str, ok: bool
) -> None:
    checked = check_request(CATALOG, model_id, "fine-tuning", region=region)
    assert checked.valid is ok
    if not ok:
        (finding,) = checked.findings
        assert finding.code == "region-not-supported"
        model = CATALOG.find(model_id)
        assert model is not None
        for where in model.regions(CustomizationType.FINE_TUNING):
            assert where in finding.message  # says where it can run instead


def test_without_a_region_the_catalog_does_not_judge_regions() -> None:
    assert check_request(CATALOG, "amazon.nova-micro-v1:0:128k", "fine-tuning").valid


@pytest.mark.parametrize(
    "model_id", ["amazon.nova-canvas-v1:0", "amazon.titan-image-generator-v2:0"]
)
def test_a_known_model_the_product_does_not_run_says_why(model_id: str) -> None:
    checked = check_request(CATALOG, model_id, "fine-tuning")
    assert _codes(checked) == ["model-not-supported"]
    assert "captions" in checked.findings[0].message


@pytest.mark.parametrize(
    "value", ["\uff10.\uff11", "1_0e-6", "0x10", "1e", "--1", "1.0.0", "\u0662"]
)
def test_numbers_must_be_plain_ascii_decimals(value: str) -> None:
    checked = check_request(CATALOG, EXPRESS, "fine-tuning", {"learningRate": value})
    assert _codes(checked) == ["hyperparameter-not-a-number"]


@pytest.mark.parametrize("value", ["0.00001", "1e-5", "1E-05", ".5e-4", "+0.0001"])
def test_plain_decimals_and_exponents_are_numbers(value: str) -> None:
    assert check_request(CATALOG, EXPRESS, "fine-tuning", {"learningRate": value}).valid


def test_an_unknown_customization_type_is_a_finding_not_an_exception() -> None:
    checked = check_request(CATALOG, EXPRESS, "sft")
    assert _codes(checked) == ["unknown-customization-type"]
