"""Turning a pydantic ValidationError into sentences a person can act on.

One sentence per problem: the full key path, the value given, and what is
allowed. Shared by the deployment settings and the job manifest. Values and
key paths are quoted through ``bounded.quote``, and at most ``MAX_LISTED``
sentences are given (the rest are counted), so a reply stays short whatever
the input.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from pydantic import BaseModel, ValidationError

from customization_core.bounded import MAX_LISTED, quote

# Marks a validator's own message that already says what is allowed.
ALLOWED_MARK = "is not allowed; allowed:"


def not_allowed(value: object, allowed: str) -> str:
    """The message a field validator raises: the value and what is allowed."""
    return f"{quote(value)} {ALLOWED_MARK} {allowed}"


def describe(
    error: ValidationError,
    *,
    noun: str,
    prefix: str,
    allowed: Mapping[str, str],
    owner: Callable[[list[str]], type[BaseModel]],
) -> list[str]:
    """One sentence per problem of ``error``.

    ``noun`` names what was wrong ("Setting", "Manifest field"); ``prefix`` is
    prepended to each key path; ``allowed`` says, per key as the user writes
    it, what values it takes; ``owner`` gives the model a path's last key
    belongs to, to list the known keys when an unknown one is given.
    """
    sentences = []
    problems = error.errors()
    for problem in problems[:MAX_LISTED]:
        path = [str(part) for part in problem["loc"]]
        # The key the user wrote is the last part of the path that is not a list index.
        key = next((part for part in reversed(path) if not part.isdigit()), "")
        # The path holds the keys the user wrote: quoted, so bounded, like any value.
        where = quote(".".join([prefix, *path]) if prefix else ".".join(path))
        if problem["type"] == "extra_forbidden":
            model = owner(path[:-1])
            known = ", ".join(sorted(f.alias or n for n, f in model.model_fields.items()))
            sentences.append(
                f"{noun} {where} is not a known {noun.lower()}; allowed keys: {known}."
            )
            continue
        message = str(problem["msg"]).removeprefix("Value error, ")
        if not path:  # a rule across fields: the validator's message says it all
            sentences.append(f"{message[:1].upper()}{message[1:]}.")
            continue
        if ALLOWED_MARK in message:
            sentences.append(f"{noun} {where}: {message}.")
            continue
        if problem["type"] == "missing":
            sentences.append(
                f"{noun} {where} is missing; it is required ({allowed.get(key, 'see the README')})."
            )
            continue
        what = allowed.get(key, "see the README")
        value = problem.get("input")
        # Only the first letter is lowered: the message may quote what the user wrote.
        reason = message[:1].lower() + message[1:]
        sentences.append(
            f"{noun} {where} has {quote(value)}, which is not allowed ({reason}); allowed: {what}."
        )
    if len(problems) > MAX_LISTED:
        sentences.append(
            f"And {len(problems) - MAX_LISTED:,} more problems of the same kinds: fix these first."
        )
    return sentences
