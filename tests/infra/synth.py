"""Synthesize the app in-process, exactly as ``cdk synth`` does, for assertions."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from stacks.customization_stack import BedrockCustomizationStack, build
from stacks.settings import CONTEXT_KEY, Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
# The CLI passes cdk.json's context (feature flags included) to the app; so do tests.
CONTEXT: dict[str, Any] = {
    **json.loads((ROOT / "cdk.json").read_text())["context"],
    # What the CLI adds to every synth (its --path-metadata and --asset-metadata defaults).
    "aws:cdk:enable-path-metadata": True,
    "aws:cdk:enable-asset-metadata": True,
}

ACCOUNT = "111122223333"
REGION = "us-east-1"

EXISTING_VPC = {
    "vpcId": "vpc-0a1b2c3d4e5f60718",
    "subnetIds": ["subnet-0a1b2c3d4e5f60718", "subnet-1a1b2c3d4e5f60718"],
    "routeTableIds": ["rtb-0a1b2c3d4e5f60718", "rtb-1a1b2c3d4e5f60718"],
    "availabilityZones": ["us-east-1a", "us-east-1b"],
}


@dataclass(frozen=True)
class Synth:
    """One synthesized stack: its template (as dict and as assertions) and the nag report."""

    settings: Settings
    template: dict[str, Any]
    report: dict[str, Any]
    outdir: Path

    @property
    def assertions(self) -> Template:
        return Template.from_json(self.template)

    def resources(self, type_: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.template["Resources"].items() if v["Type"] == type_}

    def one(self, type_: str, path_part: str) -> tuple[str, dict[str, Any]]:
        """The single resource of ``type_`` whose construct path contains ``path_part``."""
        found = [
            (k, v)
            for k, v in self.resources(type_).items()
            if path_part in v.get("Metadata", {}).get("aws:cdk:path", "")
        ]
        assert len(found) == 1, f"{len(found)} {type_} resources match {path_part!r}"
        return found[0]


def stage_settings(stage: str, **overrides: Any) -> Settings:
    settings = load_settings(CONTEXT[CONTEXT_KEY], stage=stage, account=ACCOUNT, region=REGION)
    return Settings.model_validate({**settings.model_dump(by_alias=True), **overrides})


def synthesize(
    settings: Settings,
    outdir: Path,
    extend: Callable[[BedrockCustomizationStack], None] | None = None,
) -> Synth:
    """Synthesize ``settings``' stack into ``outdir``; ``extend`` may add to the stack first."""
    app = cdk.App(outdir=str(outdir), context=CONTEXT)
    stack = build(app, settings)
    if extend is not None:
        extend(stack)
    assembly = app.synth()
    template = assembly.get_stack_by_name(stack.stack_name).template
    report = json.loads((outdir / "validation-report.json").read_text())
    return Synth(settings=settings, template=template, report=report, outdir=outdir)


def synthesize_once(settings: Settings, name: str, factory: pytest.TempPathFactory) -> Synth:
    """``synthesize`` shared by every xdist worker of this session: the first one to ask
    synthesizes under a file lock, the others read its cloud assembly.

    Each worker would otherwise synthesize the same stage again (session fixtures are
    per worker), at about 20 s of CPU each. The folder is the session's own (xdist's
    documented pattern for session fixtures), so no run reads another run's assembly.
    """
    base = factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    outdir, done = shared / f"synth-{name}", shared / f"synth-{name}.done"
    with (shared / f"synth-{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            synthesize(settings, outdir)
            done.touch()
    template = json.loads((outdir / f"{settings.stack_name}.template.json").read_text())
    report = json.loads((outdir / "validation-report.json").read_text())
    return Synth(settings=settings, template=template, report=report, outdir=outdir)


def policy_documents(template: Mapping[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every policy document in a template: (logical id, property, document)."""
    for logical_id, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        for key in ("PolicyDocument", "KeyPolicy", "AssumeRolePolicyDocument"):
            if isinstance(props.get(key), dict):
                yield logical_id, key, props[key]
        for inline in props.get("Policies", []):
            yield logical_id, "Policies", inline["PolicyDocument"]


def statements(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    found = document.get("Statement", [])
    return found if isinstance(found, list) else [found]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
