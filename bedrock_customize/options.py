"""Options more than one command takes: customization type, hyperparameters, price,
distillation's teacher and RFT's grader."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import click


class LazyChoice(click.Choice[str]):
    """A click.Choice whose choices are read when a command first needs them.

    The catalog (pydantic) is not imported to list the commands: `--help` stays fast.
    """

    def __init__(self, load: Callable[[], Iterable[str]]) -> None:
        self._load: Callable[[], Iterable[str]] = load
        self._loaded: tuple[str, ...] = ()
        super().__init__(())

    @property
    def choices(self) -> tuple[str, ...]:
        if not self._loaded:
            self._loaded = tuple(self._load())
        return self._loaded

    @choices.setter
    def choices(self, value: tuple[str, ...]) -> None:
        self._loaded = value


class LazyDefault:
    """An option's default read from the core when a command runs or shows its help.

    click calls a callable default to get the value, and prints one that is not a
    function with str() (`[default: 30]`), so the group starts without importing it.
    """

    def __init__(self, load: Callable[[], Any]) -> None:
        self._load = load

    def __call__(self) -> Any:
        return self._load()

    def __str__(self) -> str:
        return str(self._load())


def _type_names() -> list[str]:
    from customization_core.catalog import CustomizationType

    return [member.cli_name for member in CustomizationType]


# The customization types as the command line names them (fine-tuning, ...).
TYPE_CHOICE = LazyChoice(_type_names)
# --region of validate, cost and prepare.
REGION_OPTION = click.option(
    "--region",
    help="Refuse unless the model can be customized with --type in this Region.",
)
PRICE_OPTION = click.option(
    "--price-per-1k-tokens",
    type=click.FloatRange(min=0),
    help="Override the catalog's training price (USD per 1,000 tokens).",
)


def key_values(
    _ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]
) -> dict[str, str]:
    """Repeated KEY=VALUE options as a dict."""
    parsed: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{item!r} is not KEY=VALUE (for example epochCount=2).")
        parsed[key.strip()] = value.strip()
    return parsed


HYPERPARAMETER_OPTION = click.option(
    "--hyperparameter",
    "hyperparameters",
    multiple=True,
    callback=key_values,
    metavar="KEY=VALUE",
    help="A hyperparameter as the API names it (repeatable), e.g. learningRate=0.00001.",
)
EPOCHS_OPTION = click.option(
    "--epochs", type=click.IntRange(min=1), help="Shorthand for --hyperparameter epochCount=N."
)
MEDIA_ROOT_OPTION = click.option(
    "--media-root",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A local copy of the bucket: s3://bucket/KEY is read as DIR/KEY to check media objects.",
)


def validation_option(help_text: str) -> Callable[[Any], Any]:
    """``--validation FILE``: an existing validation JSONL."""
    return click.option(
        "--validation", type=click.Path(exists=True, dir_okay=False, path_type=Path), help=help_text
    )


def with_epochs(hyperparameters: dict[str, str], epochs: int | None) -> dict[str, str]:
    """``hyperparameters`` with --epochs folded in; a usage error when the two disagree."""
    if epochs is None:
        return hyperparameters
    given = hyperparameters.get("epochCount")
    if given is not None and given != str(epochs):
        raise click.UsageError(
            f"--epochs {epochs} and --hyperparameter epochCount={given} disagree; give one."
        )
    return {**hyperparameters, "epochCount": str(epochs)}


# The deployment's options, the same for `submit` (after training) and `deploy` (later).
_DEPLOYMENT_OPTIONS = (
    click.option(
        "--model-units",
        type=click.IntRange(1, 10),
        help="Provisioned Throughput model units (default 1).",
    ),
    click.option(
        "--ttl-hours",
        type=click.FloatRange(min=0, min_open=True),
        help="Delete the deployment this many hours after it is ready (default 24).",
    ),
    click.option(
        "--idle-hours",
        type=click.FloatRange(min=0, min_open=True),
        help="Delete the deployment early after this many hours with no invocation "
        "(default: the stage's deploymentIdleHours).",
    ),
    click.option(
        "--keep-deployment",
        is_flag=True,
        help="No end time (ttlHours: null): the deployment stays until someone deletes it "
        "(needs approval).",
    ),
    click.option(
        "--evaluate-samples",
        type=click.IntRange(1, 1000),
        help="Compare custom and base model on this many held-out records.",
    ),
    click.option(
        "--min-improvement",
        type=click.FloatRange(0, 1),
        help="ROUGE-L points the custom model must gain over its base, or it is torn down.",
    ),
    click.option(
        "--budget-usd",
        type=click.FloatRange(min=0, min_open=True),
        help="Refuse the run when its cost estimate is above this many dollars.",
    ),
)


def deployment_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the deployment's options (model units, end time, idle time, evaluation, budget)."""
    for option in reversed(_DEPLOYMENT_OPTIONS):
        command = option(command)
    return command


