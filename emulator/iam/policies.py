"""The synthesized template's policies, resolved to the emulator's names and ARNs.

Identity policies per role (inline, AWS::IAM::Policy and AWS::IAM::ManagedPolicy),
resource policies (bucket, key, topic, queue) and the VPC endpoints' policies, so
that a call is judged by every policy AWS would evaluate for it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Resolve = Callable[[Any], Any]
RESOURCE_POLICIES = {
    "AWS::S3::BucketPolicy": ("Bucket", "PolicyDocument"),
    "AWS::SNS::TopicPolicy": ("Topics", "PolicyDocument"),
    "AWS::SQS::QueuePolicy": ("Queues", "PolicyDocument"),
}


@dataclass
class Policies:
    """What the template says, keyed by the emulator's ARNs and names."""

    # role ARN -> [{"name": logical id, "policy": document}]
    identity: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # function name -> role ARN
    function_roles: dict[str, str] = field(default_factory=dict)
    # resource ARN (bucket, key, topic, queue) -> its policy
    resource: dict[str, dict[str, Any]] = field(default_factory=dict)
    # bucket name / topic ARN / queue ARN -> the KMS key ARN that encrypts it
    keys: dict[str, str] = field(default_factory=dict)
    # endpoint service ("bedrock", "bedrock-runtime", "s3", ...) -> (endpoint id, policy)
    endpoints: dict[str, tuple[str, dict[str, Any] | None]] = field(default_factory=dict)
    # VPC id the functions run in ("" when none)
    vpc: str = ""

    def role_of(self, function_name: str) -> str | None:
        return self.function_roles.get(function_name)


def read(
    template: dict[str, Any],
    resolve: Resolve,
    arns: dict[str, str],
    *,
    account: str | None = None,
    emulated: str = "",
) -> Policies:
    """Every policy of ``template``; ``resolve`` is the emulator's token resolver.

    A stack synthesized for an account names it literally; the emulated account stands
    for it, so ``account`` becomes ``emulated`` wherever it appears.
    """
    resources: dict[str, dict[str, Any]] = template["Resources"]

    def value(raw: Any) -> Any:
        resolved = resolve(_subbed(raw, resolve))
        if account and emulated and account != emulated:
            resolved = json.loads(json.dumps(resolved).replace(account, emulated))
        return resolved

    found = Policies()
    for logical_id, resource in resources.items():
        kind, props = resource["Type"], resource.get("Properties", {})
        if kind == "AWS::IAM::Role":
            role = arns[logical_id]
            documents = found.identity.setdefault(role, [])
            for inline in props.get("Policies", []):
                documents.append(
                    {"name": inline["PolicyName"], "policy": value(inline["PolicyDocument"])}
                )
        elif kind in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
            for ref in props.get("Roles", []):
                role = arns[ref["Ref"]]
                found.identity.setdefault(role, []).append(
                    {"name": logical_id, "policy": value(props["PolicyDocument"])}
                )
        elif kind == "AWS::KMS::Key":
            found.resource[arns[logical_id]] = value(props["KeyPolicy"])
        elif kind in RESOURCE_POLICIES:
            target, document = RESOURCE_POLICIES[kind]
            named = props[target] if isinstance(props[target], list) else [props[target]]
            for one in named:
                arn = _arn_of(one, resolve, arns)
                found.resource[arn] = value(props[document])
        elif kind == "AWS::S3::Bucket":
            rules = props.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", [])
            for rule in rules:
                default = rule.get("ServerSideEncryptionByDefault", {})
                if default.get("SSEAlgorithm") == "aws:kms" and default.get("KMSMasterKeyID"):
                    found.keys[str(resolve({"Ref": logical_id}))] = str(
                        value(default["KMSMasterKeyID"])
                    )
        elif kind in ("AWS::SNS::Topic", "AWS::SQS::Queue") and props.get("KmsMasterKeyId"):
            found.keys[arns[logical_id]] = str(value(props["KmsMasterKeyId"]))
        elif kind == "AWS::EC2::VPCEndpoint":
            service = str(value(props["ServiceName"])).rsplit(".", 1)[-1]
            document = props.get("PolicyDocument")
            found.endpoints[service] = (
                f"vpce-{logical_id.lower()[:17]}",
                value(document) if document is not None else None,
            )
        elif kind == "AWS::EC2::VPC":
            found.vpc = str(resolve({"Ref": logical_id}))
        elif kind == "AWS::Lambda::Function" and str(props.get("Handler", "")).startswith(
            "lambdas."
        ):
            found.function_roles[str(resolve({"Ref": logical_id}))] = str(value(props["Role"]))
    return found


def _arn_of(reference: Any, resolve: Resolve, arns: dict[str, str]) -> str:
    """The ARN of a policy's target: a bucket name, a topic ARN or a queue URL."""
    if isinstance(reference, dict) and "Ref" in reference and reference["Ref"] in arns:
        return arns[reference["Ref"]]
    resolved = str(resolve(reference))
    return resolved if resolved.startswith("arn:") else f"arn:aws:s3:::{resolved}"


_SUB_VARIABLE = re.compile(r"\$\{([^}!]+)\}")


def _subbed(raw: Any, resolve: Resolve) -> Any:
    """``raw`` with every Fn::Sub replaced by its string (the emulator's resolver has none)."""
    if isinstance(raw, list):
        return [_subbed(item, resolve) for item in raw]
    if not isinstance(raw, dict):
        return raw
    if set(raw) == {"Fn::Sub"}:
        argument = raw["Fn::Sub"]
        text, names = (argument, {}) if isinstance(argument, str) else argument
        variables = {k: str(resolve(_subbed(v, resolve))) for k, v in names.items()}

        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return variables[name]
            if "." in name:
                logical_id, attribute = name.split(".", 1)
                return str(resolve({"Fn::GetAtt": [logical_id, attribute]}))
            return str(resolve({"Ref": name}))

        return _SUB_VARIABLE.sub(one, text)
    return {key: _subbed(item, resolve) for key, item in raw.items()}
