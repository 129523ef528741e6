"""``invoke`` and ``compare``: ask base and custom models the same prompt.

Each model family gets the request body it needs (customization_core/inference.py);
models.resolve says which model a run id, ARN or model id names.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import click

from bedrock_customize import stack as stacks
from bedrock_customize.console import console, emit_json, say, table
from bedrock_customize.models import Target, resolve
from bedrock_customize.stack import EXIT_FAILED, stack_options

if TYPE_CHECKING:
    from customization_core.inference import Reply

DEFAULT_MAX_TOKENS: Final = 256
DEFAULT_COMPARE_LIMIT: Final = 5


@dataclass(frozen=True)
class Comparison:
    prompt: str
    reference: str | None
    base: Reply
    custom: Reply


def _ask(
    stack: stacks.Stack, target: Target, prompt: str, max_tokens: int, temperature: float
) -> Reply:
    """One invocation; Bedrock's refusal is one sentence (exit 1), access problems exit 3."""
    from botocore.exceptions import ClientError

    from customization_core.inference import invoke

    runtime = stack.client("bedrock-runtime")
    try:
        return invoke(
            runtime,
            target.model_id,
            target.family,
            prompt,
            max_tokens=max_tokens,
            temperature=temperature,
        )
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", "")
        if code == "ValidationException":
            hint = (
                " A custom model answers through its deployment (provisioned throughput or an on-demand deployment)."
                if ":custom-model/" in target.model_id
                else ""
            )
            click.echo(f"Bedrock refused to invoke {target.label}: {message}{hint}", err=True)
            sys.exit(EXIT_FAILED)
        if code in ("ThrottlingException", "ServiceUnavailableException", "ModelNotReadyException"):
            click.echo(f"{target.label} is busy ({code}): try again in a minute.", err=True)
            sys.exit(EXIT_FAILED)
        if code == "ResourceNotFoundException":
            click.echo(f"{target.label} was not found: {message}", err=True)
            sys.exit(EXIT_FAILED)
        click.echo(stacks.describe(error, "bedrock:InvokeModel"), err=True)
        sys.exit(stacks.EXIT_ACCESS)


def _prompts(prompt: str | None, prompt_file: Path | None) -> list[tuple[str, str | None]]:
    """(prompt, reference completion) pairs from --prompt, a text file, or a prompt/completion JSONL."""
    if (prompt is None) == (prompt_file is None):
        raise click.UsageError("Give exactly one of --prompt and --prompt-file.")
    if prompt is not None:
        return [(prompt, None)]
    assert prompt_file is not None
    from customization_core.evaluation import read_samples

    text = prompt_file.read_text(encoding="utf-8")
    if prompt_file.suffix != ".jsonl":
        return [(text, None)]
    pairs: list[tuple[str, str | None]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            raise click.BadParameter(
                f"line {number} is not JSON.", param_hint="--prompt-file"
            ) from None
        # The evaluation's reader: prompt/completion as it is, a conversation (Bedrock's
        # schema or Claude's messages) as its last user turn and the answer to it.
        samples = list(read_samples([line.encode()])) if isinstance(record, dict) else []
        if not samples:
            raise click.BadParameter(
                f'line {number} is neither a {{"prompt", "completion"}} record nor a '
                "conversation ending in a user turn and its answer.",
                param_hint="--prompt-file",
            )
        pairs.append((samples[0].prompt, samples[0].reference))
    if not pairs:
        raise click.BadParameter("the file holds no prompts.", param_hint="--prompt-file")
    return pairs


PROMPT_OPTIONS = (
    click.option("--prompt", help="The prompt text."),
    click.option(
        "--prompt-file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="A text file (one prompt), or a prompt/completion JSONL (each prompt, with its completion as reference).",
    ),
    click.option(
        "--max-tokens",
        type=click.IntRange(min=1),
        default=DEFAULT_MAX_TOKENS,
        show_default=True,
        help="Longest answer, in tokens.",
    ),
    click.option(
        "--temperature",
        type=click.FloatRange(0, 1),
        default=0.0,
        show_default=True,
        help="0 answers the same way each time.",
    ),
    click.option("--json", "as_json", is_flag=True, help="Print the answers as JSON."),
)


def prompt_options(function: Any) -> Any:
    for option in reversed(PROMPT_OPTIONS):
        function = option(function)
    return function


def _usage(reply: Reply) -> str:
    tokens = (
        f"{reply.input_tokens} in / {reply.output_tokens} out tokens"
        if reply.input_tokens is not None
        else "tokens not reported"
    )
    return f"{tokens}, {reply.latency_ms} ms"


@click.command(name="invoke")
@stack_options
@click.argument("model")
@prompt_options
def invoke_command(
    where: stacks.Where,
    model: str,
    prompt: str | None,
    prompt_file: Path | None,
    max_tokens: int,
    temperature: float,
    as_json: bool,
) -> None:
    """Ask MODEL (a run id, a custom model ARN, or a base model id) for a completion."""
    prompts = _prompts(prompt, prompt_file)
    stack = where.open()
    target = resolve(stack, model, suffix=where.suffix)
    replies = [(p, _ask(stack, target, p, max_tokens, temperature)) for p, _ in prompts]
    if as_json:
        emit_json(
            {
                "model": target.model_id,
                "family": target.family,
                "answers": [{"prompt": p, **asdict(r)} for p, r in replies],
            }
        )
        return
    for _, reply in replies:
        click.echo(reply.text.strip())
        say(f"{target.label}: {_usage(reply)}", style="dim", err=True)


@click.command()
@stack_options
@click.option("--base", "base_model", required=True, help="The base model id to compare with.")
@click.option(
    "--custom", "custom_model", required=True, help="The custom model: a run id or its ARN."
)
@prompt_options
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=DEFAULT_COMPARE_LIMIT,
    show_default=True,
    help="With a JSONL --prompt-file: compare on its first N prompts.",
)
def compare(
    where: stacks.Where,
    base_model: str,
    custom_model: str,
    prompt: str | None,
    prompt_file: Path | None,
    max_tokens: int,
    temperature: float,
    as_json: bool,
    limit: int,
) -> None:
    """Ask the base and the custom model the same prompts; print their answers side by side."""
    prompts = _prompts(prompt, prompt_file)[:limit]
    stack = where.open()
    base = resolve(stack, base_model, suffix=where.suffix)
    custom = resolve(stack, custom_model, suffix=where.suffix)
    results = [
        Comparison(
            prompt=text,
            reference=reference,
            base=_ask(stack, base, text, max_tokens, temperature),
            custom=_ask(stack, custom, text, max_tokens, temperature),
        )
        for text, reference in prompts
    ]
    if as_json:
        emit_json(
            {
                "base": asdict(base),
                "custom": asdict(custom),
                "results": [asdict(r) for r in results],
            }
        )
        return
    out = console()
    for number, result in enumerate(results, start=1):
        heading = f"Prompt {number} of {len(results)}"
        if out.is_terminal:
            out.rule(heading)
        else:
            say(f"== {heading}")
        say(result.prompt.strip())
        columns = [base.label, custom.label]
        cells = [result.base.text.strip(), result.custom.text.strip()]
        usage: list[Any] = [_usage(result.base), _usage(result.custom)]
        if result.reference:
            from rich.text import Text

            columns.append("reference")
            cells.append(result.reference)
            usage.append(Text(""))
        table(columns, [cells, usage], keep_first=False)


COMMANDS: tuple[click.Command, ...] = (invoke_command, compare)
