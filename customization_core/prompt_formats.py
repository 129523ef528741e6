"""The records of the two types whose answers the model does not learn from the file.

- ``distillation-prompts``: the ``bedrock-conversation-2024`` record with the user's turn
  last (an unlabelled prompt: the teacher writes the answer) or an assistant turn last (a
  labelled prompt-response pair, a "golden example"), text only. Source (read 2026-12-02):
  https://docs.aws.amazon.com/bedrock/latest/userguide/distillation-data-prep-option-1.html,
  https://docs.aws.amazon.com/bedrock/latest/userguide/model-distillation.html
- ``rft-messages``: OpenAI chat-completion messages ending with the user's turn (the model
  writes the answer during training) and a ``reference_answer`` the grader compares it
  with (customization_core/rft_fields.py); any other field is passed on to the grader.
  Source (read 2026-12-02):
  https://docs.aws.amazon.com/bedrock/latest/userguide/rft-prepare-data.html

Both check a record as the other formats do (customization_core/formats.py): every problem
through ``emit`` with a code and a field path such as ``messages[1].content``, and the
record's token estimate returned (None when it has no messages to count).
"""

from __future__ import annotations

from typing import Any, Final

from customization_core.bounded import clip, quote
from customization_core.conversation_format import CONTENT_KINDS, CONVERSATION_SCHEMA
from customization_core.record_fields import (
    MISSING,
    Checker,
    Emit,
    alternate,
    block_list,
    block_object,
    message_list,
    message_roles,
    text_block,
    type_name,
    unknown_fields,
)
from customization_core.rft_fields import REFERENCE_FIELD, good_reference, grader_field, reference
from customization_core.tokens import (
    MESSAGE_OVERHEAD_TOKENS,
    RECORD_OVERHEAD_TOKENS,
    estimate_tokens,
)

# Distillation students are text-to-text models: "the models in the table support only
# the text-to-text modality" (read 2026-12-02,
# https://docs.aws.amazon.com/bedrock/latest/userguide/distillation-prepare-datasets.html).
_NOT_TEXT: Final = tuple(kind for kind in CONTENT_KINDS if kind != "text")
# "Anthropic and Meta Llama models support only single-turn conversation prompts, meaning
# you can only have one user prompt. The Amazon Nova models support multi-turn" (read
# 2026-12-02, https://docs.aws.amazon.com/bedrock/latest/userguide/distillation-data-prep-option-1.html).
_SINGLE_TURN_SOURCE: Final = (
    "https://docs.aws.amazon.com/bedrock/latest/userguide/distillation-data-prep-option-1.html"
)
# Where a distillation message with role "system" belongs instead.
_SYSTEM_HINT: Final = {"system": ' (a system prompt goes in the record\'s "system" field)'}


