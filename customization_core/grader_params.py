"""Each built-in grader's parameters: their types, defaults and ranges, checked once.

A wrong name, type or range is a GraderConfigError whose sentence names
``grader.params.<key>`` and what it allows, as the manifest's other errors do.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

Kind = Literal["bool", "number", "text", "names", "components"]
MAX_PATTERN: Final = 1000  # characters: a longer regular expression is refused
MAX_COMPONENTS: Final = 10


class GraderConfigError(ValueError):
    """A grader name or parameter that is not allowed; the message is the user's sentence."""


@dataclass(frozen=True)
class Param:
    name: str
    kind: Kind
    default: Any
    allowed: str
    required: bool = False


@dataclass(frozen=True)
class Spec:
    summary: str
    params: tuple[Param, ...]


_FIELD = Param(
    "field",
    "text",
    None,
    'null, or the key of an object reference_answer to compare (e.g. "answer")',
)
SPECS: Final[dict[str, Spec]] = {
    "exact": Spec(
        "1 when the response equals the reference answer, else 0",
        (
            Param(
                "normalize",
                "bool",
                True,
                "true (ignore case, spacing and outer punctuation) or false",
            ),
            _FIELD,
        ),
    ),
    "numeric": Spec(
        "1 when the last number in the response is within tolerance of the reference, else 0",
        (
            Param(
                "tolerance", "number", 1e-6, "a number from 0 (absolute, or a share with relative)"
            ),
            Param(
                "relative", "bool", False, "true (tolerance is a share of the reference) or false"
            ),
            _FIELD,
        ),
    ),
    "json-fields": Spec(
        "the share of the reference's fields the response's first JSON object matches",
        (
            Param(
                "fields", "names", [], "a list of field names (empty: every field of the reference)"
            ),
            Param(
                "partial",
                "bool",
                True,
                "true (the share of fields equal) or false (1 only if all are)",
            ),
            _FIELD,
        ),
    ),
    "regex": Spec(
        "1 when the response matches the pattern ({reference} stands for the reference), else 0",
        (
            Param(
                "pattern",
                "text",
                None,
                f"a Python regular expression of at most {MAX_PATTERN:,} characters",
                required=True,
            ),
            Param(
                "flags",
                "text",
                "",
                "letters from i (ignore case), m (multi-line), s (dot matches newline)",
            ),
            Param("mode", "text", "search", "search (anywhere) or fullmatch (the whole response)"),
            _FIELD,
        ),
    ),
    "weighted": Spec(
        "the weighted mean of other graders' rewards",
        (
            Param(
                "components",
                "components",
                None,
                f'a list of 1 to {MAX_COMPONENTS} {{"name", "params", "weight"}} (weight above 0; '
                "any grader but weighted)",
                required=True,
            ),
        ),
    ),
}
GRADER_NAMES: Final = tuple(SPECS)


def params_from_text(name: str, given: Mapping[str, str]) -> dict[str, object]:
    """KEY=VALUE parameters from a command line: JSON when they read as JSON (2, true, [..]).

    A parameter the grader takes as text stays the string given (a regex pattern "42").
    """
    spec = SPECS.get(name)
    kinds = {p.name: p.kind for p in spec.params} if spec else {}
    values: dict[str, object] = {}
    for key, text in given.items():
        if kinds.get(key) == "text" and text != "null":
            values[key] = text
            continue
        try:
            values[key] = json.loads(text)
        except ValueError:
            values[key] = text
    return values


def normalized_params(name: str, given: Mapping[str, object]) -> dict[str, Any]:
    """``given`` checked against grader ``name``'s parameters, with defaults filled in."""
    spec = SPECS.get(name)
    if spec is None:
        raise GraderConfigError(
            f"grader.name {name!r} is not a built-in grader; allowed: {', '.join(GRADER_NAMES)}"
        )
    known = {p.name: p for p in spec.params}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise GraderConfigError(
            f"grader.params.{unknown[0]} is not a parameter of {name}; it takes: "
            + ", ".join(known)
        )
    params: dict[str, Any] = {}
    for param in spec.params:
        if param.name not in given:
            if param.required:
                raise GraderConfigError(
                    f"grader.params.{param.name} is required by {name}: {param.allowed}"
                )
            params[param.name] = param.default
            continue
        params[param.name] = _checked(name, param, given[param.name])
    if name == "regex":
        _compile(params)
    return params


def _checked(grader: str, param: Param, value: object) -> Any:
    where = f"grader.params.{param.name}"
    bad = GraderConfigError(f"{where} of {grader} is {value!r}; allowed: {param.allowed}")
    if param.kind == "bool":
        if not isinstance(value, bool):
            raise bad
        return value
    if param.kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
            raise bad
        if value != value or value == float("inf"):
            raise bad
        return float(value)
    if param.kind == "text":
        if param.name == "field" and value is None:
            return None
        if not isinstance(value, str):
            raise bad
        return _text(grader, param, value, bad)
    if param.kind == "names":
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise bad
        return list(value)
    return _components(value, bad)


def _text(grader: str, param: Param, value: str, bad: GraderConfigError) -> str:
    if param.name == "flags" and not set(value) <= set("ims"):
        raise bad
    if param.name == "mode" and value not in ("search", "fullmatch"):
        raise bad
    if param.name == "pattern" and not 0 < len(value) <= MAX_PATTERN:
        raise bad
    if param.name == "field" and not value:
        raise bad
    return value


def _components(value: object, bad: GraderConfigError) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not 0 < len(value) <= MAX_COMPONENTS:
        raise bad
    components = []
    for index, item in enumerate(value):
        where = f"grader.params.components[{index}]"
        if not isinstance(item, dict) or set(item) - {"name", "params", "weight"}:
            raise GraderConfigError(f'{where} must be {{"name", "params", "weight"}}')
        name = item.get("name")
        if name == "weighted" or name not in SPECS:
            allowed = ", ".join(n for n in GRADER_NAMES if n != "weighted")
            raise GraderConfigError(f"{where}.name {name!r} is not allowed; allowed: {allowed}")
        weight = item.get("weight", 1)
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not weight > 0:
            raise GraderConfigError(f"{where}.weight is {weight!r}; allowed: a number above 0")
        params = item.get("params") or {}
        if not isinstance(params, dict):
            raise GraderConfigError(f"{where}.params must be an object")
        try:
            checked = normalized_params(str(name), params)
        except GraderConfigError as problem:
            raise GraderConfigError(
                str(problem).replace("grader.params.", f"{where}.params.", 1)
            ) from None
        components.append({"name": name, "params": checked, "weight": float(weight)})
    return components


def _compile(params: Mapping[str, Any]) -> None:
    try:
        re.compile(str(params["pattern"]).replace("{reference}", "x"))
    except re.error as problem:
        raise GraderConfigError(
            f"grader.params.pattern is not a valid regular expression ({problem}); "
            "write it as Python's re module reads it"
        ) from None
