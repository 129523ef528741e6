"""One way the catalog and an account disagree, and how a model's ids are matched across them."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

from customization_core.catalog import Model

# A context-length variant (":128k", ":4k") is the id customized; the id without it names
# the same model, and either may be the one an API lists.
_CONTEXT_SUFFIX: Final = re.compile(r":[0-9]+k$")

DifferenceKind = Literal["gained", "lost", "region", "type", "lifecycle", "price"]
# Records a difference under a key; the first reason given for a key stands.
Add = Callable[[tuple[str, ...], "Difference"], None]


@dataclass(frozen=True)
class Difference:
    """One way the catalog and the account disagree; ``message`` says it in one sentence."""

    kind: DifferenceKind
    model_id: str
    name: str | None
    customization: str | None  # the API's customizationType, when the difference has one
    catalog: str | None
    live: str | None
    message: str


def base_id(model_id: str) -> str:
    """``model_id`` without its context-length suffix."""
    return _CONTEXT_SUFFIX.sub("", model_id)


def customizable(model: Model, region: str) -> bool:
    return any(region in c.regions for c in model.customizations.values())


def customized_id(model: Model) -> str:
    """The id a customization job names: the context-length variant where the catalog has one."""
    return next((i for i in model.model_ids if _CONTEXT_SUFFIX.search(i)), model.primary_id)
