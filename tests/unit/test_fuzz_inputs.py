"""Fuzzed input (issue 13): parsers and checks never raise, never hang, and say it briefly.

The manifest parser, the request check, the dataset validator and ``check`` are
given JSON nested up to past orjson's limit, values tens of thousands of
characters long, and shapes near each documented format. Each must return its
problems as data, within the deadline, and every message (and field) must stay
short: a user value shows at most ``QUOTE_MAX`` characters of itself. The
explicit regressions are those of the fuzz review: 63 to 100,000 levels of
nesting, and a 300 KB field.
"""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bedrock_customize import check, check_model
from customization_core import prepare_rows
from customization_core.bounded import MAX_DEPTH, QUOTE_MAX
from customization_core.catalog import CustomizationType, load_catalog
from customization_core.findings import Finding
from customization_core.manifest import requested_hyperparameters
from customization_core.manifest_parse import MAX_MANIFEST_BYTES, parse_manifest
from customization_core.report import Report
from customization_core.request import check_request
from customization_core.validator import validate_dataset
from tests.unit.test_properties import MODELS, json_values

T = TypeVar("T")
CATALOG = load_catalog()
MICRO = "amazon.nova-micro-v1:0:128k"
NOVA_LITE = "amazon.nova-lite-v1:0:300k"  # takes images and videos
NOVA_2_LITE = "amazon.nova-2-lite-v1:0:256k"  # takes reasoning content
COHERE = "cohere.command-text-v14:7:4k"  # caps prompt and completion separately
DATASET_MODELS = [
    *MODELS,
    (NOVA_LITE, "fine-tuning"),
    (NOVA_LITE, "fine-tuning"),  # twice: the most rules (media) are checked for it
    (NOVA_2_LITE, "fine-tuning"),
    (COHERE, "fine-tuning"),
]
BUCKET = "datasets-bucket"
# The longest fixed sentence is unknown-model's, which lists every catalog id; any
# message is at most that, a few quoted values (QUOTE_MAX and a size note each) and
# the rest of a sentence. Before issue 13 a 300 KB field made a 300,059-character one.
MESSAGE_MAX = len(", ".join(CATALOG.all_ids())) + 4 * (QUOTE_MAX + 40) + 400
FIELD_MAX = 2 * (QUOTE_MAX + 40) + 200  # a path of fixed names and at most one clipped key
HUGE = 300 * 1024  # the review's 300 KB field
# Reproducible in CI: the same examples each run; a hang fails the deadline, not the job.
FUZZ = settings(
    max_examples=150,
    deadline=timedelta(seconds=2),
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --- JSON text, written as text so that any nesting costs no recursion to build ----------

# Long values, cheaply: a short piece repeated up to tens of thousands of characters.
long_text = st.builds(
    lambda piece, times: piece * times, st.text(min_size=1, max_size=6), st.integers(0, 6000)
)
texts = st.text(max_size=40) | long_text


def _dumps(value: object) -> str:
    return json.dumps(value)


def _nest(inner: str, depth: int, opener: str) -> str:
    """``inner`` wrapped in ``depth`` arrays or objects (``{"a": ...}``)."""
    if opener == "[":
        return "[" * depth + inner + "]" * depth
    return '{"a":' * depth + inner + "}" * depth


def _object(pairs: Iterable[tuple[str, str]]) -> str:
    return "{" + ",".join(f"{_dumps(key)}:{value}" for key, value in pairs) + "}"


def _array(items: Iterable[str]) -> str:
    return "[" + ",".join(items) + "]"


def mostly(valid: st.SearchStrategy[T], junk: st.SearchStrategy[T]) -> st.SearchStrategy[T]:
    """``valid`` three times in four: enough input gets past the first check to reach the next."""
    return st.integers(0, 3).flatmap(lambda n: junk if n == 0 else valid)


scalar_json = st.builds(
    _dumps,
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts,
)
# Depths around the cap and past orjson's own limit of 1,024.
depths = st.integers(0, 8) | st.integers(MAX_DEPTH - 2, MAX_DEPTH + 2) | st.integers(0, 1100)
deep_json = st.builds(_nest, scalar_json, depths, st.sampled_from("[{"))
any_json = mostly(scalar_json | st.builds(_dumps, json_values), deep_json)
text_json = mostly(st.builds(_dumps, texts), any_json)


def _pairs(keys: st.SearchStrategy[str], values: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.lists(st.tuples(keys, values), max_size=6).map(_object)


# --- Manifests --------------------------------------------------------------------------


model_ids = st.sampled_from([*CATALOG.all_ids(), "acme.rocket-v1"]) | texts
hyperparameter_keys = (
    st.sampled_from(["epochCount", "learningRate", "batchSize", "learningRateWarmupSteps"]) | texts
)
numbers = st.integers(-(2**63), 2**63) | st.floats(allow_nan=False, allow_infinity=False)
hyperparameter_values = mostly(
    st.builds(_dumps, st.sampled_from(["1", "2", "0.00001", "1e-5", " 3 "]) | texts | numbers),
    any_json,
)
positive = st.floats(min_value=0.01, max_value=1e6)
manifest_fields: dict[str, st.SearchStrategy[str]] = {
    "customizationType": mostly(
        st.builds(
            _dumps, st.sampled_from(["FINE_TUNING", "CONTINUED_PRE_TRAINING", "fine-tuning"])
        ),
        st.builds(_dumps, texts) | any_json,
    ),
    "baseModelId": mostly(st.builds(_dumps, model_ids), any_json),
    "hyperParameters": mostly(_pairs(hyperparameter_keys, hyperparameter_values), any_json),
    "customModelName": mostly(st.builds(_dumps, st.just("support-summaries")), text_json),
    "trainingData": mostly(
        st.builds(_dumps, st.sampled_from(["train.jsonl", "data/train.jsonl"])),
        st.builds(_dumps, texts) | any_json,
    ),
    "validationData": mostly(st.builds(_dumps, st.sampled_from([None, "val.jsonl"])), text_json),
    "tags": mostly(_pairs(st.sampled_from(["team", "aws:x"]), st.just('"support"')), text_json),
    "deploy": mostly(
        st.builds(
            lambda mode, units, ttl: _object([("mode", mode), *units, *ttl]),
            st.builds(_dumps, st.sampled_from(["none", "provisioned", "on-demand"])),
            st.lists(
                st.tuples(st.just("modelUnits"), st.builds(_dumps, st.integers(1, 10))), max_size=1
            ),
            st.lists(st.tuples(st.just("ttlHours"), st.builds(_dumps, positive)), max_size=1),
        ),
        _pairs(st.sampled_from(["mode", "modelUnits", "ttlHours"]) | texts, any_json) | any_json,
    ),
    "evaluate": mostly(
        st.builds(
            lambda samples, prompts: _object([("samples", samples), ("prompts", prompts)]),
            st.builds(_dumps, st.integers(1, 1000)),
            st.lists(st.builds(_dumps, texts), max_size=3).map(_array),
        ),
        _pairs(st.sampled_from(["samples", "minImprovement", "prompts"]) | texts, any_json)
        | any_json,
    ),
    "budgetUsd": mostly(st.builds(_dumps, positive), any_json),
}


@st.composite
def manifests(draw: st.DrawFn) -> bytes:
    """A job.json: mostly the two required fields, some of the others, now and then strays."""
    pairs = []
    for name, values in manifest_fields.items():
        required = name in ("customizationType", "baseModelId")
        if draw(st.integers(0, 9)) < (9 if required else 3):
            pairs.append((name, draw(values)))
    if draw(st.integers(0, 9)) == 0:
        pairs.extend(draw(st.lists(st.tuples(texts, any_json), min_size=1, max_size=3)))
    return _object(pairs).encode()


# --- Dataset records --------------------------------------------------------------------

roles = mostly(
    st.builds(_dumps, st.sampled_from(["user", "assistant", "system"])),
    st.builds(_dumps, texts) | any_json,
)
uris = mostly(
    st.builds(
        lambda bucket, key, ext: _dumps(f"s3://{bucket}/{key}.{ext}"),
        st.sampled_from([BUCKET, "other-bucket", "Bad_Bucket"]) | texts,
        st.sampled_from(["images/a", "v/clip", "a b"]) | texts,
        st.sampled_from(["png", "jpeg", "mp4"]) | texts,
    ),
    st.builds(_dumps, texts) | any_json,
)
media_blocks = st.builds(
    lambda kind, fmt, uri, owner: _object(
        [
            (
                kind,
                _object(
                    [
                        ("format", fmt),
                        ("source", _object([("s3Location", _object([("uri", uri), *owner]))])),
                    ]
                ),
            )
        ]
    ),
    st.sampled_from(["image", "video", "document"]),
    mostly(
        st.builds(_dumps, st.sampled_from(["png", "PNG", "jpg", "jpeg", "mp4", "mov"])),
        st.builds(_dumps, texts) | any_json,
    ),
    uris,
    st.lists(st.tuples(st.just("bucketOwner"), text_json), max_size=1),
)
text_blocks = st.builds(lambda text: _object([("text", text)]), text_json)
reasoning_blocks = st.builds(
    lambda text: _object(
        [("reasoningContent", _object([("reasoningText", _object([("text", text)]))]))]
    ),
    text_json,
)
other_blocks = _pairs(st.sampled_from(["text", "image", "reasoningContent"]) | texts, any_json)
blocks = st.integers(0, 5).flatmap(
    lambda n: (
        (text_blocks, text_blocks, media_blocks, media_blocks, reasoning_blocks)[n]
        if n < 5
        else other_blocks | any_json
    )
)
messages = st.builds(
    lambda role, content, extra: _object([("role", role), ("content", content), *extra]),
    roles,
    mostly(st.lists(blocks, min_size=1, max_size=3).map(_array), text_json),
    st.lists(st.tuples(texts, any_json), max_size=1),
)
conversations = st.builds(
    lambda version, system, turns, extra: _object([*version, *system, ("messages", turns), *extra]),
    st.lists(
        st.tuples(
            st.just("schemaVersion"),
            mostly(st.builds(_dumps, st.just("bedrock-conversation-2024")), text_json),
        ),
        max_size=1,
    ),
    st.lists(
        st.tuples(st.just("system"), st.lists(blocks, max_size=2).map(_array) | text_json),
        max_size=1,
    ),
    mostly(st.lists(messages, max_size=4).map(_array), any_json),
    st.lists(st.tuples(texts, any_json), max_size=1),
)
flat_records = _pairs(st.sampled_from(["prompt", "completion", "input", "x"]) | texts, text_json)
records = st.integers(0, 3).flatmap(
    lambda n: (flat_records, conversations, conversations, any_json)[n]
)
lines = st.lists(mostly(st.builds(str.encode, records), st.binary(max_size=60)), max_size=6)


# --- What is checked of every answer -----------------------------------------------------


def _assert_short(messages: Iterable[str]) -> None:
    for message in messages:
        assert len(message) <= MESSAGE_MAX, message[:500]


def _assert_short_findings(findings: Iterable[Finding]) -> None:
    for finding in findings:
        assert len(finding.message) <= MESSAGE_MAX, finding.message[:500]
        assert finding.field is None or len(finding.field) <= FIELD_MAX, finding.field[:500]


def _assert_short_report(report: Report) -> None:
    document = json.loads(report.to_json())
    for finding in document["errors"] + document["warnings"]:
        assert len(finding["message"]) <= MESSAGE_MAX, finding["message"][:500]
        assert finding["field"] is None or len(finding["field"]) <= FIELD_MAX
    assert document["error_count"] >= len(document["errors"])
    assert report.render_text()


def _validate(data: bytes, model: tuple[str, str], **options: Any) -> Report:
    return validate_dataset(
        io.BytesIO(data), model_id=model[0], customization_type=model[1], **options
    )


# --- Properties --------------------------------------------------------------------------


@FUZZ
@given(manifests(), st.booleans())
def test_any_manifest_parses_or_says_why_and_the_request_check_says_it_briefly(
    data: bytes, unknown_ok: bool
) -> None:
    parsed = parse_manifest(data)

    assert (parsed.manifest is None) == bool(parsed.problems)
    _assert_short(parsed.problems)
    if parsed.manifest is not None:
        manifest = parsed.manifest
        checked = check_request(
            CATALOG,
            manifest.base_model_id,
            manifest.customization_type,
            requested_hyperparameters(manifest, {}),
            region="us-east-1",
            unknown_ok=unknown_ok,
        )
        _assert_short_findings(checked.findings)


@FUZZ
@given(st.binary(max_size=400))
def test_any_bytes_as_a_manifest_are_refused_in_a_sentence(data: bytes) -> None:
    parsed = parse_manifest(data)
    assert parsed.manifest is not None or parsed.problems
    _assert_short(parsed.problems)


@FUZZ
@given(
    model_ids,
    st.sampled_from([*CustomizationType, "fine-tuning", "continued-pretraining"]) | texts,
    st.dictionaries(
        hyperparameter_keys,
        texts | st.integers() | st.floats() | st.booleans() | st.none(),
        max_size=30,
    ),
    st.booleans(),
)
def test_the_request_check_takes_any_request_and_says_it_briefly(
    model_id: str, kind: CustomizationType | str, hyperparameters: dict[str, Any], unknown_ok: bool
) -> None:
    checked = check_request(CATALOG, model_id, kind, hyperparameters, unknown_ok=unknown_ok)
    _assert_short_findings(checked.findings)


@FUZZ
@given(lines, st.sampled_from(DATASET_MODELS), st.booleans())
def test_any_dataset_gives_a_report_of_short_findings(
    data: list[bytes], model: tuple[str, str], in_bucket: bool
) -> None:
    report = _validate(b"\n".join(data), model, dataset_bucket=BUCKET if in_bucket else None)
    _assert_short_report(report)


@settings(FUZZ, max_examples=60)
@given(manifests(), lines)
def test_check_judges_any_job_folder_offline_in_short_sentences(
    manifest: bytes, data: list[bytes]
) -> None:
    with tempfile.TemporaryDirectory() as root:
        folder = Path(root)
        (folder / "train.jsonl").write_bytes(b"\n".join(data))
        outcome = _check(manifest, folder)
    _assert_short(p.message for p in outcome.problems)
    _assert_short(n.message for n in outcome.notes)
    assert check_model.render_text(outcome)


def _check(manifest: bytes, folder: Path) -> check_model.Outcome:
    return check.check_job(
        check_model.Job(name="fuzz", manifest=manifest, locate=lambda key: folder / key),
        catalog=CATALOG,
        rules=None,
        live=check_model.Live(None, None, skipped="offline"),
        today=date(2026, 12, 1),
        now=datetime(2026, 12, 1, tzinfo=UTC),
    )


# --- Regressions of the fuzz review: nesting ---------------------------------------------

NESTINGS = [MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, 1_000, 100_000]
DEPTH_WORDS = f"more than {MAX_DEPTH} levels deep"


def _deep_manifest(depth: int) -> bytes:
    """A manifest whose hyperParameters make the document ``depth`` levels deep in all."""
    return (
        b'{"customizationType": "FINE_TUNING", "baseModelId": "' + MICRO.encode() + b'", '
        b'"hyperParameters": ' + _nest("1", depth - 1, "[").encode() + b"}"
    )


@pytest.mark.parametrize("depth", [*NESTINGS, 20_000])
def test_a_deeply_nested_manifest_is_refused_in_one_sentence(depth: int) -> None:
    # Given job.json nested `depth` levels (20,000 is past orjson's limit and under 64 KB)
    data = _deep_manifest(depth)

    # When it is parsed
    parsed = parse_manifest(data)

    # Then it is refused, for its depth when that is over the cap, never with a crash
    assert parsed.manifest is None
    _assert_short(parsed.problems)
    (problem,) = parsed.problems
    if len(data) > MAX_MANIFEST_BYTES:
        assert "a manifest is at most 65,536" in problem
    elif depth > MAX_DEPTH:
        assert problem.startswith(f"job.json nests objects and lists {DEPTH_WORDS}")
        assert "remove the extra nesting" in problem
        if depth <= 1024:  # orjson parsed it: the field is named
            assert "under 'hyperParameters'" in problem
    else:
        assert DEPTH_WORDS not in problem
        assert "Manifest field 'hyperParameters' has [[[[" in problem


@pytest.mark.parametrize("depth", NESTINGS)
def test_check_judges_a_deeply_nested_manifest_and_goes_on_without_the_field(
    depth: int, tmp_path: Path
) -> None:
    (tmp_path / "train.jsonl").write_bytes(b'{"schemaVersion": "bedrock-conversation-2024"}\n')
    outcome = _check(_deep_manifest(depth), tmp_path)
    manifest_problems = [p.message for p in outcome.problems if p.step == "manifest"]
    assert manifest_problems
    _assert_short(manifest_problems)
    if MAX_DEPTH < depth <= 1024:  # parsed, and judged again without hyperParameters
        assert any("without its invalid hyperParameters" in n.message for n in outcome.notes)
        assert outcome.report is not None


def _deep_line(depth: int, opener: str) -> bytes:
    """A prompt/completion record ``depth`` levels deep in all, through an extra field."""
    return (
        b'{"prompt": "p", "completion": "c", "extra": '
        + _nest("1", depth - 1, opener).encode()
        + b"}\n"
    )


@pytest.mark.parametrize("opener", "[{")
@pytest.mark.parametrize("depth", NESTINGS)
def test_a_deeply_nested_record_is_one_finding_with_its_file_and_line(
    depth: int, opener: str
) -> None:
    # Given a good line, then one nested `depth` levels, in the validation file too
    data = b'{"prompt": "p", "completion": "c"}\n' + _deep_line(depth, opener)

    # When the files are validated
    report = validate_dataset(
        io.BytesIO(data),
        validation=io.BytesIO(data),
        model_id=MODELS[0][0],
        customization_type="fine-tuning",
    )

    # Then the deep line is one error where it is, saying the limit and the fix
    _assert_short_report(report)
    deep = [e for e in report.document["errors"] if e["code"] == "nested-too-deep"]
    if depth <= MAX_DEPTH:
        assert deep == []
        return
    assert [(e["file"], e["line"]) for e in deep] == [("training", 2), ("validation", 2)]
    message = deep[0]["message"]
    assert message.startswith(f"The record nests objects and lists {DEPTH_WORDS}")
    assert "Write the record in its model's format" in message
    if depth <= 1024:  # orjson parsed it: the field is named
        assert "under 'extra'" in message
    assert report.document["records"] == 2


@pytest.mark.parametrize("depth", NESTINGS)
def test_a_role_nested_deep_in_a_conversation_gives_a_report(depth: int) -> None:
    # The crash of the review: a role quoted with repr() nested past the recursion limit.
    role = _nest('"user"', depth - 3, "[")
    line = (
        '{"schemaVersion": "bedrock-conversation-2024", "messages": ['
        f'{{"role": {role}, "content": [{{"text": "hi"}}]}},'
        '{"role": "assistant", "content": [{"text": "hello"}]}]}\n'
    )
    report = _validate(line.encode(), (MICRO, "fine-tuning"))
    _assert_short_report(report)
    codes = [e["code"] for e in report.document["errors"]]
    assert ("nested-too-deep" in codes) is (depth > MAX_DEPTH)


@pytest.mark.parametrize("depth", NESTINGS)
def test_prepare_refuses_a_deeply_nested_row_in_a_sentence(depth: int) -> None:
    line = _deep_line(depth, "[").decode()
    if depth <= MAX_DEPTH:
        assert prepare_rows.read_rows(line, "jsonl")
        return
    with pytest.raises(
        prepare_rows.PrepareError, match=f"Line 1 nests objects and lists {DEPTH_WORDS}"
    ):
        prepare_rows.read_rows(line, "jsonl")
    with pytest.raises(prepare_rows.PrepareError, match=DEPTH_WORDS):
        prepare_rows.read_rows(f"[{line}]", "json")


# --- Regressions of the fuzz review: a 300 KB value --------------------------------------


def test_a_300_kb_value_in_a_record_is_quoted_short_wherever_it_is() -> None:
    # Given records whose key, role, schema version and URI are each 300 KB long
    huge = "a" * HUGE
    records = [
        {"prompt": "p", "completion": "c", huge: "x"},
        {
            "schemaVersion": huge,
            "messages": [
                {"role": huge, "content": [{"text": "hi"}]},
                {"role": "assistant", "content": [{"text": "hello"}, {huge: 1}]},
            ],
        },
        {
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {
                            "image": {
                                "format": huge,
                                "source": {"s3Location": {"uri": huge, "bucketOwner": huge}},
                            }
                        },
                        {"text": "what is it?"},
                    ],
                },
                {"role": "assistant", "content": [{"text": "a dog"}]},
            ],
        },
    ]
    data = b"".join(json.dumps(r).encode() + b"\n" for r in records)

    # When they are validated for models of each format
    for model in [MODELS[0], (MICRO, "fine-tuning"), (NOVA_LITE, "fine-tuning")]:
        report = _validate(data, model, dataset_bucket=BUCKET)

        # Then every finding quotes at most QUOTE_MAX characters of the value, and its size
        _assert_short_report(report)
        quoted = [
            e["message"]
            for e in report.document["errors"] + report.document["warnings"]
            if "(307,200 characters)" in e["message"]
        ]
        assert quoted
        assert all("a" * QUOTE_MAX not in message for message in quoted)


