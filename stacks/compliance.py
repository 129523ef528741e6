"""cdk-nag packs, run at every synth, and the one way to acknowledge a finding.

cdk-nag 3 is a CDK validation plugin: a finding that is not acknowledged fails
synth and is written to ``cdk.out/validation-report.json``.
"""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, ServerlessChecks
from constructs import IConstruct

from stacks.intrinsics import as_text
from stacks.nag_packs import PACKS


def add_compliance_checks(app: cdk.App) -> None:
    """Run the AwsSolutions, NIST 800-53 rev 5, HIPAA Security and Serverless packs."""
    cdk.Validations.of(app).add_plugins(
        AwsSolutionsChecks(app),
        NIST80053R5Checks(app),
        HIPAASecurityChecks(app),
        ServerlessChecks(app),
    )


def finding_id(rule: str, resource: str | None = None) -> str:
    """The exact id cdk-nag gives a finding, e.g. ``AwsSolutions::AwsSolutions-IAM5[Resource::*]``."""
    pack = next((name for prefix, name in PACKS.items() if rule.startswith(prefix)), None)
    if pack is None:
        raise ValueError(f"{rule!r} is not a rule of the packs this app runs: {', '.join(PACKS)}")
    return f"{pack}::{rule}" + (f"[{resource}]" if resource else "")


def acknowledge(scope: IConstruct, rule: str, reason: str, *, resource: str | None = None) -> None:
    """Acknowledge one finding on the narrowest construct it applies to, with the reason."""
    if len(reason) < 20:
        raise ValueError("An acknowledgement needs a reason a reviewer would accept.")
    cdk.Validations.of(scope).acknowledge(
        cdk.Acknowledgment(id=finding_id(rule, resource), reason=reason)
    )


def checkov_skip(scope: IConstruct, check: str, comment: str) -> None:
    """Skip one checkov check on the resource of ``scope`` only, with the reason."""
    cfn = scope.node.default_child if not isinstance(scope, cdk.CfnResource) else scope
    if not isinstance(cfn, cdk.CfnResource):
        raise TypeError(f"{scope.node.path} has no CloudFormation resource to annotate")
    metadata = cfn.get_metadata("checkov") or {"skip": []}
    metadata["skip"].append({"id": check, "comment": comment})
    cfn.add_metadata("checkov", metadata)


def nag_rendering(scope: IConstruct, value: str) -> str:
    """``value`` (a string with tokens) as cdk-nag prints it inside a finding id.

    Ids depend on the environment: with a region known at synth an ARN holds
    ``us-east-1``, without it ``<AWS::Region>``. Rendering the resolved value,
    as nag does, keeps acknowledgements exact in both cases.
    """
    return as_text(cdk.Stack.of(scope).resolve(value))
