"""What the emulated account knows that IAM request contexts need (tags, ARNs, routes)."""

from __future__ import annotations

from typing import Any

from moto.bedrock.models import bedrock_backends

from emulator import bedrock_deployments
from emulator.state import base_model_of

# The Regions a system-defined "us." inference profile routes to (emulated: the US
# geography's three). Source: Bedrock user guide, "Supported Regions and models for
# inference profiles", read 2026-12-02.
PROFILE_ROUTES = {"us": ["us-east-1", "us-east-2", "us-west-2"]}


class AccountLookup:
    def __init__(self, account: str, region: str) -> None:
        self.account, self.region = account, region

    def _bedrock(self) -> Any:
        return bedrock_backends[self.account][self.region]

    def tags(self, arn: str) -> dict[str, str]:
        deployment = bedrock_deployments.find(arn)
        if deployment is not None:
            return dict(getattr(deployment, "tags", None) or {})
        tagged = self._bedrock().tagger.list_tags_for_resource(arn)["Tags"]
        return {tag["Key"]: tag["Value"] for tag in tagged}

    def arn_of(self, kind: str, identifier: str) -> str | None:
        if identifier.startswith("arn:"):
            return identifier
        backend = self._bedrock()
        if kind == "model-customization-job" and identifier in backend.model_customization_jobs:
            return str(backend.model_customization_jobs[identifier].job_arn)
        if kind == "custom-model" and identifier in backend.custom_models:
            return str(backend.custom_models[identifier].model_arn)
        deployment = bedrock_deployments.find(identifier)
        return deployment.arn if deployment is not None else None

    def base_model_of(self, custom_model_arn: str) -> str | None:
        return base_model_of(self._bedrock(), custom_model_arn)

    def profile_models(self, profile_arn: str) -> list[str]:
        profile = profile_arn.rsplit("/", 1)[-1]
        geography, _, model = profile.partition(".")
        regions = PROFILE_ROUTES.get(geography, [self.region])
        return [f"arn:aws:bedrock:{region}::foundation-model/{model}" for region in regions]
