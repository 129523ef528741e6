#!/usr/bin/env python3
"""CDK entry point: ``cdk synth -c stage=<name>``. The only place that reads the environment."""

from __future__ import annotations

import os
import sys

import aws_cdk as cdk

from stacks.customization_stack import build
from stacks.settings import CONTEXT_KEY, SettingsError, load_settings


def main() -> None:
    app = cdk.App()
    try:
        settings = load_settings(
            app.node.try_get_context(CONTEXT_KEY),
            stage=app.node.try_get_context("stage"),
            account=os.environ.get("CDK_DEFAULT_ACCOUNT"),
            region=os.environ.get("CDK_DEFAULT_REGION"),
        )
    except SettingsError as error:
        sys.exit(f"Configuration error: {error}")
    build(app, settings)
    app.synth()


if __name__ == "__main__":
    main()
