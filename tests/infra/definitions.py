"""A synthesized state machine's definition, parsed, with its tokens put back where they stand.

``DefinitionString`` is an ``Fn::Join`` of JSON text and CloudFormation tokens (Ref,
GetAtt). Each token is swapped for a unique marker and the text parsed; a marker must
land inside a JSON string. A string that is one marker becomes the token itself (a
``Resource`` is ``{"Fn::GetAtt": [...]}``); a marker inside a longer string becomes
``<Ref:AWS::Partition>``-style text. A token that lands nowhere, or anywhere twice,
fails: the helper cannot hand a test a definition that is not the template's.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tests.infra.synth import Synth

MARKER = re.compile(r"@@token(\d+)@@")


def definition_of(synth: Synth, machine_id: str = "StateMachine") -> dict[str, Any]:
    """The definition of the state machine ``Workflow/<machine_id>``."""
    _, machine = synth.one("AWS::StepFunctions::StateMachine", f"Workflow/{machine_id}/")
    return parse_definition(machine["Properties"]["DefinitionString"])


def parse_definition(body: str | dict[str, Any]) -> dict[str, Any]:
    if isinstance(body, str):
        parsed: dict[str, Any] = json.loads(body)
        return parsed
    ((function, args),) = body.items()
    assert function == "Fn::Join", f"not a definition: {function}"
    assert args[0] == "", "a definition is joined without a separator"
    tokens: list[Any] = []
    text = ""
    for part in args[1]:
        if isinstance(part, str):
            assert not MARKER.search(part), "the definition already holds a marker"
            text += part
        else:
            text += f"@@token{len(tokens)}@@"
            tokens.append(part)
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise AssertionError(f"a token stands outside a JSON string: {error}") from None
    placed: list[int] = []
    definition: dict[str, Any] = _restore(raw, tokens, placed)
    assert sorted(placed) == list(range(len(tokens))), "each token must appear exactly once"
    return definition


def _restore(node: Any, tokens: list[Any], placed: list[int]) -> Any:
    if isinstance(node, dict):
        return {_restore(k, tokens, placed): _restore(v, tokens, placed) for k, v in node.items()}
    if isinstance(node, list):
        return [_restore(item, tokens, placed) for item in node]
    if not isinstance(node, str):
        return node
    whole = MARKER.fullmatch(node)
    if whole:
        placed.append(int(whole.group(1)))
        return tokens[int(whole.group(1))]

    def render(match: re.Match[str]) -> str:
        placed.append(int(match.group(1)))
        ((function, args),) = tokens[int(match.group(1))].items()
        return (
            f"<{function.removeprefix('Fn::')}:{args if isinstance(args, str) else '.'.join(args)}>"
        )

    return MARKER.sub(render, node)
