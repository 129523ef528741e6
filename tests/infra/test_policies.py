"""Every policy document in every stage: no wildcard action, no unconditioned public principal."""

from __future__ import annotations

from tests.infra.synth import Synth, as_list, policy_documents, statements


def test_no_policy_anywhere_allows_a_wildcard_action(every_variant: Synth) -> None:
    documents = list(policy_documents(every_variant.template))
    # IAM, key, bucket, topic, queue and endpoint policies are all inspected.
    assert {kind for _, kind, _ in documents} >= {
        "PolicyDocument",
        "KeyPolicy",
        "AssumeRolePolicyDocument",
    }
    for logical_id, kind, document in documents:
        for statement in statements(document):
            assert "NotAction" not in statement, f"{logical_id} {kind} uses NotAction"
            if statement["Effect"] != "Allow":
                continue  # a Deny of s3:* (the TLS rule) only narrows
            for action in as_list(statement["Action"]):
                assert "*" not in action, f"{logical_id} {kind} allows {action}"


def test_an_allow_to_any_principal_is_always_conditioned(every_variant: Synth) -> None:
    for logical_id, kind, document in policy_documents(every_variant.template):
        for statement in statements(document):
            if statement["Effect"] == "Allow" and statement.get("Principal") in ("*", {"AWS": "*"}):
                assert statement.get("Condition"), f"{logical_id} {kind} allows anyone"
