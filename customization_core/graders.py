"""The built-in RFT graders: small pure functions from a response and a record to a reward in [0, 1].

A manifest picks one by name with its parameters (``configure``); the stack's grader
function runs it on the samples Bedrock sends (customization_core/grader_batch.py), and
``bedrock-customize grade`` and ValidateDataset try it first (grader_dry_run.py).

- ``exact``: the response equals the reference (normalized: case, spacing, outer
  punctuation and quotes ignored, unless ``normalize`` is false).
- ``numeric``: the last number in the response is within ``tolerance`` of the reference
  (absolute, or relative to it with ``relative``); "1,234.5" reads as 1234.5.
- ``json-fields``: the first JSON object in the response matches the reference's ``fields``
  (the share of them, or all or nothing with ``partial`` false).
- ``regex``: the response matches ``pattern`` (``{reference}`` in it is the reference, escaped).
- ``weighted``: a weighted mean of the others' rewards.

Each takes ``field``, where it makes sense: the key of an object reference_answer to compare.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Final

from customization_core.grader_params import (
    GRADER_NAMES,
    SPECS,
    GraderConfigError,
    normalized_params,
)

__all__ = [
    "GRADER_NAMES",
    "ConfiguredGrader",
    "GraderConfigError",
    "GraderInputError",
    "configure",
    "content_text",
    "describe",
    "reference_text",
    "response_text",
]

REFERENCE: Final = "reference_answer"
# A number as people write it: sign, thousands separators, decimals, an exponent.
_NUMBER: Final = re.compile(
    r"[-+]?(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?|[-+]?\.\d+"
)
_SPACES: Final = re.compile(r"\s+")
_OUTER: Final = "\"'`.,;:!?()[]{} \t\n"
_FENCE: Final = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


class GraderInputError(ValueError):
    """A record lacks what the grader reads (its reference, a field of it)."""


@dataclass(frozen=True)
class ConfiguredGrader:
    """A built-in grader with its parameters checked and defaults filled in."""

    name: str
    params: Mapping[str, Any]

    def grade(self, response: str, record: Mapping[str, Any]) -> float:
        """The reward of ``response`` for ``record`` (with its reference_answer), in [0, 1]."""
        if self.name == "weighted":
            total = sum(float(c["weight"]) for c in self.params["components"])
            return _clamp(
                sum(
                    float(c["weight"]) * _component(c["name"], c["params"]).grade(response, record)
                    for c in self.params["components"]
                )
                / total
            )
        reference = _reference(record, self.params.get("field"))
        grade = _GRADES[self.name]
        return _clamp(grade(response, reference, self.params))

    def components(self, response: str, record: Mapping[str, Any]) -> dict[str, float]:
        """A weighted grader's reward per component (name#index); empty for the others."""
        if self.name != "weighted":
            return {}
        return {
            f"{c['name']}#{i}": _component(c["name"], c["params"]).grade(response, record)
            for i, c in enumerate(self.params["components"])
        }

    def needs_fields(self) -> tuple[str, ...]:
        """The record fields it reads: reference_answer, or a dotted field of it."""
        if self.name == "weighted":
            found: list[str] = []
            for c in self.params["components"]:
                for name in _component(c["name"], c["params"]).needs_fields():
                    if name not in found:
                        found.append(name)
            return tuple(found)
        field = self.params.get("field")
        return (f"{REFERENCE}.{field}",) if field else (REFERENCE,)

    def canonical(self) -> dict[str, Any]:
        """{"name", "params"}, JSON-ready, keys sorted: what the configuration id is made from."""
        document: dict[str, Any] = json.loads(
            json.dumps({"name": self.name, "params": self.params}, sort_keys=True)
        )
        return document

    def config_id(self) -> str:
        """The first 12 hex of the canonical JSON's sha256: the alias name after ``g-``."""
        text = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:12]


def _component(name: str, params: Mapping[str, Any]) -> ConfiguredGrader:
    """A weighted grader's component, configured once per process (it is graded per sample)."""
    return _configured(name, json.dumps(params, sort_keys=True))


@cache
def _configured(name: str, params_json: str) -> ConfiguredGrader:
    return configure(name, json.loads(params_json))


def configure(name: str, params: Mapping[str, object] | None) -> ConfiguredGrader:
    """The grader ``name`` with ``params`` checked; GraderConfigError names what is wrong."""
    return ConfiguredGrader(name, normalized_params(name, params or {}))


