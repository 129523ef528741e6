"""What the CLI imports to start: listing the commands pays for none of the heavy packages.

Each command imports pydantic (the manifest), rich (tables, progress) and boto3 when it
runs (bench/startup.py times it), and the group imports only the module of the command
that runs; here, a fresh interpreter says which modules the group, `--help` and
`validate` loaded. No timing: a loaded machine cannot fail it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bedrock_customize.cli import COMMAND_MODULES, main

HEAVY = ("pydantic", "rich", "boto3", "botocore", "orjson", "customization_core.catalog")
# What validating one file must not import: the catalog and orjson it needs, these not.
NOT_TO_VALIDATE = ("pydantic", "pydantic_core", "rich", "boto3", "botocore", "concurrent.futures")
MODEL = "amazon.titan-text-express-v1:0:8k"
ONE_LINE = {"prompt": "Summarize: the meeting moved to Tuesday.", "completion": "Moved."}


def _modules_after(code: str) -> list[str]:
    probe = f"import sys\n{code}\nprint(__import__('json').dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    modules: list[str] = json.loads(done.stdout.splitlines()[-1])
    return modules


def _loaded_after(code: str, watched: tuple[str, ...] = HEAVY) -> list[str]:
    modules = _modules_after(code)
    return [name for name in watched if name in modules]


def _run(args: list[str]) -> str:
    return (
        "from bedrock_customize.cli import main\n"
        f"try:\n    main({args!r})\nexcept SystemExit:\n    pass"
    )


def test_importing_the_group_loads_nothing_heavy() -> None:
    assert _loaded_after("import bedrock_customize.cli") == []


@pytest.mark.parametrize("args", [["--help"], ["list", "--help"], ["approve", "--help"]])
def test_help_loads_nothing_heavy(args: list[str]) -> None:
    assert _loaded_after(_run(args)) == []


def test_a_command_s_choices_come_from_the_catalog_when_shown() -> None:
    run = (
        "from bedrock_customize.cli import main\n"
        "try:\n    main(['validate', '--help'])\nexcept SystemExit:\n    pass"
    )
    assert "customization_core.catalog" in _loaded_after(run)  # the types listed


@pytest.fixture
def one_line(tmp_path: Path) -> Path:
    train = tmp_path / "train.jsonl"
    train.write_text(json.dumps(ONE_LINE) + "\n", encoding="utf-8")
    return train


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "{train}", "--model", MODEL, "--type", "fine-tuning"],
        ["validate", "{train}", "--model", MODEL, "--type", "fine-tuning", "--json"],
        ["validate", "{train}", "--model", "no.such-model", "--type", "fine-tuning"],
        ["cost", "--train", "{train}", "--model", MODEL, "--deploy", "provisioned"],
    ],
)
def test_validating_one_file_loads_neither_pydantic_nor_rich_nor_boto3(
    one_line: Path, args: list[str]
) -> None:
    # Given a one-line training file, when validate (or cost) judges it in a fresh process
    code = _run([arg.format(train=one_line) for arg in args])
    modules = _modules_after(code)
    # Then the catalog was read, without pydantic, and no other command's module was imported
    assert "customization_core.catalog" in modules
    assert [name for name in NOT_TO_VALIDATE if name in modules] == []
    command_modules = {f"bedrock_customize.{module}" for module in COMMAND_MODULES.values()}
    assert command_modules.intersection(modules) == {"bedrock_customize.dataset_cmds"}


def test_every_listed_command_comes_from_the_module_named_for_it() -> None:
    # When every command is asked for by name
    context = main.make_context("bedrock-customize", ["--help"], resilient_parsing=True)
    for name, module in COMMAND_MODULES.items():
        command = main.get_command(context, name)
        # Then its module defines it, under that name
        assert command is not None, name
        assert command.name == name
        assert command.callback is not None
        assert command.callback.__module__ == f"bedrock_customize.{module}"
    assert main.list_commands(context) == sorted(COMMAND_MODULES)


def test_a_mistyped_command_is_told_the_closest_one_not_yet_imported() -> None:
    # Given a fresh process, where no command's module is imported yet
    code = "from bedrock_customize.cli import main\nmain(['valdate', 'train.jsonl'])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    # Then the usage error still suggests the command meant
    assert done.returncode == 2
    assert "No such command 'valdate'. Did you mean 'validate'?" in done.stderr
