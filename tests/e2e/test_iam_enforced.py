"""The emulator enforces the synthesized IAM: a narrowed policy fails the run as AWS would.

Each test removes one grant from a copy of the synthesized template and runs a job:
the handler (or Bedrock, as the job's service role) meets AccessDenied naming the
action, and the run ends FAILED with it, its job stopped. With the template as
synthesized, every other e2e test and `make demo` pass under the same enforcement.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from emulator.cloud import LocalCloud
from tests.e2e.conftest import prompt_completion, submit
from tests.e2e.test_runs import FINE_TUNING, _finish

Template = dict[str, Any]


def _without(template: Template, logical_prefix: str, action: str) -> int:
    """Remove ``action`` from the policies whose logical id starts with the prefix."""
    removed = 0
    for logical_id, resource in template["Resources"].items():
        if not logical_id.startswith(logical_prefix) or "PolicyDocument" not in resource.get(
            "Properties", {}
        ):
            continue
        statements = resource["Properties"]["PolicyDocument"]["Statement"]
        for statement in statements:
            actions = statement["Action"]
            actions = [actions] if isinstance(actions, str) else actions
            if action in actions:
                statement["Action"] = [a for a in actions if a != action]
                removed += 1
        resource["Properties"]["PolicyDocument"]["Statement"] = [
            s for s in statements if s["Action"]
        ]
    return removed


@pytest.fixture
def narrowed(
    assembly: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[str, str], LocalCloud]]:
    started: list[Any] = []

    def start(logical_prefix: str, action: str) -> LocalCloud:
        copy = tmp_path / "assembly"
        copy.mkdir()
        for path in assembly.glob("*.json"):  # the handlers run from this checkout
            shutil.copy(path, copy / path.name)
        (template_path,) = copy.glob("*.template.json")
        template = json.loads(template_path.read_text())
        assert _without(template, logical_prefix, action) >= 1, (logical_prefix, action)
        template_path.write_text(json.dumps(template))
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            monkeypatch.setenv(name, "testing")
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        context = LocalCloud.start(copy)
        started.append(context)
        return context.__enter__()

    yield start
    for context in started:
        context.__exit__(None, None, None)


def test_a_handler_denied_a_call_fails_the_run_with_the_action_named(
    narrowed: Callable[[str, str], LocalCloud],
) -> None:
    cloud = narrowed("WorkflowFunctionsCheckJobPolicy", "bedrock:GetModelCustomizationJob")
    execution = submit(cloud, "denied", FINE_TUNING, train_jsonl=prompt_completion(30))
    _, item, _ = _finish(cloud, execution)
    assert item["status"] == "FAILED"
    assert "bedrock:GetModelCustomizationJob" in item["reason"]
    assert "not authorized" in item["reason"]
    denied = list(cloud.enforcer.denials) if cloud.enforcer else []
    assert {d.action for d in denied} == {"bedrock:GetModelCustomizationJob"}


def test_bedrock_denied_the_data_as_the_service_role_fails_the_job(
    narrowed: Callable[[str, str], LocalCloud],
) -> None:
    cloud = narrowed("IdentityBedrockCustomizationPolicy", "s3:GetObject")
    execution = submit(cloud, "unreadable", FINE_TUNING, train_jsonl=prompt_completion(30))
    _, item, _ = _finish(cloud, execution)
    assert item["status"] == "FAILED"
    assert "Bedrock could not use the service role" in item["reason"]
    assert "s3:GetObject" in item["reason"]


def test_the_synthesized_policies_allow_every_call_of_a_run(cloud: LocalCloud) -> None:
    execution = submit(cloud, "allowed", FINE_TUNING, train_jsonl=prompt_completion(30))
    _, item, _ = _finish(cloud, execution)
    assert item["status"] == "SUCCEEDED"
    assert cloud.enforcer is not None
    assert cloud.enforcer.denials == []
