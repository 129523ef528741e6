"""The IAM lint's machinery: each policy document of a template, resolved, linted, and the acknowledgements.

tests/infra/test_iam_lint.py runs it over every variant; see its docstring for what is
asserted. CloudFormation intrinsics are resolved to placeholders of the shape
CloudFormation returns (``{"Fn::GetAtt": ["Data", "Arn"]}`` on a bucket is
``arn:aws:s3:::bucket-Data``), so the linter matches actions to resource types as IAM will.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from scripts import iam_database
from stacks.settings import CONTEXT_KEY
from tests.infra.synth import CONTEXT, ROOT, Synth, policy_documents, statements

# Every stage, and the variant whose network differs (an imported VPC, S3's endpoint only).
VARIANTS = (*CONTEXT[CONTEXT_KEY]["stages"], "existing_vpc")
ACKNOWLEDGEMENTS = ROOT / "iam-lint-acknowledgements.yaml"
PENDING_REASON = "real finding, being fixed (issue 13)"

# What each template property holds. parliament 1.6.4 takes no policy type; the two kinds of
# resource policy that name their resource implicitly get it written out before linting.
IDENTITY, RESOURCE, TRUST, KEY = "identity", "resource", "trust", "key"
KINDS = {
    ("AWS::IAM::Policy", "PolicyDocument"): IDENTITY,
    ("AWS::IAM::ManagedPolicy", "PolicyDocument"): IDENTITY,
    ("AWS::IAM::Role", "Policies"): IDENTITY,
    ("AWS::IAM::User", "Policies"): IDENTITY,
    ("AWS::IAM::Group", "Policies"): IDENTITY,
    # A trust policy is the role's resource policy; its resource, never written, is the role.
    ("AWS::IAM::Role", "AssumeRolePolicyDocument"): TRUST,
    ("AWS::S3::BucketPolicy", "PolicyDocument"): RESOURCE,
    ("AWS::SQS::QueuePolicy", "PolicyDocument"): RESOURCE,
    ("AWS::SNS::TopicPolicy", "PolicyDocument"): RESOURCE,
    ("AWS::EC2::VPCEndpoint", "PolicyDocument"): RESOURCE,
    # In a key policy Resource "*" means "this KMS key":
    # https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html
    ("AWS::KMS::Key", "KeyPolicy"): KEY,
}

PARTITION = "aws"
URL_SUFFIX = "amazonaws.com"
# resource type -> attribute (or "Ref") -> the value CloudFormation returns, as a placeholder
# named after the logical id. Shapes from each type's "Return values" in the CloudFormation
# template reference: https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/
PLACEHOLDERS: dict[str, dict[str, str]] = {
    "AWS::S3::Bucket": {"Ref": "bucket-{id}", "Arn": "arn:{partition}:s3:::bucket-{id}"},
    "AWS::KMS::Key": {"Ref": "key-{id}", "Arn": "{arn}:kms:{region}:{account}:key/key-{id}"},
    "AWS::Lambda::Function": {
        "Ref": "function-{id}",
        "Arn": "{arn}:lambda:{region}:{account}:function:function-{id}",
    },
    "AWS::Logs::LogGroup": {
        "Ref": "log-group-{id}",
        # A log group's Arn attribute ends in ":*".
        "Arn": "{arn}:logs:{region}:{account}:log-group:log-group-{id}:*",
    },
    "AWS::DynamoDB::GlobalTable": {
        "Ref": "table-{id}",
        "Arn": "{arn}:dynamodb:{region}:{account}:table/table-{id}",
    },
    "AWS::DynamoDB::Table": {
        "Ref": "table-{id}",
        "Arn": "{arn}:dynamodb:{region}:{account}:table/table-{id}",
    },
    "AWS::IAM::Role": {"Ref": "role-{id}", "Arn": "{arn}:iam::{account}:role/role-{id}"},
    "AWS::IAM::ManagedPolicy": {"Ref": "{arn}:iam::{account}:policy/policy-{id}"},
    "AWS::Events::Rule": {
        "Ref": "rule-{id}",
        "Arn": "{arn}:events:{region}:{account}:rule/rule-{id}",
    },
    "AWS::SQS::Queue": {
        "Ref": "https://sqs.{region}.{url_suffix}/{account}/queue-{id}",
        "Arn": "{arn}:sqs:{region}:{account}:queue-{id}",
        "QueueName": "queue-{id}",
    },
    "AWS::SNS::Topic": {
        "Ref": "{arn}:sns:{region}:{account}:topic-{id}",
        "TopicArn": "{arn}:sns:{region}:{account}:topic-{id}",
    },
    "AWS::StepFunctions::StateMachine": {
        "Ref": "{arn}:states:{region}:{account}:stateMachine:state-machine-{id}",
        "Arn": "{arn}:states:{region}:{account}:stateMachine:state-machine-{id}",
    },
    "AWS::EC2::VPC": {"Ref": "vpc-{id}", "DefaultSecurityGroup": "sg-{id}"},
    "AWS::EC2::Subnet": {"Ref": "subnet-{id}"},
    "AWS::EC2::SecurityGroup": {"Ref": "sg-{id}", "GroupId": "sg-{id}"},
}
PSEUDO_PARAMETERS = {
    "AWS::Partition": "{partition}",
    "AWS::Region": "{region}",
    "AWS::AccountId": "{account}",
    "AWS::URLSuffix": "{url_suffix}",
}


class UnresolvableError(ValueError):
    """An intrinsic, or a resource attribute, this resolver has no placeholder for."""


@dataclass(frozen=True)
class Resolver:
    """The CloudFormation intrinsics of one template, resolved to placeholders."""

    resources: Mapping[str, Any]
    account: str
    region: str

    def _format(self, pattern: str, logical_id: str = "") -> str:
        return pattern.format(
            id=logical_id,
            arn=f"arn:{PARTITION}",
            partition=PARTITION,
            region=self.region,
            account=self.account,
            url_suffix=URL_SUFFIX,
        )

    def reference(self, logical_id: str, attribute: str) -> str:
        """What ``Ref`` (``attribute`` "Ref") or ``Fn::GetAtt`` of ``logical_id`` returns."""
        if attribute == "Ref" and logical_id in PSEUDO_PARAMETERS:
            return self._format(PSEUDO_PARAMETERS[logical_id])
        if logical_id not in self.resources:
            raise UnresolvableError(f"{logical_id} is not a resource of the template")
        type_ = self.resources[logical_id]["Type"]
        pattern = PLACEHOLDERS.get(type_, {}).get(attribute)
        if pattern is None:
            raise UnresolvableError(f"add {type_} {attribute} to PLACEHOLDERS")
        return self._format(pattern, logical_id)

    def _sub(self, text: str, variables: Mapping[str, Any]) -> str:
        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):  # ${!Literal} stands for the text ${Literal}
                return "${" + name[1:] + "}"
            if name in variables:
                return str(self.resolve(variables[name]))
            logical_id, _, attribute = name.partition(".")
            return self.reference(logical_id, attribute or "Ref")

        return re.sub(r"\$\{([^}]+)\}", one, text)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self.reference(argument, "Ref")
            if key == "Fn::GetAtt":
                logical_id, attribute = (
                    argument.split(".", 1) if isinstance(argument, str) else argument
                )
                return self.reference(logical_id, attribute)
            if key == "Fn::Join":
                separator, items = argument
                return separator.join(str(item) for item in self.resolve(items))
            if key == "Fn::Sub":
                text, variables = (argument, {}) if isinstance(argument, str) else argument
                return self._sub(text, variables)
            if key.startswith("Fn::"):
                raise UnresolvableError(f"{key} is not resolved here: {json.dumps(value)}")
        return {key: self.resolve(item) for key, item in value.items()}


@dataclass(frozen=True)
class Document:
    """One policy document of one variant, resolved and ready for parliament."""

    variant: str
    policy: str  # the logical id of the resource that holds it
    property: str
    kind: str
    document: dict[str, Any]


def _as_text(value: Any) -> Any:
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    return str(value) if numeric else value


def _prepared(document: dict[str, Any], kind: str, own_arn: str) -> dict[str, Any]:
    prepared = copy.deepcopy(document)
    for statement in statements(prepared):
        if kind == TRUST:
            statement.setdefault("Resource", own_arn)
        if kind == KEY and statement.get("Resource") == "*":
            statement["Resource"] = own_arn
        for operator, block in statement.get("Condition", {}).items():
            # IAM reads 1.2 and "1.2" alike; parliament passes a JSON number to re.match and
            # raises TypeError (s3:TlsVersion), so numbers are linted as the strings IAM sees.
            statement["Condition"][operator] = {
                key: [_as_text(v) for v in values] if isinstance(values, list) else _as_text(values)
                for key, values in block.items()
            }
    return prepared


def documents(variant: str, synth: Synth) -> list[Document]:
    """Every policy document of ``synth``'s template, its intrinsics resolved."""
    resources = synth.template["Resources"]
    assert synth.settings.account, "stacks are synthesized with an env"
    assert synth.settings.region, "stacks are synthesized with an env"
    resolver = Resolver(resources, synth.settings.account, synth.settings.region)
    found = []
    for logical_id, property_, document in policy_documents(synth.template):
        type_ = resources[logical_id]["Type"]
        kind = KINDS.get((type_, property_))
        assert kind, f"{logical_id}: classify ({type_!r}, {property_!r}) in KINDS"
        own_arn = resolver.reference(logical_id, "Arn") if kind in (TRUST, KEY) else ""
        resolved = _prepared(resolver.resolve(document), kind, own_arn)
        found.append(Document(variant, logical_id, property_, kind, resolved))
    return found


