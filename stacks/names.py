"""Patterns of the physical names CloudFormation generates, for conditions that cannot use a Ref.

A key policy or a trust policy that named a resource by its ARN would often make a cycle
(Key -> Topic -> Key, Role -> StateMachine -> Role). Resources here get generated names
(no ``topic_name=`` or ``state_machine_name=``), so such a condition names them by pattern.
"""

from __future__ import annotations

import aws_cdk as cdk

# A resource given no name gets "a unique physical ID" from CloudFormation, such as
# "MyStack-MyBucket-abcdefghijk1". Source (read 2026-12-02):
# https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-name.html
# State machines are named "<logical id>-<random>" (the ARNs CloudFormation gives them,
# e.g. stateMachine:StateMachine2E01A3A5-N5TJppzoevKQ in aws-cdk-lib's own documentation of
# StateMachine.from_state_machine_arn). The pattern matches both forms; a name longer than
# its type takes would be cut, so the pattern refuses a stack where that could happen.
RANDOM_SUFFIX = 13  # characters: "-" and the 12 random ones


class NameMayBeCutError(ValueError):
    """The generated name may be cut, and the pattern may then not match it."""


def generated_name_pattern(resource: cdk.CfnResource, *, max_length: int) -> str:
    """``*<logical id>-*``: matches the name CloudFormation generates for ``resource``.

    ``max_length`` is the longest name the resource type takes; a stack name and logical id
    long enough to be cut to it raise, since the logical id might then not appear whole.
    """
    stack = cdk.Stack.of(resource)
    logical_id = stack.resolve(stack.get_logical_id(resource))
    longest = len(stack.stack_name) + 1 + len(logical_id) + RANDOM_SUFFIX
    if longest > max_length:
        raise NameMayBeCutError(
            f"A generated name for {logical_id} can be {longest} characters, more than the "
            f"{max_length} its type takes: CloudFormation would cut it."
        )
    return f"*{logical_id}-*"


def pascal(name: str) -> str:
    """``check_job`` or ``bedrock-runtime`` as a construct id part: ``CheckJob``, ``BedrockRuntime``."""
    return "".join(part.capitalize() for part in name.replace("-", "_").split("_"))
