"""What ``catalog`` adds for distillation and RFT: the teachers, RFT's typed hyperparameters, graders.

``--type distillation`` lists the students (the models table) and then the teachers: how
a job names each (its model id, or a system inference profile), its students, Regions and
on-demand prices (which price the answers it writes). ``--type reinforcement-fine-tuning``
lists the models and each one's typed hyperparameters. ``--graders`` lists the built-in
graders (customization_core/graders.py) and their parameters.
"""

from __future__ import annotations

from typing import Any

from bedrock_customize.console import emit_json, say, table
from customization_core.catalog import Catalog, CustomizationType, Model
from customization_core.price_check import usd
from customization_core.teacher import Teacher


def teachers_json(catalog: Catalog, region: str | None) -> list[dict[str, Any]]:
    return [t.model_dump(mode="json") for t in catalog.teachers if _here(t, region)]


def show_teachers(catalog: Catalog, region: str | None) -> None:
    """The teachers table: who teaches which students, where, invoked how, at what price."""
    rows = [
        (
            f"{t.name}\n{t.model_ids[0]}",
            _invocation(t),
            "\n".join(t.students),
            ", ".join(t.regions),
            _prices(t),
            t.source,
        )
        for t in catalog.teachers
        if _here(t, region)
    ]
    say("")
    if not rows:
        say(f"No distillation teacher teaches in {region}.")
        return
    table(
        ("TEACHER", "INVOCATION", "STUDENTS", "REGIONS", "ON-DEMAND USD/1K IN, OUT", "SOURCE"),
        rows,
    )
    say(
        "A distillation job names its teacher by the invocation shown; the teacher's answers "
        "are billed at its on-demand prices (the estimate's teacher part)."
    )


def show_rft(models: list[Model]) -> None:
    """Each RFT model's typed hyperparameters (rftConfig.hyperParameters, not the string map)."""
    kind = CustomizationType.REINFORCEMENT_FINE_TUNING
    for model in models:
        custom = model.customizations.get(kind)
        if custom is None or not custom.hyperparameters:
            continue
        say("")
        say(f"{model.name} ({model.primary_id}): RFT hyperparameters", style="bold")
        table(
            ("HYPERPARAMETER", "RANGE", "DEFAULT", "REQUIRED"),
            [
                (h.key, h.describe_range(), h.default, "yes" if h.required else "no")
                for h in custom.hyperparameters
            ],
        )
        for source in dict.fromkeys(h.source for h in custom.hyperparameters):
            say(f"  source: {source}")
        say(
            "  values are typed (numbers, and text for a choice): a job sends them as "
            "customizationConfig.rftConfig.hyperParameters, not as fine-tuning's string map."
        )
    say(
        "RFT also needs a grader: --grader NAME (bedrock-customize catalog --graders) or "
        "--grader-arn ARN (your own Lambda function)."
    )


def show_graders(as_json: bool) -> None:
    """The built-in graders and their parameters."""
    from customization_core.graders import describe

    graders = describe()
    if as_json:
        emit_json({"graders": graders})
        return
    table(
        ("GRADER", "REWARD", "PARAMETERS (default: allowed)"),
        [
            (
                g["name"],
                g["summary"],
                "\n".join(
                    f"{p['name']} ({_default(p['default'])}): {p['allowed']}" for p in g["params"]
                ),
            )
            for g in graders
        ],
    )
    say(
        'Every reward is in [0, 1]; each grader reads the record\'s "reference_answer" (or its '
        "field). Use one with --grader NAME --grader-param KEY=VALUE, or in job.json as "
        '"grader": {"name": NAME, "params": {...}}; try it on a dataset first with '
        "bedrock-customize grade FILE --grader NAME."
    )


def _here(teacher: Teacher, region: str | None) -> bool:
    return region is None or region in teacher.regions


def _invocation(teacher: Teacher) -> str:
    if teacher.invocation == "model-id":
        return f"model id {teacher.model_ids[0]}"
    return "\n".join(
        f"inference profile {profile} ({region})"
        for region, profile in sorted(teacher.profiles.items())
    )


def _prices(teacher: Teacher) -> str:
    inp, out = teacher.input_per_1k_tokens_usd, teacher.output_per_1k_tokens_usd
    if inp is None or out is None:
        return "unknown"
    read = f" (read {teacher.price_read})" if teacher.price_read else ""
    return f"{usd(inp)}, {usd(out)}{read}"


def _default(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value in ("", []):
        return "empty"
    return str(value)
