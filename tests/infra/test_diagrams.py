"""The diagrams in docs/ are drawn from the synthesized dev template, and are current."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from scripts.diagrams import (
    ARCHITECTURE,
    FLOW_GLOB,
    architecture,
    definition_text,
    flow,
    main,
    node_ids,
    render,
    write,
)
from tests.infra.synth import ROOT, Synth

DOCS = ROOT / "docs"
STALE = "docs/ no longer shows the app: run `make diagrams` and commit the result"


def _states(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every state of a definition, those inside Parallel and Map states included."""
    found = dict(spec["States"])
    for state in spec["States"].values():
        for branch in [
            *state.get("Branches", []),
            state.get("ItemProcessor"),
            state.get("Iterator"),
        ]:
            found |= _states(branch) if branch else {}
    return found


def _declares(chart: str, node: str) -> bool:
    """Whether ``chart`` declares ``node`` (a node with a shape, or a subgraph)."""
    return (
        re.search(rf"^\s+(subgraph )?{re.escape(node)}[\[\(\{{]", chart, re.MULTILINE) is not None
    )


def test_docs_show_the_synthesized_dev_template(dev: Synth) -> None:
    # Given the diagrams drawn from the dev template now
    expected = render(dev.template)
    # Then docs/ holds exactly those files, each as drawn
    assert sorted(p.name for p in DOCS.glob(FLOW_GLOB)) == sorted(
        name for name in expected if name != ARCHITECTURE
    ), STALE
    for name, body in expected.items():
        path = DOCS / name
        assert path.exists(), f"{name}: {STALE}"
        assert path.read_text() == body, f"{name}: {STALE}"


def test_make_diagrams_draws_the_assembly_it_is_given(dev: Synth, tmp_path) -> None:
    # Given a cloud assembly of the dev stack (its manifest names the template file)
    assembly, docs = tmp_path / "cdk.out", tmp_path / "docs"
    assembly.mkdir()
    (assembly / "dev.template.json").write_text(json.dumps(dev.template))
    stack = {
        "type": "aws:cloudformation:stack",
        "properties": {"templateFile": "dev.template.json"},
    }
    tree = {"type": "cdk:tree", "properties": {"file": "tree.json"}}
    (assembly / "manifest.json").write_text(json.dumps({"artifacts": {"Dev": stack, "Tree": tree}}))
    # When the script reads it, then it writes what render() draws
    assert main([str(assembly), str(docs)]) == 0
    assert {p.name: p.read_text() for p in docs.iterdir()} == render(dev.template)
    # And an assembly that is not there draws nothing
    assert main([str(tmp_path / "none"), str(docs)]) == 1


def test_every_function_machine_and_alarm_is_a_node_with_its_role(dev: Synth) -> None:
    chart, ids = architecture(dev.template), node_ids(dev.template)
    kinds = ("AWS::Lambda::Function", "AWS::StepFunctions::StateMachine", "AWS::CloudWatch::Alarm")
    for kind in kinds:
        for logical_id in dev.resources(kind):
            assert _declares(chart, ids[logical_id]), logical_id
    for logical_id, function in dev.resources("AWS::Lambda::Function").items():
        role = function["Properties"]["Role"]["Fn::GetAtt"][0]
        assert f'{ids[logical_id]} -->|"role"| {ids[role]}' in chart


def test_keys_are_drawn_encrypting_what_they_encrypt(dev: Synth) -> None:
    chart, ids = architecture(dev.template), node_ids(dev.template)
    encrypted = 0
    for logical_id, resource in dev.template["Resources"].items():
        props = json.dumps(resource.get("Properties", {}))
        for key in dev.resources("AWS::KMS::Key"):
            if re.search(rf'"(KMSMasterKeyID|KmsMasterKeyId)": {{"Fn::GetAtt": \["{key}"', props):
                assert f'{ids[key]} -->|"encrypts"| {ids[logical_id]}' in chart
                encrypted += 1
    assert encrypted >= 5  # buckets, queues, topic and registry


def test_each_machine_invokes_the_functions_its_definition_names(dev: Synth) -> None:
    chart, ids = architecture(dev.template), node_ids(dev.template)
    functions = dev.resources("AWS::Lambda::Function")
    for machine, resource in dev.resources("AWS::StepFunctions::StateMachine").items():
        named = set(re.findall(r"\$\{(\w+)\.Arn\}", definition_text(resource))) & set(functions)
        assert named, machine
        for function in named:
            assert f'{ids[machine]} -->|"invokes"| {ids[function]}' in chart


