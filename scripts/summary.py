"""Print, for a person, what a synthesized cloud assembly would deploy.

``python -m scripts.summary cdk.out`` reads each stack template and
``validation-report.json`` (written by the cdk-nag plugins at synth) and lists,
first, what the stack costs per month while it is deployed and unused, then
keys, buckets, network, roles, topic and the compliance result.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stacks.nag_packs import PACKS

Resource = Mapping[str, Any]
Template = Mapping[str, Any]


@dataclass(frozen=True)
class Price:
    """A us-east-1 list price in USD per ``unit``, and the page it is written on.

    ``confirmed`` is False when the stored copy of that AWS page (read 2026-12-02) did not
    show the figure: the summary still counts it, and says so on its line and in the total.
    """

    usd: float
    unit: str
    source: str
    confirmed: bool = True


# The month AWS's pricing pages count in (hours), and its days.
HOURS_PER_MONTH = 730
DAYS_PER_MONTH = HOURS_PER_MONTH / 24
# An interface endpoint is billed "for each hour that your VPC endpoint remains provisioned in
# each Availability Zone" (https://aws.amazon.com/privatelink/pricing/, read 2026-12-02). The
# hourly rate is drawn per Region on that page and was not in the stored copy: $0.01/hour is
# the us-east-1 figure this project has used; unconfirmed.
ENDPOINT_AZ_HOUR = Price(0.01, "hour", "https://aws.amazon.com/privatelink/pricing/", False)
# "Each AWS KMS key that you create in KMS costs $1/month"; "if you enable automatic key
# rotation, each newly generated backing key costs an additional $1/month".
# Source, read 2026-12-02: https://aws.amazon.com/kms/pricing/
KMS_KEY_MONTH = Price(1.00, "month", "https://aws.amazon.com/kms/pricing/")
# Standard-resolution alarm, per alarm metric and month; the stored copy of the page showed
# only the free tier ("10 Alarm metrics", per account). Source, read 2026-12-02:
# https://aws.amazon.com/cloudwatch/pricing/; the $0.10 figure is unconfirmed.
ALARM_MONTH = Price(0.10, "alarm-month", "https://aws.amazon.com/cloudwatch/pricing/", False)
ALARMS_FREE_PER_ACCOUNT = 10
# Custom dashboard, per month; the stored copy showed only the free tier ("3 Custom Dashboards
# referencing up to 50 metrics each per month", per account). Source, read 2026-12-02:
# https://aws.amazon.com/cloudwatch/pricing/; the $3.00 figure is unconfirmed.
DASHBOARD_MONTH = Price(
    3.00, "dashboard-month", "https://aws.amazon.com/cloudwatch/pricing/", False
)
DASHBOARDS_FREE_PER_ACCOUNT = 3
# "Your first two active budgets are free of charge. Each additional active budget costs
# $0.02 per day." Source, read 2026-12-02 (the AWS Budgets pricing page,
# https://aws.amazon.com/aws-cost-management/aws-budgets/pricing/, was not in a stored copy):
# https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/budgets-managing-costs.html
BUDGET_DAY = Price(
    0.02,
    "day",
    "https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/budgets-managing-costs.html",
)
BUDGETS_FREE_PER_ACCOUNT = 2
# What is billed only by use, so nothing while no run goes (each checked 2026-12-02):
# gateway endpoints "come at no additional charge" (https://docs.aws.amazon.com/
# prescriptive-guidance/latest/aws-startup-security-baseline/wkld-12.html); DynamoDB on-demand
# is "billed per read or write request", plus storage (https://aws.amazon.com/blogs/aws/
# amazon-dynamodb-on-demand-no-capacity-planning-and-pay-per-request-pricing/); CloudWatch
# Logs bills data ingested and stored (https://aws.amazon.com/cloudwatch/pricing/); SQS bills
# requests (https://aws.amazon.com/sqs/pricing/, not in a stored copy).
# Resources that are configuration, with no charge of their own.
UNBILLED_TYPES = frozenset(
    {
        "AWS::CDK::Metadata",
        "AWS::EC2::RouteTable",
        "AWS::EC2::SecurityGroup",
        "AWS::EC2::SecurityGroupEgress",
        "AWS::EC2::SecurityGroupIngress",
        "AWS::EC2::Subnet",
        "AWS::EC2::SubnetRouteTableAssociation",
        "AWS::EC2::VPC",
        "AWS::IAM::ManagedPolicy",
        "AWS::IAM::Policy",
        "AWS::IAM::Role",
        "AWS::KMS::Alias",
        "AWS::Lambda::Permission",
        "AWS::S3::BucketPolicy",
        "AWS::SNS::Subscription",
        "AWS::SNS::TopicPolicy",
        "AWS::SQS::QueuePolicy",
    }
)


def resources(template: Template, type_: str) -> Iterator[tuple[str, Resource]]:
    """(construct name, resource) for each resource of ``type_``, in template order."""
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") == type_:
            yield _name(logical_id, resource), resource


# Construct ids too generic to name a resource alone: their parent is shown too.
GENERIC_IDS = {"Role", "Handler", "Topic", "Policy", "Vpc"}


def _name(logical_id: str, resource: Resource) -> str:
    path = resource.get("Metadata", {}).get("aws:cdk:path", logical_id)
    parts = [p for p in str(path).split("/") if p not in {"Resource", "Default"}]
    if not parts:
        return logical_id
    if parts[-1] in GENERIC_IDS and len(parts) > 2:
        return f"{parts[-2]}/{parts[-1]}"
    return parts[-1]


def _props(resource: Resource) -> Mapping[str, Any]:
    props: Mapping[str, Any] = resource.get("Properties", {})
    return props


def _ref_name(template: Template, value: Any) -> str:
    """A readable name for a Ref/GetAtt to another resource of the template."""
    if isinstance(value, Mapping):
        target = value.get("Ref") or (value.get("Fn::GetAtt") or [None])[0]
        if isinstance(target, str) and target in template.get("Resources", {}):
            return _name(target, template["Resources"][target])
    return str(value)


def summarize(stack_name: str, template: Template, report: Mapping[str, Any] | None) -> list[str]:
    """The human-readable summary of one stack, as lines."""
    lines = [f"Stack {stack_name}: {template.get('Description', '')}", ""]
    # What it costs comes first: it is billed from the deployment on, with or without runs.
    lines += [*_cost(template), ""]
    lines += [*_keys(template), "", *_buckets(template), "", *_network(template), ""]
    lines += [*_workflow(template), ""]
    lines += [*_roles(template), "", *_topics(template), "", *_compliance(report)]
    return lines


def _keys(template: Template) -> list[str]:
    aliases = {
        _ref_name(template, _props(a).get("TargetKeyId")): _props(a).get("AliasName")
        for _, a in resources(template, "AWS::KMS::Alias")
    }
    lines = ["KMS keys (customer managed)"]
    for name, key in resources(template, "AWS::KMS::Key"):
        rotation = "rotation on" if _props(key).get("EnableKeyRotation") else "ROTATION OFF"
        lines.append(
            f"  {name:<10} {aliases.get(name, '(no alias)'):<42} {rotation}, "
            f"on stack deletion: {key.get('DeletionPolicy', 'Delete').lower()}"
        )
    return lines


def _buckets(template: Template) -> list[str]:
    lines = ["S3 buckets (public access blocked, TLS only, versioned, owner-enforced)"]
    for name, bucket in resources(template, "AWS::S3::Bucket"):
        props = _props(bucket)
        sse = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        default = sse["ServerSideEncryptionByDefault"]
        if default["SSEAlgorithm"] == "aws:kms":
            encryption = f"SSE-KMS ({_ref_name(template, default.get('KMSMasterKeyID'))})"
        else:
            encryption = "SSE-S3"
        logs = props.get("LoggingConfiguration")
        logging = (
            f"access logs -> {_ref_name(template, logs['DestinationBucketName'])}/{logs['LogFilePrefix']}"
            if logs
            else "is the access-log target"
        )
        events = props.get("NotificationConfiguration", {}).get("EventBridgeConfiguration")
        extra = ", EventBridge events on" if events else ""
        lines.append(
            f"  {name:<10} {encryption}, {logging}{extra}, "
            f"on stack deletion: {bucket.get('DeletionPolicy', 'Delete').lower()}"
        )
    return lines


def _network(template: Template) -> list[str]:
    lines = ["Network"]
    vpcs = list(resources(template, "AWS::EC2::VPC"))
    subnets = list(resources(template, "AWS::EC2::Subnet"))
    if vpcs:
        cidr = _props(vpcs[0][1]).get("CidrBlock")
        has_igw = any(True for _ in resources(template, "AWS::EC2::InternetGateway"))
        has_nat = any(True for _ in resources(template, "AWS::EC2::NatGateway"))
        lines.append(
            f"  new VPC {cidr}: {len(subnets)} isolated subnet(s), one per AZ; "
            f"internet gateway: {'YES' if has_igw else 'none'}, NAT: {'YES' if has_nat else 'none'}"
        )
    else:
        lines.append("  existing VPC (from settings): no VPC or subnet is created")
    for _, flow in resources(template, "AWS::EC2::FlowLog"):
        lines.append(f"  flow logs: {_props(flow).get('TrafficType')} traffic -> CloudWatch Logs")
    interface, gateway = [], []
    for _, endpoint in resources(template, "AWS::EC2::VPCEndpoint"):
        props = _props(endpoint)
        service = _service_short_name(props.get("ServiceName"))
        policy = "policy" if props.get("PolicyDocument") else "NO POLICY"
        if props.get("VpcEndpointType") == "Interface":
            dns = "private DNS" if props.get("PrivateDnsEnabled") else "NO PRIVATE DNS"
            interface.append(f"{service} ({dns}, {policy})")
        else:
            gateway.append(f"{service} ({policy})")
    lines.append("  gateway endpoints: " + (", ".join(gateway) or "none"))
    lines.append("  interface endpoints: " + (", ".join(interface) or "none"))
    for name, group in resources(template, "AWS::EC2::SecurityGroup"):
        lines.append(f"  security group {name}: {_props(group).get('GroupDescription')}")
    groups = [
        (name, _props(g).get("RetentionInDays"), bool(_props(g).get("KmsKeyId")))
        for name, g in resources(template, "AWS::Logs::LogGroup")
    ]
    for name, days, encrypted in groups:
        lines.append(
            f"  log group {name}: {'KMS-encrypted' if encrypted else 'NOT ENCRYPTED'}, "
            f"retention {days} days"
        )
    return lines


def _service_short_name(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else value
    # "com.amazonaws.<region>.bedrock-runtime" rendered with tokens: keep the service part.
    return text.rsplit(".", 1)[-1].strip('"]} ')


def _workflow(template: Template) -> list[str]:
    lines = ["Workflow"]
    for _, rule in resources(template, "AWS::Events::Rule"):
        props = _props(rule)
        pattern = props.get("EventPattern", {})
        key = pattern.get("detail", {}).get("object", {}).get("key")
        dlq = (
            "with a dead-letter queue" if props["Targets"][0].get("DeadLetterConfig") else "NO DLQ"
        )
        what = (
            f"uploads matching {key[0]['wildcard']}"
            if key
            else ", ".join(pattern.get("detail-type", []))
        )
        lines.append(f"  rule: {what} -> {_ref_name(template, props['Targets'][0]['Arn'])} ({dlq})")
    for name, machine in resources(template, "AWS::StepFunctions::StateMachine"):
        props = _props(machine)
        logging = props.get("LoggingConfiguration", {}).get("Level", "none")
        tracing = (
            "X-Ray on" if props.get("TracingConfiguration", {}).get("Enabled") else "no tracing"
        )
        lines.append(
            f"  state machine {name}: {props.get('StateMachineType')}, logs {logging}, {tracing}"
        )
    functions = [_props(f) for _, f in resources(template, "AWS::Lambda::Function")]
    handlers = [f for f in functions if str(f.get("Handler", "")).startswith("lambdas.")]
    if handlers:
        names = ", ".join(str(f["Handler"]).split(".")[1] for f in handlers)
        runtime = {f.get("Runtime") for f in handlers}
        in_vpc = all("VpcConfig" in f for f in handlers)
        lines.append(
            f"  {len(handlers)} handlers ({', '.join(sorted(map(str, runtime)))}, arm64, "
            f"{'in the VPC' if in_vpc else 'NOT ALL IN THE VPC'}): {names}"
        )
    for name, table in resources(template, "AWS::DynamoDB::GlobalTable"):
        replica = _props(table)["Replicas"][0]
        pitr = replica.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled")
        lines.append(
            f"  registry {name}: KMS-encrypted, point-in-time recovery {'on' if pitr else 'OFF'}, "
            f"deletion protection {'on' if replica.get('DeletionProtectionEnabled') else 'off'}"
        )
    return lines


def _roles(template: Template) -> list[str]:
    lines = ["IAM roles"]
    attached: dict[str, list[str]] = {}
    for policy_name, policy in resources(template, "AWS::IAM::ManagedPolicy"):
        for role in _props(policy).get("Roles", []):
            attached.setdefault(_ref_name(template, role), []).append(policy_name)
    for name, role in resources(template, "AWS::IAM::Role"):
        props = _props(role)
        trust = props["AssumeRolePolicyDocument"]["Statement"][0]
        service = trust.get("Principal", {}).get("Service")
        conditions = sorted(key for block in trust.get("Condition", {}).values() for key in block)
        guard = f" with {', '.join(conditions)}" if conditions else ""
        policies = [f"customer-managed {p}" for p in attached.get(name, [])]
        policies += [
            "AWS-managed " + re.findall(r"policy/(?:[\w-]+/)*([\w+=,.@-]+)", json.dumps(arn))[-1]
            for arn in props.get("ManagedPolicyArns", [])
        ]
        policies += [f"inline {p['PolicyName']}" for p in props.get("Policies", [])]
        lines.append(f"  {name}: assumed by {service}{guard}")
        lines.append(f"    policies: {', '.join(policies) or 'none'}")
    return lines


def _topics(template: Template) -> list[str]:
    lines = ["Notifications"]
    emails = [
        str(_props(s).get("Endpoint"))
        for _, s in resources(template, "AWS::SNS::Subscription")
        if _props(s).get("Protocol") == "email"
    ]
    for name, topic in resources(template, "AWS::SNS::Topic"):
        key = _ref_name(template, _props(topic).get("KmsMasterKeyId"))
        lines.append(f"  topic {name}: encrypted with {key}; e-mail: {', '.join(emails) or 'none'}")
    return lines


def _compliance(report: Mapping[str, Any] | None) -> list[str]:
    lines = ["Compliance (cdk-nag, run at every synth)"]
    if report is None:
        return [*lines, "  no validation-report.json: synthesize with `make synth` first"]
    by_pack = {p["pluginName"]: p for p in report.get("pluginReports", [])}
    for pack in PACKS.values():
        found = by_pack.get(pack)
        if found is None:
            lines.append(f"  {pack:<16} pass (no findings on any resource)")
            continue
        open_ = len(found.get("violations", []))
        acked = found.get("suppressedViolations", [])
        verdict = "pass" if found.get("conclusion") == "success" and not open_ else "FAIL"
        lines.append(f"  {pack:<16} {verdict}: {open_} open, {len(acked)} acknowledged")
        for finding in acked:
            where = str(finding.get("acknowledgedAt", "")).split("/", 1)[-1]
            lines.append(f"    - {finding['ruleName']} at {where}: {finding.get('reason', '')}")
    return lines


@dataclass(frozen=True)
class CostLine:
    """One part of the idle cost: what it is and its USD per month (0: nothing, or unpriced)."""

    text: str
    usd: float = 0.0
    price: Price | None = None

    @property
    def unconfirmed(self) -> bool:
        return self.price is not None and not self.price.confirmed

    def render(self) -> str:
        if self.unconfirmed:
            assert self.price is not None
            return (
                f"  {self.text} (price not confirmed in a stored AWS source: "
                f"check {self.price.source})"
            )
        return f"  {self.text}"


# Resource types _cost accounts for, besides UNBILLED_TYPES and Custom:: (deploy-time only).
COSTED_TYPES = frozenset(
    {
        "AWS::Budgets::Budget",
        "AWS::CloudWatch::Alarm",
        "AWS::CloudWatch::Dashboard",
        "AWS::DynamoDB::GlobalTable",
        "AWS::DynamoDB::Table",
        "AWS::EC2::FlowLog",
        "AWS::EC2::VPCEndpoint",
        "AWS::Events::Rule",
        "AWS::KMS::Key",
        "AWS::Lambda::EventSourceMapping",
        "AWS::Lambda::Function",
        "AWS::Logs::LogGroup",
        "AWS::S3::Bucket",
        "AWS::SNS::Topic",
        "AWS::SQS::Queue",
        "AWS::StepFunctions::StateMachine",
    }
)
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_RATE_MINUTES = {"minute": 1, "hour": 60, "day": 24 * 60}


def _cost(template: Template) -> list[str]:
    """What the stack costs per month while deployed and unused: the total first, then each part.

    Counted from the template at us-east-1 list prices, before the free tiers an account
    shares among all its stacks. What is billed by use alone is listed at no charge; what runs
    while idle but is not priced (a schedule's invocations, flow-log ingestion) says so.
    """
    parts = [
        *_endpoint_cost(template),
        *_fixed_cost(template),
        *_use_cost(template),
        *_unassessed(template),
    ]
    total = sum(p.usd for p in parts)
    unconfirmed = sum(p.usd for p in parts if p.unconfirmed)
    lines = [
        f"Idle cost: about ${total:,.2f}/month while deployed and unused "
        "(us-east-1 list prices, before account-wide free tiers; by-use charges extra)"
    ]
    if unconfirmed:
        lines.append(
            f"  ${unconfirmed:,.2f} of it rests on prices not confirmed in a stored AWS source "
            "(marked below)"
        )
    return [*lines, *(p.render() for p in parts)]


def _count(template: Template, type_: str) -> int:
    return sum(1 for _ in resources(template, type_))


def _endpoint_cost(template: Template) -> list[CostLine]:
    endpoints = [_props(e) for _, e in resources(template, "AWS::EC2::VPCEndpoint")]
    interface = [e for e in endpoints if e.get("VpcEndpointType") == "Interface"]
    gateway = [e for e in endpoints if e.get("VpcEndpointType") != "Interface"]
    lines = []
    if interface:
        # One network interface per subnet (AZ), each billed by the hour.
        azs = [_length(e.get("SubnetIds")) for e in interface]
        endpoint_azs = sum(azs)
        usd = endpoint_azs * ENDPOINT_AZ_HOUR.usd * HOURS_PER_MONTH
        spread = f"x {azs[0]} AZ(s)" if len(set(azs)) == 1 else f"in {min(azs)} to {max(azs)} AZs"
        lines.append(
            CostLine(
                f"{len(interface)} interface endpoints {spread}: {endpoint_azs} endpoint-AZs "
                f"x ${ENDPOINT_AZ_HOUR.usd:.2f}/hour x {HOURS_PER_MONTH} hours "
                f"= ${usd:,.2f}/month",
                usd,
                ENDPOINT_AZ_HOUR,
            )
        )
    if gateway:
        names = ", ".join(_service_short_name(e.get("ServiceName")) for e in gateway)
        lines.append(CostLine(f"{len(gateway)} gateway endpoints ({names}): no charge"))
    return lines


def _length(value: Any) -> int:
    """How many items a template list holds (a token standing for a list counts as one)."""
    return len(value) if isinstance(value, list) else 1


def _fixed_cost(template: Template) -> list[CostLine]:
    """What is billed by the month or day, used or not."""
    lines = []
    keys = [_props(k) for _, k in resources(template, "AWS::KMS::Key")]
    if keys:
        usd = len(keys) * KMS_KEY_MONTH.usd
        rotating = sum(1 for k in keys if k.get("EnableKeyRotation"))
        lines.append(
            CostLine(
                f"{len(keys)} KMS keys x ${KMS_KEY_MONTH.usd:.2f}/month = ${usd:,.2f}/month; "
                f"{rotating} rotate: each rotation adds ${KMS_KEY_MONTH.usd:.2f}/month to its key",
                usd,
                KMS_KEY_MONTH,
            )
        )
    alarms = [_props(a) for _, a in resources(template, "AWS::CloudWatch::Alarm")]
    # Standard resolution: one metric, a period of a minute or more (seconds).
    standard = [
        a
        for a in alarms
        if "Metrics" not in a and isinstance(a.get("Period"), int) and a["Period"] >= 60
    ]
    if standard:
        usd = len(standard) * ALARM_MONTH.usd
        lines.append(
            CostLine(
                f"{len(standard)} CloudWatch alarms (standard resolution) "
                f"x ${ALARM_MONTH.usd:.2f}/alarm-month = ${usd:,.2f}/month; an account's first "
                f"{ALARMS_FREE_PER_ACCOUNT} alarm metrics are free, shared by all its stacks",
                usd,
                ALARM_MONTH,
            )
        )
    if len(alarms) > len(standard):
        lines.append(
            CostLine(
                f"{len(alarms) - len(standard)} other CloudWatch alarms (high resolution or "
                "several metrics): NOT PRICED"
            )
        )
    dashboards = _count(template, "AWS::CloudWatch::Dashboard")
    if dashboards:
        usd = dashboards * DASHBOARD_MONTH.usd
        lines.append(
            CostLine(
                f"{dashboards} CloudWatch dashboard(s) x ${DASHBOARD_MONTH.usd:.2f}/month "
                f"= ${usd:,.2f}/month; an account's first {DASHBOARDS_FREE_PER_ACCOUNT} custom "
                "dashboards (up to 50 metrics each) are free, shared by all its stacks",
                usd,
                DASHBOARD_MONTH,
            )
        )
    budgets = _count(template, "AWS::Budgets::Budget")
    if budgets:
        usd = budgets * BUDGET_DAY.usd * DAYS_PER_MONTH
        lines.append(
            CostLine(
                f"{budgets} AWS Budgets budget(s) x ${BUDGET_DAY.usd:.2f}/day = ${usd:,.2f}/month; "
                f"free while among the account's first {BUDGETS_FREE_PER_ACCOUNT} active budgets",
                usd,
                BUDGET_DAY,
            )
        )
    return lines


def _use_cost(template: Template) -> list[CostLine]:
    """What is billed by use alone: nothing while no run goes, but what runs on a schedule."""
    lines = []
    queues = _count(template, "AWS::SQS::Queue")
    mappings = _count(template, "AWS::Lambda::EventSourceMapping")
    if queues:
        polled = (
            f"; {mappings} event source mapping(s) poll, billed even while idle: NOT PRICED"
            if mappings
            else "; nothing polls them"
        )
        lines.append(
            CostLine(f"{queues} SQS queues: no charge while idle (billed per request){polled}")
        )
    groups = _count(template, "AWS::Logs::LogGroup")
    if groups:
        lines.append(
            CostLine(f"{groups} log groups: no charge until logs are written (ingestion, storage)")
        )
    tables = [
        _props(t)
        for type_ in ("AWS::DynamoDB::GlobalTable", "AWS::DynamoDB::Table")
        for _, t in resources(template, type_)
    ]
    on_demand = sum(1 for t in tables if t.get("BillingMode") == "PAY_PER_REQUEST")
    if on_demand:
        lines.append(
            CostLine(
                f"{on_demand} DynamoDB table(s), on demand: no charge while idle "
                "(billed per request, plus storage)"
            )
        )
    if len(tables) > on_demand:
        lines.append(
            CostLine(f"{len(tables) - on_demand} DynamoDB table(s), provisioned: NOT PRICED")
        )
    buckets = _count(template, "AWS::S3::Bucket")
    if buckets:
        lines.append(CostLine(f"{buckets} S3 buckets: no charge while empty (storage, requests)"))
    functions = _count(template, "AWS::Lambda::Function")
    machines = _count(template, "AWS::StepFunctions::StateMachine")
    topics = _count(template, "AWS::SNS::Topic")
    rules = [_props(r) for _, r in resources(template, "AWS::Events::Rule")]
    scheduled = [r for r in rules if "ScheduleExpression" in r]
    if functions or machines or topics or len(rules) > len(scheduled):
        lines.append(
            CostLine(
                f"{functions} Lambda functions, {machines} state machines, {topics} SNS topic(s), "
                f"{len(rules) - len(scheduled)} event rule(s): billed per use, no charge while "
                "idle but for the schedules"
            )
        )
    for rule in scheduled:
        expression = str(rule["ScheduleExpression"])
        target = _ref_name(template, rule["Targets"][0]["Arn"]) if rule.get("Targets") else "?"
        runs = _runs_per_month(expression)
        every = f"{runs:,} runs/month" if runs is not None else "runs"
        lines.append(
            CostLine(
                f"schedule {expression} -> {target}: {every} while idle; its Lambda, log and "
                "request charges: small, NOT PRICED"
            )
        )
    flow_logs = _count(template, "AWS::EC2::FlowLog")
    if flow_logs:
        lines.append(
            CostLine(
                f"{flow_logs} VPC flow log(s): the idle VPC's few records are ingested as logs, "
                "NOT PRICED"
            )
        )
    return lines


def _runs_per_month(expression: str) -> int | None:
    match = _RATE.match(expression)
    if match is None:
        return None  # a cron expression: not counted
    minutes = int(match[1]) * _RATE_MINUTES[match[2].rstrip("s")]
    return HOURS_PER_MONTH * 60 // minutes


def _unassessed(template: Template) -> list[CostLine]:
    """Resource types this summary does not know the billing of: said, not guessed."""
    counts: dict[str, int] = {}
    for resource in template.get("Resources", {}).values():
        type_ = str(resource.get("Type"))
        if type_ in UNBILLED_TYPES or type_ in COSTED_TYPES or type_.startswith("Custom::"):
            continue
        counts[type_] = counts.get(type_, 0) + 1
    if not counts:
        return []
    found = ", ".join(f"{type_} x{n}" for type_, n in sorted(counts.items()))
    return [CostLine(f"NOT ASSESSED (billing unknown to this summary): {found}")]


def main(argv: list[str]) -> int:
    outdir = Path(argv[0] if argv else "cdk.out")
    manifest_path = outdir / "manifest.json"
    if not manifest_path.exists():
        print(f"No cloud assembly at {outdir}: run `make synth` first.", file=sys.stderr)
        return 1
    manifest = json.loads(manifest_path.read_text())
    report_path = outdir / "validation-report.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else None
    for name, artifact in sorted(manifest.get("artifacts", {}).items()):
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        template_file = artifact["properties"]["templateFile"]
        template = json.loads((outdir / template_file).read_text())
        print("\n".join(summarize(name, template, report)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
