"""The stack template's resources created in moto, and its tokens resolved to their local names.

``StackResources`` creates what the workflow touches (buckets, table, topic,
queues, keys, roles, the Lambda functions with their handler, environment and
timeout, the state machine with the synthesized definition itself) and resolves
Ref/GetAtt/Join tokens to local names and ARNs. emulator/cloud.py runs it.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from emulator.lambda_service import cached_client
from emulator.state import ACCOUNT, BEDROCK, REGION


@dataclass
class StackResources:
    """A stack template's resources in moto: their local names and ARNs, and clients to them."""

    template: dict[str, Any]
    name: str = "local"  # the stack's name in the cloud assembly
    quiet: bool = False  # handlers log warnings only (the demo); tests keep their logs
    clients: dict[str, Any] = field(default_factory=dict)
    physical: dict[str, str] = field(default_factory=dict)  # logical id -> name or id
    arns: dict[str, str] = field(default_factory=dict)  # logical id -> ARN

    def client(self, service: str) -> Any:
        return cached_client(self.clients, service)

    def _resources(self, type_: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for logical_id, resource in self.template["Resources"].items():
            if resource["Type"] == type_:
                yield logical_id, resource.get("Properties", {})

    def provision(self) -> None:
        """Create every resource of the template the workflow touches."""
        s3, iam = self.client("s3"), self.client("iam")
        for logical_id, _ in self._resources("AWS::IAM::Role"):
            name = f"{logical_id[:48]}-{uuid.uuid4().hex[:8]}"
            role = iam.create_role(RoleName=name, AssumeRolePolicyDocument="{}")["Role"]
            self.physical[logical_id], self.arns[logical_id] = name, role["Arn"]
        for logical_id, _ in self._resources("AWS::KMS::Key"):
            key = self.client("kms").create_key(Description=logical_id)["KeyMetadata"]
            self.physical[logical_id], self.arns[logical_id] = key["KeyId"], key["Arn"]
        for logical_id, _ in self._resources("AWS::S3::Bucket"):
            name = f"local-{logical_id.lower()[:40]}"
            s3.create_bucket(Bucket=name)
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
            self.physical[logical_id], self.arns[logical_id] = name, f"arn:aws:s3:::{name}"
        for logical_id, props in self._resources("AWS::DynamoDB::GlobalTable"):
            self._table(logical_id, props)
        for logical_id, _ in self._resources("AWS::SNS::Topic"):
            arn = self.client("sns").create_topic(Name=f"local-{logical_id}")["TopicArn"]
            self.physical[logical_id] = self.arns[logical_id] = arn
        for logical_id, _ in self._resources("AWS::SQS::Queue"):
            url = self.client("sqs").create_queue(QueueName=f"local-{logical_id}")["QueueUrl"]
            self.physical[logical_id] = url
            self.arns[logical_id] = f"arn:aws:sqs:{REGION}:{ACCOUNT}:local-{logical_id}"
        for logical_id, _ in self._resources("AWS::EC2::SecurityGroup"):
            self.physical[logical_id] = f"sg-{uuid.uuid4().hex[:17]}"
        for logical_id, _ in self._resources("AWS::EC2::Subnet"):
            self.physical[logical_id] = f"subnet-{uuid.uuid4().hex[:17]}"
        for logical_id, _ in self._resources("AWS::EC2::VPC"):
            self.physical[logical_id] = f"vpc-{uuid.uuid4().hex[:17]}"
        for logical_id, _ in self._resources("AWS::Events::Rule"):
            self.physical[logical_id] = f"local-{logical_id}"
            self.arns[logical_id] = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/local-{logical_id}"
        for logical_id, _ in self._resources("AWS::Logs::LogGroup"):
            self.physical[logical_id] = f"/local/{logical_id}"
            self.arns[logical_id] = (
                f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/local/{logical_id}:*"
            )
        # Functions and the state machine reference the rest, and each other.
        functions = [
            (lid, p)
            for lid, p in self._resources("AWS::Lambda::Function")
            if str(p.get("Handler", "")).startswith("lambdas.")
        ]
        for logical_id, _ in functions:
            name = f"local-{logical_id[:50]}"
            self.physical[logical_id] = name
            self.arns[logical_id] = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
        for logical_id, _ in self._resources("AWS::StepFunctions::StateMachine"):
            self.physical[logical_id] = self.arns[logical_id] = (
                f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:local-{logical_id}"
            )
        for logical_id, props in functions:
            self._function(logical_id, props)
        for logical_id, props in self._resources("AWS::StepFunctions::StateMachine"):
            definition = self.resolve(props["DefinitionString"])
            self.client("stepfunctions").create_state_machine(
                name=f"local-{logical_id}",
                definition=definition,
                roleArn=self.resolve(props["RoleArn"]),
                type=props.get("StateMachineType", "STANDARD"),
            )
        self.inbox = self._notification_inbox()
        BEDROCK.s3 = s3

    def _table(self, logical_id: str, props: dict[str, Any]) -> None:
        name = f"local-{logical_id}"
        indexes = [
            {
                "IndexName": index["IndexName"],
                "KeySchema": index["KeySchema"],
                "Projection": index.get("Projection", {"ProjectionType": "ALL"}),
            }
            for index in props.get("GlobalSecondaryIndexes", [])
        ]
        self.client("dynamodb").create_table(
            TableName=name,
            KeySchema=props["KeySchema"],
            AttributeDefinitions=props["AttributeDefinitions"],
            BillingMode="PAY_PER_REQUEST",
            **({"GlobalSecondaryIndexes": indexes} if indexes else {}),
        )
        self.physical[logical_id] = name
        self.arns[logical_id] = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"

    def _function(self, logical_id: str, props: dict[str, Any]) -> None:
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as zipped:
            zipped.writestr(
                "placeholder.py", "# the emulator runs the handler from this checkout\n"
            )
        variables = {
            k: self.resolve(v) for k, v in props.get("Environment", {}).get("Variables", {}).items()
        }
        variables["POWERTOOLS_TRACE_DISABLED"] = "true"  # no X-Ray daemon on a laptop
        if self.quiet:
            variables["POWERTOOLS_LOG_LEVEL"] = "WARNING"
            variables["POWERTOOLS_METRICS_DISABLED"] = "true"
        self.client("lambda").create_function(
            FunctionName=self.physical[logical_id],
            Runtime="python3.12",  # moto's list; the handler runs on this machine's Python
            Role=self.resolve(props["Role"]),
            Handler=props["Handler"],
            Code={"ZipFile": archive.getvalue()},
            Timeout=int(props.get("Timeout", 3)),
            MemorySize=int(props.get("MemorySize", 128)),
            Environment={"Variables": variables},
        )

    def _notification_inbox(self) -> str:
        """An SQS queue subscribed to the topic: what people would receive."""
        sqs, sns = self.client("sqs"), self.client("sns")
        url = sqs.create_queue(QueueName="local-notification-inbox")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        for logical_id, _ in self._resources("AWS::SNS::Topic"):
            sns.subscribe(TopicArn=self.arns[logical_id], Protocol="sqs", Endpoint=arn)
        return str(url)

    def resolve(self, value: Any) -> Any:
        """A template value with Ref/GetAtt/Join/Select/GetAZs replaced by local values."""
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) != 1:
            return {k: self.resolve(v) for k, v in value.items()}
        ((function, args),) = value.items()
        if function == "Ref":
            pseudo = {
                "AWS::Region": REGION,
                "AWS::AccountId": ACCOUNT,
                "AWS::Partition": "aws",
                "AWS::URLSuffix": "amazonaws.com",
            }
            return pseudo.get(args) or self.physical.get(args) or self.arns.get(args, args)
        if function == "Fn::GetAtt":
            logical_id, attribute = args
            if attribute in ("Arn", "TopicArn", "QueueArn"):
                return self.arns[logical_id]
            return self.physical.get(logical_id, f"local-{logical_id}-{attribute}")
        if function == "Fn::Join":
            separator, parts = args
            return separator.join(str(self.resolve(p)) for p in parts)
        if function == "Fn::Select":
            index, items = args
            return self.resolve(items)[int(index)]
        if function == "Fn::GetAZs":
            return [f"{REGION}{zone}" for zone in "abc"]
        return {function: self.resolve(args)}

    def output(self, name: str) -> str:
        return str(self.resolve(self.template["Outputs"][name]["Value"]))
