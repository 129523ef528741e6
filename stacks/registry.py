"""Registry: the DynamoDB table with one item per run (see customization_core/registry.py)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct

from customization_core.registry import BY_STATUS_INDEX, LIVE_ATTRIBUTE, LIVE_DEPLOYMENTS_INDEX


class Registry(Construct):
    """Runs by id; by status and time (``by-status``); those owning a live deployment."""

    def __init__(
        self, scope: Construct, id_: str, *, key: kms.IKey, removal_policy: cdk.RemovalPolicy
    ) -> None:
        super().__init__(scope, id_)
        self.table = dynamodb.TableV2(
            self,
            "Runs",
            partition_key=dynamodb.Attribute(name="run_id", type=dynamodb.AttributeType.STRING),
            billing=dynamodb.Billing.on_demand(),
            encryption=dynamodb.TableEncryptionV2.customer_managed_key(key),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            # A dev stage that destroys its resources may delete the table too.
            deletion_protection=removal_policy == cdk.RemovalPolicy.RETAIN,
            removal_policy=removal_policy,
            global_secondary_indexes=[
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=BY_STATUS_INDEX,
                    partition_key=dynamodb.Attribute(
                        name="status", type=dynamodb.AttributeType.STRING
                    ),
                    sort_key=dynamodb.Attribute(
                        name="updated_at", type=dynamodb.AttributeType.STRING
                    ),
                ),
                # Sparse: only runs whose deployment may be alive carry the key.
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=LIVE_DEPLOYMENTS_INDEX,
                    partition_key=dynamodb.Attribute(
                        name=LIVE_ATTRIBUTE, type=dynamodb.AttributeType.STRING
                    ),
                    sort_key=dynamodb.Attribute(
                        name="updated_at", type=dynamodb.AttributeType.STRING
                    ),
                ),
            ],
        )