def after_training(
    mode: str,
    model_units: int | None,
    ttl_hours: float | None,
    keep: bool,
    samples: int | None,
    min_improvement: float | None,
) -> dict[str, Any]:
    """The manifest's deploy and evaluate blocks from the options; a usage error for a mix-up."""
    deploying = {
        "model_units": model_units,
        "ttl_hours": ttl_hours,
        "keep_deployment": keep or None,
    }
    given = [f"--{k.replace('_', '-')}" for k, v in deploying.items() if v is not None]
    if mode == "none":
        asked = given + (["--evaluate-samples"] if samples else [])
        asked += ["--min-improvement"] if min_improvement is not None else []
        if asked:
            raise click.UsageError(f"{', '.join(asked)} need(s) --deploy provisioned or on-demand.")
        return {}
    if keep and ttl_hours is not None:
        raise click.UsageError("Give --ttl-hours or --keep-deployment, not both.")
    deploy: dict[str, Any] = {"mode": mode}
    if model_units is not None:
        deploy["modelUnits"] = model_units
    if keep:
        deploy["ttlHours"] = None
    elif ttl_hours is not None:
        deploy["ttlHours"] = ttl_hours
    blocks: dict[str, Any] = {"deploy": deploy}
    if samples is not None or min_improvement is not None:
        evaluate: dict[str, Any] = {}
        if samples is not None:
            evaluate["samples"] = samples
        if min_improvement is not None:
            evaluate["minImprovement"] = min_improvement
        blocks["evaluate"] = evaluate
    return blocks


# ---- distillation's teacher and RFT's grader (validate, cost, submit) --------------------

RFT: Final = "reinforcement-fine-tuning"  # CustomizationType.REINFORCEMENT_FINE_TUNING.cli_name


