"""Deny, as AWS would, every call a handler makes that its role may not make.

A client made while a handler runs (emulator/lambda_service.run_handler) carries that
function's name; each of its calls becomes IAM requests (requests.py), and each
request must be allowed by the simulator three times over, as AWS evaluates it:
the role's identity policies with the resource's own policy (bucket, key, topic,
queue), then the policy of the VPC endpoint the call goes through. A denied call
raises the service's AccessDenied error naming the action and the resource, so
a handler meets exactly what it would meet in AWS. Calls made by tests, the CLI
or the emulator itself carry no function and are not judged.
"""

from __future__ import annotations

import threading
import zlib
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from emulator.iam.policies import Policies
from emulator.iam.requests import Lookup, Request, UnmappedCallError, Where, requests_for
from emulator.iam.simulator import SIMULATOR

# The error code each service answers a denied call with.
DENIED_CODES = {"s3": "AccessDenied", "sns": "AuthorizationError"}
DENIED_CODE = "AccessDeniedException"


@dataclass
class Decision:
    allowed: bool
    action: str = ""
    resource: str = ""
    why: str = ""


class Enforcer:
    def __init__(self, policies: Policies, region: str, account: str, lookup: Lookup) -> None:
        self.policies = policies
        self.where = Where(region, account, policies, lookup)
        self.region, self.account = region, account
        self.denials: list[Decision] = []
        self._lock = threading.Lock()

    # Calls ----------------------------------------------------------------------------

    def authorize_call(
        self, function_name: str, service: str, operation: str, params: dict[str, Any]
    ) -> Decision:
        role = self.policies.role_of(function_name)
        if role is None:
            return Decision(False, why=f"the emulator knows no role of function {function_name}")
        try:
            wanted = requests_for(service, operation, params, self.where)
        except UnmappedCallError as error:
            return Decision(
                False,
                action=str(error),
                why=(
                    f"the emulator cannot yet judge {error}: add it to emulator/iam/requests.py "
                    "(with the Service Authorization Reference's resource types)"
                ),
            )
        return self.authorize(role, wanted, session=function_name, in_vpc=True)

    def authorize(
        self, role: str, wanted: list[Request], *, session: str, in_vpc: bool
    ) -> Decision:
        """The first request of ``wanted`` that ``role`` may not make, or allowed."""
        for request in wanted:
            decision = self._one(role, request, session=session, in_vpc=in_vpc)
            if not decision.allowed:
                with self._lock:
                    self.denials.append(decision)
                return decision
        return Decision(True)

    def _one(self, role: str, request: Request, *, session: str, in_vpc: bool) -> Decision:
        context = self._context(role, request, session=session, in_vpc=in_vpc)
        simulation = {
            "identityPolicies": self.policies.identity.get(role, []),
            "serviceControlPolicies": [],
            "resourceControlPolicies": [],
            "request": {
                "action": request.action,
                "principal": role,
                "resource": {"resource": request.resource, "accountId": self.account},
                "contextVariables": context,
            },
        }
        policy = self._resource_policy(request.resource)
        if policy is not None:
            simulation["resourcePolicy"] = policy
        answer = SIMULATOR.decide(simulation)
        if answer["result"] != "Allowed":
            return self._denied(request, answer, "by the role's policies and the resource's")
        endpoint = self.policies.endpoints.get(request.endpoint) if in_vpc else None
        if endpoint is not None and endpoint[1] is not None:
            through = {
                **simulation,
                "identityPolicies": [],
                "resourcePolicy": endpoint[1],
            }
            answer = SIMULATOR.decide(through)
            if answer["result"] != "Allowed":
                return self._denied(request, answer, f"by the {request.endpoint} endpoint's policy")
        return Decision(True, request.action, request.resource)

    def _context(
        self, role: str, request: Request, *, session: str, in_vpc: bool
    ) -> dict[str, Any]:
        context: dict[str, Any] = {
            "aws:PrincipalArn": role,
            "aws:PrincipalAccount": self.account,
            "aws:PrincipalType": "AssumedRole",
            "aws:userid": f"AROAEMULATED{zlib.crc32(role.encode()):010d}:{session}",
            "aws:ResourceAccount": self.account,
            "aws:RequestedRegion": self.region,
            "aws:SecureTransport": "true",
            "aws:ViaAWSService": "false",
        }
        if request.context.get("kms:ViaService"):
            context["aws:ViaAWSService"] = "true"
        if request.action.startswith("kms:"):
            context["kms:CallerAccount"] = self.account  # KMS puts it on every request
        endpoint = self.policies.endpoints.get(request.endpoint) if in_vpc else None
        if endpoint is not None:
            context["aws:SourceVpce"] = endpoint[0]
            context["aws:SourceVpc"] = self.policies.vpc
        context.update(request.context)
        return context

    def _resource_policy(self, resource: str) -> dict[str, Any] | None:
        policies = self.policies.resource
        if resource in policies:
            return policies[resource]
        if resource.startswith("arn:aws:s3:::"):
            bucket = resource.removeprefix("arn:aws:s3:::").split("/", 1)[0]
            return policies.get(f"arn:aws:s3:::{bucket}")
        return None

    def _denied(self, request: Request, answer: dict[str, Any], where: str) -> Decision:
        if answer["result"] == "Error":
            why = f"the simulator refused the request: {answer.get('errors')}"
        else:
            why = f"{answer['result']} {where}"
        return Decision(False, request.action, request.resource, why)


_ACTIVE: Enforcer | None = None


def activate(enforcer: Enforcer | None) -> None:
    global _ACTIVE
    _ACTIVE = enforcer


def active() -> Enforcer | None:
    return _ACTIVE


def denied_error(client: Any, operation: str, decision: Decision, role: str) -> ClientError:
    """The service's own AccessDenied error, as the handler's SDK would raise it."""
    service = client.meta.service_model.service_name
    code = DENIED_CODES.get(service, DENIED_CODE)
    message = (
        f"User: {role} is not authorized to perform: {decision.action} on resource: "
        f"{decision.resource} ({decision.why}; emulated IAM)"
    )
    response = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": 403},
    }
    error_class: type[ClientError] = client.exceptions.from_code(code)
    return error_class(response, operation)
