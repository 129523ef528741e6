"""An in-process AWS (moto) with the resources the handlers touch, and a run to start."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
from moto import mock_aws

from customization_core import request_step
from customization_core.approval import SUBMITTED_BY
from customization_core.registry import (
    BY_STATUS_INDEX,
    LIVE_ATTRIBUTE,
    LIVE_DEPLOYMENTS_INDEX,
    Registry,
)
from customization_core.run import PipelineConfig, Source
from emulator import patches
from emulator.state import BEDROCK
from lambdas import common

REGION = "us-east-1"
ACCOUNT = "123456789012"
DATASETS = "datasets"
ARTIFACTS = "artifacts"
STACK = "BedrockCustomization-test"  # the owner tag's value (PipelineConfig.stack_name)
MODEL = "amazon.titan-text-lite-v1:0:4k"
# Who uploads job.json in these tests: its submitted-by tag (customization_core/approval.py).
SUBMITTER = "AIDASUBMITTEREXAMPLE01"


@dataclass
class FakeSns:
    """Records what would have been published (moto keeps no message bodies)."""

    published: list[dict[str, Any]] = field(default_factory=list)

    def publish(self, **kwargs: Any) -> dict[str, str]:
        self.published.append(kwargs)
        return {"MessageId": str(len(self.published))}


@dataclass
class Aws:
    s3: Any
    bedrock: Any
    table: Any
    registry: Registry
    sns: FakeSns
    config: PipelineConfig
    kms: Any = None  # the approval key's client (config.approval_key_arn)

    def upload(self, key: str, body: bytes | str, *, tags: dict[str, str] | None = None) -> str:
        data = body.encode() if isinstance(body, str) else body
        tagging = {"Tagging": urlencode(tags)} if tags else {}
        put = self.s3.put_object(Bucket=DATASETS, Key=key, Body=data, **tagging)
        return str(put["VersionId"])

    def start(self, name: str, manifest: dict[str, Any] | bytes, **files: str) -> Source:
        """Upload the files, then job.json (as a user does); the event's source."""
        for file_name, text in files.items():
            self.upload(f"jobs/{name}/{file_name.replace('_', '.')}", text)
        body = manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode()
        version = self.upload(f"jobs/{name}/job.json", body, tags={SUBMITTED_BY: SUBMITTER})
        return Source(bucket=DATASETS, key=f"jobs/{name}/job.json", version_id=version)

    def validate(
        self, source: Source, execution: str, *, config: PipelineConfig | None = None
    ) -> dict[str, Any]:
        """ValidateRequest as the handler calls it, in this Region."""
        return request_step.validate_request(
            source,
            execution,
            s3=self.s3,
            bedrock=self.bedrock,
            region=REGION,
            registry=self.registry,
            config=config or self.config,
        )

    def item(self, run_id: str) -> dict[str, Any]:
        found = self.registry.get(run_id)
        assert found is not None
        return found


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)  # as Lambda sets it
    # Bedrock answers as the emulator's (emulator/patches.py): the model look-ups from the
    # emulated account's offer (emulator/account.json), jobs with their output model,
    # deployments and model status. Undone after the test.
    patches.install(
        lambda owner, name, value: monkeypatch.setattr(owner, name, value, raising=False)
    )
    BEDROCK.reset()
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        for bucket in (DATASETS, ARTIFACTS):
            s3.create_bucket(Bucket=bucket)
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        dynamodb = boto3.resource("dynamodb", region_name=REGION)
        table = dynamodb.create_table(
            TableName="runs",
            KeySchema=[{"AttributeName": "run_id", "KeyType": "HASH"}],
            AttributeDefinitions=[
                {"AttributeName": "run_id", "AttributeType": "S"},
                {"AttributeName": "status", "AttributeType": "S"},
                {"AttributeName": "updated_at", "AttributeType": "S"},
                {"AttributeName": LIVE_ATTRIBUTE, "AttributeType": "S"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": index,
                    "KeySchema": [
                        {"AttributeName": key, "KeyType": "HASH"},
                        {"AttributeName": "updated_at", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
                for index, key in (
                    (BY_STATUS_INDEX, "status"),
                    (LIVE_DEPLOYMENTS_INDEX, LIVE_ATTRIBUTE),
                )
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        kms = boto3.client("kms", region_name=REGION)
        approval_key = kms.create_key(Description="approvals")["KeyMetadata"]["Arn"]
        config = PipelineConfig(
            artifacts_bucket=ARTIFACTS,
            topic_arn=f"arn:aws:sns:{REGION}:{ACCOUNT}:runs",
            bedrock_role_arn=f"arn:aws:iam::{ACCOUNT}:role/bedrock",
            model_key_arn=f"arn:aws:kms:{REGION}:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555",
            subnet_ids=("subnet-0a1b2c3d4e5f60718",),
            security_group_ids=("sg-0a1b2c3d4e5f60718",),
            stack_name=STACK,
            approval_key_arn=approval_key,
        )
        yield Aws(
            s3=s3,
            bedrock=boto3.client("bedrock", region_name=REGION),
            table=table,
            registry=Registry(table),
            sns=FakeSns(),
            config=config,
            kms=kms,
        )


@dataclass
class Context:
    """The attributes Powertools reads from a Lambda context."""

    function_name: str = "handler"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:handler"
    aws_request_id: str = "request-1"


@pytest.fixture
def env(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    """``aws`` with the handlers' environment as the stack sets it (lambdas/common.py reads it)."""
    monkeypatch.setenv("PIPELINE_CONFIG", aws.config.model_dump_json())
    monkeypatch.setenv("REGISTRY_TABLE", aws.table.name)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    common.reset()
    yield aws
    common.reset()


@pytest.fixture
def bedrock(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    """The handlers' moto with the emulator's deployments and model answers (undone after)."""
    BEDROCK.reset()

    def assign(owner: Any, name: str, value: Any) -> None:
        monkeypatch.setattr(owner, name, value, raising=False)  # some operations are new

    patches.install(assign)
    yield aws
    BEDROCK.reset()
