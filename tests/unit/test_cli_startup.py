"""What the CLI imports to start: listing the commands pays for none of the heavy packages.

Each command imports pydantic (the catalog, the manifest), rich (tables, progress) and
boto3 when it runs (bench/startup.py times it); here, a fresh interpreter says which
modules the group and `--help` loaded. No timing: a loaded machine cannot fail it.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("pydantic", "rich", "boto3", "botocore", "orjson", "customization_core.catalog")


def _loaded_after(code: str) -> list[str]:
    probe = f"import sys\n{code}\nprint(__import__('json').dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    modules = json.loads(done.stdout.splitlines()[-1])
    return [name for name in HEAVY if name in modules]


def test_importing_the_group_loads_nothing_heavy() -> None:
    assert _loaded_after("import bedrock_customize.cli") == []


@pytest.mark.parametrize("args", [["--help"], ["list", "--help"], ["approve", "--help"]])
def test_help_loads_nothing_heavy(args: list[str]) -> None:
    run = (
        "from bedrock_customize.cli import main\n"
        f"try:\n    main({args!r})\nexcept SystemExit:\n    pass"
    )
    assert _loaded_after(run) == []


def test_a_command_s_choices_come_from_the_catalog_when_shown() -> None:
    run = (
        "from bedrock_customize.cli import main\n"
        "try:\n    main(['validate', '--help'])\nexcept SystemExit:\n    pass"
    )
    assert "customization_core.catalog" in _loaded_after(run)  # the types listed
