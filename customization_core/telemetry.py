"""Names the handlers emit metrics under and the stack's alarms and dashboard read."""

from __future__ import annotations

from typing import Final

SERVICE: Final = "bedrock-customization"  # Powertools' service dimension
METRICS_NAMESPACE: Final = "BedrockCustomization"
RUNS_ENDED: Final = "RunsEnded"  # by Status
TRAINED_TOKENS: Final = "TrainedTokensEstimate"
ESTIMATED_SPEND: Final = "EstimatedSpendUsd"
JOB_DURATION: Final = "JobDurationSeconds"
OVERDUE_DEPLOYMENTS: Final = "OverdueDeployments"
