"""Where a model can be customized: one check the CLI's commands share.

The catalog lists, per model and customization type, the Regions where Bedrock
runs the job (``Customization.regions``). A Region outside that list fails at
submit time with a service error; this check says so before any work is done.
"""

from __future__ import annotations

from customization_core.catalog import CustomizationType, Model


def region_problem(model: Model, kind: CustomizationType, region: str) -> str | None:
    """Why ``model`` cannot run ``kind`` in ``region`` (one sentence), or None when it can."""
    where = model.regions(kind)
    if region in where:
        return None
    if not where:
        return f"{model.name} cannot be customized with {kind.cli_name} in any Region."
    return (
        f"{model.name} can be customized with {kind.cli_name} in {', '.join(where)} only, "
        f"not in {region}; give --region {where[0]}, or pick a model from `bedrock-customize catalog`."
    )
