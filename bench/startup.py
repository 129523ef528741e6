"""CLI start-up time, against a bare interpreter start measured in the same run.

``make bench`` (``python -m bench.startup``) times, in fresh processes, the median of
N runs of: ``python -c pass`` (the baseline: the interpreter and the environment's
site, which every command pays), ``bedrock-customize --help``, and
``bedrock-customize validate`` on a one-line training file. It prints each median,
the CLI's cost above the baseline, and whether the start stays within the target
(TARGET_SECONDS, issue 15: commands import pydantic, rich and boto3 only when they
need them). Informational: it exits 0 whatever the figures, since a loaded machine
slows every start alike; the margin over the baseline is the figure to compare.
Every process reads and writes its bytecode under one temporary PYTHONPYCACHEPREFIX,
as an installed CLI starts: with PYTHONDONTWRITEBYTECODE=1 (this environment's
default) each start would compile every module of the editable install again.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 0.1  # `--help` and `validate` on one line, on an unloaded machine
DEFAULT_RUNS = 15
MODEL = "amazon.titan-text-express-v1:0:8k"
ONE_LINE = {"prompt": "Summarize: the meeting moved to Tuesday.", "completion": "Moved."}


def _median_seconds(command: list[str], runs: int, env: dict[str, str]) -> float:
    """The median wall time of ``runs`` fresh processes of ``command`` (one warm-up first)."""
    times = []
    for attempt in range(runs + 1):
        start = time.perf_counter()
        subprocess.run(command, check=False, capture_output=True, env=env)
        if attempt:  # the first run warms the file cache and writes the bytecode
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(runs: int) -> dict[str, float]:
    """Median seconds of the baseline, `--help` and `validate` on a one-line file."""
    python = sys.executable
    script = Path(python).with_name("bedrock-customize")  # the console script, as users run it
    fallback = [python, "-c", "from bedrock_customize.cli import main; main()"]
    cli = [str(script)] if script.exists() else fallback
    with tempfile.TemporaryDirectory() as folder:
        train = Path(folder) / "train.jsonl"
        train.write_text(json.dumps(ONE_LINE) + "\n", encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(Path(folder) / "bytecode")
        return {
            "baseline": _median_seconds([python, "-c", "pass"], runs, env),
            "--help": _median_seconds([*cli, "--help"], runs, env),
            "validate": _median_seconds(
                [*cli, "validate", str(train), "--model", MODEL, "--type", "fine-tuning"],
                runs,
                env,
            ),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS, help="Processes per command.")
    runs = parser.parse_args().runs
    figures = measure(runs)
    baseline = figures["baseline"]
    print(f"CLI start-up, median of {runs} runs each (target {TARGET_SECONDS:g} s):")
    print(f"  {'python -c pass':32} {baseline * 1000:7.1f} ms  (baseline)")
    for name in ("--help", "validate"):
        seconds = figures[name]
        verdict = "within" if seconds <= TARGET_SECONDS else "over"
        print(
            f"  {'bedrock-customize ' + name:32} {seconds * 1000:7.1f} ms  "
            f"(+{(seconds - baseline) * 1000:.1f} ms over the baseline; {verdict} the target)"
        )


if __name__ == "__main__":
    main()
