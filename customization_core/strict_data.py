"""Frozen dataclasses read strictly from JSON data, for the catalog, without pydantic.

Importing pydantic and building the catalog's models with it took most of the start of
``bedrock-customize validate`` (issue 15: a command starts in at most 0.1 s). The
catalog needs only this much of what pydantic did: an unknown or missing key refused;
every field of its declared type (``int``, ``float``, ``str``, ``bool``, ``date``, an
enum, a ``Literal``, ``X | None``, ``tuple[X, ...]``, ``dict[K, V]``, a nested
``Strict``); the bounds a field declares in its metadata (``ge``, ``gt``, and
``min_length`` for a tuple or dict: ``field(metadata={"ge": 0})``); and the checks a
class makes in ``__post_init__``. The method names are pydantic's, so callers read as
before.
"""

from __future__ import annotations

import dataclasses
import json
import types
from datetime import date
from enum import Enum
from typing import Any, ClassVar, Literal, Self, Union, get_args, get_origin, get_type_hints


class Strict:
    """Base of a ``@dataclass(frozen=True, kw_only=True)`` read by :meth:`model_validate`."""

    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]

    @classmethod
    def model_validate(cls, data: Any, _where: str = "") -> Self:
        """An instance from plain data (JSON's types); ValueError naming the field that is wrong."""
        if not isinstance(data, dict):
            raise ValueError(
                f"{_where or cls.__name__}: expected an object, got {type(data).__name__}"
            )
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - set(fields))
        if unknown:
            raise ValueError(f"{_where or cls.__name__}: unknown key(s) {', '.join(unknown)}")
        hints = _hints(cls)
        values: dict[str, Any] = {}
        for name, spec in fields.items():
            where = f"{_where}.{name}" if _where else name
            if name not in data:
                if (
                    spec.default is dataclasses.MISSING
                    and spec.default_factory is dataclasses.MISSING
                ):
                    raise ValueError(f"{where}: missing")
                continue
            values[name] = _checked(spec, _convert(hints[name], data[name], where), where)
        try:
            return cls(**values)
        except ValueError as problem:
            raise ValueError(f"{_where or cls.__name__}: {problem}") from None

    @classmethod
    def model_validate_json(cls, text: str | bytes) -> Self:
        return cls.model_validate(json.loads(text))

    def model_dump(self, mode: Literal["json"] = "json") -> dict[str, Any]:
        """The instance as JSON's types, fields in their declared order, defaults included."""
        dumped: dict[str, Any] = _plain(self)
        return dumped

    def model_copy(self, *, update: dict[str, Any]) -> Self:
        return dataclasses.replace(self, **update)


_HINTS: dict[type, dict[str, Any]] = {}  # each class's field types, resolved once


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = get_type_hints(cls)
    return _HINTS[cls]


def _convert(hint: Any, value: Any, where: str) -> Any:
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        options = get_args(hint)
        if value is None and type(None) in options:
            return None
        problems = []
        for option in options:
            if option is not type(None):
                try:
                    return _convert(option, value, where)
                except ValueError as problem:
                    problems.append(problem)
        raise problems[0]
    if origin is Literal:
        if isinstance(value, str) and value in get_args(hint):
            return value
        raise ValueError(f"{where}: {value!r} is not one of {', '.join(get_args(hint))}")
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ValueError(f"{where}: expected a list, got {type(value).__name__}")
        item = get_args(hint)[0]
        return tuple(_convert(item, v, f"{where}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            raise ValueError(f"{where}: expected an object, got {type(value).__name__}")
        key_hint, value_hint = get_args(hint)
        return {
            _convert(key_hint, k, f"{where} key"): _convert(value_hint, v, f"{where}.{k}")
            for k, v in value.items()
        }
    if isinstance(hint, type) and issubclass(hint, Strict):
        return hint.model_validate(value, where)
    if isinstance(hint, type) and issubclass(hint, Enum):
        try:
            return hint(value)
        except ValueError:
            raise ValueError(f"{where}: {value!r} is not a {hint.__name__}") from None
    if hint is date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)
        except (TypeError, ValueError):
            raise ValueError(f"{where}: {value!r} is not a date (YYYY-MM-DD)") from None
    if hint is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if hint is int and isinstance(value, float) and value.is_integer():
        return int(value)
    if (
        hint in (int, str, bool)
        and isinstance(value, hint)
        and not (hint is int and isinstance(value, bool))
    ):
        return value
    raise ValueError(f"{where}: {value!r} is not {getattr(hint, '__name__', hint)}")


def _checked(spec: dataclasses.Field[Any], value: Any, where: str) -> Any:
    limits = spec.metadata
    if value is None:
        return value
    if "ge" in limits and not value >= limits["ge"]:
        raise ValueError(f"{where}: {value!r} is below {limits['ge']}")
    if "gt" in limits and not value > limits["gt"]:
        raise ValueError(f"{where}: {value!r} must be above {limits['gt']}")
    if "min_length" in limits and len(value) < limits["min_length"]:
        raise ValueError(f"{where}: needs at least {limits['min_length']} item(s)")
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, Strict):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    return value
