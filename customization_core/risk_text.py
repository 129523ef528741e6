"""The text of a record, whatever its data format: what the risk scan reads.

- prompt/completion: ``prompt``, and ``completion`` as the answer;
- continued pre-training: ``input``, no answer;
- conversations (Bedrock's conversation schema, Claude's messages, distillation prompts,
  RFT): ``system`` and the turns before the answer make the prompt; the answer is RFT's
  ``reference_answer`` when there is one, else the last turn when the assistant's.

Text is cut at MAX_TEXT_CHARS so one huge record cannot slow or swell the scan; the cut
is reported (``RecordText.cut``) and makes the scan partial.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from customization_core.graders import content_text
from customization_core.rft_fields import REFERENCE_FIELD

# Characters of one record the scan looks at (about 8,000 tokens at 4 characters a
# token): beyond it the record's length still counts, its text is not searched.
MAX_TEXT_CHARS: Final = 32_768


@dataclass(frozen=True, slots=True)
class RecordText:
    prompt: str
    answer: str | None  # None: the format has no answer (continued pre-training, prompts only)
    length: int  # characters of the whole record's text, before any cut
    cut: bool  # the text is longer than MAX_TEXT_CHARS and was cut

    @property
    def text(self) -> str:
        """Everything searched for sensitive data: the prompt, then the answer."""
        return self.prompt if self.answer is None else f"{self.prompt}\n{self.answer}"


def _bounded(prompt: str, answer: str | None) -> RecordText:
    length = len(prompt) + (len(answer) if answer is not None else 0)
    if length <= MAX_TEXT_CHARS:
        return RecordText(prompt, answer, length, False)
    prompt = prompt[:MAX_TEXT_CHARS]
    if answer is not None:
        answer = answer[: max(0, MAX_TEXT_CHARS - len(prompt))]
    return RecordText(prompt, answer, length, True)


def _reference_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def record_text(record: Mapping[str, Any]) -> RecordText | None:
    """The record's prompt and answer; None when it holds no text in a known place."""
    prompt = record.get("prompt")
    if type(prompt) is str:
        completion = record.get("completion")
        return _bounded(prompt, completion if type(completion) is str else None)
    text = record.get("input")
    if type(text) is str:
        return _bounded(text, None)
    messages = record.get("messages")
    if type(messages) is not list:
        return None
    parts: list[str] = []
    system = record.get("system")
    if system is not None:
        parts.append(content_text(system))
    turns = [m for m in messages if type(m) is dict]
    answer: str | None = None
    if REFERENCE_FIELD in record:
        answer = _reference_text(record[REFERENCE_FIELD])
    elif turns and turns[-1].get("role") == "assistant":
        answer = content_text(turns.pop().get("content"))
    # Earlier assistant turns join the prompt too, so no text goes unsearched.
    parts.extend(content_text(turn.get("content")) for turn in turns)
    return _bounded("\n".join(parts), answer)
