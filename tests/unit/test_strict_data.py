"""The catalog's strict reading (customization_core/strict_data.py): bad data is refused by name.

The catalog's classes are frozen dataclasses, read without pydantic so that `validate`
starts fast; these tests hold them to what pydantic's strict models refused.
"""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from customization_core.catalog import Catalog, CustomizationType, load_catalog

DATA = json.loads(
    (Path(__file__).resolve().parents[2] / "customization_core/data/models.json").read_text("utf-8")
)


def _refused(change: Any) -> str:
    data = copy.deepcopy(DATA)
    change(data)
    try:
        Catalog.model_validate(data)
    except ValueError as refused:
        return str(refused)
    pytest.fail("the changed catalog was accepted")


def test_the_packaged_catalog_reads_into_typed_fields() -> None:
    catalog = load_catalog()
    assert isinstance(catalog.catalog_date, date)
    model = catalog.models[0]
    assert isinstance(model.model_ids, tuple)
    assert all(isinstance(kind, CustomizationType) for kind in model.customizations)
    custom = next(iter(model.customizations.values()))
    assert all(isinstance(h.min, float | None) for h in custom.hyperparameters)


def test_dumped_data_reads_back_equal_and_matches_the_file() -> None:
    catalog = load_catalog()
    dumped = catalog.model_dump(mode="json")
    assert Catalog.model_validate(dumped) == catalog
    assert json.loads(json.dumps(dumped)) == dumped  # JSON's types only
    assert dumped["catalog_date"] == DATA["catalog_date"]
    assert [m["model_ids"] for m in dumped["models"]] == [m["model_ids"] for m in DATA["models"]]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["models"][0].update(surprise=1), "models[0]: unknown key(s) surprise"),
        (lambda d: d["models"][0].pop("model_ids_source"), "models[0].model_ids_source: missing"),
        (lambda d: d["models"][0].update(family="gpt"), "models[0].family: 'gpt' is not one of"),
        (lambda d: d["models"][0].update(model_ids=[]), "models[0].model_ids: needs at least 1"),
        (lambda d: d.update(catalog_date="yesterday"), "catalog_date: 'yesterday' is not a date"),
        (lambda d: d.update(models="none"), "models: expected a list"),
        (
            lambda d: d["models"][0]["customizations"].update(IMPORTED={}),
            "'IMPORTED' is not a CustomizationType",
        ),
        (
            lambda d: d["models"][0]["customizations"]["FINE_TUNING"]["training_records"].update(
                min=-1
            ),
            "customizations.FINE_TUNING.training_records.min: -1 is below 0",
        ),
        (
            lambda d: d["models"][0]["customizations"]["FINE_TUNING"]["hyperparameters"][0].update(
                required="yes"
            ),
            "hyperparameters[0].required: 'yes' is not bool",
        ),
        (
            lambda d: d["models"][0]["customizations"]["FINE_TUNING"].update(
                max_training_file_bytes=1.5
            ),
            "max_training_file_bytes: 1.5 is not int",
        ),
        (
            lambda d: d["models"][0]["customizations"]["FINE_TUNING"].update(regions_source=True),
            "regions_source: True is not str",
        ),
    ],
)
def test_a_mistake_in_the_data_is_refused_with_its_place(change: Any, message: str) -> None:
    assert message in _refused(change)


def test_a_class_s_own_checks_run_after_its_fields() -> None:
    # Given two models claiming one id: the catalog's own check names both
    message = _refused(lambda d: d["models"][1].update(model_ids=d["models"][0]["model_ids"]))
    assert f"is listed by {DATA['models'][0]['name']} and {DATA['models'][1]['name']}" in message
    # A model's check, inside the list, names the model
    message = _refused(
        lambda d: d["models"][0].update(
            inference_profiles={"us-east-1": "p"}, inference_source=None
        )
    )
    assert "inference_profiles needs its source" in message


def test_a_positive_price_bound_refuses_zero() -> None:
    def free(data: dict[str, Any]) -> None:
        data["models"][0]["deployment_prices"] = {
            "on_demand_input_per_1k_tokens_usd": 0,
            "source": "https://aws.amazon.com/bedrock/pricing/",
            "read": "2026-12-01",
        }

    assert "on_demand_input_per_1k_tokens_usd: 0.0 must be above 0" in _refused(free)


def test_a_copy_with_an_update_is_a_new_frozen_instance() -> None:
    model = load_catalog().models[0]
    renamed = model.model_copy(update={"name": "renamed"})
    assert renamed.name == "renamed"
    assert model.name != "renamed"
    with pytest.raises(AttributeError):
        renamed.name = "again"  # type: ignore[misc]
