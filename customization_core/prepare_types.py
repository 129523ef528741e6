"""Rows written as distillation prompts or RFT records: a prompt per row, and what goes with it.

customization_core/prepare.py hands these two formats here; the options were checked by
customization_core/prepare_target.py (``check_recipe``). Each row's prompt is the
``--prompt-template`` filled from its fields (``{prompt}`` names a column "prompt"):

- ``distillation-prompts``: a bedrock-conversation-2024 record whose user turn is the prompt;
  the row's response (``--completion-field``), when given and not empty, becomes the assistant
  turn, a labelled "golden example" (source, read 2026-12-02:
  https://docs.aws.amazon.com/bedrock/latest/userguide/distillation-data-prep-option-1.html).
- ``rft-messages``: ``{"messages": [system?, user], "reference_answer": ...}`` with the row's
  expected answer (``--reference-field``), which the grader compares the model's answer with
  (source, read 2026-12-02: https://docs.aws.amazon.com/bedrock/latest/userguide/rft-prepare-data.html).

A row whose prompt (or RFT reference answer) is empty is left out (None), as prepare.py does.
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

from customization_core.bounded import quote
from customization_core.conversation_format import CONVERSATION_SCHEMA
from customization_core.prepare_rows import PrepareError, missing_field, place_of
from customization_core.prepare_target import Recipe, Target
from customization_core.rft_fields import REFERENCE_FIELD

Record = dict[str, Any]
# What the command line fills in when --prompt-template is not given: a column "prompt".
DEFAULT_PROMPT_TEMPLATE: Final = "{prompt}"
# The fields read as the reference answer when --reference-field is not given, in order.
REFERENCE_FIELDS: Final = (REFERENCE_FIELD, "answer")


def prompt_records(
    rows: Sequence[Mapping[str, Any]], target: Target, recipe: Recipe
) -> Iterator[Record | None]:
    """The records of ``rows`` in ``target``'s format, distillation-prompts or rft-messages."""
    if target.data_format == "distillation-prompts":
        yield from distillation_records(rows, target, recipe)
    else:
        yield from rft_records(rows, recipe)


def distillation_records(
    rows: Sequence[Mapping[str, Any]], target: Target, recipe: Recipe
) -> Iterator[Record | None]:
    """A user turn per row, and its response as the assistant turn when the row has one."""
    response_field = recipe.completion_field
    # A row may lack a response; a field no row has is a misspelt option, not unlabelled data.
    if response_field and rows and not any(response_field in row for row in rows):
        raise missing_field(rows[0], 1, [response_field])
    for number, row in enumerate(rows, 1):
        prompt = _prompt(row, number, recipe.prompt_template or DEFAULT_PROMPT_TEMPLATE)
        if prompt is None:
            yield None
            continue
        response = str(row.get(response_field) or "").strip() if response_field else ""
        place = place_of(row, number)
        for text in (recipe.system or "", prompt, response):
            _check_reserved(text, target, place)
        messages = [{"role": "user", "content": [{"text": prompt}]}]
        if response:
            messages.append({"role": "assistant", "content": [{"text": response}]})
        record: Record = {"schemaVersion": CONVERSATION_SCHEMA}
        if recipe.system is not None:
            record["system"] = [{"text": recipe.system}]
        record["messages"] = messages
        yield record


def rft_records(rows: Sequence[Mapping[str, Any]], recipe: Recipe) -> Iterator[Record | None]:
    """A system turn (when given) and a user turn per row, with the row's reference answer."""
    names = (recipe.reference_field,) if recipe.reference_field else REFERENCE_FIELDS
    for number, row in enumerate(rows, 1):
        name = next((n for n in names if n in row), None)
        if name is None:
            raise missing_field(row, number, list(names))
        prompt = _prompt(row, number, recipe.prompt_template or DEFAULT_PROMPT_TEMPLATE)
        answer = reference_value(row[name])
        if prompt is None or answer is None:
            yield None
            continue
        messages = [{"role": "user", "content": prompt}]
        if recipe.system is not None:
            messages.insert(0, {"role": "system", "content": recipe.system})
        yield {"messages": messages, REFERENCE_FIELD: answer}


def reference_value(value: Any) -> Any:
    """A row's reference answer as the record holds it (None: the row has none).

    A CSV cell is text: one that holds a JSON object becomes that object, so graders that
    compare an object's fields can read them; other text stays text, trimmed. JSON and
    JSONL values (numbers, objects) are kept as they are.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("{") and text.endswith("}"):
        try:
            parsed = json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            parsed = None
        if isinstance(parsed, dict):
            return parsed
    return text or None


def _prompt(row: Mapping[str, Any], number: int, template: str) -> str | None:
    """``template`` filled from the row (None when the result is blank)."""
    names = [name for _, name, _, _ in string.Formatter().parse(template) if name]
    if not names:
        raise PrepareError(
            "The prompt template names no field; write one as {field}, e.g. '{prompt}'."
        )
    missing = [name for name in names if name not in row]
    if missing:
        raise missing_field(row, number, missing)
    filled = template.format(**{name: str(row[name] or "") for name in names})
    return filled.strip() or None


def _check_reserved(text: str, target: Target, place: str) -> None:
    word = next((w for w in target.reserved_words if w in text), None)
    if word is not None:
        raise PrepareError(
            f"{place} contains {quote(word)}, which {target.label} reserves for its prompt "
            "template; reword the row, the --prompt-template or the --system prompt."
        )
