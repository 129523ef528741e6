"""Where a model can be customized: one check the CLI's commands share.

The catalog lists, per model and customization type, the Regions where Bedrock
runs the job (``Customization.regions``). A Region outside that list fails at
submit time with a service error; this check says so before any work is done.
"""

from __future__ import annotations

from customization_core.catalog import Catalog, CustomizationType, Model


def region_problem(model: Model, kind: CustomizationType, region: str) -> str | None:
    """Why ``model`` cannot run ``kind`` in ``region`` (one sentence), or None when it can."""
    return None if region in model.regions(kind) else region_advice(model, kind, region)


def region_advice(model: Model, kind: CustomizationType, region: str) -> str:
    """Why ``model`` cannot run ``kind`` in ``region``, and what to do instead."""
    where = model.regions(kind)
    if not where:
        return f"{model.name} does not support {kind.cli_name} in any Region."
    regions = " or ".join(where)
    return (
        f"{model.name} can be customized ({kind.cli_name}) in {regions} only, not in {region}. "
        f"Use the stack deployed in {where[0]} (`bedrock-customize submit --region {where[0]} ...`), "
        f"or pick a model customizable in {region}: "
        f"`bedrock-customize catalog --region {region} --type {kind.cli_name}`."
    )


def region_table(catalog: Catalog) -> str:
    """Models x customization types x Regions, as the README's "Which Region" table (Markdown)."""
    kinds = list(CustomizationType)
    regions = sorted(
        {r for m in catalog.models for c in m.customizations.values() for r in c.regions}
    )
    header = ["Model", "Base model id", *regions, "On-demand deployment"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for model in catalog.models:
        cells = []
        for region in regions:
            types = [k.cli_name for k in kinds if region in model.regions(k)]
            cells.append(", ".join(types) or "-")
        if model.lifecycle and model.lifecycle.ended(catalog.catalog_date):
            ended = " (end of life)"
        elif model.docs_note:
            ended = " (not in AWS's current tables)"
        else:
            ended = ""
        on_demand = ", ".join(model.on_demand_deployment_regions) or "-"
        lines.append(
            f"| {model.name}{ended} | `{model.model_ids[-1]}` | "
            + " | ".join(cells)
            + f" | {on_demand} |"
        )
    return "\n".join(lines) + "\n"
