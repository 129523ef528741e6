"""Record formats Bedrock accepts, each a checker of one parsed JSON line.

A checker reports every problem of a record through ``emit`` and returns the
record's token estimate (``None`` when the record is too broken to count).
Formats (source: https://docs.aws.amazon.com/bedrock/latest/userguide/model-customization-prepare.html):

- ``prompt-completion``: ``{"prompt": "...", "completion": "..."}``
- ``continued-pretraining``: ``{"input": "..."}``
- ``conversation``: ``bedrock-conversation-2024`` (Nova, Llama 3.2/3.3), with media and
  reasoning blocks: customization_core/conversation_format.py
- ``claude-messages``: ``{"system": "...", "messages": [{"role", "content": "..."}]}`` (Claude 3 Haiku)
- ``distillation-prompts`` and ``rft-messages``: customization_core/prompt_formats.py
"""

from __future__ import annotations

from typing import Any

from customization_core.catalog import DataFormat
from customization_core.conversation_format import NOVA_RESERVED_WORDS, ContentRules, conversation
from customization_core.prompt_formats import distillation_prompts, rft_messages
from customization_core.record_fields import (
    MISSING,
    Checker,
    Emit,
    check_messages,
    string_field,
    type_name,
    unknown_fields,
)
from customization_core.tokens import (
    MESSAGE_OVERHEAD_TOKENS,
    RECORD_OVERHEAD_TOKENS,
    estimate_tokens,
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
        tokens += string_field(record, "prompt", example, emit, cpt)
        tokens += string_field(record, "completion", example, emit, cpt)
        if len(record) != 2 or "prompt" not in record or "completion" not in record:
            unknown_fields(record, known, example, emit)
        return tokens

    return check


def capped_sides(check: Checker, cpt: int, limits: dict[str, int]) -> Checker:
    """``check``, plus a token cap per field where the docs give one per side.

    Cohere Command: input 4,096 and output 2,048 tokens, separately (source:
    https://docs.aws.amazon.com/bedrock/latest/userguide/model-customization-prepare.html).
    """

    def capped(record: dict[str, Any], emit: Emit) -> int | None:
        tokens = check(record, emit)
        for name, limit in limits.items():
            value = record.get(name)
            if type(value) is str and (count := estimate_tokens(value, cpt)) > limit:
                emit(
                    "error",
                    "too-many-tokens",
                    name,
                    f'"{name}" has about {count:,} tokens (a deliberate over-estimate); this '
                    f"model takes at most {limit:,} in it. Shorten it.",
                )
        return tokens

    return capped


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
        tokens = RECORD_OVERHEAD_TOKENS + string_field(record, "input", example, emit, cpt)
        if len(record) != 1 or "input" not in record:
            unknown_fields(record, known, example, emit)
        return tokens

    return check


def claudecheck_messages(cpt: int) -> Checker:
    example = (
        '{"system": "...", "messages": [{"role": "user", "content": "..."}, '
        '{"role": "assistant", "content": "..."}]}'
    )
    known = ("system", "messages")

    def check(record: dict[str, Any], emit: Emit) -> int | None:
        tokens = RECORD_OVERHEAD_TOKENS
        system = record.get("system", MISSING)
        if system is not MISSING:
            if type(system) is not str:
                emit(
                    "error",
                    "wrong-type",
                    "system",
                    f'"system" is {type_name(system)}; it must be a string.',
                )
            else:
                tokens += estimate_tokens(system, cpt) + MESSAGE_OVERHEAD_TOKENS
        return check_messages(
            record,
            emit,
            example,
            known,
            lambda message, where: string_field(
                message, "content", example, emit, cpt, path=f"{where}.content"
            ),
            tokens,
        )

    return check


def checker(
    data_format: DataFormat,
    cpt: int,
    *,
    nova: bool,
    rules: ContentRules | None = None,
    sides: dict[str, int] | None = None,
    required_fields: tuple[str, ...] = (),
) -> Checker:
    """The checker of ``data_format`` for a model family with ``cpt`` characters per token.

    ``rules`` say what conversation content blocks may hold (media, reasoning);
    ``sides`` cap prompt and completion tokens separately (prompt/completion only);
    ``required_fields`` are the record fields an RFT grader reads (rft-messages only).
    """
    if data_format == "distillation-prompts":
        # Nova students take multi-turn prompts; the others one user turn.
        reserved = NOVA_RESERVED_WORDS if nova else ()
        return distillation_prompts(cpt, reserved=reserved, single_turn=not nova)
    if data_format == "rft-messages":
        return rft_messages(cpt, required_fields=required_fields)
    if data_format == "prompt-completion":
        plain = prompt_completion(cpt)
        return capped_sides(plain, cpt, sides) if sides else plain
    if data_format == "continued-pretraining":
        return continued_pretraining(cpt)
    if data_format == "conversation":
        return conversation(cpt, reserved=NOVA_RESERVED_WORDS if nova else (), rules=rules)
    return claudecheck_messages(cpt)


def detect(record: dict[str, Any]) -> DataFormat | None:
    """Which format a record is written in, judged by its keys alone."""
    if "reference_answer" in record:
        return "rft-messages"
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