def test_a_300_kb_request_is_quoted_short() -> None:
    huge = "a" * HUGE
    for model_id, kind, hyperparameters in [
        (huge, "fine-tuning", {}),
        (MICRO, huge, {}),
        (MICRO, "fine-tuning", {huge: "1", "epochCount": huge}),
        (huge, "fine-tuning", {huge: huge}),
    ]:
        for unknown_ok in (False, True):
            checked = check_request(CATALOG, model_id, kind, hyperparameters, unknown_ok=unknown_ok)
            assert checked.findings
            _assert_short_findings(checked.findings)
            assert all("a" * QUOTE_MAX not in f.message for f in checked.findings)


def test_the_longest_manifest_values_are_quoted_short() -> None:
    # A manifest is at most 64 KB: each value here is as long as one can be.
    long = "a" * (MAX_MANIFEST_BYTES - 200)
    many: list[dict[str, Any]] = [
        {"customModelName": long},
        {"baseModelId": long},
        {"trainingData": long},
        {"tags": {long: "x"}},
        {"tags": {"team": long}},
        {"hyperParameters": {long: [1]}},
        {long: 1},
        {"deploy": {long: 1}},
    ]
    for fields in many:
        manifest = {"customizationType": "FINE_TUNING", "baseModelId": MICRO, **fields}
        parsed = parse_manifest(json.dumps(manifest).encode())
        assert parsed.problems
        _assert_short(parsed.problems)
        assert all("a" * QUOTE_MAX not in p for p in parsed.problems)


