"""Record formats Bedrock accepts, each a checker of one parsed JSON line.

A checker reports every problem of a record through ``emit`` and returns the
record's token estimate (``None`` when the record is too broken to count).
Formats (source: https://docs.aws.amazon.com/bedrock/latest/userguide/model-customization-prepare.html):

- ``prompt-completion``: ``{"prompt": "...", "completion": "..."}``
- ``continued-pretraining``: ``{"input": "..."}``
- ``conversation``: ``bedrock-conversation-2024`` (Nova, Llama 3.2/3.3):
  ``{"schemaVersion", "system": [{"text"}], "messages": [{"role", "content": [{"text"}]}]}``;
  user turns may add ``{"image"|"video": {"format", "source": {"s3Location": {"uri"}}}}``
  where the model takes media, assistant turns ``{"reasoningContent": {"reasoningText":
  {"text"}}}`` where it takes reasoning (Nova 2 Lite; source:
  https://docs.aws.amazon.com/nova/latest/nova2-userguide/nova-2-sft-data-prep.html)
- ``claude-messages``: ``{"system": "...", "messages": [{"role", "content": "..."}]}`` (Claude 3 Haiku)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, Final, Protocol

from customization_core.bounded import clip, quote
from customization_core.catalog import DataFormat, Media, MediaLimit
from customization_core.media import BUCKET_NAME, EXTENSIONS, KEY_CHARACTERS, parse_s3_uri
from customization_core.tokens import (
    MESSAGE_OVERHEAD_TOKENS,
    RECORD_OVERHEAD_TOKENS,
    estimate_tokens,
)

CONVERSATION_SCHEMA: Final = "bedrock-conversation-2024"
# Media blocks of the conversation schema; "document" is refused (no model in the
# catalog lists document limits for training data).
MEDIA_BLOCKS: Final = ("image", "video", "document")
# The kinds of content block, in the order a block with several keys is read as.
CONTENT_KINDS: Final = (*MEDIA_BLOCKS, "reasoningContent", "text")

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
# (kind, URI or None when unusable, declared format or None when invalid, field path)
OnMedia = Callable[[str, "str | None", "str | None", str], None]

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


def _role(role: object) -> str:
    """A message's role as a sentence names its turn: the role itself, or what was written, quoted."""
    if isinstance(role, str) and role in ("user", "assistant", "system"):
        return role
    return quote(role)


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
                clip(name),
                f"{quote(name)} is not a field of this format and is ignored; records look like {example}.",
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


def _media_uri(
    kind: str,
    value: dict[str, Any],
    base: str,
    declared: str | None,
    rules: ContentRules,
    emit: Emit,
) -> str | None:
    """Check a media block's ``source``; its URI when it names an object that can be looked up."""
    source = value.get("source", _MISSING)
    example = f'{{"s3Location": {{"uri": "s3://bucket/path/file.{declared or "png"}"}}}}'
    if not isinstance(source, dict):
        code = "missing-field" if source is _MISSING else "wrong-type"
        emit(
            "error", code, f"{base}.source", f'"{base}.source" must be an object such as {example}.'
        )
        return None
    location = source.get("s3Location", _MISSING)
    if not isinstance(location, dict):
        code = "missing-field" if location is _MISSING else "wrong-type"
        emit(
            "error",
            code,
            f"{base}.source.s3Location",
            f'"{base}.source" must name the object in Amazon S3, as in {example}; training records cannot embed bytes.',
        )
        return None
    where = f"{base}.source.s3Location"
    owner = location.get("bucketOwner", _MISSING)
    if owner is not _MISSING and not (type(owner) is str and len(owner) == 12 and owner.isdigit()):
        emit(
            "error",
            "invalid-bucket-owner",
            f"{where}.bucketOwner",
            f'"{where}.bucketOwner" is {quote(owner)}; it must be the 12-digit AWS account id that owns the bucket, or be left out.',
        )
    uri = location.get("uri", _MISSING)
    if type(uri) is not str:
        code = "missing-field" if uri is _MISSING else "wrong-type"
        emit(
            "error",
            code,
            f"{where}.uri",
            f'"{where}.uri" must be a string such as "s3://bucket/path/file.png".',
        )
        return None
    field_name = f"{where}.uri"
    parsed = parse_s3_uri(uri)
    if parsed is None or not BUCKET_NAME.fullmatch(parsed[0]):
        why = (
            f"{quote(parsed[0])} is not an S3 bucket name (3 to 63 lower-case letters, digits, dots and hyphens)"
            if parsed
            else f'write it as "s3://bucket/path/file.{declared or "png"}"'
        )
        emit(
            "error",
            "invalid-s3-uri",
            field_name,
            f"{quote(uri)} is not an S3 object URI; {why}.",
        )
        return None
    bucket, key = parsed
    usable = True
    bad = sorted({ch for ch in key if ch not in KEY_CHARACTERS})
    if bad:
        usable = False
        shown = " ".join(repr(ch) for ch in bad[:10])
        emit(
            "error",
            "invalid-s3-key",
            field_name,
            f"The key of {quote(uri)} contains {shown}; AWS allows only letters, digits, _, -, / and . in these file names. Rename the object and the URI.",
        )
    if rules.dataset_bucket is not None and bucket != rules.dataset_bucket:
        usable = False
        emit(
            "error",
            "media-wrong-bucket",
            field_name,
            f'{quote(uri)} is in bucket "{bucket}"; media must be in the dataset\'s own bucket "{rules.dataset_bucket}". Copy it there and update the URI.',
        )
    if declared is not None:
        name = key.rsplit("/", 1)[-1]
        extension = name.rsplit(".", 1)[1].lower() if "." in name else None
        allowed = EXTENSIONS.get(declared, (declared,))
        if extension is None:
            emit(
                "warning",
                "missing-extension",
                field_name,
                f'{quote(uri)} has no file extension; name it *.{allowed[0]} to match its format "{declared}".',
            )
        elif extension not in allowed:
            emit(
                "error",
                "extension-mismatch",
                field_name,
                f'{quote(uri)} ends in {quote("." + extension)} but its format is "{declared}"; fix the format or rename the file to .{allowed[0]}.',
            )
    return uri if usable else None


