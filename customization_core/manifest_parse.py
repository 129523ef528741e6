"""Parsing ``job.json`` bytes into a manifest of either form, or the sentences saying why not.

What each form holds is customization_core/manifest.py; this module bounds the bytes and
the nesting, picks the form (``deployModel`` present: deploy-only), and turns pydantic's
errors into sentences naming the field and what it allows.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Final

import orjson
from pydantic import BaseModel, ValidationError

from customization_core.bounded import depth_problem, is_depth_error, quote, too_deep
from customization_core.manifest import (
    ALLOWED,
    DEPLOY_MODEL,
    Deploy,
    DeployManifest,
    Evaluate,
    Manifest,
)
from customization_core.problems import describe

# A manifest is a few hundred bytes; anything near this is a mistake (bytes).
MAX_MANIFEST_BYTES: Final = 64 * 1024
# What only a training manifest has: in a deploy-only one each is a mix-up.
TRAINING_ONLY: Final = tuple(
    str(field.alias or name)
    for name, field in Manifest.model_fields.items()
    if name not in DeployManifest.model_fields
)


@dataclass(frozen=True)
class ParsedManifest:
    """A manifest that parsed (``manifest``, or ``deployment`` for the deploy-only form) or
    the reasons it did not (``problems``)."""

    manifest: Manifest | None
    problems: tuple[str, ...]
    sha256: str
    deployment: DeployManifest | None = None


def parse_manifest(data: bytes) -> ParsedManifest:
    """Parse ``job.json`` bytes; never raises for bad input.

    A document nested more than ``MAX_DEPTH`` deep is refused before anything
    walks it (``bounded.too_deep``); the problems quote values through ``quote``.
    """
    digest = hashlib.sha256(data).hexdigest()
    if len(data) > MAX_MANIFEST_BYTES:
        return ParsedManifest(
            None,
            (f"job.json is {len(data):,} bytes; a manifest is at most {MAX_MANIFEST_BYTES:,}.",),
            digest,
        )
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError as problem:
        if is_depth_error(problem):
            return ParsedManifest(None, (_too_deep(None),), digest)
        return ParsedManifest(
            None,
            (f"job.json is not valid JSON ({problem}); see README, The job manifest.",),
            digest,
        )
    if not isinstance(raw, dict):
        return ParsedManifest(
            None, ("job.json must be one JSON object; see README, The job manifest.",), digest
        )
    deep = too_deep(raw)
    if deep is not None:
        return ParsedManifest(None, (_too_deep(deep),), digest)
    if DEPLOY_MODEL in raw:
        return _parse_deployment(raw, digest)
    try:
        return ParsedManifest(Manifest.model_validate(raw), (), digest)
    except ValidationError as error:
        problems = describe(error, noun="Manifest field", prefix="", allowed=ALLOWED, owner=_owner)
        if not {"customizationType", "baseModelId"} & raw.keys():
            problems.append(
                "To deploy an existing custom model instead of training one, name it with "
                f"{DEPLOY_MODEL} (a run id or a custom model ARN) and leave out the training fields."
            )
        return ParsedManifest(None, tuple(problems), digest)


def _parse_deployment(raw: dict[str, Any], digest: str) -> ParsedManifest:
    """The deploy-only form: each training field is a mix-up, named with both ways out."""
    mixed = [key for key in TRAINING_ONLY if key in raw]
    problems = [
        f"Manifest field {quote(key)} does not go with {DEPLOY_MODEL}: a deploy-only manifest "
        f"trains nothing, it deploys the custom model {DEPLOY_MODEL} names; remove {key} to "
        f"deploy that model, or remove {DEPLOY_MODEL} to train a new one."
        for key in mixed
    ]
    try:
        deployment = DeployManifest.model_validate({k: v for k, v in raw.items() if k not in mixed})
    except ValidationError as error:
        problems += describe(
            error, noun="Manifest field", prefix="", allowed=ALLOWED, owner=_deploy_owner
        )
        deployment = None
    if problems:
        return ParsedManifest(None, tuple(problems), digest)
    return ParsedManifest(None, (), digest, deployment=deployment)


def _too_deep(under: str | int | None) -> str:
    return (
        depth_problem("job.json", under)
        + "; its deepest field, evaluate.prompts, is 3 levels deep: remove the extra nesting (see README, The job manifest)."
    )


def _owner(path: list[str]) -> type[BaseModel]:
    if "deploy" in path:
        return Deploy
    if "evaluate" in path:
        return Evaluate
    return Manifest


def _deploy_owner(path: list[str]) -> type[BaseModel]:
    return DeployManifest if not path else _owner(path)
