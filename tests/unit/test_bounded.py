"""The bounds on input (issue 13): nesting measured without recursion, user values quoted short."""

from __future__ import annotations

import sys

import orjson
import pytest

from customization_core.bounded import (
    ELLIPSIS,
    MAX_DEPTH,
    QUOTE_MAX,
    clip,
    depth_problem,
    is_depth_error,
    quote,
    too_deep,
)

# A quote is at most QUOTE_MAX characters and the size note after it.
QUOTED_MAX = QUOTE_MAX + len(" (an object of 1,000,000,000 keys)")


def _chain(depth: int, *, inner: object = 1) -> list[object]:
    """A list nested ``depth`` deep (``depth`` >= 1), built without recursion."""
    root: list[object] = []
    node = root
    for _ in range(depth - 1):
        child: list[object] = []
        node.append(child)
        node = child
    node.append(inner)
    return root


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("abc", "'abc'"),
        ("it's", '"it\'s"'),
        ("", "''"),
        (None, "None"),
        (True, "True"),
        (2, "2"),
        (1e-06, "1e-06"),
        ({"epochCount": [2]}, "{'epochCount': [2]}"),
        ([1, "a", {"b": None}], "[1, 'a', {'b': None}]"),
        ({}, "{}"),
        ([], "[]"),
    ],
)
def test_a_short_value_is_quoted_as_repr_writes_it(value: object, expected: str) -> None:
    assert quote(value) == expected == repr(value)


def test_a_long_string_shows_its_start_and_its_length() -> None:
    # Given the 300 KB field of the fuzz review
    value = "a" * 300_059

    # When it is quoted
    quoted = quote(value)

    # Then its start fills the limit, an ellipsis marks the cut, and its length is said
    assert quoted == "'" + "a" * (QUOTE_MAX - 3) + ELLIPSIS + "' (300,059 characters)"
    assert quoted.index(" (") == QUOTE_MAX


def test_escapes_count_towards_the_limit_and_are_never_cut_in_half() -> None:
    quoted = quote("\x00" * 200)
    shown, size = quoted.split(" (")
    assert len(shown) <= QUOTE_MAX
    assert shown == repr("\x00" * ((QUOTE_MAX - 3) // 4) + ELLIPSIS)
    assert size == "200 characters)"


def test_a_string_just_over_the_limit_is_cut_and_one_at_it_is_not() -> None:
    at_limit = "x" * (QUOTE_MAX - 2)
    assert quote(at_limit) == repr(at_limit)
    assert quote(at_limit + "x").endswith(f"{ELLIPSIS}' ({QUOTE_MAX - 1} characters)")


@pytest.mark.parametrize(
    ("value", "size"),
    [
        ({"k" * 1000: 1}, "(an object of 1 key)"),
        ({str(i): i for i in range(5000)}, "(an object of 5,000 keys)"),
        (list(range(100_000)), "(a list of 100,000 items)"),
        (_chain(100_000), "(a list of 1 item)"),
    ],
)
def test_a_large_container_shows_its_start_and_how_many_items_it_has(
    value: object, size: str
) -> None:
    quoted = quote(value)
    assert quoted.endswith(f"{ELLIPSIS} {size}")
    assert len(quoted) <= QUOTED_MAX


def test_a_container_nested_past_the_recursion_limit_is_quoted_without_recursing() -> None:
    deep = _chain(sys.getrecursionlimit() * 10)
    with pytest.raises(RecursionError):
        repr(deep)  # the crash of the fuzz review
    assert quote(deep).startswith("[" * (QUOTE_MAX - 1) + ELLIPSIS)


def test_a_number_too_long_to_write_is_named_not_written() -> None:
    assert quote(10**5000) == "<a number too long to write>"


def test_a_smaller_limit_is_kept() -> None:
    assert quote("abcdefghij", limit=8) == "'abcde…' (10 characters)"
    assert clip("abcdefghij", limit=8) == "abcdefg… (10 characters)"


def test_clip_leaves_short_text_alone_and_cuts_long_text_with_its_length() -> None:
    assert clip("messages[0].role") == "messages[0].role"
    assert clip("k" * 300_059) == "k" * (QUOTE_MAX - 1) + ELLIPSIS + " (300,059 characters)"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, None),
        ("text", None),
        ({}, None),
        ({"a": _chain(MAX_DEPTH - 1)}, None),  # 64 levels with the object around it
        ({"a": 1, "b": _chain(MAX_DEPTH)}, "b"),  # 65
        (_chain(MAX_DEPTH), None),
        (_chain(MAX_DEPTH + 1), 0),
        ({"a": [{"b": [{}]}]}, None),
    ],
)
def test_too_deep_names_the_field_under_which_nesting_passes_the_limit(
    value: object, expected: str | int | None
) -> None:
    assert too_deep(value) == expected


def test_too_deep_counts_containers_not_values() -> None:
    assert too_deep({"a": [1]}, limit=2) is None
    assert too_deep({"a": [[1]]}, limit=2) == "a"
    assert too_deep({"a": "[[[[[[[[[[[["}, limit=1) is None


def test_too_deep_measures_any_depth_without_recursion() -> None:
    assert too_deep({"x": _chain(100_000)}) == "x"


def test_orjson_refuses_1025_levels_with_the_message_is_depth_error_knows() -> None:
    # Pins orjson's own limit: 1,024 levels parse, 1,025 raise JSONDecodeError.
    assert too_deep(orjson.loads(b"[" * 1024 + b"]" * 1024)) == 0
    for data in (b"[" * 1025 + b"]" * 1025, b'{"a":' * 1025 + b"1" + b"}" * 1025, b"[" * 100_000):
        with pytest.raises(orjson.JSONDecodeError) as raised:
            orjson.loads(data)
        assert is_depth_error(raised.value)
        assert raised.value.msg == "depth limit exceeded"
    with pytest.raises(orjson.JSONDecodeError) as other:
        orjson.loads(b"[1,")
    assert not is_depth_error(other.value)


def test_the_depth_sentence_says_the_limit_and_where() -> None:
    assert depth_problem("job.json", "tags") == (
        f"job.json nests objects and lists more than {MAX_DEPTH} levels deep under 'tags'"
    )
    assert depth_problem("The record") == (
        f"The record nests objects and lists more than {MAX_DEPTH} levels deep"
    )
    assert len(depth_problem("x", "k" * 300_000)) < 300
