"""Every change the local emulator makes to moto, in one place: what, where, and why.

moto runs the synthesized state machine on its own ASL interpreter and serves
S3, DynamoDB, SNS, SQS, KMS and Bedrock in-process. These need help; each module
named says how and why in its own docstring:

1. Lambda (emulator/lambda_service.py). Without Docker, moto echoes the request:
   the patched invoke runs the function's real handler in this process.
2. Time (emulator/clock.py). Wait states, retry intervals and the SDK's backoff
   would sleep for real: ``clock.TIME_SCALE`` shrinks them.
3. Bedrock customization jobs (emulator/bedrock_jobs.py). moto leaves jobs
   InProgress forever: each job lives the life its run's scenario asks for.
4. Step Functions (emulator/step_functions.py). SendTaskFailure's ``cause``,
   GetExecutionHistory's ``reverseOrder``, a second answer to a task token and
   StopExecution of a task waiting for its token, answered as AWS does.
5. Bedrock Runtime (emulator/bedrock_runtime.py). moto answers InvokeModel with
   ``{}`` and has no Converse: each family's body is checked and answered in its shape.
6. Deployments (emulator/bedrock_deployments.py). moto has no Provisioned
   Throughput or custom model deployments, and no ``modelStatus``.
7. The account's model offer (emulator/account.py). moto has no GetFoundationModel,
   ListFoundationModels or GetFoundationModelAvailability.
8. Injected faults (emulator/faults.py). Every Bedrock and Bedrock Runtime
   operation, and SNS Publish, can be made to fail N times with a chosen error.
9. IAM (emulator/iam/). Every call a handler makes is judged by the synthesized IAM.

What the modules share (the scenarios, the Bedrock log) is in emulator/state.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulator import (
    account,
    bedrock_deployments,
    bedrock_jobs,
    bedrock_runtime,
    clock,
    faults,
    lambda_service,
    step_functions,
)
from emulator.iam import hook as iam_hook


def install(assign: Callable[[Any, str, Any], None] = setattr) -> None:
    """Apply the patches (idempotent; ``assign`` is setattr, or a test's monkeypatch.setattr)."""
    lambda_service.install(assign)
    clock.install(assign)
    step_functions.install(assign)
    bedrock_jobs.install(assign)
    bedrock_runtime.install(assign)
    bedrock_deployments.install(assign)
    account.install(assign)
    faults.install(assign)
    iam_hook.install(assign)
