"""The README's "Use it" walk-through, run as written against `make emulator`'s server process."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _use_it_block() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Use it") :]
    section = section[: section.index("\n## ", 1)]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    assert blocks[0].strip() == "make emulator"
    return str(blocks[1])


def test_the_use_it_section_works_as_written(assembly: Path, tmp_path: Path) -> None:
    state = tmp_path / "emulator.json"
    env = {**os.environ, "BEDROCK_CUSTOMIZE_EMULATOR": str(state), "NO_COLOR": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "emulator.server", "--assembly", str(assembly)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not state.exists():
            assert server.poll() is None, server.communicate()[0]
            assert time.monotonic() < deadline, "the emulator did not start"
            time.sleep(0.2)
        # A scratch copy of the checkout's layout: the walk-through writes build/summaries/.
        workdir = tmp_path / "work"
        workdir.mkdir()
        for name in ("examples", ".venv"):
            (workdir / name).symlink_to(ROOT / name)
        walk = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", _use_it_block()],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert walk.returncode == 0, walk.stdout + walk.stderr
        assert "Wrote 24 training records" in walk.stdout
        assert "VALID:" in walk.stdout
        assert "Data risks (examples masked):" in walk.stdout  # validate --risk
        assert "Saved the report of" in walk.stdout  # report
        page = (workdir / "build" / "summaries" / "report.html").read_text()
        assert page.startswith("<!DOCTYPE html>")
        assert "<script" not in page
        assert re.search(r"Run summaries-[0-9a-f]{12} is DEPLOYED", walk.stderr)
        assert "RecordResult" in walk.stdout  # logs
        assert "== Prompt 3 of 3" in walk.stdout  # compare
        assert "its deployment is now deleted at" in walk.stdout  # extend
    finally:
        server.send_signal(signal.SIGINT)
        output = server.communicate(timeout=60)[0]
    assert server.returncode == 0, output
    assert "Emulator stopped." in output
    assert not state.exists()  # the state file goes with the server
