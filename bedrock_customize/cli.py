"""``bedrock-customize``: prepare and validate datasets, submit and follow runs, compare models.

Exit codes: 0 ok, 1 the thing asked about failed (invalid data, a failed run),
2 usage error, 3 AWS access error (credentials, permissions, a missing stack).
Each command's module imports what is heavy (pydantic, rich, boto3) when the command
runs, so that `--help` and the group start fast (bench/startup.py measures it).
"""

from __future__ import annotations

import importlib
from typing import Final

import click

# The module that defines each command. Only the command that runs is imported (and the
# group's help imports them all), so `validate` pays for neither boto3 nor the others.
COMMAND_MODULES: Final[dict[str, str]] = {
    **dict.fromkeys(("validate", "cost"), "dataset_cmds"),
    "prepare": "prepare_cmd",
    **dict.fromkeys(("list", "status", "show", "logs"), "runs"),
    **dict.fromkeys(("approve", "reject"), "answers"),
    **dict.fromkeys(("cancel", "extend"), "control"),
    "submit": "submit",
    "models": "models",
    **dict.fromkeys(("invoke", "compare"), "invoke_cmds"),
    "catalog": "catalog_cmd",
    "spend": "spend",
    "check": "check_cmd",
    "deploy": "deploy",
    "grade": "grade_cmd",
    "report": "report_cmd",
}


class _LazyGroup(click.Group):
    """A group that imports a command's module when the command is first asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMAND_MODULES, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            module = importlib.import_module(f"bedrock_customize.{COMMAND_MODULES[cmd_name]}")
            for command in vars(module).values():
                if isinstance(command, click.Command) and command.name == cmd_name:
                    self.add_command(command)
        return self.commands.get(cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.NoSuchCommand as missing:  # suggest from every command, loaded or not
            raise click.NoSuchCommand(
                missing.command_name, possibilities=self.list_commands(ctx), ctx=ctx
            ) from None


@click.group(
    cls=_LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
def main() -> None:
    """Customize Amazon Bedrock foundation models with private data."""
