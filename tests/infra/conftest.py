"""Synthesized stacks shared by the infra tests (one synth per stage per worker)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.infra.synth import EXISTING_VPC, Synth, stage_settings, synthesize


@pytest.fixture(scope="session")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesize(stage_settings("dev"), tmp_path_factory.mktemp("dev"))


@pytest.fixture(scope="session")
def prod(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesize(stage_settings("prod"), tmp_path_factory.mktemp("prod"))


@pytest.fixture(scope="session")
def existing_vpc(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    settings = stage_settings("prod", existingVpc=EXISTING_VPC, gatewayEndpoints=["s3"])
    return synthesize(settings, tmp_path_factory.mktemp("existing"))


@pytest.fixture(params=["dev", "prod", "existing_vpc"])
def every_variant(request: pytest.FixtureRequest) -> Synth:
    synth: Synth = request.getfixturevalue(request.param)
    return synth


@pytest.fixture
def outdir(tmp_path: Path) -> Path:
    return tmp_path / "cdk.out"
