"""The synthesized app running on the local emulator, one fresh cloud per test."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bedrock_customize.stack import LOCAL_STATE_ENV
from emulator import people
from emulator.cloud import LocalCloud
from emulator.server import serve
from tests.infra.synth import stage_settings, synthesize_once

TITAN_LITE = "amazon.titan-text-lite-v1:0:4k"
TITAN_EXPRESS = "amazon.titan-text-express-v1:0:8k"  # no catalog price: approval is always asked


@pytest.fixture(scope="session")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthesize_once(stage_settings("dev"), "dev", tmp_path_factory).outdir


@pytest.fixture(scope="session")
def approval_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # $1: a small Titan Express run is estimated at about $2 (its training and the first
    # month of its custom model's storage, $1.95), so it waits for a person.
    settings = stage_settings("dev", approvalThresholdUsd=1)
    return synthesize_once(settings, "dev-approval", tmp_path_factory).outdir


@pytest.fixture
def cloud(assembly: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalCloud]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with LocalCloud.start(assembly) as running:
        yield running


@pytest.fixture(scope="module")
def shared_cloud(assembly: Path) -> Iterator[LocalCloud]:
    """One emulated stack for a whole module of fault scenarios (each run has its own id)."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            patch.setenv(name, "testing")
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        with LocalCloud.start(assembly) as running:
            yield running


@pytest.fixture
def fault_cloud(shared_cloud: LocalCloud) -> Iterator[LocalCloud]:
    """The module's stack with no fault, scenario or message left from the scenario before."""
    from emulator import account
    from emulator.faults import FAULTS
    from emulator.state import BEDROCK
    from tests.e2e.promise import unended

    def clean() -> None:
        FAULTS.reset()
        account.FAULTS.reset()
        BEDROCK.reset()
        shared_cloud.notifications()  # drained
        unended(shared_cloud)  # drained (PurgeQueue allows one call a minute)

    clean()
    yield shared_cloud
    clean()


@pytest.fixture
def approval_cloud(
    approval_assembly: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LocalCloud]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with LocalCloud.start(approval_assembly) as running:
        yield running


def prompt_completion(n: int) -> bytes:
    return "".join(
        json.dumps(
            {
                "prompt": f"Summarize the following conversation.\n\n#Person1#: Item {i}?\n#Person2#: Yes.",
                "completion": f"They agree on item {i}.",
            }
        )
        + "\n"
        for i in range(n)
    ).encode()


def submit(cloud: LocalCloud, name: str, manifest: dict[str, Any] | bytes, **files: bytes) -> str:
    """Upload the files, then job.json; the execution its event started."""
    for file_name, body in files.items():
        cloud.upload(f"jobs/{name}/{file_name.replace('_', '.')}", body)
    body = manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode()
    # As its submitter, tagged with their id (emulator/people.py), as `submit` uploads it.
    (execution,) = people.submit_manifest(cloud, f"jobs/{name}/job.json", body)["executions"]
    return str(execution)


def until(condition: Callable[[], Any], timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise TimeoutError("the condition did not become true in time")


@pytest.fixture(scope="module")
def served(assembly: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The emulator served over HTTP in this process (as `make emulator`); its state file."""
    with serving(assembly, tmp_path_factory.mktemp("served")) as state:
        yield state


@contextmanager
def serving(assembly: Path, folder: Path) -> Iterator[Path]:
    """``assembly`` served over HTTP until the block ends; the state file --local reads."""
    state = folder / "emulator.json"
    saved = os.environ.get(LOCAL_STATE_ENV)
    os.environ[LOCAL_STATE_ENV] = str(state)  # what --local reads (module-wide, restored below)
    ready, stop = threading.Event(), threading.Event()
    thread = threading.Thread(target=serve, args=(assembly, 0, ready, stop), daemon=True)
    thread.start()
    assert ready.wait(120), "the emulator did not start"
    try:
        yield state
    finally:
        stop.set()
        thread.join(30)
        if saved is None:
            os.environ.pop(LOCAL_STATE_ENV, None)
        else:
            os.environ[LOCAL_STATE_ENV] = saved
