"""A template value with CloudFormation tokens in it, written out as one string.

``Fn::Join`` is joined; each ``Ref`` and ``Fn::GetAtt`` is written as the caller asks
(``<Id>`` and ``<Id.Attr>`` unless told otherwise, as cdk-nag prints them in a finding
id); anything else is left to ``other`` (JSON text unless told otherwise). The
compliance acknowledgements, the diagrams and the infra tests read templates through it.

Plain Python on plain JSON: it imports no CDK, so scripts and tests may read it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


def angle_ref(name: str) -> str:
    return f"<{name}>"


def angle_get_att(logical_id: str, attribute: str) -> str:
    return f"<{logical_id}.{attribute}>"


def json_text(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def as_text(
    value: Any,
    *,
    ref: Callable[[str], str] = angle_ref,
    get_att: Callable[[str, str], str] = angle_get_att,
    other: Callable[[Any], str] = json_text,
) -> str:
    """``value`` as a string: a string as it is, an ``Fn::Join`` joined, tokens rendered."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((function, args),) = value.items()
        if function == "Ref":
            return ref(args)
        if function == "Fn::GetAtt":
            return get_att(args[0], args[1])
        if function == "Fn::Join":
            separator, parts = args
            return str(separator).join(
                as_text(part, ref=ref, get_att=get_att, other=other) for part in parts
            )
    return other(value)
