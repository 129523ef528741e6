"""Bounds on what one input can make the code do: how deep it nests, how much of it is quoted.

A JSON document nested a thousand levels deep made recursive code (``repr``,
pydantic) raise RecursionError, and a 300 KB field quoted whole became a
300,059-character message in the registry, the SNS notification and the logs
(issue 13). So the manifest parser, the request check and the dataset validator
refuse documents nested deeper than ``MAX_DEPTH`` (checked here without
recursion, before anything else walks them), and quote what a user wrote only
through ``quote`` (or ``clip``, where the text stands unquoted).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

# Objects and lists nested in one JSON document (a job.json, one dataset record).
# The deepest documented format needs 8: a conversation record's record > messages >
# message > content > block > image > source > s3Location (source:
# https://docs.aws.amazon.com/bedrock/latest/userguide/model-customization-prepare.html);
# a manifest needs 3 (manifest > evaluate > prompts). 64 is eight times the deepest,
# and far below Python's recursion limit (1,000 frames, where repr and pydantic fail)
# and orjson's own limit (1,024 levels, see is_depth_error).
MAX_DEPTH: Final = 64
# Characters of a user value a message shows (quotes included): a model id (the catalog's
# longest is 43), a field name or an S3 URI of ordinary length fits whole, enough of
# anything longer shows to find it, and a sentence quoting three values stays one line.
QUOTE_MAX: Final = 120
# Problems of one kind listed before the rest are only counted: a 64 KB manifest holds
# some 5,000 unknown keys, and a sentence for each made a 1 MB reason.
MAX_LISTED: Final = 20
# What orjson (3.x) says, in a JSONDecodeError, of containers nested more than 1,024 deep.
ORJSON_DEPTH_MESSAGE: Final = "depth limit exceeded"
ELLIPSIS: Final = "\u2026"
_END: Final = object()


def too_deep(value: object, limit: int = MAX_DEPTH) -> str | int | None:
    """The key (or index) of ``value`` under which objects and lists nest more than ``limit`` deep.

    None when they do not. Depth counts containers: ``1`` is 0 deep, ``{}`` 1 and
    ``{"a": [1]}`` 2. Iterative, so any depth is measured without recursion.
    """
    if not isinstance(value, dict | list):
        return None
    top = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in top:
        stack: list[tuple[Any, int]] = [(child, 2)] if isinstance(child, dict | list) else []
        while stack:
            node, depth = stack.pop()
            if depth > limit:
                return key
            items = node.values() if isinstance(node, dict) else node
            stack.extend((item, depth + 1) for item in items if isinstance(item, dict | list))
    return None


def is_depth_error(problem: ValueError) -> bool:
    """Whether a JSON parser's error is orjson refusing containers nested over 1,024 deep.

    orjson raises ``JSONDecodeError("depth limit exceeded: line 1 column 1026 (char
    1025)")`` for 1,025 levels (and for any document that opens that many, closed or
    not): the same mistake as 65 levels, reported as such. The tests pin the message.
    """
    return str(getattr(problem, "msg", problem)).startswith(ORJSON_DEPTH_MESSAGE)


def depth_problem(what: str, under: str | int | None = None) -> str:
    """The start of the sentence that refuses ``what`` for nesting too deep (the caller adds the fix)."""
    where = f" under {quote(under)}" if under is not None else ""
    return f"{what} nests objects and lists more than {MAX_DEPTH} levels deep{where}"


def quote(value: object, limit: int = QUOTE_MAX) -> str:
    """``repr(value)`` when it is at most ``limit`` characters; else its start, '…' and its size.

    ``quote("a" * 300_059)`` is ``'aaa…' (300,059 characters)``, the start as long
    as fits in ``limit``; a list or object says how many items or keys it has. No
    recursion, and no more of ``value`` is read than is shown.
    """
    if isinstance(value, str):
        return _quote_text(value, limit)
    shown, whole = _render(value, limit)
    if whole:
        return shown
    return f"{shown[: limit - 1]}{ELLIPSIS} ({_size(value)})"


def clip(text: str, limit: int = QUOTE_MAX) -> str:
    """``text`` itself when at most ``limit`` characters; else its start, '…' and its length."""
    if len(text) <= limit:
        return text
    return f"{text[: limit - 1]}{ELLIPSIS} ({len(text):,} characters)"


def _quote_text(text: str, limit: int) -> str:
    if len(text) <= limit:
        shown = repr(text)
        if len(shown) <= limit:
            return shown
    # The longest start whose repr, with the ellipsis, fits (escapes make repr longer).
    low, high = 0, min(len(text), limit)
    while low < high:
        middle = (low + high + 1) // 2
        if len(repr(text[:middle] + ELLIPSIS)) <= limit:
            low = middle
        else:
            high = middle - 1
    return f"{text[:low] + ELLIPSIS!r} ({len(text):,} characters)"


def _size(value: object) -> str:
    if isinstance(value, dict):
        return f"an object of {len(value):,} {'key' if len(value) == 1 else 'keys'}"
    if isinstance(value, list):
        return f"a list of {len(value):,} {'item' if len(value) == 1 else 'items'}"
    return f"{len(_scalar(value)):,} characters"


class _Punctuation(str):
    """Brackets and separators of a rendered container (written as they are, not quoted)."""

    __slots__ = ()


def _render(value: object, limit: int) -> tuple[str, bool]:
    """``repr(value)`` written without recursion, stopped once longer than ``limit``: (text, whole)."""
    parts: list[str] = []
    size = 0
    pending: list[Iterator[object]] = [iter((value,))]
    while pending:
        item = next(pending[-1], _END)
        if item is _END:  # this container is written out
            pending.pop()
            continue
        if isinstance(item, dict):
            pending.append(_object_parts(item))
            continue
        if isinstance(item, list):
            pending.append(_list_parts(item))
            continue
        if isinstance(item, _Punctuation):
            piece = str(item)
        elif isinstance(item, str):
            piece = repr(item[: limit - size + 1])  # one more than fits is enough to tell
        else:
            piece = _scalar(item)
        parts.append(piece)
        size += len(piece)
        if size > limit:
            return "".join(parts), False
    return "".join(parts), True


def _object_parts(value: dict[Any, Any]) -> Iterator[object]:
    yield _Punctuation("{")
    for i, (key, item) in enumerate(value.items()):
        if i:
            yield _Punctuation(", ")
        yield key
        yield _Punctuation(": ")
        yield item
    yield _Punctuation("}")


def _list_parts(value: list[Any]) -> Iterator[object]:
    yield _Punctuation("[")
    for i, item in enumerate(value):
        if i:
            yield _Punctuation(", ")
        yield item
    yield _Punctuation("]")


def _scalar(value: object) -> str:
    try:
        return repr(value)
    except ValueError:  # an int past Python's 4,300-digit limit of int-to-text conversion
        return "<a number too long to write>"
