"""Validator throughput and memory, against a baseline measured in the same run.

``make bench`` (``python -m bench.validator``) generates a prompt/completion file
and a continued pre-training file (deterministic, in a temp dir), and prints
for each the validator's throughput, its peak RSS and the ratio to a baseline:
a bare loop that reads the lines and parses each with the fastest JSON parser
installed. Then it streams a larger file through a pipe to show that memory
does not grow with the input. Targets: ratio >= 0.5, peak RSS < 200 MB.
Each measurement runs in its own process, so RSS figures do not mix.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

MB = 1024 * 1024
RATIO_TARGET = 0.5
RSS_TARGET_MB = 200
SEED = 20261124

# The vocabulary of the generated dialogues.
VOCABULARY = (
    "the meeting budget project client deadline report review team schedule office "
    "call email invoice order delivery shipment question answer thanks please tomorrow "
    "yesterday week month quarter plan update change issue problem solution agree"
)
WORDS = VOCABULARY.split()
NAMES = ("#Person1#", "#Person2#")
MODEL = "amazon.titan-text-express-v1:0:8k"
CUSTOMIZATION = {
    "prompt-completion": "fine-tuning",
    "continued-pretraining": "continued-pretraining",
}


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(6, 18))]
    return " ".join(words).capitalize() + "."


def _pool(kind: str, rng: random.Random, size: int = 2000) -> list[bytes]:
    """Record bodies to repeat; a counter written into each line keeps every record unique."""
    bodies = []
    for _ in range(size):
        if kind == "prompt-completion":
            turns = "\n".join(
                f"{NAMES[t % 2]}: {_sentence(rng)} {_sentence(rng)}"
                for t in range(rng.randint(6, 14))
            )
            record = {
                "prompt": f"Summarize the following conversation.\n\n{turns}\n\nSummary:",
                "completion": " ".join(_sentence(rng) for _ in range(rng.randint(2, 4))),
            }
            key = b'{"prompt":"'
        else:
            record = {"input": " ".join(_sentence(rng) for _ in range(rng.randint(10, 30)))}
            key = b'{"input":"'
        line = json.dumps(record, separators=(",", ":")).encode()
        bodies.append(line[len(key) :])
    return bodies


def generate(kind: str, size_bytes: int) -> Iterator[bytes]:
    """Deterministic JSONL of about ``size_bytes``, in chunks of about 1 MB."""
    rng = random.Random(SEED)
    pool = _pool(kind, rng)
    key = b'{"prompt":"' if kind == "prompt-completion" else b'{"input":"'
    written = 0
    n = 0
    chunk: list[bytes] = []
    chunk_size = 0
    while written < size_bytes:
        line = key + b"Record %d. " % n + pool[n % len(pool)] + b"\n"
        n += 1
        chunk.append(line)
        chunk_size += len(line)
        if chunk_size >= MB:
            yield b"".join(chunk)
            written += chunk_size
            chunk, chunk_size = [], 0
    if chunk:
        yield b"".join(chunk)


def _fastest_loads() -> tuple[str, Any]:
    try:
        import orjson

        return "orjson", orjson.loads
    except ImportError:  # pragma: no cover - orjson is a dependency
        return "json", json.loads


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _child(mode: str, path: str, kind: str) -> None:
    """Run one measurement in this process and print it as JSON."""
    stream: BinaryIO = sys.stdin.buffer if path == "-" else Path(path).open("rb")  # noqa: SIM115
    start = time.perf_counter()
    with stream:
        if mode == "baseline":
            name, loads = _fastest_loads()
            records = 0
            for line in stream:
                loads(line)
                records += 1
            detail: dict[str, Any] = {"parser": name, "records": records}
        else:
            from customization_core.validator import validate_dataset

            report = validate_dataset(
                stream, model_id=MODEL, customization_type=CUSTOMIZATION[kind]
            )
            detail = {
                "records": report.document["records"],
                "errors": report.document["error_count"],
                "bytes": report.document["files"]["training"]["bytes"],
            }
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "rss_mb": _peak_rss_mb(), **detail}))


def _measure(mode: str, path: str, kind: str, stdin: Any = None) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.validator", "--child", mode, path, kind]
    result = subprocess.run(command, stdin=stdin, capture_output=True, text=True, check=False)
    if result.returncode:
        raise SystemExit(f"{mode} failed on {path}:\n{result.stderr}")
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def _stream_through(kind: str, size_bytes: int) -> dict[str, Any]:
    """Validate ``size_bytes`` generated on the fly, through a pipe (no disk)."""
    command = [sys.executable, "-m", "bench.validator", "--child", "validator", "-", kind]
    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=False)
    assert child.stdin is not None
    for chunk in generate(kind, size_bytes):
        child.stdin.write(chunk)
    child.stdin.close()
    assert child.stdout is not None
    out = child.stdout.read()
    child.wait()
    if child.returncode:
        raise SystemExit(f"validator failed on the streamed input (exit {child.returncode})")
    parsed: dict[str, Any] = json.loads(out)
    return parsed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--size-mb", type=int, default=1024, help="size of each generated file (MB)"
    )
    parser.add_argument(
        "--stream-mb", type=int, default=4096, help="size streamed for the memory check (MB)"
    )
    parser.add_argument(
        "--child", nargs=3, metavar=("MODE", "PATH", "KIND"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.child:
        _child(*args.child)
        return 0

    misses = 0
    print(f"{'dataset':<34}{'baseline':>14}{'validator':>14}{'ratio':>8}{'peak RSS':>12}")
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        for kind in ("prompt-completion", "continued-pretraining"):
            path = Path(tmp) / f"{kind}.jsonl"
            with path.open("wb") as out:
                for chunk in generate(kind, args.size_mb * MB):
                    out.write(chunk)
            size_mb = path.stat().st_size / MB
            # Warm the page cache once so neither side pays for the disk.
            _measure("baseline", str(path), kind)
            base = _measure("baseline", str(path), kind)
            mine = _measure("validator", str(path), kind)
            base_rate = size_mb / base["seconds"]
            rate = size_mb / mine["seconds"]
            ratio = rate / base_rate
            ok = ratio >= RATIO_TARGET and mine["rss_mb"] < RSS_TARGET_MB
            misses += not ok
            label = f"{kind} {size_mb:,.0f} MB"
            print(
                f"{label:<34}{base_rate:>9,.0f} MB/s{rate:>9,.0f} MB/s{ratio:>8.2f}"
                f"{mine['rss_mb']:>9,.0f} MB  {'ok' if ok else 'MISS'}"
                f"  ({mine['records']:,} records; baseline parser {base['parser']})"
            )
            path.unlink()
        streamed = _stream_through("prompt-completion", args.stream_mb * MB)
        ok = streamed["rss_mb"] < RSS_TARGET_MB
        misses += not ok
        label = f"prompt-completion {args.stream_mb:,} MB (pipe)"
        rate = streamed["bytes"] / MB / streamed["seconds"]
        print(
            f"{label:<34}{'':>14}{rate:>9,.0f} MB/s{'':>8}{streamed['rss_mb']:>9,.0f} MB  "
            f"{'ok' if ok else 'MISS'}  ({streamed['records']:,} records)"
        )
    print(
        f"targets: ratio >= {RATIO_TARGET}, peak RSS < {RSS_TARGET_MB} MB: {'met' if not misses else f'{misses} missed'}"
    )
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
