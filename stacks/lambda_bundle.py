"""The code asset of every pipeline Lambda function: handlers, the core, and their dependencies.

Lambda runs arm64 with its own Python, so compiled dependencies (pydantic-core,
orjson, xxhash) must be Linux aarch64 wheels, not this machine's. ``make install``
downloads them into ``build/lambda-wheels/``; here CDK's local bundling installs
them from there with ``--no-index``: synth stays offline and needs no Docker.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Final

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_

ROOT: Final = Path(__file__).resolve().parents[1]
PYTHON_VERSION: Final = "3.14"
RUNTIME: Final = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE: Final = lambda_.Architecture.ARM_64
# Wheels for glibc 2.17 or 2.28 (rapidfuzz ships manylinux_2_28 only): Lambda's Python 3.14
# runs on Amazon Linux 2023, glibc 2.34. Source:
# https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html
PLATFORMS: Final = ("manylinux2014_aarch64", "manylinux_2_28_aarch64")
REQUIREMENTS: Final = ROOT / "requirements-lambda.txt"
# The versions of the whole tree, the same file .venv is installed with (make install).
CONSTRAINTS: Final = ROOT / "constraints.txt"
WHEELS: Final = ROOT / "build" / "lambda-wheels"
SOURCES: Final = ("customization_core", "lambdas")


def _requirements_digest() -> str:
    text = (
        REQUIREMENTS.read_bytes()
        + CONSTRAINTS.read_bytes()
        + f"{PYTHON_VERSION}/{'+'.join(PLATFORMS)}".encode()
    )
    return hashlib.sha256(text).hexdigest()[:16]


def _dependencies() -> Path:
    """The installed dependencies for Lambda's platform, cached per requirements and constraints."""
    target = ROOT / "build" / "lambda-deps" / _requirements_digest()
    if target.exists():
        return target
    if not WHEELS.exists():
        raise RuntimeError(
            f"{WHEELS.relative_to(ROOT)} is missing: run `make install` to download the "
            "Lambda platform's wheels before synthesizing."
        )
    # Each process stages its own copy: parallel synths (test workers) may race here.
    staging = target.with_name(f"{target.name}.partial-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    installed = subprocess.run(  # noqa: S603 - this interpreter's pip, with fixed arguments
        [
            sys.executable, "-m", "pip", "install", "--quiet", "--no-index",
            "--find-links", str(WHEELS), "--target", str(staging),
            *(a for p in PLATFORMS for a in ("--platform", p)),
            "--python-version", PYTHON_VERSION,
            "--implementation", "cp", "--only-binary=:all:",
            "-r", str(REQUIREMENTS), "-c", str(CONSTRAINTS),
        ],
        check=False,
    )  # fmt: skip
    if installed.returncode != 0:
        raise RuntimeError(
            f"The Lambda dependencies in {REQUIREMENTS.name} are not all in "
            f"{WHEELS.relative_to(ROOT)}: run `make install` to download them."
        )
    try:
        staging.rename(target)
    except OSError:
        if not target.exists():
            raise
        shutil.rmtree(staging, ignore_errors=True)  # another process finished first
    return target


def _ignore(_directory: str, names: list[str]) -> list[str]:
    return [n for n in names if n == "__pycache__" or n.endswith((".pyc", ".pyo"))]


@jsii.implements(cdk.ILocalBundling)
class _LocalBundling:
    def try_bundle(self, output_dir: str, *_options: Any, **_keywords: Any) -> bool:
        # jsii passes the BundlingOptions positionally; nothing in them is needed here.
        out = Path(output_dir)
        shutil.copytree(_dependencies(), out, dirs_exist_ok=True)
        for source in SOURCES:
            shutil.copytree(ROOT / source, out / source, ignore=_ignore, dirs_exist_ok=True)
        return True


def source_digest() -> str:
    """A hash of everything the asset is built from: the same inputs, the same asset."""
    digest = hashlib.sha256(_requirements_digest().encode())
    for source in SOURCES:
        for path in sorted((ROOT / source).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                digest.update(str(path.relative_to(ROOT)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def code() -> lambda_.Code:
    """The asset every pipeline function runs (one bundle, one handler entry point each)."""
    return lambda_.Code.from_asset(
        str(ROOT / "lambdas"),
        asset_hash_type=cdk.AssetHashType.CUSTOM,
        asset_hash=source_digest(),
        bundling=cdk.BundlingOptions(
            # Required by the API, never pulled: local bundling always succeeds or raises.
            image=cdk.DockerImage.from_registry("local-bundling-only"),
            local=_LocalBundling(),
        ),
    )
