"""After a run's job.json is uploaded: say how to follow it, or follow it (--wait).

Each status the run enters is printed as the registry records it, until the run ends
or its model serves; the final lines say what to do next (invoke, extend, deploy,
logs). Exit codes when following: 0 the run succeeded or its model serves, 1
otherwise, 130 interrupted (the run goes on).
"""

from __future__ import annotations

import sys
import time
from typing import Any, Final

from bedrock_customize import run_items
from bedrock_customize import stack as stacks
from bedrock_customize.console import say
from bedrock_customize.stack import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK
from customization_core.contract import DeploymentStatus, Status

POLL_SECONDS: Final = {True: 0.2, False: 15.0}  # local emulator, AWS


def finish(
    stack: stacks.Stack,
    where: stacks.Where,
    run_id: str,
    *,
    wait: bool,
    timeout: float | None,
    advice: tuple[str, ...] = (),
) -> None:
    """After the upload: say how to follow the run (and ``advice``), or follow it (--wait).

    Following exits 0 when the run succeeds or its model serves, 1 otherwise.
    """
    if not wait:
        say(f"Follow it with: bedrock-customize status {run_id}{where.suffix}", err=True)
        for line in advice:
            say(line, err=True)
        return
    final = follow(
        stack,
        run_id,
        poll_seconds=POLL_SECONDS[where.local],
        timeout_minutes=timeout,
        suffix=where.suffix,
    )
    sys.exit(EXIT_OK if final in (Status.SUCCEEDED.value, Status.DEPLOYED.value) else EXIT_FAILED)


def follow(
    stack: stacks.Stack,
    run_id: str,
    *,
    poll_seconds: float,
    timeout_minutes: float | None,
    suffix: str,
) -> str | None:
    """Print each status the run enters until it ends; its final status (None: not followed to the end)."""
    deadline = time.monotonic() + timeout_minutes * 60 if timeout_minutes else None
    shown = 0
    announced_wait = False
    try:
        while True:
            found = run_items.find_item(stack, run_id)
            if found is None and not announced_wait:
                say("Waiting for the workflow to pick up the job ...", err=True)
                announced_wait = True
            history = found.get("history", []) if found else []
            for entry in history[shown:]:
                reason = f" ({entry['reason']})" if entry.get("reason") else ""
                say(f"  {entry['at']}  {entry['status']}{reason}", err=True)
                if entry["status"] == Status.AWAITING_APPROVAL.value:
                    # Locally everyone signs as one user: answer as another emulated person.
                    other = f"{suffix} --profile approver" if "--local" in suffix else suffix
                    say(
                        "  It waits for approval by someone other than you: bedrock-customize "
                        f"approve {run_id}{other} (or reject {run_id}{other} --reason ...)",
                        err=True,
                    )
            shown = len(history)
            if found and found["status"] == Status.DEPLOYED.value:
                deployment = found.get("deployment") or {}
                say(
                    f"Run {run_id} is DEPLOYED: its model serves from {deployment.get('arn')} "
                    f"until {deployment.get('expires_at')}, then it is deleted.",
                    err=True,
                )
                say(
                    f"Try it: bedrock-customize invoke {run_id}{suffix} --prompt '...'; "
                    f"keep it longer: bedrock-customize extend {run_id}{suffix} --hours N",
                    err=True,
                )
                return str(found["status"])
            if found and Status(found["status"]).terminal:
                _ended(found, suffix)
                return str(found["status"])
            if deadline is not None and time.monotonic() > deadline:
                say(
                    f"Stopped following after {timeout_minutes:g} minutes; the run goes on: "
                    f"bedrock-customize status {run_id}{suffix}",
                    err=True,
                )
                return None
            time.sleep(poll_seconds)
    except KeyboardInterrupt:
        say(
            f"Stopped following; the run goes on: bedrock-customize status {run_id}{suffix}",
            err=True,
        )
        sys.exit(EXIT_INTERRUPTED)


def _ended(found: dict[str, Any], suffix: str) -> None:
    run_id = found["run_id"]
    if found["status"] == Status.SUCCEEDED.value:
        say(f"Run {run_id} SUCCEEDED: custom model {found.get('model_arn')}", err=True)
        deployment = found.get("deployment") or {}
        if deployment.get("status") == DeploymentStatus.ACTIVE.value:  # kept, no end time
            say(f"Try it: bedrock-customize invoke {run_id}{suffix} --prompt '...'", err=True)
            return
        # A custom model answers only through a deployment: invoke cannot work yet.
        gone = f" (its deployment is {deployment['status']})" if deployment.get("status") else ""
        from customization_core.catalog import load_catalog
        from customization_core.deploy_existing import deploy_command

        say(
            f"Nothing serves it{gone}; to invoke it, deploy it: "
            + deploy_command(found, load_catalog(), suffix=suffix),
            err=True,
        )
        return
    say(
        f"Run {run_id} ended {found['status']}: {found.get('reason') or 'no reason recorded'}",
        err=True,
    )
    say(f"See why: bedrock-customize logs {run_id}{suffix}", err=True)
