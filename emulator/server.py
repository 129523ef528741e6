"""``make emulator``: the synthesized app served on 127.0.0.1, for ``bedrock-customize --local``.

The same emulator as ``make demo`` (moto with the real handlers, see
emulator/cloud.py), behind moto's HTTP server, with event delivery turned on:
an object uploaded by any client starts a run as S3 and EventBridge would, and
a stopped execution sends its ABORTED event. It writes where it listens to the
CLI's state file (``~/.bedrock-customize/emulator.json``, or
$BEDROCK_CUSTOMIZE_EMULATOR) and removes it when stopped with Ctrl-C.

``python -m emulator.server [--assembly cdk.out] [--port 0]``
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from moto.server import ThreadedMotoServer

from bedrock_customize.stack import local_state_path
from emulator.cloud import LocalCloud
from emulator.state import REGION


def serve(
    assembly: Path,
    port: int,
    ready: threading.Event | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Serve ``assembly`` until ``stop`` is set (or SIGINT/SIGTERM in the main thread)."""
    stop = stop or threading.Event()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    state_file = local_state_path()
    with LocalCloud.start(assembly, quiet=True, watch=True) as cloud:
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        try:
            host, bound = server.get_host_and_port()
            state: dict[str, Any] = {
                "endpoint": f"http://{host}:{bound}",
                "region": REGION,
                "stack": cloud.name,
                "outputs": {name: cloud.output(name) for name in cloud.template["Outputs"]},
                "pid": os.getpid(),
            }
            state_file.parent.mkdir(parents=True, exist_ok=True)
            partial = state_file.with_suffix(".partial")
            partial.write_text(json.dumps(state, indent=2))
            partial.replace(state_file)  # readers never see half a file
            print(
                f"Emulator of {cloud.name} listening on {state['endpoint']} (state in {state_file}).\n"
                "Use `bedrock-customize ... --local` from another terminal; Ctrl-C stops it.",
                flush=True,
            )
            if ready:
                ready.set()
            stop.wait()
        finally:
            server.stop()
            try:
                if json.loads(state_file.read_text()).get("pid") == os.getpid():
                    state_file.unlink()
            except (OSError, ValueError):
                pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--assembly", type=Path, default=Path("cdk.out"), help="the synthesized cloud assembly"
    )
    parser.add_argument(
        "--port", type=int, default=0, help="TCP port on 127.0.0.1 (default: any free one)"
    )
    arguments = parser.parse_args(argv)
    if not (arguments.assembly / "manifest.json").exists():
        print(
            f"{arguments.assembly} has no cloud assembly: run `make synth` first.", file=sys.stderr
        )
        return 2
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    serve(arguments.assembly, arguments.port, stop=stop)
    print("Emulator stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
