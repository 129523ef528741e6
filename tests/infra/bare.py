"""A bare stack for testing one construct on its own, and what to read from its template."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Template

from stacks.log_groups import Keeping
from tests.infra.synth import CONTEXT

ACCOUNT, REGION = "111122223333", "us-east-1"
DESTROY = Keeping.of(retain=False, log_retention_days=30)
RETAIN = Keeping.of(retain=True, log_retention_days=365)


def bare_stack() -> cdk.Stack:
    """A stack of its own, with the app's feature flags (cdk.json) and nothing else."""
    app = cdk.App(context=CONTEXT)
    return cdk.Stack(app, "Bare", env=cdk.Environment(account=ACCOUNT, region=REGION))


def acknowledged(construct: Any) -> dict[str, str]:
    """The finding ids acknowledged on ``construct`` itself, with their reasons."""
    found: dict[str, str] = {}
    for entry in construct.node.metadata:
        if entry.type == "aws:cdk:acknowledged-rules":
            found.update(entry.data)
    return found


def one(template: Template, type_: str) -> dict[str, Any]:
    (resource,) = template.find_resources(type_).values()
    return dict(resource)