def _media_format(
    kind: str, value: dict[str, Any], base: str, limit: MediaLimit, emit: Emit
) -> str | None:
    """The block's declared ``format`` when the model takes it, else None (reported)."""
    fmt = value.get("format", _MISSING)
    allowed = ", ".join(f'"{f}"' for f in limit.formats)
    if type(fmt) is not str:
        code = "missing-field" if fmt is _MISSING else "wrong-type"
        emit("error", code, f"{base}.format", f'"{base}.format" must be one of {allowed}.')
        return None
    if fmt in limit.formats:
        return fmt
    lower = fmt.lower()
    if lower in limit.formats:
        hint = f'write it in lower case, "{lower}"'
    elif lower == "jpg" and "jpeg" in limit.formats:
        hint = 'the documented value is "jpeg"'
    else:
        hint = f"this model takes {allowed}; convert the {kind}"
    emit(
        "error",
        "invalid-media-format",
        f"{base}.format",
        f'"{base}.format" is {quote(fmt)}; {hint}.',
    )
    return None


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
            declared = _media_format(kind, value, base, limit, emit)
            uri = _media_uri(kind, value, base, declared, rules, emit)
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
                f'"{base}" is in a {_role(role)} turn; reasoning content belongs in assistant turns only.',
            )
            return 0
        shape = '{"reasoningContent": {"reasoningText": {"text": "..."}}}'
        text_block = value.get("reasoningText", _MISSING) if isinstance(value, dict) else _MISSING
        if not isinstance(text_block, dict):
            code = (
                "wrong-type"
                if text_block is not _MISSING or not isinstance(value, dict)
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
        text = text_block.get("text", _MISSING)
        if type(text) is not str:
            code = "missing-field" if text is _MISSING else "wrong-type"
            emit("error", code, f"{base}.reasoningText.text", f"Reasoning is written {shape}.")
            return 0
        _check_text(text, f"{base}.reasoningText.text", emit, reserved)
        return estimate_tokens(text, cpt)

    def other_block(block: Any, where: str, role: Any, emit: Emit) -> int:
        """Every block but a lone text block: media, reasoning, and mistakes."""
        if not isinstance(block, dict):
            emit(
                "error",
                "wrong-type",
                where,
                f'"{where}" must be an object such as {{"text": "..."}}.',
            )
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
        if kind in MEDIA_BLOCKS:
            return media_block(kind, block[kind], where, role, emit)
        if kind == "reasoningContent":
            return reasoning_block(block[kind], where, role, emit)
        text = block.get("text", _MISSING)
        if type(text) is not str:
            code = "missing-field" if text is _MISSING else "wrong-type"
            emit("error", code, f"{where}.text", f'"{where}" needs a "text" string.')
            return 0
        _check_text(text, f"{where}.text", emit, reserved)
        return estimate_tokens(text, cpt)

    def blocks(value: Any, field: str, emit: Emit, role: Any) -> int:
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
            # The common case first: a block that is one text string.
            if type(block) is dict and len(block) == 1:
                text = block.get("text")
                if type(text) is str:
                    if (
                        not text
                        or text.isspace()
                        or (reserved and any(word in text for word in reserved))
                    ):
                        _check_text(text, f"{field}[{j}].text", emit, reserved)
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
                f'"schemaVersion" is {quote(version)}; the documented value is "{CONVERSATION_SCHEMA}".',
            )
        if media is not None:
            counts[:] = [0, 0, None, None]
        tokens = RECORD_OVERHEAD_TOKENS
        if "system" in record:
            tokens += blocks(record["system"], "system", emit, "system") + MESSAGE_OVERHEAD_TOKENS
        result = _messages(
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
                f'"{where}.role" is {quote(role)}; it must be "user" or "assistant".',
            )
            roles.append(None)
        tokens += content(message, where) + MESSAGE_OVERHEAD_TOKENS
    _roles(messages, emit, roles)
    return tokens


def checker(
    data_format: DataFormat,
    cpt: int,
    *,
    nova: bool,
    rules: ContentRules | None = None,
    sides: dict[str, int] | None = None,
) -> Checker:
    """The checker of ``data_format`` for a model family with ``cpt`` characters per token.

    ``rules`` say what conversation content blocks may hold (media, reasoning);
    ``sides`` cap prompt and completion tokens separately (prompt/completion only).
    """
    if data_format == "prompt-completion":
        plain = prompt_completion(cpt)
        return capped_sides(plain, cpt, sides) if sides else plain
    if data_format == "continued-pretraining":
        return continued_pretraining(cpt)
    if data_format == "conversation":
        return conversation(cpt, reserved=NOVA_RESERVED_WORDS if nova else (), rules=rules)
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
