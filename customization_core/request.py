"""Checking a customization request (model, type, hyperparameters) against the catalog."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from customization_core.catalog import (
    Catalog,
    Customization,
    CustomizationType,
    Hyperparameter,
    Model,
)
from customization_core.findings import Finding, Severity, Source, error, warning

_INT = re.compile(r"^[+-]?\d+$")

HyperparameterValue = str | int | float


@dataclass(frozen=True)
class CheckedRequest:
    """The request as resolved against the catalog, with every problem found."""

    model_id: str
    customization_type: CustomizationType | None
    model: Model | None
    customization: Customization | None
    # As the API wants them: every value a string. Defaults are not filled in.
    hyperparameters: dict[str, str] = field(default_factory=dict)
    findings: tuple[Finding, ...] = ()

    @property
    def valid(self) -> bool:
        return self.customization is not None and not any(
            f.severity is Severity.ERROR for f in self.findings
        )

    def effective(self, key: str) -> str | None:
        """A hyperparameter's value as the job will run it: the request's, else the default."""
        if key in self.hyperparameters:
            return self.hyperparameters[key]
        spec = self.customization.hyperparameter(key) if self.customization else None
        return spec.default if spec else None

    def effective_int(self, key: str) -> int | None:
        value = self.effective(key)
        try:
            return int(float(value)) if value is not None else None
        except ValueError:
            return None


def check_request(
    catalog: Catalog,
    model_id: str,
    customization_type: CustomizationType | str,
    hyperparameters: Mapping[str, HyperparameterValue] | None = None,
) -> CheckedRequest:
    """Resolve and check a request; problems become findings, never exceptions."""
    findings: list[Finding] = []
    kind: CustomizationType | None
    try:
        kind = (
            customization_type
            if isinstance(customization_type, CustomizationType)
            else CustomizationType.parse(customization_type)
        )
    except ValueError as problem:
        findings.append(
            error(
                Source.REQUEST,
                "unknown-customization-type",
                str(problem),
                field="customizationType",
            )
        )
        kind = None

    model = catalog.find(model_id)
    if model is None:
        close = catalog.suggest(model_id)
        hint = f" Did you mean {' or '.join(close)}?" if close else ""
        findings.append(
            error(
                Source.REQUEST,
                "unknown-model",
                f"{model_id!r} is not a base model this tool can customize.{hint} "
                f"Allowed: {', '.join(catalog.all_ids())}.",
                field="baseModelId",
            )
        )
        return CheckedRequest(model_id, kind, None, None, {}, tuple(findings))

    if model.lifecycle is not None:
        findings.append(
            warning(
                Source.REQUEST,
                "model-retired",
                f"AWS lists {model.name} as {model.lifecycle.status} from {model.lifecycle.date.isoformat()} "
                f"({model.lifecycle.source}); Bedrock refuses new customization jobs on retired models. "
                "Pick a current model unless your account still has access.",
                field="baseModelId",
            )
        )
    customization = model.customizations.get(kind) if kind else None
    if kind is not None and customization is None:
        supported = ", ".join(f"{k.cli_name} ({k.value})" for k in model.customizations)
        findings.append(
            error(
                Source.REQUEST,
                "unsupported-customization",
                f"{model.name} does not support {kind.cli_name}; it supports: {supported}.",
                field="customizationType",
            )
        )
    normalized: dict[str, str] = {}
    if customization is not None:
        normalized = _check_hyperparameters(customization, hyperparameters or {}, findings)
    return CheckedRequest(model_id, kind, model, customization, normalized, tuple(findings))


def _check_hyperparameters(
    customization: Customization,
    given: Mapping[str, HyperparameterValue],
    findings: list[Finding],
) -> dict[str, str]:
    allowed = ", ".join(
        f"{h.key} ({h.describe_range()}, default {h.default})"
        for h in customization.hyperparameters
    )
    normalized: dict[str, str] = {}
    for key, value in given.items():
        spec = customization.hyperparameter(key)
        where = f"hyperParameters.{key}"
        if spec is None:
            findings.append(
                error(
                    Source.REQUEST,
                    "unknown-hyperparameter",
                    f"{key!r} is not a hyperparameter of this model; allowed: {allowed}.",
                    field=where,
                )
            )
            continue
        text, problem = _parse(spec, value)
        if problem:
            findings.append(error(Source.REQUEST, problem[0], problem[1], field=where))
            continue
        normalized[key] = text
    for spec in customization.hyperparameters:
        if spec.required and spec.key not in given:
            findings.append(
                error(
                    Source.REQUEST,
                    "missing-hyperparameter",
                    f"{spec.key} is required for this model: {spec.describe_range()}.",
                    field=f"hyperParameters.{spec.key}",
                )
            )
    return normalized


def _parse(spec: Hyperparameter, value: HyperparameterValue) -> tuple[str, tuple[str, str] | None]:
    """The value as the API's string, or (code, message) of what is wrong with it."""
    expected = f"{spec.key} must be {spec.describe_range()}"
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return "", ("hyperparameter-not-a-number", f"{expected}; got {value!r}.")
    text = value.strip() if isinstance(value, str) else repr(value)
    try:
        number = float(text)
    except ValueError:
        return "", ("hyperparameter-not-a-number", f"{expected}; got {value!r}.")
    if not math.isfinite(number):
        return "", ("hyperparameter-not-a-number", f"{expected}; got {value!r}.")
    if spec.type == "int":
        if not (_INT.match(text) or number.is_integer()):
            return "", ("hyperparameter-not-an-integer", f"{expected}; got {value!r}.")
        text = str(int(number))
    if (spec.min is not None and number < spec.min) or (spec.max is not None and number > spec.max):
        return "", ("hyperparameter-out-of-range", f"{expected}; got {value!r}.")
    return text, None
