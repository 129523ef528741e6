"""Checking a customization request (model, type, hyperparameters) against the catalog."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from customization_core.bounded import MAX_LISTED, clip, quote
from customization_core.catalog import (
    Catalog,
    Customization,
    CustomizationType,
    Hyperparameter,
    Model,
)
from customization_core.findings import Finding, Severity, Source, error, warning
from customization_core.generic_model import generic_model
from customization_core.regions import region_advice

_INT = re.compile(r"^[+-]?[0-9]+$")
# A number as the API's string map carries it: plain ASCII decimal, optional exponent.
# Python's float() also takes full-width digits (U+FF10...), "1_0e-6" and " 1 "; the API's
# own parser need not, so such values are refused before any money is spent. The dot and
# its digits are one optional group: "[0-9]+\.?[0-9]*" split a run of digits every way
# before failing, some 40 seconds for a 30,000-digit value.
_DECIMAL = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$")

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

    def effective_all(self) -> dict[str, str]:
        """Every hyperparameter with a value as the job runs: given, else the catalog default."""
        keys = [h.key for h in self.customization.hyperparameters] if self.customization else []
        found = {key: self.effective(key) for key in (*keys, *self.hyperparameters)}
        return {key: value for key, value in found.items() if value is not None}

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
    *,
    region: str | None = None,
    today: date | None = None,
    unknown_ok: bool = False,
) -> CheckedRequest:
    """Resolve and check a request; problems become findings, never exceptions.

    ``region``: judge by the catalog's Regions (when the live API cannot be asked; the
    pipeline asks it instead and passes None). ``today``: the day lifecycle dates are
    judged on (None: the catalog's own date). ``unknown_ok``: a model the catalog does
    not know is accepted with a warning and checked with no limits (``unknownModels:
    warn``; the live check has said Bedrock customizes it).
    """
    findings: list[Finding] = []
    kind: CustomizationType | None
    try:
        kind = (
            customization_type
            if isinstance(customization_type, CustomizationType)
            else CustomizationType.parse(customization_type)
        )
    except ValueError:
        # Said here rather than CustomizationType.parse's message, which quotes the value whole.
        allowed = ", ".join(f"{k.cli_name} ({k.value})" for k in CustomizationType)
        findings.append(
            error(
                Source.REQUEST,
                "unknown-customization-type",
                f"Unknown customization type {quote(customization_type)}; allowed: {allowed}.",
                field="customizationType",
            )
        )
        kind = None

    model = catalog.find(model_id)
    unsupported = catalog.find_unsupported(model_id) if model is None else None
    if unsupported is not None:
        findings.append(
            error(
                Source.REQUEST,
                "model-not-supported",
                f"Bedrock can customize {unsupported.name}, but this tool does not: "
                f"{unsupported.reason} ({unsupported.source}). Pick a text model from "
                "`bedrock-customize catalog`.",
                field="baseModelId",
            )
        )
        return CheckedRequest(model_id, kind, None, None, {}, tuple(findings))
    if model is None and unknown_ok and kind is not None:
        stand_in = generic_model(model_id, kind)
        findings.append(
            warning(
                Source.REQUEST,
                "model-limits-unknown",
                f"{quote(model_id)} is not in this tool's catalog ({catalog.catalog_date}): its record, "
                "token and hyperparameter limits are unknown, so only the record format is "
                "checked and Bedrock judges the rest when the job starts.",
                field="baseModelId",
            )
        )
        given = {key: _as_text(value) for key, value in (hyperparameters or {}).items()}
        return CheckedRequest(
            model_id,
            kind,
            stand_in,
            stand_in.customizations[kind],
            given,
            tuple(findings),
        )
    if model is None:
        close = catalog.suggest(model_id)
        hint = f" Did you mean {' or '.join(close)}?" if close else ""
        findings.append(
            error(
                Source.REQUEST,
                "unknown-model",
                f"{quote(model_id)} is not a base model this tool can customize.{hint} "
                f"Allowed: {', '.join(catalog.all_ids())}.",
                field="baseModelId",
            )
        )
        return CheckedRequest(model_id, kind, None, None, {}, tuple(findings))

    findings.extend(lifecycle_findings(model, today or catalog.catalog_date))
    if model.docs_note:
        findings.append(
            warning(
                Source.REQUEST, "model-not-in-current-docs", model.docs_note, field="baseModelId"
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
    if (
        customization is not None
        and kind is not None
        and region is not None
        and region not in customization.regions
    ):
        findings.append(
            error(
                Source.REQUEST,
                "region-not-supported",
                region_advice(model, kind, region),
                field="baseModelId",
            )
        )
    normalized: dict[str, str] = {}
    if customization is not None:
        normalized = _check_hyperparameters(customization, hyperparameters or {}, findings)
    return CheckedRequest(model_id, kind, model, customization, normalized, tuple(findings))


def _as_text(value: HyperparameterValue) -> str:
    return value.strip() if isinstance(value, str) else repr(value)


def lifecycle_findings(model: Model, today: date) -> list[Finding]:
    """An error past end of life (Bedrock refuses new jobs), a warning while Legacy."""
    life = model.lifecycle
    if life is None:
        return []
    if life.ended(today):
        ended = life.end_of_life_date.isoformat() if life.end_of_life_date else "an earlier date"
        return [
            error(
                Source.REQUEST,
                "model-end-of-life",
                f"{model.name} reached end of life on {ended} ({life.source}); Bedrock no longer "
                "runs customization jobs on it. Pick a current model from `bedrock-customize catalog`.",
                field="baseModelId",
            )
        ]
    if life.legacy(today):
        until = (
            f"until its end of life on {life.end_of_life_date.isoformat()}"
            if life.end_of_life_date
            else "until AWS sets its end of life"
        )
        return [
            warning(
                Source.REQUEST,
                "model-legacy",
                f"{model.name} is Legacy ({life.source}): it can be customized {until}, "
                "and custom models of it stop serving then. Plan a move to a current model.",
                field="baseModelId",
            )
        ]
    return []


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
    unknown = 0
    for key, value in given.items():
        spec = customization.hyperparameter(key)
        where = f"hyperParameters.{clip(key)}"
        if spec is None:
            unknown += 1
            if unknown <= MAX_LISTED:  # the rest are counted below
                findings.append(
                    error(
                        Source.REQUEST,
                        "unknown-hyperparameter",
                        f"{quote(key)} is not a hyperparameter of this model; allowed: {allowed}.",
                        field=where,
                    )
                )
            continue
        text, problem = _parse(spec, value)
        if problem:
            findings.append(error(Source.REQUEST, problem[0], problem[1], field=where))
            continue
        normalized[key] = text
    if unknown > MAX_LISTED:
        findings.append(
            error(
                Source.REQUEST,
                "unknown-hyperparameter",
                f"And {unknown - MAX_LISTED:,} more names that are not hyperparameters of this model; allowed: {allowed}.",
                field="hyperParameters",
            )
        )
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
    if spec.type == "choice":
        if isinstance(value, str) and value.strip() in spec.choices:
            return value.strip(), None
        return "", ("hyperparameter-not-allowed", f"{expected}; got {quote(value)}.")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return "", ("hyperparameter-not-a-number", f"{expected}; got {quote(value)}.")
    text = value.strip() if isinstance(value, str) else repr(value)
    if not _DECIMAL.fullmatch(text):
        return "", (
            "hyperparameter-not-a-number",
            f"{expected}, written with the digits 0-9 (no spaces, underscores or other "
            f"scripts' digits); got {quote(value)}.",
        )
    try:
        number = float(text)
    except ValueError:
        return "", ("hyperparameter-not-a-number", f"{expected}; got {quote(value)}.")
    if not math.isfinite(number):
        return "", ("hyperparameter-not-a-number", f"{expected}; got {quote(value)}.")
    if spec.type == "int":
        if not (_INT.match(text) or number.is_integer()):
            return "", ("hyperparameter-not-an-integer", f"{expected}; got {quote(value)}.")
        text = str(int(number))
    if (spec.min is not None and number < spec.min) or (spec.max is not None and number > spec.max):
        return "", ("hyperparameter-out-of-range", f"{expected}; got {quote(value)}.")
    return text, None


def typed_hyperparameters(
    customization: Customization, values: Mapping[str, str]
) -> dict[str, int | float | str]:
    """Checked string values as a typed API field wants them (RFT's ``rftConfig.hyperParameters``).

    ``values`` are ``check_request``'s (already parsed and in range); a key the catalog
    does not list is left out.
    """
    typed: dict[str, int | float | str] = {}
    for key, text in values.items():
        spec = customization.hyperparameter(key)
        if spec is None:
            continue
        typed[key] = (
            int(text) if spec.type == "int" else float(text) if spec.type == "float" else text
        )
    return typed
