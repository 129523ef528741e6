"""``bedrock-customize``: prepare and validate datasets, submit and follow runs, compare models.

Exit codes: 0 ok, 1 the thing asked about failed (invalid data, a failed run),
2 usage error, 3 AWS access error (credentials, permissions, a missing stack).
Each command's module imports what is heavy (pydantic, rich, boto3) when the command
runs, so that `--help` and the group start fast (bench/startup.py measures it).
"""

from __future__ import annotations

import click

from bedrock_customize import (
    answers,
    catalog_cmd,
    check_cmd,
    control,
    dataset_cmds,
    deploy,
    invoke_cmds,
    models,
    prepare_cmd,
    runs,
    spend,
    submit,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
def main() -> None:
    """Customize Amazon Bedrock foundation models with private data."""


for _command in (
    *dataset_cmds.COMMANDS,
    prepare_cmd.prepare,
    *runs.COMMANDS,
    *answers.COMMANDS,
    *control.COMMANDS,
    submit.submit,
    *models.COMMANDS,
    *invoke_cmds.COMMANDS,
    catalog_cmd.catalog_command,
    spend.spend,
    check_cmd.check_command,
    deploy.deploy,
):
    main.add_command(_command)
