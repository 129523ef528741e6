"""What a data risk does to a run: a warning in the report, or an error that rejects it.

A stage sets ``dataRisk: {pii: block, leakage: warn}``; ``RiskPolicy.parse`` reads it once
and says in one sentence what is wrong with a bad key or value. ``ScanBudget`` says how
much of a file the scan reads. This module imports nothing heavy: the validator imports
it always, the scan (customization_core/risk_scan.py) only when it runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal, get_args

RiskKind = Literal["leakage", "duplicates", "pii", "secrets", "outliers"]
RiskAction = Literal["warn", "block"]
RISK_KINDS: Final[tuple[RiskKind, ...]] = get_args(RiskKind)
RISK_ACTIONS: Final[tuple[RiskAction, ...]] = get_args(RiskAction)
DEFAULT_ACTION: Final[RiskAction] = "warn"


def _all_warn() -> Mapping[str, RiskAction]:
    return dict.fromkeys(RISK_KINDS, DEFAULT_ACTION)


@dataclass(frozen=True)
class RiskPolicy:
    """One action per risk kind; a kind the policy does not name warns."""

    actions: Mapping[str, RiskAction] = field(default_factory=_all_warn)

    @classmethod
    def parse(cls, value: Mapping[str, object] | None) -> RiskPolicy:
        """The policy a setting asks for (None or {}: every kind warns)."""
        if value is None:
            return cls()
        if not isinstance(value, Mapping):
            raise ValueError(
                f"dataRisk must be an object of kind: action, not {type(value).__name__}; kinds are {', '.join(RISK_KINDS)}."
            )
        actions = dict(_all_warn())
        for key, action in value.items():
            if key not in RISK_KINDS:
                raise ValueError(
                    f"dataRisk has an unknown kind {key!r}; the kinds are {', '.join(RISK_KINDS)}."
                )
            if action not in RISK_ACTIONS:
                raise ValueError(
                    f"dataRisk.{key} is {action!r}; it must be one of {', '.join(RISK_ACTIONS)}."
                )
            actions[key] = action
        return cls(actions)

    def action(self, kind: str) -> RiskAction:
        return self.actions.get(kind, DEFAULT_ACTION)

    def blocks(self, kind: str) -> bool:
        return self.action(kind) == "block"

    def to_dict(self) -> dict[str, str]:
        """Every kind with its action, in RISK_KINDS order."""
        return {kind: self.action(kind) for kind in RISK_KINDS}


@dataclass(frozen=True)
class ScanBudget:
    """A sampled scan: the first ``whole_bytes`` of a file's record text, then a sample.

    The pipeline and ``validate --risk`` scan every record (no budget): a stage that blocks
    personal data must not let 63 records in 64 through unread. The scan reads about
    40 MB of text a second where the validator's own checks read about 500 (bench/risk.py),
    so a complete scan makes validation some 10 times slower: a 1 GB file takes about
    25 s more, well inside ValidateDataset's 15 minutes. A budget is for a caller who
    wants a quick look at a very large file: past ``whole_bytes`` every ``sample_every``-th
    record is scanned (chosen by position, so the same file gives the same report), and
    the report says the scan was partial.
    """

    whole_bytes: int
    sample_every: int


# 2 MiB of text read whole (about 1,000 records of 2 KB, some 40 ms), then 1 record in 64:
# with it the validator stays about half as fast as without the scan (bench/risk.py).
SAMPLED_BUDGET: Final = ScanBudget(whole_bytes=2 * 1024 * 1024, sample_every=64)
