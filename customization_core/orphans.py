"""The sweep's check from Bedrock's side: deployments with this stack's owner tag that no live run owns.

Such an *orphan* is a run whose registry record was lost, or a crash between a delete that
failed and its record. SweepDeployments (lambdas/sweep_deployments/) counts them (the
OrphanedDeployments alarm) and logs each with the command that deletes it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from customization_core.naming import OWNER_TAG, RUN_ID_TAG
from customization_core.spend import Kind, list_serving, live_owners, read_tags

# The sweep's metric: deployments with this stack's owner tag that no live run owns.
# (With the other metric names, customization_core/telemetry.py is its natural home.)
ORPHANED_DEPLOYMENTS: Final = "OrphanedDeployments"


@dataclass(frozen=True)
class Orphan:
    kind: Kind
    arn: str
    name: str
    run_id: str | None
    created_at: str


def find_orphans(
    bedrock: Any,
    live_items: Callable[[], Iterable[Mapping[str, Any]]],
    *,
    stack_name: str,
) -> list[Orphan]:
    """Deployments that carry ``stack_name``'s owner tag and that no live run owns.

    Bedrock is listed first, then the registry is read (``live_items``), then the tags of
    what no live run claims: a run records its deployment in the live-deployments index
    before it creates it, and removes it after the delete, so anything listed before the
    registry was read, and still there after it, is owned or orphaned, not in between. A
    resource deleted meanwhile is gone (ResourceNotFoundException); one whose tags the
    caller may not read is not this stack's (the sweep may read only its own: the owner
    tag condition of its policy, stacks/deployment_specs.py).
    """
    listed = list_serving(bedrock)
    live = live_owners(live_items())
    orphans = []
    for item in listed:
        if item.arn in live or item.name in live:
            continue
        tags = read_tags(bedrock, item.arn)
        if not isinstance(tags, dict) or tags.get(OWNER_TAG) != stack_name:
            continue
        orphans.append(
            Orphan(
                kind=item.kind,
                arn=item.arn,
                name=item.name,
                run_id=tags.get(RUN_ID_TAG),
                created_at=item.created_at.isoformat(timespec="seconds"),
            )
        )
    return orphans
