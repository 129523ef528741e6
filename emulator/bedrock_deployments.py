"""Emulated Bedrock deployments: Provisioned Throughput and on-demand custom model deployments.

moto has neither. Each deployment moves through the lifecycle its run's
scenario asks for (Creating for N polls, then InService/Active or Failed),
serves invocations once ready (emulator/bedrock_runtime.py), and is gone once
deleted. GetCustomModel reports ``modelStatus`` (Creating for N polls, then
Active), which moto leaves out. ListProvisionedModelThroughputs and
ListCustomModelDeployments list the live ones (newest first, paged by
``maxResults``/``nextToken``; the filters are not emulated), and
ListTagsForResource answers a deployment's tags (moto's for anything else), as
``bedrock-customize spend`` and the sweep read them. Every call is logged in
``state.BEDROCK``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import unquote

from moto.bedrock.models import bedrock_backends
from moto.bedrock.responses import BedrockResponse

from emulator.state import BEDROCK, BedrockError, base_model_of, model_folder

# The status of a deployment that serves invocations, by kind.
READY_STATUS: Final = {"provisioned": "InService", "on-demand": "Active"}


@dataclass
class Deployment:
    arn: str
    name: str
    kind: str  # "provisioned" or "on-demand"
    model_arn: str
    model_units: int
    created_at: str
    polls: int = 0
    status: str = "Creating"
    failure_message: str | None = None
    # The create request's tags (key -> value), as Bedrock keeps them on the resource:
    # what aws:ResourceTag/<key> reads (emulator/iam/lookup.py).
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        """True once it serves invocations."""
        return self.status == READY_STATUS[self.kind]


def find(arn: str) -> Deployment | None:
    """A live deployment by ARN or name (None once deleted)."""
    deployments: dict[str, Deployment] = BEDROCK.deployments
    return deployments.get(arn) or next((d for d in deployments.values() if d.name == arn), None)


def _backend(self: BedrockResponse) -> Any:
    """moto's Bedrock of the request's account and Region (its custom models and jobs)."""
    return bedrock_backends[self.current_account][self.region]


def _requested(self: BedrockResponse, kind: str) -> Deployment:
    """The live deployment of ``kind`` the request's path names."""
    identifier = unquote(self.path.split("/")[-1])
    deployment = find(identifier)
    if deployment is None or deployment.kind != kind:
        raise BedrockError("ResourceNotFoundException", f"{identifier} was not found.")
    return deployment


def _create(self: BedrockResponse, kind: str) -> str:
    params = json.loads(self.body)
    backend = _backend(self)
    model_arn = params["modelId" if kind == "provisioned" else "modelArn"]
    backend.get_custom_model(model_arn)  # ResourceNotFoundException for an unknown model
    name = params["provisionedModelName" if kind == "provisioned" else "modelDeploymentName"]
    operation = (
        "CreateProvisionedModelThroughput"
        if kind == "provisioned"
        else "CreateCustomModelDeployment"
    )
    BEDROCK.calls.append((operation, name))
    existing = find(name)
    if existing is None:
        resource = "provisioned-model" if kind == "provisioned" else "custom-model-deployment"
        arn = f"arn:aws:bedrock:{self.region}:{self.current_account}:{resource}/{uuid.uuid4().hex[:12]}"
        existing = Deployment(
            arn=arn,
            name=name,
            kind=kind,
            model_arn=model_arn,
            model_units=int(params.get("modelUnits", 1)),
            created_at=datetime.now(UTC).isoformat(),
            tags={str(tag["key"]): str(tag["value"]) for tag in params.get("tags", [])},
        )
        BEDROCK.deployments[arn] = existing
    key = "provisionedModelArn" if kind == "provisioned" else "customModelDeploymentArn"
    return json.dumps({key: existing.arn})


def _advance(self: BedrockResponse, deployment: Deployment) -> None:
    """One Get: Creating for the scenario's polls, then ready or Failed."""
    scenario = BEDROCK.scenario(model_folder(_backend(self), deployment.model_arn))
    deployment.polls += 1
    if deployment.status == "Creating" and deployment.polls >= scenario.deployment_polls:
        if scenario.deployment_outcome == "Failed":
            deployment.status = "Failed"
            deployment.failure_message = "Capacity for this model is not available (emulated)."
        else:
            deployment.status = READY_STATUS[deployment.kind]


def _get(self: BedrockResponse, kind: str) -> str:
    deployment = _requested(self, kind)
    _advance(self, deployment)
    if kind == "provisioned":
        body: dict[str, Any] = {
            "provisionedModelArn": deployment.arn,
            "provisionedModelName": deployment.name,
            "modelArn": deployment.model_arn,
            "desiredModelArn": deployment.model_arn,
            "foundationModelArn": "",
            "modelUnits": deployment.model_units,
            "desiredModelUnits": deployment.model_units,
            "status": deployment.status,
            "creationTime": deployment.created_at,
            "lastModifiedTime": deployment.created_at,
        }
    else:
        body = {
            "customModelDeploymentArn": deployment.arn,
            "modelDeploymentName": deployment.name,
            "modelArn": deployment.model_arn,
            "createdAt": deployment.created_at,
            "status": deployment.status,
        }
    if deployment.failure_message:
        body["failureMessage"] = deployment.failure_message
    return json.dumps(body)


