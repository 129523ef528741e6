"""The conversation record (``bedrock-conversation-2024``): text, media and reasoning blocks.

Written ``{"schemaVersion", "system": [{"text"}], "messages": [{"role", "content": [{"text"}]}]}``
(Nova, Llama 3.2/3.3); user turns may add ``{"image"|"video": {"format", "source":
{"s3Location": {"uri"}}}}`` where the model takes media, assistant turns
``{"reasoningContent": {"reasoningText": {"text"}}}`` where it takes reasoning (Nova 2 Lite;
source: https://docs.aws.amazon.com/nova/latest/nova2-userguide/nova-2-sft-data-prep.html).
What one model allows comes in its ``ContentRules``, from the catalog.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, Final

from customization_core.bounded import clip, quote
from customization_core.catalog import Media
from customization_core.media_block import MEDIA_BLOCK_KINDS, media_format, media_uri
from customization_core.record_fields import (
    MISSING,
    Checker,
    Emit,
    block_list,
    block_object,
    check_messages,
    check_text,
    role_name,
    text_block,
    type_name,
)
from customization_core.tokens import (
    MESSAGE_OVERHEAD_TOKENS,
    RECORD_OVERHEAD_TOKENS,
    estimate_tokens,
)

CONVERSATION_SCHEMA: Final = "bedrock-conversation-2024"
# The kinds of content block, in the order a block with several keys is read as.
CONTENT_KINDS: Final = (*MEDIA_BLOCK_KINDS, "reasoningContent", "text")

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
# (kind, URI or None when unusable, declared format or None when invalid, field path)
OnMedia = Callable[[str, "str | None", "str | None", str], None]


@dataclasses.dataclass(frozen=True, slots=True)
class ContentRules:
    """What the content blocks of a conversation record may hold, for one model (from the catalog).

    ``takers`` names, per kind ("image", "video", "reasoning"), the catalog models
    that take it: the fix hint when this model does not. ``on_media`` hears of every
    media block in a user turn (kind, its URI when usable, its format when valid, field).
    """

    model_name: str = "This model"
    media: Media | None = None
    reasoning: bool = False
    dataset_bucket: str | None = None
    takers: Mapping[str, str] = dataclasses.field(default_factory=dict)
    image_tokens: int = 0
    video_tokens: int = 0
    on_media: OnMedia | None = None


def conversation(
    cpt: int, *, reserved: tuple[str, ...] = (), rules: ContentRules | None = None
) -> Checker:
    example = (
        '{"schemaVersion": "bedrock-conversation-2024", "system": [{"text": "..."}], '
        '"messages": [{"role": "user", "content": [{"text": "..."}]}, '
        '{"role": "assistant", "content": [{"text": "..."}]}]}'
    )
    known = ("schemaVersion", "system", "messages")
    rules = rules or ContentRules()
    media = rules.media
    # Per record: [images, videos, field of the first image over the limit, of the first video].
    counts: list[Any] = [0, 0, None, None]

    def media_block(kind: str, value: Any, where: str, role: Any, emit: Emit) -> int:
        base = f"{where}.{kind}"
        limit = getattr(media, kind, None) if media is not None and kind != "document" else None
        if limit is None:
            takers = rules.takers.get(kind)
            hint = (
                f"models that take {kind}s: {takers}"
                if takers
                else f"no catalog model takes {kind}s"
            )
            emit(
                "error",
                "unsupported-content",
                base,
                f"{rules.model_name} takes no {kind} content in training records; remove the block, or use a model that does ({hint}).",
            )
            return 0
        tokens: int = rules.image_tokens if kind == "image" else rules.video_tokens
        if role in ("assistant", "system"):
            emit(
                "error",
                "media-in-wrong-role",
                base,
                f'"{base}" is in a {role} turn; images and videos belong in user turns only (assistant and system content is text).',
            )
            return tokens
        slot = 0 if kind == "image" else 1
        counts[slot] += 1
        if counts[slot] == limit.max_per_record + 1:
            counts[slot + 2] = base
        if not isinstance(value, dict):
            emit(
                "error",
                "wrong-type",
                base,
                f'"{base}" must be an object such as {{"format": "png", "source": {{"s3Location": {{"uri": "s3://bucket/key.png"}}}}}}.',
            )
            uri = declared = None
        else:
            declared = media_format(kind, value, base, limit, emit)
            uri = media_uri(kind, value, base, declared, rules.dataset_bucket, emit)
        if rules.on_media is not None:
            rules.on_media(kind, uri, declared, base)
        return tokens

    def reasoning_block(value: Any, where: str, role: Any, emit: Emit) -> int:
        base = f"{where}.reasoningContent"
        if not rules.reasoning:
            takers = rules.takers.get("reasoning")
            hint = f" (models that do: {takers})" if takers else ""
            emit(
                "error",
                "reasoning-not-supported",
                base,
                f"{rules.model_name} takes no reasoning content{hint}; remove the block or put its text in the answer.",
            )
            return 0
        if role != "assistant":
            emit(
                "error",
                "reasoning-in-wrong-role",
                base,
                f'"{base}" is in a {role_name(role)} turn; reasoning content belongs in assistant turns only.',
            )
            return 0
        shape = '{"reasoningContent": {"reasoningText": {"text": "..."}}}'
        text_block = value.get("reasoningText", MISSING) if isinstance(value, dict) else MISSING
        if not isinstance(text_block, dict):
            code = (
                "wrong-type"
                if text_block is not MISSING or not isinstance(value, dict)
                else "missing-field"
            )
            at = f"{base}.reasoningText" if isinstance(value, dict) else base
            emit(
                "error",
                code,
                at,
                f"Reasoning is written {shape}; only text reasoning is taken in training data.",
            )
            return 0
        text = text_block.get("text", MISSING)
        if type(text) is not str:
            code = "missing-field" if text is MISSING else "wrong-type"
            emit("error", code, f"{base}.reasoningText.text", f"Reasoning is written {shape}.")
            return 0
        check_text(text, f"{base}.reasoningText.text", emit, reserved)
        return estimate_tokens(text, cpt)

    def other_block(block: Any, where: str, role: Any, emit: Emit) -> int:
        """Every block but a lone text block: media, reasoning, and mistakes."""
        if not block_object(block, where, emit):
            return 0
        kind = next((k for k in CONTENT_KINDS if k in block), None)
        for extra in block:
            if extra != kind:
                emit(
                    "warning",
                    "unknown-field",
                    f"{where}.{clip(extra)}",
                    f"{quote(extra)} is not a field of a {kind or 'text'} block and is ignored; put each kind of content in its own block.",
                )
        if kind in MEDIA_BLOCK_KINDS:
            return media_block(kind, block[kind], where, role, emit)
        if kind == "reasoningContent":
            return reasoning_block(block[kind], where, role, emit)
        return text_block(block, where, emit, reserved, cpt)

    def blocks(value: Any, field: str, emit: Emit, role: Any) -> int:
        if not block_list(value, field, emit):
            return 0
        tokens = 0
        for j, block in enumerate(value):
            # The common case first: a block that is one text string.
            if type(block) is dict and len(block) == 1:
                text = block.get("text")
                if type(text) is str:
                    if (
                        not text
                        or text.isspace()
                        or (reserved and any(word in text for word in reserved))
                    ):
                        check_text(text, f"{field}[{j}].text", emit, reserved)
                    tokens += estimate_tokens(text, cpt)
                    continue
            tokens += other_block(block, f"{field}[{j}]", role, emit)
        return tokens

    def too_many(emit: Emit) -> None:
        assert media is not None
        for slot, kind in ((0, "image"), (1, "video")):
            limit = getattr(media, kind)
            if limit is not None and counts[slot] > limit.max_per_record:
                emit(
                    "error",
                    f"too-many-{kind}s",
                    counts[slot + 2],
                    f"The record has {counts[slot]} {kind}s; {rules.model_name} takes at most {limit.max_per_record} per record (source: {limit.source}). Split the record.",
                )

    def check(record: dict[str, Any], emit: Emit) -> int | None:
        # The Nova guide allows any string here; the documented value is the safe one.
        version = record.get("schemaVersion", MISSING)
        if version is MISSING:
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
                f'"schemaVersion" is {type_name(version)}; set it to "{CONVERSATION_SCHEMA}".',
            )
        elif version != CONVERSATION_SCHEMA:
            emit(
                "warning",
                "unexpected-value",
                "schemaVersion",
                f'"schemaVersion" is {quote(version)}; the documented value is "{CONVERSATION_SCHEMA}".',
            )
        if media is not None:
            counts[:] = [0, 0, None, None]
        tokens = RECORD_OVERHEAD_TOKENS
        if "system" in record:
            tokens += blocks(record["system"], "system", emit, "system") + MESSAGE_OVERHEAD_TOKENS
        result = check_messages(
            record,
            emit,
            example,
            known,
            lambda message, where: blocks(
                message.get("content"), f"{where}.content", emit, message.get("role")
            ),
            tokens,
        )
        if media is not None and (counts[0] or counts[1]):
            too_many(emit)
        return result

    return check