def policy_like(template: Mapping[str, Any]) -> set[tuple[str, str]]:
    """(logical id, property) of every property holding an object with a Statement."""

    def holds(value: Any) -> bool:
        if isinstance(value, dict):
            return "Statement" in value or any(holds(v) for v in value.values())
        if isinstance(value, list):
            return any(holds(v) for v in value)
        return False

    return {
        (logical_id, key)
        for logical_id, resource in template["Resources"].items()
        for key, value in resource.get("Properties", {}).items()
        if holds(value)
    }


@dataclass(frozen=True)
class Finding:
    """One thing parliament reports: about one action, resource or condition where it names one.

    ``condition`` is the condition key, or the operator where parliament names only that.
    """

    variant: str
    policy: str
    property: str
    sid: str | None
    issue: str
    action: str | None = None
    resource: str | None = None
    condition: str | None = None
    detail: str = ""

    def key(self) -> tuple[Any, ...]:
        """Everything but the variant: the same finding in two stages is one finding."""
        return tuple(v for f, v in asdict(self).items() if f != "variant")


_UNKNOWN_CONDITION = re.compile(r"Unknown condition (?P<key>\S+) for action (?P<action>\S+)")
_TYPE_MISMATCH = re.compile(r"Type mismatch: (?P<key>\S+) requires")
_ESCALATION_ON = re.compile(r"escalation on (?P<resource>\S+) due to")