def _delete(self: BedrockResponse, kind: str) -> str:
    deployment = _requested(self, kind)
    operation = (
        "DeleteProvisionedModelThroughput"
        if kind == "provisioned"
        else "DeleteCustomModelDeployment"
    )
    BEDROCK.calls.append((operation, deployment.name))
    del BEDROCK.deployments[deployment.arn]
    return json.dumps({})


# One page of a list: at most Bedrock's largest maxResults (1,000 in botocore 1.44.8's
# MaxResults shape for both lists; default here 100).
PAGE_MAX = 1000
PAGE_DEFAULT = 100


def _page(self: BedrockResponse, kind: str) -> tuple[list[Deployment], str | None]:
    """The live deployments of ``kind``, newest first: this page and the next page's token."""
    query = getattr(self, "querystring", {}) or {}
    size = min(int((query.get("maxResults") or [PAGE_DEFAULT])[0]), PAGE_MAX)
    start = int((query.get("nextToken") or ["0"])[0])
    found = sorted(
        (d for d in BEDROCK.deployments.values() if d.kind == kind),
        key=lambda d: d.created_at,
        reverse=True,
    )
    following = start + size
    return found[start:following], str(following) if following < len(found) else None


def _list(self: BedrockResponse, kind: str) -> str:
    """ListProvisionedModelThroughputs or ListCustomModelDeployments (botocore 1.44.8 shapes)."""
    page, token = _page(self, kind)
    if kind == "provisioned":
        body: dict[str, Any] = {
            "provisionedModelSummaries": [
                {
                    "provisionedModelName": d.name,
                    "provisionedModelArn": d.arn,
                    "modelArn": d.model_arn,
                    "desiredModelArn": d.model_arn,
                    "foundationModelArn": base_model_of(_backend(self), d.model_arn) or "",
                    "modelUnits": d.model_units,
                    "desiredModelUnits": d.model_units,
                    "status": d.status,
                    "creationTime": d.created_at,
                    "lastModifiedTime": d.created_at,
                }
                for d in page
            ]
        }
    else:
        body = {
            "modelDeploymentSummaries": [
                {
                    "customModelDeploymentArn": d.arn,
                    "customModelDeploymentName": d.name,
                    "modelArn": d.model_arn,
                    "createdAt": d.created_at,
                    "status": d.status,
                }
                for d in page
            ]
        }
    if token:
        body["nextToken"] = token
    return json.dumps(body)


_original_list_tags = BedrockResponse.list_tags_for_resource


def _list_tags_for_resource(self: BedrockResponse) -> str:
    """A deployment's tags (kept on it since its create); moto's answer for anything else."""
    arn = str(json.loads(self.body).get("resourceARN", ""))
    deployment = BEDROCK.deployments.get(arn)
    if deployment is None:
        return str(_original_list_tags(self))
    return json.dumps({"tags": [{"key": k, "value": v} for k, v in deployment.tags.items()]})


_original_get_custom_model = BedrockResponse.get_custom_model


def _get_custom_model(self: BedrockResponse) -> str:
    """moto's answer with the modelStatus Bedrock reports: Creating for N polls, then Active."""
    body = json.loads(_original_get_custom_model(self))
    scenario = BEDROCK.scenario(model_folder(_backend(self), body["modelArn"]))
    polls = BEDROCK.model_polls.get(body["modelArn"], 0) + 1
    BEDROCK.model_polls[body["modelArn"]] = polls
    if polls > scenario.model_creating_polls:
        body["modelStatus"] = scenario.model_outcome
        if scenario.model_outcome == "Failed":
            body["failureMessage"] = "The custom model could not be created (emulated)."
    else:
        body["modelStatus"] = "Creating"
    return json.dumps(body)


def install(assign: Callable[[Any, str, Any], None] = setattr) -> None:
    """Add the operations (``assign`` is setattr, or a test's monkeypatch.setattr)."""
    methods = {
        "create_provisioned_model_throughput": lambda self: _create(self, "provisioned"),
        "get_provisioned_model_throughput": lambda self: _get(self, "provisioned"),
        "delete_provisioned_model_throughput": lambda self: _delete(self, "provisioned"),
        "create_custom_model_deployment": lambda self: _create(self, "on-demand"),
        "get_custom_model_deployment": lambda self: _get(self, "on-demand"),
        "delete_custom_model_deployment": lambda self: _delete(self, "on-demand"),
        "list_provisioned_model_throughputs": lambda self: _list(self, "provisioned"),
        "list_custom_model_deployments": lambda self: _list(self, "on-demand"),
        "list_tags_for_resource": _list_tags_for_resource,
        "get_custom_model": _get_custom_model,
    }
    for name, method in methods.items():
        assign(BedrockResponse, name, method)
