"""The pieces every record format's checker is built from: how problems are told, field checks.

A checker (customization_core/formats.py, conversation_format.py, prompt_formats.py)
reports each problem of a record through an ``Emit`` and returns the record's token estimate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final, Protocol, TypeGuard

from customization_core.bounded import clip, quote
from customization_core.tokens import MESSAGE_OVERHEAD_TOKENS, estimate_tokens


class Emit(Protocol):
    def __call__(self, severity: str, code: str, field: str | None, message: str) -> None: ...


Checker = Callable[[dict[str, Any], Emit], "int | None"]
# What ``record.get(name, MISSING)`` gives for an absent field, told apart from a null one.
MISSING: Final = object()


def type_name(value: object) -> str:
    if value is None:
        return "null"
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)


def role_name(role: object) -> str:
    """A message's role as a sentence names its turn: the role itself, or what was written, quoted."""
    if isinstance(role, str) and role in ("user", "assistant", "system"):
        return role
    return quote(role)


def string_field(
    record: dict[str, Any],
    name: str,
    example: str,
    emit: Emit,
    cpt: int,
    *,
    path: str | None = None,
) -> int:
    """Check one required string field; its token estimate (0 when absent or not a string)."""
    field = path or name
    value = record.get(name, MISSING)
    if type(value) is str:
        if not value.strip():
            emit(
                "error",
                "empty-field",
                field,
                f'"{field}" is empty; give it the text to train on, or remove the record.',
            )
        return estimate_tokens(value, cpt)
    if value is MISSING:
        emit(
            "error",
            "missing-field",
            field,
            f'The record has no "{field}" field; each record must look like {example}.',
        )
    else:
        emit(
            "error",
            "wrong-type",
            field,
            f'"{field}" is {type_name(value)}; it must be a string, as in {example}.',
        )
    return 0


def unknown_fields(
    record: dict[str, Any], known: tuple[str, ...], example: str, emit: Emit
) -> None:
    for name in record:
        if name not in known:
            emit(
                "warning",
                "unknown-field",
                clip(name),
                f"{quote(name)} is not a field of this format and is ignored; records look like {example}.",
            )


def check_roles(messages: list[Any], emit: Emit, roles: list[str | None]) -> None:
    """User first, then alternating, assistant last."""
    named = [role for role in roles if role in ("user", "assistant")]
    if len(named) != len(roles):
        return  # each bad role was reported where it was found
    if len(roles) < 2:
        emit(
            "error",
            "too-few-messages",
            "messages",
            "A record needs at least one user message followed by one assistant message.",
        )
        return
    if roles[0] != "user":
        emit(
            "error",
            "wrong-role-order",
            "messages[0].role",
            'The first message must have role "user".',
        )
    alternate(roles, emit)
    if roles[-1] != "assistant":
        emit(
            "error",
            "wrong-role-order",
            f"messages[{len(roles) - 1}].role",
            'The last message must have role "assistant": it is the answer the model learns.',
        )


def alternate(roles: list[str | None], emit: Emit) -> bool:
    """Whether no two neighbouring messages share a role; the first pair that does is reported."""
    for i in range(1, len(roles)):
        if roles[i] == roles[i - 1]:
            emit(
                "error",
                "wrong-role-order",
                f"messages[{i}].role",
                f'Messages {i - 1} and {i} are both "{roles[i]}"; roles must alternate user, assistant, user, ...',
            )
            return False
    return True


def check_text(text: str, field: str, emit: Emit, reserved: tuple[str, ...]) -> None:
    if not text.strip():
        emit(
            "error", "empty-field", field, f'"{field}" is empty; give it text or remove the block.'
        )
    for word in reserved:
        if word in text:
            emit(
                "error",
                "reserved-word",
                field,
                f'"{field}" contains "{word}", which Amazon Nova reserves for its prompt template; reword it.',
            )


def block_list(value: Any, field: str, emit: Emit) -> TypeGuard[list[Any]]:
    """Whether ``value`` is a non-empty list of content blocks; reported at ``field`` if not."""
    if isinstance(value, list) and value:
        return True
    emit(
        "error",
        "wrong-type",
        field,
        f'"{field}" must be a non-empty list of {{"text": "..."}} blocks.',
    )
    return False


def text_block(
    block: dict[str, Any], where: str, emit: Emit, reserved: tuple[str, ...], cpt: int
) -> int:
    """Check the ``text`` of the text block at ``where``; its token estimate (0 without one)."""
    text = block.get("text", MISSING)
    if type(text) is not str:
        code = "missing-field" if text is MISSING else "wrong-type"
        emit("error", code, f"{where}.text", f'"{where}" needs a "text" string.')
        return 0
    check_text(text, f"{where}.text", emit, reserved)
    return estimate_tokens(text, cpt)


def block_object(block: Any, where: str, emit: Emit) -> TypeGuard[dict[str, Any]]:
    """Whether the content block at ``where`` is an object; reported if not."""
    if isinstance(block, dict):
        return True
    emit(
        "error",
        "wrong-type",
        where,
        f'"{where}" must be an object such as {{"text": "..."}}.',
    )
    return False


def message_list(record: dict[str, Any], example: str, emit: Emit) -> list[Any] | None:
    """The record's ``messages`` when it is a list, else None (reported, ``example`` the fix)."""
    messages = record.get("messages", MISSING)
    if isinstance(messages, list):
        return messages
    emit(
        "error",
        "missing-field" if messages is MISSING else "wrong-type",
        "messages",
        f'"messages" must be a list of messages; records look like {example}.',
    )
    return None


def check_messages(
    record: dict[str, Any],
    emit: Emit,
    example: str,
    known: tuple[str, ...],
    content: Callable[[dict[str, Any], str], int],
    tokens: int,
) -> int | None:
    """Check ``messages`` of a chat record: ``tokens`` plus its messages', or None if it has none."""
    unknown_fields(record, known, example, emit)
    messages = message_list(record, example, emit)
    if messages is None:
        return None
    roles, counted = message_roles(messages, emit, content)
    check_roles(messages, emit, roles)
    return tokens + counted


def message_roles(
    messages: list[Any],
    emit: Emit,
    content: Callable[[dict[str, Any], str], int],
    *,
    allowed: tuple[str, ...] = ("user", "assistant"),
    must: str = '"user" or "assistant"',
    hints: Mapping[str, str] | None = None,
) -> tuple[list[str | None], int]:
    """Each message's role and the tokens of all: ``content``'s count of each plus its overhead.

    A message that is not an object, or whose role is not one of ``allowed``, is reported
    where it is and has the role None. ``must`` names the roles in the sentence;
    ``hints`` adds a clause to it for a given wrong role (where that role belongs).
    """
    roles: list[str | None] = []
    tokens = 0
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            emit(
                "error",
                "wrong-type",
                where,
                f'"{where}" must be an object with "role" and "content".',
            )
            roles.append(None)
            continue
        role = message.get("role")
        if role in allowed:
            roles.append(role)
        else:
            # A role may be any JSON value, a list too: only a string is looked up.
            hint = hints.get(role, "") if hints and isinstance(role, str) else ""
            emit(
                "error",
                "invalid-role",
                f"{where}.role",
                f'"{where}.role" is {quote(role)}; it must be {must}{hint}.',
            )
            roles.append(None)
        tokens += content(message, where) + MESSAGE_OVERHEAD_TOKENS
    return roles, tokens
