"""Synth is deterministic and offline: the same input gives the same template, with no AWS."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from tests.infra.synth import ROOT, stage_settings, synthesize

CDK = ROOT / "node_modules" / ".bin" / "cdk"


def test_two_synths_give_identical_templates(tmp_path: Path) -> None:
    first = synthesize(stage_settings("prod"), tmp_path / "a")
    second = synthesize(stage_settings("prod"), tmp_path / "b")
    assert json.dumps(first.template, sort_keys=True) == json.dumps(second.template, sort_keys=True)


def _offline_env(home: Path) -> dict[str, str]:
    """The environment of a fresh CI machine: no credentials, no profile, no metadata service."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_"))}
    env.update(
        HOME=str(home),
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=str(home / "none"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "none"),
        CDK_DISABLE_VERSION_CHECK="1",
        CDK_DISABLE_CLI_TELEMETRY="true",
        JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20",
    )
    return env


def _cli_synth(stage: str, out: Path, home: Path) -> subprocess.CompletedProcess[str]:
    """``cdk synth`` of ``stage`` into ``out``, run as on a fresh CI machine (``home``)."""
    return subprocess.run(
        [str(CDK), "synth", "-c", f"stage={stage}", "--quiet", "-o", str(out)],
        cwd=ROOT,
        env=_offline_env(home),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_cli_synth_of_prod_needs_no_credentials_and_no_lookups(tmp_path: Path) -> None:
    out = tmp_path / "cdk.out"
    result = _cli_synth("prod", out, tmp_path)
    assert result.returncode == 0, result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert "missing" not in manifest, "a context lookup would need AWS at synth time"
    assert (out / "BedrockCustomization-prod.template.json").exists()
    assert not (ROOT / "cdk.context.json").exists(), "no lookup result was cached"


def test_cli_synth_of_an_unknown_stage_fails_with_the_allowed_stages(tmp_path: Path) -> None:
    result = _cli_synth("qa", tmp_path / "out", tmp_path)
    assert result.returncode != 0
    assert "Stage 'qa' is not defined" in result.stderr
    assert "allowed stages: dev, prod" in result.stderr


def test_cdk_cli_is_pinned_to_major_version_2() -> None:
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/aws-cdk"]["version"].startswith("2.")
    assert shutil.which("node") is not None