def distillation_prompts(
    cpt: int, *, reserved: tuple[str, ...] = (), single_turn: bool = False
) -> Checker:
    """Distillation's prompt records; ``single_turn``: one user message at most (Llama students).

    ``reserved``: words the student's prompt template reserves (Amazon Nova's, as in the
    conversation format). Tokens are counted as the conversation checker counts them.
    """
    example = (
        f'{{"schemaVersion": "{CONVERSATION_SCHEMA}", "system": [{{"text": "..."}}], '
        '"messages": [{"role": "user", "content": [{"text": "..."}]}]}'
    )
    known = ("schemaVersion", "system", "messages")
    most = 2 if single_turn else None

    def plain(value: Any) -> str | None:
        """The text of a content list that is one good text block (the common case), else None."""
        if type(value) is list and len(value) == 1:
            block = value[0]
            if type(block) is dict and len(block) == 1:
                text = block.get("text")
                if (
                    type(text) is str
                    and text
                    and not text.isspace()
                    and not (reserved and any(word in text for word in reserved))
                ):
                    return text
        return None

    def fast(record: dict[str, Any]) -> int | None:
        """The token estimate of a record with nothing to report, or None to look closer."""
        messages = record.get("messages")
        if record.get("schemaVersion") != CONVERSATION_SCHEMA or type(messages) is not list:
            return None
        if not messages or (most is not None and len(messages) > most):
            return None
        tokens = RECORD_OVERHEAD_TOKENS
        if "system" in record:
            if len(record) != 3 or (text := plain(record["system"])) is None:
                return None
            tokens += estimate_tokens(text, cpt) + MESSAGE_OVERHEAD_TOKENS
        elif len(record) != 2:
            return None
        for i, message in enumerate(messages):
            if type(message) is not dict or message.get("role") != (
                "user" if i % 2 == 0 else "assistant"
            ):
                return None
            if (text := plain(message.get("content"))) is None:
                return None
            tokens += estimate_tokens(text, cpt) + MESSAGE_OVERHEAD_TOKENS
        return tokens

    def blocks(value: Any, field: str, emit: Emit) -> int:
        if value is MISSING:
            emit(
                "error",
                "missing-field",
                field,
                f'"{field}" is missing; records look like {example}.',
            )
            return 0
        if not block_list(value, field, emit):
            return 0
        tokens = 0
        for j, block in enumerate(value):
            where = f"{field}[{j}]"
            if not block_object(block, where, emit):
                continue
            kind = next((k for k in _NOT_TEXT if k in block), None)
            if kind is not None:
                emit(
                    "error",
                    "unsupported-content",
                    f"{where}.{kind}",
                    f"Distillation takes text only (its students are text-to-text models); remove the {kind} block or put its content in words.",
                )
                continue
            for extra in block:
                if extra != "text":
                    emit(
                        "warning",
                        "unknown-field",
                        f"{where}.{clip(extra)}",
                        f'{quote(extra)} is not a field of a text block and is ignored; a block is {{"text": "..."}}.',
                    )
            tokens += text_block(block, where, emit, reserved, cpt)
        return tokens

    def schema_version(record: dict[str, Any], emit: Emit) -> None:
        # The page: the field "must have the value" of the schema (its text misspells it
        # "bedrock-conversion-2024"; its example, and Bedrock, use the conversation one).
        version = record.get("schemaVersion", MISSING)
        if version == CONVERSATION_SCHEMA:
            return
        if version is MISSING:
            emit(
                "error",
                "missing-field",
                "schemaVersion",
                f'The record has no "schemaVersion"; distillation needs "{CONVERSATION_SCHEMA}".',
            )
        else:
            emit(
                "error",
                "wrong-type" if type(version) is not str else "unexpected-value",
                "schemaVersion",
                f'"schemaVersion" is {quote(version) if type(version) is str else type_name(version)}; set it to "{CONVERSATION_SCHEMA}".',
            )

    def order(roles: list[Any], emit: Emit) -> None:
        """User first, then alternating; a single-turn student takes one user message."""
        if roles[0] != "user":
            emit(
                "error",
                "wrong-role-order",
                "messages[0].role",
                'The first message must have role "user": the prompt the teacher answers.',
            )
            return
        if not alternate(roles, emit):
            return
        if most is not None and len(roles) > most:
            emit(
                "error",
                "too-many-turns",
                f"messages[{most}]",
                f"This student takes single-turn prompts: one user message and, optionally, its answer (source: {_SINGLE_TURN_SOURCE}). Split the conversation into records.",
            )

    def check(record: dict[str, Any], emit: Emit) -> int | None:
        quick = fast(record)
        if quick is not None:
            return quick
        schema_version(record, emit)
        unknown_fields(record, known, example, emit)
        tokens = RECORD_OVERHEAD_TOKENS
        if "system" in record:
            tokens += blocks(record["system"], "system", emit) + MESSAGE_OVERHEAD_TOKENS
        messages = message_list(record, example, emit)
        if messages is None:
            return None
        if not messages:
            emit(
                "error",
                "too-few-messages",
                "messages",
                "A record needs a user message: the prompt the teacher answers.",
            )
            return tokens
        roles, counted = message_roles(
            messages,
            emit,
            lambda message, where: blocks(
                message.get("content", MISSING), f"{where}.content", emit
            ),
            hints=_SYSTEM_HINT,
        )
        tokens += counted
        if None not in roles:  # each bad role was reported where it was found
            order(roles, emit)
        return tokens

    return check


