"""stacks/intrinsics.py: a template value with tokens, written out as one string."""

from __future__ import annotations

from typing import Any

import pytest

from scripts.diagrams import definition_text
from stacks.intrinsics import as_text

JOINED = {
    "Fn::Join": [
        "",
        ["arn:", {"Ref": "AWS::Partition"}, ":s3:::", {"Fn::GetAtt": ["Bucket", "Arn"]}, "/*"],
    ]
}


def test_a_join_is_joined_and_its_tokens_written_as_cdk_nag_prints_them() -> None:
    assert as_text(JOINED) == "arn:<AWS::Partition>:s3:::<Bucket.Arn>/*"
    assert as_text({"Fn::Join": [",", ["a", {"Fn::Join": ["-", ["b", "c"]]}]]}) == "a,b-c"


def test_the_caller_chooses_how_each_token_is_written() -> None:
    text = as_text(JOINED, ref=lambda name: "aws", get_att=lambda i, a: f"${{{i}.{a}}}")
    assert text == "arn:aws:s3:::${Bucket.Arn}/*"


def test_anything_else_is_json_text_unless_the_caller_says_otherwise() -> None:
    assert as_text({"Fn::Sub": "x", "b": 1}) == '{"Fn::Sub": "x", "b": 1}'
    assert as_text(3) == "3"

    def refuse(value: Any) -> str:
        raise ValueError(value)

    with pytest.raises(ValueError, match="Fn::Select"):
        as_text({"Fn::Join": ["", ["a", {"Fn::Select": [0, ["x"]]}]]}, other=refuse)


def test_a_definition_with_a_token_the_diagrams_do_not_draw_is_refused() -> None:
    machine = {"Properties": {"DefinitionString": {"Fn::Join": ["", ['{"a":', {"Fn::Sub": "x"}]]}}}
    with pytest.raises(ValueError, match=r"Fn::Sub.*not drawn"):
        definition_text(machine)
    drawn = {"Properties": {"DefinitionString": {"Fn::Join": ["", ['"', {"Ref": "Fn"}, '"']]}}}
    assert definition_text(drawn) == '"${Fn}"'
