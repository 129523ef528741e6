"""Token estimates that err high, so a record the validator passes fits Bedrock's limit.

No tokenizer runs here (the pipeline is offline and the models' tokenizers are
not all public). The rule, per model family:

- ASCII text counts one token per ``CHARS_PER_TOKEN[family]`` characters,
  rounded up. AWS's own rule of thumb is about six characters per token
  ("Token quota x 6 (estimated)" characters, source:
  https://docs.aws.amazon.com/bedrock/latest/userguide/model-customization-prepare.html);
  the BPE tokenizers of these families average about four on English text,
  fewer on code and numbers. Counting three per token errs high against both.
- Every non-ASCII character counts as one token of its own: CJK, emoji and
  accented text can take a token per character, or more bytes than that.
- Chat formats add ``MESSAGE_OVERHEAD_TOKENS`` per message and
  ``RECORD_OVERHEAD_TOKENS`` per record for role markers and special tokens.

The three and the overheads are this project's choices; the tests pin them.
"""

from __future__ import annotations

from typing import Final

from customization_core.catalog import Family

CHARS_PER_TOKEN: Final[dict[Family, int]] = {
    "titan": 3,
    "cohere": 3,
    "llama": 3,
    "claude": 3,
    "nova": 3,
}
MESSAGE_OVERHEAD_TOKENS: Final = 8  # role header and end-of-turn markers of one chat message
RECORD_OVERHEAD_TOKENS: Final = 8  # begin/end-of-text markers around one record


def estimate_tokens(text: str, chars_per_token: int) -> int:
    """An over-estimate of the tokens in ``text`` (see the module docstring)."""
    if text.isascii():
        return -(-len(text) // chars_per_token)
    ascii_chars = len(text.encode("ascii", "ignore"))
    return -(-ascii_chars // chars_per_token) + (len(text) - ascii_chars)
