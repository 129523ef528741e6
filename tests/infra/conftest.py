"""Synthesized stacks shared by the infra tests (one synth per stage per test session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.infra.synth import EXISTING_VPC, Synth, stage_settings, synthesize_once


@pytest.fixture(scope="session")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesize_once(stage_settings("dev"), "dev", tmp_path_factory)


@pytest.fixture(scope="session")
def prod(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesize_once(stage_settings("prod"), "prod", tmp_path_factory)


@pytest.fixture(scope="session")
def existing_vpc(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    settings = stage_settings("prod", existingVpc=EXISTING_VPC, gatewayEndpoints=["s3"])
    return synthesize_once(settings, "existing-vpc", tmp_path_factory)


@pytest.fixture(params=["dev", "prod", "existing_vpc"])
def every_variant(request: pytest.FixtureRequest) -> Synth:
    synth: Synth = request.getfixturevalue(request.param)
    return synth


@pytest.fixture
def outdir(tmp_path: Path) -> Path:
    return tmp_path / "cdk.out"