def describe() -> list[dict[str, Any]]:
    """Each built-in grader: its name, what it does and its parameters (for `catalog --graders`)."""
    return [
        {
            "name": name,
            "summary": spec.summary,
            "params": [
                {"name": p.name, "type": p.kind, "default": p.default, "allowed": p.allowed}
                for p in spec.params
            ],
        }
        for name, spec in SPECS.items()
    ]


def response_text(messages: object) -> str:
    """The last assistant message's text (content a string or a list of {"text": ...})."""
    if not isinstance(messages, list):
        return ""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "assistant":
            return content_text(message.get("content"))
    return ""


def reference_text(reference: object) -> str:
    """A reference answer as text: a string as is, a number without a needless ".0", else JSON."""
    if isinstance(reference, str):
        return reference
    if isinstance(reference, bool) or reference is None:
        return json.dumps(reference)
    if isinstance(reference, float) and reference.is_integer():
        return str(int(reference))
    if isinstance(reference, int | float):
        return repr(reference)
    return json.dumps(reference, sort_keys=True, separators=(",", ":"))


def content_text(content: object) -> str:
    """A message's text: a string, or the joined text of a list of {"text": ...} blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(block.get("text", "")) for block in content if isinstance(block, dict))
    return ""


def _reference(record: Mapping[str, Any], field: str | None) -> Any:
    if REFERENCE not in record or record[REFERENCE] is None:
        raise GraderInputError(f"the record has no {REFERENCE}")
    reference = record[REFERENCE]
    if field is None:
        return reference
    if not isinstance(reference, dict) or field not in reference:
        raise GraderInputError(f"{REFERENCE} has no field {field!r}")
    return reference[field]


def _normal(text: str) -> str:
    return _SPACES.sub(" ", text.strip().strip(_OUTER).casefold())


def _exact(response: str, reference: Any, params: Mapping[str, Any]) -> float:
    expected = reference_text(reference)
    if params["normalize"]:
        return float(_normal(response) == _normal(expected))
    return float(response == expected)


def last_number(text: str) -> float | None:
    """The last number written in ``text`` ("The answer is 1,234.5" -> 1234.5), or None."""
    found = _NUMBER.findall(text)
    if not found:
        return None
    try:
        value = float(found[-1].replace(",", ""))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _numeric(response: str, reference: Any, params: Mapping[str, Any]) -> float:
    expected = (
        float(reference)
        if isinstance(reference, int | float) and not isinstance(reference, bool)
        else last_number(reference_text(reference))
    )
    if expected is None:
        raise GraderInputError(f"{REFERENCE} holds no number")
    got = last_number(response)
    if got is None:
        return 0.0
    allowed = float(params["tolerance"]) * (abs(expected) if params["relative"] else 1.0)
    return float(abs(got - expected) <= allowed)


def first_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in ``text``, inside a code fence or not; None if there is none."""
    candidates = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    decoder = json.JSONDecoder()
    for candidate in candidates:
        for start in (i for i, ch in enumerate(candidate) if ch == "{"):
            try:
                value, _ = decoder.raw_decode(candidate, start)
            except ValueError:
                continue
            if isinstance(value, dict):
                return value
    return None


def _json_fields(response: str, reference: Any, params: Mapping[str, Any]) -> float:
    expected = reference if isinstance(reference, dict) else first_object(reference_text(reference))
    if expected is None:
        raise GraderInputError(f"{REFERENCE} is not a JSON object")
    fields = list(params["fields"] or expected.keys())
    missing = [f for f in fields if f not in expected]
    if missing:
        raise GraderInputError(f"{REFERENCE} has no field {missing[0]!r}")
    if not fields:
        return 1.0
    got = first_object(response)
    if got is None:
        return 0.0
    equal = sum(1 for f in fields if f in got and got[f] == expected[f])
    if params["partial"]:
        return equal / len(fields)
    return float(equal == len(fields))


def _regex(response: str, reference: Any, params: Mapping[str, Any]) -> float:
    pattern = str(params["pattern"]).replace("{reference}", re.escape(reference_text(reference)))
    flags = 0
    for letter in params["flags"]:
        flags |= {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL}[letter]
    compiled = re.compile(pattern, flags)
    matched = (
        compiled.fullmatch(response) if params["mode"] == "fullmatch" else compiled.search(response)
    )
    return float(matched is not None)


def _clamp(value: float) -> float:
    return 0.0 if not math.isfinite(value) else min(1.0, max(0.0, value))


_GRADES: Final = {
    "exact": _exact,
    "numeric": _numeric,
    "json-fields": _json_fields,
    "regex": _regex,
}