def rft_messages(cpt: int, *, required_fields: tuple[str, ...] = ()) -> Checker:
    """RFT's records; ``required_fields``: the fields the chosen grader reads, each a key of
    the record or a dotted path into it (``reference_answer.solution``)."""
    example = (
        '{"messages": [{"role": "system", "content": "..."}, {"role": "user", "content": "..."}], '
        f'"{REFERENCE_FIELD}": "..."}}'
    )
    # reference_answer is checked on its own; the grader's other fields after it.
    wanted = tuple(name for name in dict.fromkeys(required_fields) if name != REFERENCE_FIELD)

    def fast(record: dict[str, Any]) -> int | None:
        """The token estimate of a record with nothing to report, or None to look closer."""
        messages = record.get("messages")
        if not good_reference(record.get(REFERENCE_FIELD)) or type(messages) is not list:
            return None
        if any(record.get(name) is None for name in wanted):  # dotted paths: the slow way
            return None
        first = messages[0] if messages else None
        offset = 1 if type(first) is dict and first.get("role") == "system" else 0
        if (len(messages) - offset) % 2 != 1:  # no user turn, or an assistant's last
            return None
        tokens = RECORD_OVERHEAD_TOKENS
        for i, message in enumerate(messages):
            if type(message) is not dict:
                return None
            expected = "system" if i < offset else "user" if (i - offset) % 2 == 0 else "assistant"
            content = message.get("content")
            if (
                message.get("role") != expected
                or type(content) is not str
                or not content
                or content.isspace()
            ):
                return None
            tokens += estimate_tokens(content, cpt) + MESSAGE_OVERHEAD_TOKENS
        return tokens

    def content(message: dict[str, Any], where: str, emit: Emit) -> int:
        field = f"{where}.content"
        value = message.get("content", MISSING)
        if type(value) is str:
            if not value.strip():
                emit("error", "empty-field", field, f'"{field}" is empty; give the turn its text.')
            return estimate_tokens(value, cpt)
        if value is MISSING:
            emit(
                "error",
                "missing-field",
                field,
                f'"{where}" has no "content"; give it the text of the turn.',
            )
        else:
            # The page takes "only the OpenAI chat completion format", its examples strings.
            emit(
                "error",
                "wrong-type",
                field,
                f'"{field}" is {type_name(value)}; RFT records take each turn\'s text as one string, as in {example}.',
            )
        return 0

    def order(roles: list[Any], emit: Emit) -> None:
        """An optional system message first, then user, assistant, ..., user last."""
        for i, role in enumerate(roles):
            if role == "system" and i > 0:
                emit(
                    "error",
                    "wrong-role-order",
                    f"messages[{i}].role",
                    "A system message may only come first; merge it into the first one.",
                )
                return
        turns = roles[1:] if roles and roles[0] == "system" else roles
        offset = len(roles) - len(turns)
        if not turns:
            emit(
                "error",
                "too-few-messages",
                "messages",
                "A record needs a user message: the prompt the model answers during training.",
            )
            return
        for i, role in enumerate(turns):
            expected = "user" if i % 2 == 0 else "assistant"
            if role != expected:
                emit(
                    "error",
                    "wrong-role-order",
                    f"messages[{i + offset}].role",
                    f'Message {i + offset} has role "{role}" where "{expected}" belongs; messages go (system,) user, assistant, user, ...',
                )
                return
        if turns[-1] != "user":
            emit(
                "error",
                "wrong-role-order",
                f"messages[{len(roles) - 1}].role",
                f'The last message must be the user\'s: the model writes the answer during training. Move the expected answer to "{REFERENCE_FIELD}".',
            )

    def check(record: dict[str, Any], emit: Emit) -> int | None:
        quick = fast(record)
        if quick is not None:
            return quick
        has_reference = reference(record, emit)
        for name in wanted:
            if has_reference or name.split(".", 1)[0] != REFERENCE_FIELD:
                grader_field(record, name, emit)
        messages = message_list(record, example, emit)
        if messages is None:
            return None
        tokens = RECORD_OVERHEAD_TOKENS
        roles, counted = message_roles(
            messages,
            emit,
            lambda message, where: content(message, where, emit),
            allowed=("system", "user", "assistant"),
            must='"user", "assistant" or a first "system"',
        )
        tokens += counted
        if None not in roles:  # each bad role was reported where it was found
            order(roles, emit)
        return tokens

    return check
