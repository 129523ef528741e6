"""Billed spend per run: Cost Explorer's spend grouped by the run id tag, beside each run's estimate.

Fields relied on, from botocore 1.44.8's service model (released 2026-11-20, read
2026-12-02; botocore/data/ce/2017-10-25/service-2.json): GetCostAndUsage(TimePeriod
{Start, End: exclusive, YYYY-MM-DD}, Granularity, Metrics, GroupBy [{Type: TAG, Key}],
NextPageToken): ResultsByTime[].Groups[] with Keys ["<tag key>$<value>"] and Metrics
{<metric>: {Amount, Unit}}; costs without the tag are the group "<tag key>$" (the GroupBy
documentation: "When you group by the TAG type and include a valid tag key, you get all
tag values, including empty strings").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Final, Literal

from customization_core.estimate import Estimate
from customization_core.faults import error_code
from customization_core.naming import RUN_ID_TAG
from customization_core.spend import DENIED_CODES

DEFAULT_DAYS: Final = 30  # days of billed spend `spend` asks Cost Explorer for
COST_METRIC: Final = "UnblendedCost"  # what the account is billed, before credits and discounts
# Cost Explorer is a global service served from one endpoint in us-east-1 for the aws
# partition, whatever the caller's Region ("The Cost Explorer API provides the following
# endpoint: https://ce.us-east-1.amazonaws.com",
# https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/ce-api.html, read 2026-12-02);
# botocore 1.44.8's ce endpoint rules resolve every Region of the partition to it, signed
# for us-east-1 (checked: a client made in eu-west-1 calls https://ce.us-east-1.amazonaws.com).
# Each request costs USD 0.01, each page of a paginated answer counting as one ("The AWS
# Cost Explorer API incurs a charge of 0.01 per request",
# https://aws.amazon.com/aws-cost-management/aws-cost-explorer/faqs/, read 2026-12-02).
# How to make the run id tag billable: a user-defined tag is grouped by only once it is
# activated as a cost allocation tag in the Billing and Cost Management console, which only
# a management account or a standalone account can do; activation takes up to 24 hours.
# Sources (read 2026-12-02): https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/custom-tags.html
# and, for the 24 hours, .../aboutv2/activate-built-in-tags.html ("It can take up to 24 hours
# for tags to activate", said there of AWS-generated tags; taken to hold for user-defined ones).
ACTIVATE_TAG: Final = (
    f"activate the tag {RUN_ID_TAG} in the Billing and Cost Management console > Cost "
    "allocation tags > User-defined cost allocation tags (tick it, then Activate; the "
    "management or a standalone account can, and it takes up to 24 hours)"
)


@dataclass(frozen=True)
class Billed:
    """Cost Explorer's answer: spend per run id tag value, or why there is none."""

    status: Literal["ok", "not-activated", "denied", "error"]
    start: str
    end: str
    by_run: dict[str, float] = field(default_factory=dict)
    currency: str = "USD"
    message: str | None = None


def billed_by_run(ce: Any, *, days: int, today: date) -> Billed:
    """Spend grouped by the run id tag over the ``days`` full days before ``today`` (UTC).

    ``ce``: a Cost Explorer client (its endpoint is us-east-1's whatever the Region). Denied
    or failing, it says so in ``message``; with no group carrying a value, the tag is not
    activated as a cost allocation tag (or nothing tagged was billed in the window).
    """
    start, end = (today - timedelta(days=days)).isoformat(), today.isoformat()
    request: dict[str, Any] = {
        "TimePeriod": {"Start": start, "End": end},  # End is exclusive
        "Granularity": "MONTHLY",
        "Metrics": [COST_METRIC],
        "GroupBy": [{"Type": "TAG", "Key": RUN_ID_TAG}],
    }
    by_run: dict[str, float] = {}
    currency = "USD"
    try:
        while True:
            page = ce.get_cost_and_usage(**request)
            for period in page.get("ResultsByTime", []):
                for group in period.get("Groups", []):
                    key = str((group.get("Keys") or [""])[0])
                    value = key.split("$", 1)[1] if "$" in key else ""
                    metric = (group.get("Metrics") or {}).get(COST_METRIC) or {}
                    currency = str(metric.get("Unit") or currency)
                    if value:
                        amount = float(metric.get("Amount") or 0)
                        by_run[value] = round(by_run.get(value, 0.0) + amount, 6)
            token = page.get("NextPageToken")
            if not token:
                break
            request["NextPageToken"] = token
    except Exception as error:
        code = error_code(error)
        if not code:
            raise
        status: Literal["denied", "error"] = "denied" if code in DENIED_CODES else "error"
        why = (
            "access denied (ce:GetCostAndUsage, or Cost Explorer is not enabled for the account)"
            if status == "denied"
            else f"{code}: {getattr(error, 'response', {}).get('Error', {}).get('Message', '')}"
        )
        return Billed(
            status,
            start,
            end,
            message=f"Billed spend per run is not shown: Cost Explorer {why}.",
        )
    if not by_run:
        return Billed(
            "not-activated",
            start,
            end,
            currency=currency,
            message=(
                f"Billed spend per run is not shown: no spend from {start} to {end} carries "
                f"the tag {RUN_ID_TAG}. To see it, {ACTIVATE_TAG}."
            ),
        )
    return Billed("ok", start, end, by_run, currency)


@dataclass(frozen=True)
class RunSpend:
    run_id: str
    billed_usd: float | None
    estimate_usd: float | None  # the run's estimated total (None: a price was unknown)
    estimate_known_usd: float | None  # what the priced parts of the estimate add up to
    in_registry: bool


def join_spend(billed: Billed, runs: Iterable[Mapping[str, Any]]) -> list[RunSpend]:
    """Billed spend next to each run's estimate (registry ``estimate``, else ``cost_usd``).

    Runs of this registry with an estimate are listed even when nothing is billed for them
    yet; run ids Cost Explorer knows that this registry does not (another stack's runs
    share the tag key) are listed with ``in_registry`` False.
    """
    items = {str(i["run_id"]): i for i in runs}
    rows = []
    for run_id in sorted(set(billed.by_run) | {r for r, i in items.items() if _has_estimate(i)}):
        item = items.get(run_id)
        total, known = _estimate_of(item) if item is not None else (None, None)
        rows.append(
            RunSpend(
                run_id=run_id,
                billed_usd=billed.by_run.get(run_id, 0.0 if billed.status == "ok" else None),
                estimate_usd=total,
                estimate_known_usd=known,
                in_registry=item is not None,
            )
        )
    return rows


def _has_estimate(item: Mapping[str, Any]) -> bool:
    return bool(item.get("estimate")) or item.get("cost_usd") is not None


def _estimate_of(item: Mapping[str, Any]) -> tuple[float | None, float | None]:
    if item.get("estimate"):
        estimate = Estimate.from_dict(item["estimate"])
        return estimate.total_usd, estimate.known_usd
    cost = item.get("cost_usd")
    return (float(cost), float(cost)) if cost is not None else (None, None)