@dataclass(frozen=True)
class TypeOptions:
    """What distillation (a teacher) and RFT (a grader) take beside the model and the data."""

    teacher: str | None = None
    max_response_length: int | None = None
    grader: str | None = None
    grader_params: dict[str, Any] = field(default_factory=dict)
    grader_arn: str | None = None

    def given(self) -> dict[str, str]:
        """The options given, by flag, each with the type that takes it."""
        flags = {
            "--teacher": (self.teacher, "distillation"),
            "--max-response-length": (self.max_response_length, "distillation"),
            "--grader": (self.grader, RFT),
            "--grader-param": (self.grader_params or None, RFT),
            "--grader-arn": (self.grader_arn, RFT),
        }
        return {flag: kind for flag, (value, kind) in flags.items() if value is not None}

    def checked(self, kind: str, model_id: str) -> TypeOptions:
        """These options for ``kind``; a usage error naming the fix when they do not fit it.

        A built-in grader's name and parameters are checked here (customization_core/graders.py),
        so a typo is exit 2 before any file is read.
        """
        from customization_core.catalog import CustomizationType, load_catalog

        cli_kind = CustomizationType.parse(kind).cli_name
        wrong = [flag for flag, takes in self.given().items() if takes != cli_kind]
        if wrong:
            takers = sorted({self.given()[flag] for flag in wrong})
            raise click.UsageError(
                f"{', '.join(wrong)} {'is' if len(wrong) == 1 else 'are'} for --type "
                f"{' or '.join(takers)} only, not {cli_kind}: leave "
                f"{'it' if len(wrong) == 1 else 'them'} out, or change --type."
            )
        if cli_kind == "distillation" and self.teacher is None:
            teachers = [t.model_ids[0] for t in load_catalog().teachers_of(model_id)]
            choices = ", ".join(teachers) or "none in the catalog"
            raise click.UsageError(
                f"--type distillation needs --teacher MODEL: the model whose answers {model_id} "
                f"learns (its teachers: {choices}; see bedrock-customize catalog --type "
                "distillation)."
            )
        if cli_kind == RFT:
            self._check_grader()
        return self

    def _check_grader(self) -> None:
        from customization_core.graders import GraderConfigError, configure
        from customization_core.manifest import LAMBDA_ARN_PATTERN

        if (self.grader is None) == (self.grader_arn is None):
            raise click.UsageError(
                f"--type {RFT} needs one grader: --grader NAME (a built-in one, with "
                "--grader-param KEY=VALUE; bedrock-customize catalog --graders lists them) or "
                "--grader-arn ARN (your own Lambda function)."
            )
        if self.grader_arn is not None:
            if self.grader_params:
                raise click.UsageError(
                    "--grader-param configures a built-in grader (--grader NAME); your own "
                    "function (--grader-arn) reads what it needs from the records."
                )
            if not LAMBDA_ARN_PATTERN.fullmatch(self.grader_arn):
                raise click.BadParameter(
                    f"{self.grader_arn!r} is not a Lambda function ARN "
                    "(arn:aws:lambda:REGION:ACCOUNT:function:NAME).",
                    param_hint="--grader-arn",
                )
            return
        try:
            configure(str(self.grader), self.grader_params)
        except GraderConfigError as problem:
            raise click.UsageError(f"{problem} (--grader {self.grader}, --grader-param).") from None

    def validator_kwargs(self) -> dict[str, Any]:
        """validate_dataset's keyword arguments for the teacher and the grader's record fields."""
        from customization_core.graders import configure

        fields = configure(self.grader, self.grader_params).needs_fields() if self.grader else ()
        return {
            "teacher_model_id": self.teacher,
            "max_response_length": self.max_response_length,
            "grader_fields": tuple(fields),
        }

    def manifest_fields(self) -> dict[str, Any]:
        """job.json's teacherModelId, maxResponseLength and grader, for the options given."""
        fields: dict[str, Any] = {}
        if self.teacher is not None:
            fields["teacherModelId"] = self.teacher
        if self.max_response_length is not None:
            fields["maxResponseLength"] = self.max_response_length
        if self.grader is not None:
            fields["grader"] = {"name": self.grader, "params": dict(self.grader_params)}
        elif self.grader_arn is not None:
            fields["grader"] = {"lambdaArn": self.grader_arn}
        return fields


_TYPE_OPTIONS = (
    click.option(
        "--teacher",
        metavar="MODEL",
        help="Distillation: the teacher's model id, e.g. amazon.nova-pro-v1:0 "
        "(bedrock-customize catalog --type distillation).",
    ),
    click.option(
        "--max-response-length",
        type=click.IntRange(min=1),
        metavar="N",
        help="Distillation: the longest answer (tokens) the teacher writes per prompt.",
    ),
    click.option(
        "--grader",
        metavar="NAME",
        help="RFT: a built-in grader (exact, numeric, json-fields, regex, weighted; "
        "bedrock-customize catalog --graders).",
    ),
    click.option(
        "--grader-param",
        "grader_params",
        multiple=True,
        callback=key_values,
        metavar="KEY=VALUE",
        help="RFT: a parameter of --grader (repeatable; the value is read as JSON when it "
        "is JSON), e.g. tolerance=0.01.",
    ),
    click.option(
        "--grader-arn",
        metavar="ARN",
        help="RFT: your own grader Lambda function (same account and Region as the stack).",
    ),
)


def type_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add --teacher, --max-response-length, --grader, --grader-param and --grader-arn,
    handed to the command as one ``for_type`` (TypeOptions, not yet checked)."""

    @functools.wraps(command)
    def wrapped(
        *args: Any,
        teacher: str | None,
        max_response_length: int | None,
        grader: str | None,
        grader_params: dict[str, Any],
        grader_arn: str | None,
        **kwargs: Any,
    ) -> Any:
        from customization_core.grader_params import params_from_text

        values = params_from_text(grader or "", grader_params)
        given = TypeOptions(teacher, max_response_length, grader, values, grader_arn)
        return command(*args, for_type=given, **kwargs)

    decorated: Callable[..., Any] = wrapped
    for option in reversed(_TYPE_OPTIONS):
        decorated = option(decorated)
    return decorated