def test_a_manifest_of_thousands_of_unknown_keys_lists_the_first_and_counts_the_rest() -> None:
    manifest: dict[str, Any] = {"customizationType": "FINE_TUNING", "baseModelId": MICRO}
    manifest.update({f"k{i}": 1 for i in range(5000)})
    parsed = parse_manifest(json.dumps(manifest).encode())
    assert len(parsed.problems) == 21
    assert parsed.problems[-1] == "And 4,980 more problems of the same kinds: fix these first."
    checked = check_request(CATALOG, MICRO, "fine-tuning", {f"k{i}": 1 for i in range(5000)})
    unknown = [f for f in checked.findings if f.code == "unknown-hyperparameter"]
    assert len(unknown) == 21
    assert unknown[-1].message.startswith("And 4,980 more names that are not hyperparameters")


def test_a_long_data_key_is_a_finding_not_a_crash_in_check(tmp_path: Path) -> None:
    # Given a key whose folder name is longer than a local file name may be (255 bytes)
    manifest = {
        "customizationType": "FINE_TUNING",
        "baseModelId": MICRO,
        "trainingData": "a" * 300 + "/train.jsonl",
    }

    # When check judges the folder
    outcome = _check(json.dumps(manifest).encode(), tmp_path)

    # Then the file is reported missing, as any other
    assert [p.code for p in outcome.errors] == ["training-file-missing"]
