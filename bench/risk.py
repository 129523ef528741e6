"""The data risk scan's cost: the validator with and without it, and the scan alone.

``make bench`` (``python -m bench.risk``) writes prompt/completion files of 50 and 200 MB
with bench/validator.py's generator and prints, per file, the validator's throughput and
peak RSS without the scan, with the scan as the pipeline and `validate --risk` run it
(complete: every record), with a sampled scan (SAMPLED_BUDGET: the first 2 MiB of a
file's text whole, then 1 record in 64), the ratio of each to the plain validator (the
issue's target: >= 0.5, which only the sampled scan meets), and the scan's own throughput. Memory must stay flat
from 50 to 200 MB: the scan's caps bound it, not the input. Each measurement runs in its
own process, so RSS figures do not mix.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from bench.validator import MB, MODEL, RSS_TARGET_MB, _peak_rss_mb, generate
from customization_core.risk_policy import SAMPLED_BUDGET

RATIO_TARGET = 0.5
SIZES_MB = (50, 200)
KIND = "prompt-completion"
MODES = ("plain", "bounded", "complete", "scan")


def _child(mode: str, path: str) -> None:
    """One measurement in this process, printed as JSON."""
    from customization_core.risk_policy import RiskPolicy
    from customization_core.risk_scan import RiskScan
    from customization_core.validator import validate_dataset

    detail: dict[str, Any] = {}
    if mode == "scan":
        # The scan alone: a parse loop with observe, less the same loop without it.
        with Path(path).open("rb") as lines:
            start = time.perf_counter()
            for line in lines:
                orjson.loads(line)
            parse = time.perf_counter() - start
        scan = RiskScan(budget=None)
        observe = scan.observe
        with Path(path).open("rb") as lines:
            start = time.perf_counter()
            for number, line in enumerate(lines, start=1):
                observe(number, orjson.loads(line))
            both = time.perf_counter() - start
        seconds = max(both - parse, 1e-9)
        detail["complete"] = scan.result().to_dict()["scanned"]["training"]["complete"]
    else:
        risk = None if mode == "plain" else RiskPolicy()
        budget = None if mode == "complete" else SAMPLED_BUDGET
        with Path(path).open("rb") as stream:
            start = time.perf_counter()
            report = validate_dataset(
                stream,
                model_id=MODEL,
                customization_type="fine-tuning",
                risk=risk,
                risk_budget=budget,
            )
            seconds = time.perf_counter() - start
        scanned = report.document.get("risk", {}).get("scanned", {}).get("training")
        if scanned is not None:
            detail = {"scanned": scanned["records"], "complete": scanned["complete"]}
        detail["records"] = report.document["records"]
    print(json.dumps({"seconds": seconds, "rss_mb": _peak_rss_mb(), **detail}))


def _measure(mode: str, path: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.risk", "--child", mode, str(path)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode:
        raise SystemExit(f"{mode} failed on {path}:\n{result.stderr}")
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes-mb", type=int, nargs="+", default=list(SIZES_MB), help="file sizes (MB)"
    )
    parser.add_argument("--child", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(*args.child)
        return 0

    print(
        f"{'dataset':<26}{'validator':>12}{'+complete scan':>22}{'+sampled scan':>22}"
        f"{'scan alone':>13}{'peak RSS plain/complete/sampled':>34}"
    )
    misses = 0  # memory: peak RSS must stay under the target, whatever the input's size
    with tempfile.TemporaryDirectory(prefix="bench-risk-") as tmp:
        for size in args.sizes_mb:
            path = Path(tmp) / f"{KIND}-{size}.jsonl"
            with path.open("wb") as out:
                for chunk in generate(KIND, size * MB):
                    out.write(chunk)
            size_mb = path.stat().st_size / MB
            _measure("plain", path)  # warm the page cache
            got = {mode: _measure(mode, path) for mode in MODES}
            rate = {mode: size_mb / got[mode]["seconds"] for mode in MODES}
            sampled = rate["bounded"] / rate["plain"]
            complete = rate["complete"] / rate["plain"]
            rss = [got[m]["rss_mb"] for m in ("plain", "complete", "bounded")]
            misses += max(rss) >= RSS_TARGET_MB
            print(
                f"{f'{KIND} {size_mb:,.0f} MB':<26}{rate['plain']:>7,.0f} MB/s"
                f"{rate['complete']:>9,.0f} MB/s x{complete:<5.2f}"
                f"{rate['bounded']:>9,.0f} MB/s x{sampled:<5.2f}"
                f"{rate['scan']:>8,.1f} MB/s"
                f"{'/'.join(f'{r:,.0f}' for r in rss):>27} MB"
            )
            print(
                f"{'':<26}ratio target {RATIO_TARGET}: complete "
                f"{'met' if complete >= RATIO_TARGET else 'MISSED'}, sampled "
                f"{'met' if sampled >= RATIO_TARGET else 'MISSED'}; the sampled scan read "
                f"{got['bounded']['scanned']:,} of {got['bounded']['records']:,} records"
            )
            path.unlink()
    print(
        "The pipeline and `validate --risk` run the complete scan (customization_core/"
        f"risk_policy.py ScanBudget says why); peak RSS < {RSS_TARGET_MB} MB: "
        f"{'met' if not misses else f'{misses} missed'}"
    )
    _hostile()
    return 1 if misses else 0


# Texts that make a careless pattern quadratic or wake the costly detectors on every match:
# one long word, a DNA sequence, a dotted run after an "@", a URL of one long host, a table
# of numbers. Each is 1 MB; a linear scan reads each in milliseconds.
HOSTILE: dict[str, str] = {
    "one long word": "a" * MB,
    "DNA": "ACGT" * (MB // 4),
    "dotted run after @": "x@" + "aa." * (MB // 3),
    "URL of one long host": "http://" + "a" * MB,
    "table of numbers": " ".join(str(100_000 + i) for i in range(MB // 7)),
}


def _hostile() -> None:
    """The detectors' throughput on hostile text (MB/s): any that is quadratic shows here."""
    from customization_core.risk_pii import find_sensitive

    for name, text in HOSTILE.items():
        start = time.perf_counter()
        find_sensitive(text)
        seconds = max(time.perf_counter() - start, 1e-9)
        print(f"hostile text, {name:<22} {len(text) / MB / seconds:>10,.0f} MB/s")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
