"""Record formats Bedrock accepts, each a checker of one parsed JSON line.

A checker reports every problem of a record through ``emit`` and returns the
record's token estimate (``None`` when the record is too broken to count).
Formats (source: https://docs.aws.amazon.com/bedrock/latest/userguide/model-customization-prepare.html):

- ``prompt-completion``: ``{"prompt": "...", "completion": "..."}``
- ``continued-pretraining``: ``{"input": "..."}``
- ``conversation``: ``bedrock-conversation-2024`` (Nova, Llama 3.2/3.3):
  ``{"schemaVersion", "system": [{"text"}], "messages": [{"role", "content": [{"text"}]}]}``
- ``claude-messages``: ``{"system": "...", "messages": [{"role", "content": "..."}]}`` (Claude 3 Haiku)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, Protocol

from customization_core.catalog import DataFormat
from customization_core.tokens import (
    MESSAGE_OVERHEAD_TOKENS,
    RECORD_OVERHEAD_TOKENS,
    estimate_tokens,
)

CONVERSATION_SCHEMA: Final = "bedrock-conversation-2024"
# Content blocks of the conversation schema this validator cannot check yet.
MEDIA_BLOCKS: Final = ("image", "video", "document")

# Words Amazon Nova reserves; a prompt that contains one fails the training job. Source:
# https://docs.aws.amazon.com/nova/latest/userguide/fine-tune-prepare-data-understanding.html
NOVA_RESERVED_WORDS: Final = (
    "System:",
    "User:",
    "Bot:",
    "Assistant:",
    "[EOS]",
    "<image>",
    "<video>",
)


class Emit(Protocol):
    def __call__(self, severity: str, code: str, field: str | None, message: str) -> None: ...


Checker = Callable[[dict[str, Any], Emit], "int | None"]

_MISSING: Final = object()


def _type_name(value: object) -> str:
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


def _string_field(
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
    value = record.get(name, _MISSING)
    if type(value) is str:
        if not value.strip():
            emit(
                "error",
                "empty-field",
                field,
                f'"{field}" is empty; give it the text to train on, or remove the record.',
            )
        return estimate_tokens(value, cpt)
    if value is _MISSING:
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
            f'"{field}" is {_type_name(value)}; it must be a string, as in {example}.',
        )
    return 0


def _unknown_fields(
    record: dict[str, Any], known: tuple[str, ...], example: str, emit: Emit
) -> None:
    for name in record:
        if name not in known:
            emit(
                "warning",
                "unknown-field",
                name,
                f'"{name}" is not a field of this format and is ignored; records look like {example}.',
            )


def prompt_completion(cpt: int) -> Checker:
    example = '{"prompt": "...", "completion": "..."}'
    known = ("prompt", "completion")

    def check(record: dict[str, Any], emit: Emit) -> int | None:
        prompt = record.get("prompt")
        completion = record.get("completion")
        # The common case, checked in as few operations as possible: two
        # non-blank ASCII strings and nothing else (isascii is O(1)).
        if (
            type(prompt) is str
            and type(completion) is str
            and len(record) == 2
            and prompt.isascii()
            and completion.isascii()
            and prompt
            and completion
            and not prompt.isspace()
            and not completion.isspace()
        ):
            return RECORD_OVERHEAD_TOKENS - (-len(prompt) // cpt) - (-len(completion) // cpt)
        tokens = RECORD_OVERHEAD_TOKENS
        tokens += _string_field(record, "prompt", example, emit, cpt)
        tokens += _string_field(record, "completion", example, emit, cpt)
        if len(record) != 2 or "prompt" not in record or "completion" not in record:
            _unknown_fields(record, known, example, emit)
        return tokens

    return check


def continued_pretraining(cpt: int) -> Checker:
    example = '{"input": "..."}'
    known = ("input",)

    def check(record: dict[str, Any], emit: Emit) -> int | None:
        text = record.get("input")
        if (
            type(text) is str
            and len(record) == 1
            and text.isascii()
            and text
            and not text.isspace()
        ):
            return RECORD_OVERHEAD_TOKENS - (-len(text) // cpt)
        tokens = RECORD_OVERHEAD_TOKENS + _string_field(record, "input", example, emit, cpt)
        if len(record) != 1 or "input" not in record:
            _unknown_fields(record, known, example, emit)
        return tokens

    return check


def _roles(messages: list[Any], emit: Emit, roles: list[str | None]) -> None:
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
    for i in range(1, len(roles)):
        if roles[i] == roles[i - 1]:
            emit(
                "error",
                "wrong-role-order",
                f"messages[{i}].role",
                f'Messages {i - 1} and {i} are both "{roles[i]}"; roles must alternate user, assistant, user, ...',
            )
            break
    if roles[-1] != "assistant":
        emit(
            "error",
            "wrong-role-order",
            f"messages[{len(roles) - 1}].role",
            'The last message must have role "assistant": it is the answer the model learns.',
        )


def _check_text(text: str, field: str, emit: Emit, reserved: tuple[str, ...]) -> None:
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


def conversation(cpt: int, *, reserved: tuple[str, ...] = ()) -> Checker:
    example = (
        '{"schemaVersion": "bedrock-conversation-2024", "system": [{"text": "..."}], '
        '"messages": [{"role": "user", "content": [{"text": "..."}]}, '
        '{"role": "assistant", "content": [{"text": "..."}]}]}'
    )
    known = ("schemaVersion", "system", "messages")

    def blocks(value: Any, field: str, emit: Emit) -> int:
        if not isinstance(value, list) or not value:
            emit(
                "error",
                "wrong-type",
                field,
                f'"{field}" must be a non-empty list of {{"text": "..."}} blocks.',
            )
            return 0
        tokens = 0
        for j, block in enumerate(value):
            where = f"{field}[{j}]"
            if not isinstance(block, dict):
                emit(
                    "error",
                    "wrong-type",
                    where,
                    f'"{where}" must be an object such as {{"text": "..."}}.',
                )
                continue
            media = next((kind for kind in MEDIA_BLOCKS if kind in block), None)
            if media is not None:
                emit(
                    "error",
                    "unsupported-content",
                    f"{where}.{media}",
                    f"{media.capitalize()} content is not supported by this validator yet; "
                    "validate text-only records here and check media records against the Bedrock documentation.",
                )
                continue
            text = block.get("text", _MISSING)
            if type(text) is not str:
                code = "missing-field" if text is _MISSING else "wrong-type"
                emit("error", code, f"{where}.text", f'"{where}" needs a "text" string.')
                continue
            _check_text(text, f"{where}.text", emit, reserved)
            tokens += estimate_tokens(text, cpt)
            for extra in block:
                if extra != "text":
                    emit(
                        "warning",
                        "unknown-field",
                        f"{where}.{extra}",
                        f'"{extra}" is not a field of a text block and is ignored.',
                    )
        return tokens

    def check(record: dict[str, Any], emit: Emit) -> int | None:
        # The Nova guide allows any string here; the documented value is the safe one.
        version = record.get("schemaVersion", _MISSING)
        if version is _MISSING:
            emit(
                "warning",
                "missing-field",
                "schemaVersion",
                f'The record has no "schemaVersion"; set it to "{CONVERSATION_SCHEMA}".',
            )
        elif type(version) is not str:
            emit(
                "error",
                "wrong-type",
                "schemaVersion",
                f'"schemaVersion" is {_type_name(version)}; set it to "{CONVERSATION_SCHEMA}".',
            )
        elif version != CONVERSATION_SCHEMA:
            emit(
                "warning",
                "unexpected-value",
                "schemaVersion",
                f'"schemaVersion" is {version!r}; the documented value is "{CONVERSATION_SCHEMA}".',
            )
        tokens = RECORD_OVERHEAD_TOKENS
        if "system" in record:
            tokens += blocks(record["system"], "system", emit) + MESSAGE_OVERHEAD_TOKENS
        return _messages(
            record,
            emit,
            example,
            known,
            lambda message, where: blocks(message.get("content"), f"{where}.content", emit),
            tokens,
        )

    return check


def claude_messages(cpt: int) -> Checker:
    example = (
        '{"system": "...", "messages": [{"role": "user", "content": "..."}, '
        '{"role": "assistant", "content": "..."}]}'
    )
    known = ("system", "messages")

    def check(record: dict[str, Any], emit: Emit) -> int | None:
        tokens = RECORD_OVERHEAD_TOKENS
        system = record.get("system", _MISSING)
        if system is not _MISSING:
            if type(system) is not str:
                emit(
                    "error",
                    "wrong-type",
                    "system",
                    f'"system" is {_type_name(system)}; it must be a string.',
                )
            else:
                tokens += estimate_tokens(system, cpt) + MESSAGE_OVERHEAD_TOKENS
        return _messages(
            record,
            emit,
            example,
            known,
            lambda message, where: _string_field(
                message, "content", example, emit, cpt, path=f"{where}.content"
            ),
            tokens,
        )

    return check


def _messages(
    record: dict[str, Any],
    emit: Emit,
    example: str,
    known: tuple[str, ...],
    content: Callable[[dict[str, Any], str], int],
    tokens: int,
) -> int | None:
    """Check ``messages`` of a chat record: ``tokens`` plus its messages', or None if it has none."""
    messages = record.get("messages", _MISSING)
    _unknown_fields(record, known, example, emit)
    if not isinstance(messages, list):
        code = "missing-field" if messages is _MISSING else "wrong-type"
        emit(
            "error",
            code,
            "messages",
            f'"messages" must be a list of messages; records look like {example}.',
        )
        return None
    roles: list[str | None] = []
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
        if role in ("user", "assistant"):
            roles.append(role)
        else:
            emit(
                "error",
                "invalid-role",
                f"{where}.role",
                f'"{where}.role" is {role!r}; it must be "user" or "assistant".',
            )
            roles.append(None)
        tokens += content(message, where) + MESSAGE_OVERHEAD_TOKENS
    _roles(messages, emit, roles)
    return tokens


def checker(data_format: DataFormat, cpt: int, *, nova: bool) -> Checker:
    """The checker of ``data_format`` for a model family with ``cpt`` characters per token."""
    if data_format == "prompt-completion":
        return prompt_completion(cpt)
    if data_format == "continued-pretraining":
        return continued_pretraining(cpt)
    if data_format == "conversation":
        return conversation(cpt, reserved=NOVA_RESERVED_WORDS if nova else ())
    return claude_messages(cpt)


def detect(record: dict[str, Any]) -> DataFormat | None:
    """Which format a record is written in, judged by its keys alone."""
    if "schemaVersion" in record:
        return "conversation"
    if "messages" in record:
        messages = record["messages"]
        first = messages[0] if isinstance(messages, list) and messages else None
        if isinstance(first, dict) and isinstance(first.get("content"), list):
            return "conversation"
        return "claude-messages"
    if "prompt" in record or "completion" in record:
        return "prompt-completion"
    if "input" in record:
        return "continued-pretraining"
    return None
