"""One long-lived Node process running @cloud-copilot/iam-simulate (simulate.mjs).

iam-simulate is AGPL-3.0: it is a test-time tool of the emulator, installed from
package.json's devDependencies, never part of the Lambda asset or the CLI.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).with_name("simulate.mjs")
ROOT = SCRIPT.parents[2]  # node resolves @cloud-copilot/* from the repository's node_modules
PACKAGE = ROOT / "node_modules" / "@cloud-copilot" / "iam-simulate"


# iam-simulate 0.1.173 fills in a variable key only after a '/' (aws:RequestTag/${TagKey}),
# so it ignores kms:EncryptionContext:<key> in a request and never matches a condition on
# it. The same key, spelled as a global tag key in the policies and the request alike,
# is compared by the same operators.
_ENCRYPTION_CONTEXT = ('"kms:EncryptionContext:', '"aws:RequestTag/kms-encryption-context:')


class SimulatorUnavailableError(RuntimeError):
    """Node or the npm package is missing: the emulator cannot judge IAM."""


class Simulator:
    """Answers simulations in order; identical ones are answered from memory."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None
        self._answers: dict[str, dict[str, Any]] = {}

    def decide(self, simulation: dict[str, Any]) -> dict[str, Any]:
        """``{"result": "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied" | "Error", ...}``."""
        line = json.dumps(simulation, sort_keys=True).replace(*_ENCRYPTION_CONTEXT)
        with self._lock:
            if line in self._answers:
                return self._answers[line]
            process = self._started()
            assert process.stdin is not None
            assert process.stdout is not None
            process.stdin.write(line + "\n")
            process.stdin.flush()
            reply = process.stdout.readline()
            if not reply:
                self._process = None
                raise SimulatorUnavailableError("the IAM simulator (node) stopped answering")
            answer: dict[str, Any] = json.loads(reply)
            self._answers[line] = answer
            return answer

    def close(self) -> None:
        with self._lock:
            if self._process is not None:
                assert self._process.stdin is not None
                self._process.stdin.close()
                self._process.wait(timeout=10)
                self._process = None

    def _started(self) -> subprocess.Popen[str]:
        if self._process is not None and self._process.poll() is None:
            return self._process
        node = shutil.which("node")
        if node is None or not PACKAGE.is_dir():
            raise SimulatorUnavailableError(
                "the emulator authorizes every call with npm's @cloud-copilot/iam-simulate: "
                "run `make install` (npm ci) so node and node_modules are there"
            )
        self._process = subprocess.Popen(  # noqa: S603 - this checkout's node script, fixed
            [node, str(SCRIPT)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        return self._process


SIMULATOR = Simulator()
