"""Print, for a person, what a synthesized cloud assembly would deploy.

``python -m scripts.summary cdk.out`` reads each stack template and
``validation-report.json`` (written by the cdk-nag plugins at synth) and lists
keys, buckets, network, roles, topic, the compliance result and what the
stack costs while it is deployed.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from stacks.nag_packs import PACKS

Resource = Mapping[str, Any]
Template = Mapping[str, Any]

# Rough monthly prices in us-east-1, for the order of magnitude only (USD).
# Sources: https://aws.amazon.com/privatelink/pricing/ (interface endpoint, per
# AZ, $0.01/hour x 730 hours) and https://aws.amazon.com/kms/pricing/ ($1/key).
ENDPOINT_AZ_MONTH_USD = 7.30
KMS_KEY_MONTH_USD = 1.00


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
    lines += [*_keys(template), "", *_buckets(template), "", *_network(template), ""]
    lines += [*_workflow(template), ""]
    lines += [*_roles(template), "", *_topics(template), "", *_compliance(report)]
    lines += ["", *_cost(template)]
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


def _cost(template: Template) -> list[str]:
    interface = sum(
        1
        for _, e in resources(template, "AWS::EC2::VPCEndpoint")
        if _props(e).get("VpcEndpointType") == "Interface"
    )
    # An interface endpoint has one network interface, billed hourly, per subnet (AZ).
    azs = max(
        (
            len(_props(e).get("SubnetIds", []))
            for _, e in resources(template, "AWS::EC2::VPCEndpoint")
            if _props(e).get("VpcEndpointType") == "Interface"
        ),
        default=0,
    )
    keys = sum(1 for _ in resources(template, "AWS::KMS::Key"))
    endpoints = interface * azs * ENDPOINT_AZ_MONTH_USD
    total = endpoints + keys * KMS_KEY_MONTH_USD
    return [
        "Cost while deployed, before any run (us-east-1 list prices, rough)",
        f"  {interface} interface endpoints x {azs} AZ(s): about ${endpoints:,.2f}/month",
        f"  {keys} KMS keys: about ${keys * KMS_KEY_MONTH_USD:,.2f}/month",
        f"  total: about ${total:,.2f}/month, plus S3 storage, logs and requests",
    ]


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
