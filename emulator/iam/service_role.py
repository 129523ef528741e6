"""What Bedrock does as a customization job's service role, judged like a handler's calls.

The calls, from the Bedrock user guide (read 2026-12-02): "Create a service role
for model customization" (s3:GetObject and s3:ListBucket on the training and
validation data, s3:PutObject on the output), "Encryption of custom models"
(kms:Decrypt, GenerateDataKey, DescribeKey and CreateGrant on the model key,
through Bedrock: kms:ViaService) and "Protect your model customization jobs using
a VPC" (the Describe calls, a network interface created in the job's subnets and
security groups tagged BedrockManaged and BedrockModelCustomizationJobArn, its
permission and its deletion). With a VPC, Bedrock reaches S3 through it, so the
S3 gateway endpoint's policy applies; SSE-KMS adds S3's KMS calls for the role.
A distillation job also invokes its teacher (bedrock:InvokeModel, page
custom-model-job-access-security: the profile and the model in each Region it routes
to for a cross-Region profile) and an RFT job its grader (lambda:InvokeFunction on the
function as the job names it, alias included, with its tags; page rft-access-security),
both as the role and not through the stack's VPC endpoints.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from moto.awslambda.utils import get_backend

from emulator.iam import enforce
from emulator.iam.requests import Context, Request, Where, requests_for
from emulator.state import s3_location

ENI = "eni-0emulated0000000"


def denial(arguments: dict[str, Any]) -> str | None:
    """Why the job's role may not do what the job needs, or None (also with no enforcer)."""
    enforcer = enforce.active()
    if enforcer is None:
        return None
    where = enforcer.where
    region, account = where.region, where.account
    role = str(arguments["role_arn"])
    job_arn = f"arn:aws:bedrock:{region}:{account}:model-customization-job/{arguments['job_name']}"
    wanted: list[Request] = []
    uris = [str(arguments["training_data_config"]["s3Uri"])]
    for validator in (arguments.get("validation_data_config") or {}).get("validators", []):
        uris.append(str(validator["s3Uri"]))
    for uri in uris:
        bucket, key = s3_location(uri)
        wanted += requests_for("s3", "GetObject", {"Bucket": bucket, "Key": key}, where)
        wanted += requests_for("s3", "ListObjectsV2", {"Bucket": bucket, "Prefix": key}, where)
    bucket, prefix = s3_location(str(arguments["output_data_config"]["s3Uri"]))
    output = {"Bucket": bucket, "Key": f"{prefix.rstrip('/')}/{arguments['job_name']}/model.tar"}
    wanted += requests_for("s3", "PutObject", output, where)
    model_key = arguments.get("custom_model_kms_key_id")
    if model_key:
        through: Context = {
            "kms:ViaService": f"bedrock.{region}.amazonaws.com",
            "kms:CallerAccount": account,
        }
        for action in ("kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:CreateGrant"):
            wanted.append(Request(action, str(model_key), through))
    wanted += _network(arguments.get("vpc_config"), job_arn, region, account)
    wanted += _invoked(arguments.get("customization_config") or {}, where)
    vpc = bool(arguments.get("vpc_config"))
    decision = enforcer.authorize(role, wanted, session="bedrock-customization", in_vpc=vpc)
    if decision.allowed:
        return None
    return (
        f"Bedrock could not use the service role {role}: it is not authorized to perform "
        f"{decision.action} on {decision.resource} ({decision.why}; emulated IAM)"
    )


def _invoked(config: dict[str, Any], where: Where) -> list[Request]:
    """The teacher or grader a distillation or RFT job invokes (Bedrock calls it directly)."""
    teacher = (config.get("distillationConfig") or {}).get("teacherModelConfig") or {}
    if teacher.get("teacherModelIdentifier"):
        found = requests_for(
            "bedrock-runtime", "InvokeModel", {"modelId": teacher["teacherModelIdentifier"]}, where
        )
        return [replace(request, endpoint="") for request in found]
    grader = ((config.get("rftConfig") or {}).get("graderConfig") or {}).get("lambdaGrader") or {}
    arn = str(grader.get("lambdaArn") or "")
    if not arn:
        return []
    return [Request("lambda:InvokeFunction", arn, _function_tags(arn, where))]


def _function_tags(arn: str, where: Where) -> Context:
    """aws:ResourceTag/<key> of the function an ARN names (a version's or alias's are its own)."""
    parts = arn.split(":")
    if len(parts) < 7 or (parts[3], parts[4]) != (where.region, where.account):
        return {}  # another account's or Region's function: no tags the emulator knows
    try:
        tags = get_backend(where.account, where.region).list_tags(":".join(parts[:7]))
    except Exception:  # no such function: the job fails when it invokes it
        return {}
    return {f"aws:ResourceTag/{k}": str(v) for k, v in (tags or {}).items()}


def _network(vpc: dict[str, Any] | None, job_arn: str, region: str, account: str) -> list[Request]:
    if not vpc:
        return []
    ec2 = f"arn:aws:ec2:{region}:{account}"
    eni = f"{ec2}:network-interface/{ENI}"
    subnets = [f"{ec2}:subnet/{s}" for s in vpc.get("subnetIds", [])]
    groups = [f"{ec2}:security-group/{g}" for g in vpc.get("securityGroupIds", [])]
    tags = {"BedrockManaged": "true", "BedrockModelCustomizationJobArn": job_arn}
    requested: Context = {f"aws:RequestTag/{k}": v for k, v in tags.items()}
    requested["aws:TagKeys"] = sorted(tags)
    on_eni: Context = {f"ec2:ResourceTag/{k}": v for k, v in tags.items()}
    on_eni["aws:ResourceTag/BedrockManaged"] = "true"
    if subnets:
        on_eni["ec2:Subnet"] = subnets[0]
    found = [
        Request(action, "*")
        for action in (
            "ec2:DescribeNetworkInterfaces",
            "ec2:DescribeVpcs",
            "ec2:DescribeDhcpOptions",
            "ec2:DescribeSubnets",
            "ec2:DescribeSecurityGroups",
        )
    ]
    found.append(Request("ec2:CreateNetworkInterface", eni, requested))
    found += [Request("ec2:CreateNetworkInterface", arn, requested) for arn in subnets + groups]
    found.append(
        Request("ec2:CreateTags", eni, {**requested, "ec2:CreateAction": "CreateNetworkInterface"})
    )
    found += [
        Request(action, eni, on_eni)
        for action in (
            "ec2:CreateNetworkInterfacePermission",
            "ec2:DeleteNetworkInterface",
            "ec2:DeleteNetworkInterfacePermission",
        )
    ]
    return found
