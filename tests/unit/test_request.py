"""Requests: model, type and hyperparameters are checked against the catalog; values become strings."""

from __future__ import annotations

import pytest

from customization_core.catalog import load_catalog
from customization_core.request import check_request

CATALOG = load_catalog()
EXPRESS = "amazon.titan-text-express-v1:0:8k"


def _codes(request: object) -> list[str]:
    return [f.code for f in request.findings]  # type: ignore[attr-defined]


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
    (finding,) = checked.findings
    assert (finding.code, finding.field) == (code, f"hyperParameters.{next(iter(hyperparameters))}")
    assert fragment in finding.message


def test_an_integer_written_as_a_float_string_is_accepted_as_an_integer() -> None:
    checked = check_request(CATALOG, EXPRESS, "fine-tuning", {"epochCount": "3.0"})
    assert checked.valid
    assert checked.hyperparameters == {"epochCount": "3"}


def test_a_retired_model_is_a_warning_that_names_the_date() -> None:
    checked = check_request(CATALOG, "anthropic.claude-3-haiku-20240307-v1:0:200k", "fine-tuning")
    assert _codes(checked) == ["model-retired"]
    assert checked.valid  # a warning: the account may still have access
    assert "2026-09-10" in checked.findings[0].message


def test_an_unknown_customization_type_is_a_finding_not_an_exception() -> None:
    checked = check_request(CATALOG, EXPRESS, "distillation")
    assert _codes(checked) == ["unknown-customization-type"]