def _findings(document: Document, sid: str | None, raw: Any) -> Iterator[Finding]:
    """One parliament finding as Findings: one per action where it lists several."""
    base = {"variant": document.variant, "policy": document.policy, "property": document.property}
    issue, detail, location = raw.issue, raw.detail, raw.location
    text = detail if isinstance(detail, str) else ""
    if issue == "RESOURCE_MISMATCH":
        for item in detail:
            yield Finding(
                **base,
                sid=sid,
                issue=issue,
                action=item["action"],
                detail=f"needs {item['required_format']}",
            )
    elif issue == "RESOURCE_STAR":
        for action in detail:
            yield Finding(**base, sid=sid, issue=issue, action=action, resource="*")
    elif issue in ("UNKNOWN_ACTION", "UNKNOWN_PREFIX"):
        yield Finding(**base, sid=sid, issue=issue, action=location.get("string"), detail=text)
    elif issue == "INVALID_ARN":
        yield Finding(**base, sid=sid, issue=issue, resource=location.get("string"), detail=text)
    elif issue == "UNKNOWN_CONDITION_FOR_ACTION" and (match := _UNKNOWN_CONDITION.search(text)):
        yield Finding(
            **base,
            sid=sid,
            issue=issue,
            action=match["action"],
            condition=match["key"],
            detail=text,
        )
    elif issue.startswith("MISMATCHED_TYPE") and (match := _TYPE_MISMATCH.search(text)):
        yield Finding(**base, sid=sid, issue=issue, condition=match["key"], detail=text)
    elif issue == "RESOURCE_POLICY_PRIVILEGE_ESCALATION" and (match := _ESCALATION_ON.search(text)):
        yield Finding(**base, sid=sid, issue=issue, resource=match["resource"], detail=text)
    elif isinstance(location, dict) and "actions" in location:
        # The community auditors: privilege escalation, credentials exposure, permissions
        # management. They judge the whole policy, so no statement is named.
        for action in location["actions"]:
            yield Finding(
                **base, sid=sid, issue=issue, action=action, detail=str(location.get("type", text))
            )
    else:
        yield Finding(**base, sid=sid, issue=issue, detail=f"{detail} {location}".strip())


@functools.cache
def _analyzed(text: str) -> Any:
    """parliament's analysis of one document; the variants share many documents verbatim."""
    return iam_database.analyze(text)


def lint(document: Document) -> list[Finding]:
    """parliament's findings on one document: its own checks and the community auditors'."""
    try:
        policy = _analyzed(json.dumps(document.document, indent=1))
    except Exception as error:  # a linter crash is a finding to read, not a skip
        return [
            Finding(
                document.variant,
                document.policy,
                document.property,
                None,
                "CRASH",
                detail=f"{type(error).__name__}: {error}",
            )
        ]
    sids = [statement.get("Sid") for statement in statements(document.document)]
    found = [f for raw in policy._findings for f in _findings(document, None, raw)]
    for sid, statement in zip(sids, policy.statements, strict=False):
        found.extend(f for raw in statement.findings for f in _findings(document, sid, raw))
    # parliament repeats a condition's finding once per action the statement expands to.
    return list(dict.fromkeys(found))
