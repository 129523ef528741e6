"""What Lambda itself does with a function's execution role, checked when the cloud starts.

Lambda creates and manages the network interfaces of a function in a VPC, writes
its logs and decrypts its environment with the function's role; it checks the
network permissions when the function is created and refuses the function when
they are missing. Sources, read 2026-12-02: Lambda developer guide, "Giving
Lambda functions access to resources in an Amazon VPC" (Required IAM
permissions: ec2:CreateNetworkInterface, DescribeNetworkInterfaces,
DescribeSubnets, DeleteNetworkInterface, AssignPrivateIpAddresses,
UnassignPrivateIpAddresses), "Sending Lambda function logs to CloudWatch Logs"
(logs:CreateLogStream, logs:PutLogEvents) and "Securing Lambda environment
variables" (kms:Decrypt through lambda.<region>.amazonaws.com).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulator.iam.enforce import Enforcer
from emulator.iam.requests import Context, Request

ENI = "eni-0lambda000000000"


class FunctionRefusedError(RuntimeError):
    """Lambda would refuse (or fail to run) a function of the template with its role."""


def check(template: dict[str, Any], resolve: Callable[[Any], Any], enforcer: Enforcer) -> None:
    """Raise FunctionRefusedError naming the first function whose role falls short."""
    where = enforcer.where
    problems = []
    for logical_id, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] != "AWS::Lambda::Function" or not str(
            props.get("Handler", "")
        ).startswith("lambdas."):
            continue
        name = str(resolve({"Ref": logical_id}))
        role = enforcer.policies.role_of(name)
        if role is None:
            continue
        wanted = _network(props, resolve, where.region, where.account)
        wanted += _logs(props, resolve, name, where.region, where.account)
        if props.get("KmsKeyArn"):
            through: Context = {"kms:ViaService": f"lambda.{where.region}.amazonaws.com"}
            wanted.append(Request("kms:Decrypt", str(resolve(props["KmsKeyArn"])), through))
        decision = enforcer.authorize(role, wanted, session=name, in_vpc=False)
        if not decision.allowed:
            problems.append(
                f"{logical_id}: its role may not {decision.action} on {decision.resource} "
                f"({decision.why})"
            )
    if problems:
        raise FunctionRefusedError(
            "Lambda would refuse or fail these functions with their execution roles "
            "(emulated IAM):\n  " + "\n  ".join(problems)
        )


def _network(
    props: dict[str, Any], resolve: Callable[[Any], Any], region: str, account: str
) -> list[Request]:
    vpc = props.get("VpcConfig")
    if not vpc:
        return []
    ec2 = f"arn:aws:ec2:{region}:{account}"
    subnets = [f"{ec2}:subnet/{resolve(s)}" for s in vpc.get("SubnetIds", [])]
    groups = [f"{ec2}:security-group/{resolve(g)}" for g in vpc.get("SecurityGroupIds", [])]
    eni = f"{ec2}:network-interface/{ENI}"
    in_subnet: Context = {"ec2:Subnet": subnets[0]} if subnets else {}
    found = [
        Request("ec2:DescribeNetworkInterfaces", "*"),
        Request("ec2:DescribeSubnets", "*"),
        Request("ec2:CreateNetworkInterface", eni, in_subnet),
    ]
    found += [Request("ec2:CreateNetworkInterface", arn) for arn in subnets + groups]
    found += [
        Request(action, eni, in_subnet)
        for action in (
            "ec2:DeleteNetworkInterface",
            "ec2:AssignPrivateIpAddresses",
            "ec2:UnassignPrivateIpAddresses",
        )
    ]
    return found


def _logs(
    props: dict[str, Any], resolve: Callable[[Any], Any], name: str, region: str, account: str
) -> list[Request]:
    group = props.get("LoggingConfig", {}).get("LogGroup")
    group_name = str(resolve(group)) if group else f"/aws/lambda/{name}"
    stream = (
        f"arn:aws:logs:{region}:{account}:log-group:{group_name}:log-stream:2026/12/02/emulated"
    )
    return [Request(action, stream) for action in ("logs:CreateLogStream", "logs:PutLogEvents")]