def test_dead_letter_queues_and_watched_queues_are_edges(dev: Synth) -> None:
    chart, ids = architecture(dev.template), node_ids(dev.template)
    dead_letters = [
        (rule, target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0])
        for rule, resource in dev.resources("AWS::Events::Rule").items()
        for target in resource["Properties"]["Targets"]
        if "DeadLetterConfig" in target
    ]
    assert dead_letters
    for rule, queue in dead_letters:
        assert f'{ids[rule]} -.->|"dead letters"| {ids[queue]}' in chart
    for alarm, resource in dev.resources("AWS::CloudWatch::Alarm").items():
        for dimension in resource["Properties"]["Dimensions"]:
            value = dimension["Value"]
            if isinstance(value, dict):
                watched = value.get("Ref") or value["Fn::GetAtt"][0]
                assert f'{ids[alarm]} -->|"watches"| {ids[watched]}' in chart


def test_every_state_and_every_catch_is_drawn(dev: Synth) -> None:
    machines = dev.resources("AWS::StepFunctions::StateMachine")
    assert len(machines) >= 2  # the run, and EndRun
    for machine, resource in machines.items():
        chart = flow(dev.template, machine)
        states = _states(json.loads(definition_text(resource)))
        for name in states:
            assert re.search(rf'[\[\(\{{]"{re.escape(name)}(<br/>|")', chart), name
        catches = sum(len(state.get("Catch", [])) for state in states.values())
        assert chart.count(" -.->|") == catches
        assert chart.count('-->|"default"|') == sum("Default" in s for s in states.values())


PARALLEL = {
    "StartAt": "Fan",
    "States": {
        "Fan": {
            "Type": "Parallel",
            "Next": "Each",
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Broken"}],
            "Branches": [
                {"StartAt": "Left", "States": {"Left": {"Type": "Pass", "End": True}}},
                {
                    "StartAt": "Right",
                    "States": {"Right": {"Type": "Wait", "Seconds": 5, "End": True}},
                },
            ],
        },
        "Each": {
            "Type": "Map",
            "ItemProcessor": {"StartAt": "Left", "States": {"Left": {"Type": "Succeed"}}},
            "Next": "Done?",
        },
        "Done?": {
            "Type": "Choice",
            "Choices": [
                {"Not": {"Variable": "$.n", "NumericGreaterThanEquals": 3}, "Next": "Fan"},
                {"Variable": "$.x", "IsPresent": False, "Next": "Broken"},
            ],
            "Default": "End",
        },
        "End": {"Type": "Succeed"},
        "Broken": {"Type": "Fail"},
    },
}


def _template(definition: dict[str, Any]) -> dict[str, Any]:
    machine = {
        "Type": "AWS::StepFunctions::StateMachine",
        "Properties": {"DefinitionString": json.dumps(definition)},
        "Metadata": {"aws:cdk:path": "Stack/Flows/Fanout/Resource"},
    }
    return {"Resources": {"FlowsFanout0A1B2C3D": machine}}


def test_parallel_and_map_branches_are_subgraphs_with_their_own_states() -> None:
    chart = flow(_template(PARALLEL), "FlowsFanout0A1B2C3D")
    assert 'subgraph Fan["Parallel Fan"]' in chart
    assert 'subgraph Fan_1["branch 1"]' in chart
    assert 'subgraph Each_1["each item"]' in chart
    # A state name used in two branches is two nodes; a reserved word is no Mermaid id
    assert _declares(chart, "Left")
    assert _declares(chart, "Each1_Left")
    assert 'End_state(["End"])' in chart
    assert 'Fan -.->|"States.ALL"| Broken' in chart
    assert 'Done -->|"not (n #gt;= 3)"| Fan' in chart
    assert 'Done -->|"x is not present"| Broken' in chart
    assert "class Broken failed" in chart


def test_a_machine_that_is_gone_loses_its_flow(tmp_path) -> None:
    # Given docs/ with the flow of a machine the template no longer holds
    (tmp_path / "flow-old-machine.md").write_text("stale")
    # When the diagrams are written
    written = write(_template(PARALLEL), tmp_path)
    # Then only the current ones remain
    assert sorted(written) == sorted([ARCHITECTURE, "flow-fanout.md"])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(written)


def test_a_definition_the_drawer_cannot_read_is_refused() -> None:
    template = _template(PARALLEL)
    template["Resources"]["FlowsFanout0A1B2C3D"]["Properties"]["DefinitionString"] = {
        "Fn::Sub": ["${X}", {"X": "y"}]
    }
    with pytest.raises(ValueError, match="Fn::Sub"):
        flow(template, "FlowsFanout0A1B2C3D")
