"""The run's copy of its data: the versions validated, media URIs rewritten, the source untouched."""

from __future__ import annotations

import hashlib
import io
import json
import struct
import tracemalloc
from collections.abc import Iterator
from typing import Any

import boto3
import orjson
import pytest
from botocore.exceptions import ClientError, ResponseStreamingError
from moto import mock_aws

from customization_core.layout import input_prefix
from customization_core.media import MediaUnavailableError, S3MediaResolver
from customization_core.media_block import media_locations
from customization_core.naming import ObjectVersion, lineage_tags
from customization_core.snapshot import (
    MIN_PART_BYTES,
    Snapshot,
    SnapshotUnavailableError,
    snapshot,
)
from customization_core.stream import READ_BUFFER_BYTES
from customization_core.validator import validate_dataset

REGION = "us-east-1"
INBOX = "inbox-bucket"
ARTIFACTS = "artifacts-bucket"
RUN_ID = "support-0123456789ab"
TRAIN_KEY = "jobs/support/train.jsonl"
CAT_KEY = "jobs/support/images/cat.png"
CAT = f"s3://{INBOX}/{CAT_KEY}"
NOVA_LITE = "amazon.nova-lite-v1:0:300k"
COPIED = f"s3://{ARTIFACTS}/{input_prefix(RUN_ID)}media/{CAT_KEY}"


def png(width: int, height: int, tail: bytes = b"") -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + b"\x00" * 4 + tail


def conversation(i: int, uri: str | None = CAT) -> dict[str, Any]:
    image = [{"image": {"format": "png", "source": {"s3Location": {"uri": uri}}}}] if uri else []
    return {
        "schemaVersion": "bedrock-conversation-2024",
        "messages": [
            {"role": "user", "content": [*image, {"text": f"What is in picture {i}?"}]},
            {"role": "assistant", "content": [{"text": f"A cat, number {i}."}]},
        ],
    }


def jsonl(records: list[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        for bucket in (INBOX, ARTIFACTS):
            client.create_bucket(Bucket=bucket)
            client.put_bucket_versioning(
                Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
            )
        yield client


def put(s3: Any, key: str, body: bytes, bucket: str = INBOX) -> str:
    return str(s3.put_object(Bucket=bucket, Key=key, Body=body)["VersionId"])


def read(s3: Any, uri: str) -> bytes:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def versions(s3: Any, bucket: str = INBOX) -> list[tuple[str, str, str, bool]]:
    listing = s3.list_object_versions(Bucket=bucket)
    found = [(v["Key"], v["VersionId"], v["ETag"], v["IsLatest"]) for v in listing["Versions"]]
    found += [
        (d["Key"], d["VersionId"], "delete", d["IsLatest"])
        for d in listing.get("DeleteMarkers", [])
    ]
    return sorted(found)


def keys(s3: Any, bucket: str = ARTIFACTS) -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))


def take(s3: Any, training_version: str, media: dict[str, str], **kwargs: Any) -> Snapshot:
    return snapshot(
        s3,
        source_bucket=INBOX,
        training={"key": TRAIN_KEY, "version_id": training_version},
        validation=kwargs.pop("validation", None),
        media_versions=media,
        artifacts_bucket=ARTIFACTS,
        run_id=RUN_ID,
        **kwargs,
    )


# --- What trains is what was validated -----------------------------------------------------


def test_the_copy_is_the_version_validated_after_the_user_replaced_train_and_image(s3) -> None:
    # Given a dataset validated by version, media looked up through the S3 resolver
    validated = jsonl([conversation(i) for i in range(8)])
    training_version = put(s3, TRAIN_KEY, validated)
    cat_v1 = png(64, 64, b"first")
    put(s3, CAT_KEY, cat_v1)
    resolver = S3MediaResolver(s3)
    body = s3.get_object(Bucket=INBOX, Key=TRAIN_KEY, VersionId=training_version)["Body"]
    report = validate_dataset(
        body,
        model_id=NOVA_LITE,
        customization_type="fine-tuning",
        dataset_bucket=INBOX,
        media=resolver,
    )
    assert report.valid, report.document["errors"]
    # ...and the user replaces both while the run awaits approval
    put(s3, TRAIN_KEY, jsonl([conversation(i, uri=None) for i in range(8)]) + b"unchecked\n")
    put(s3, CAT_KEY, png(1, 1, b"second"))

    # When the snapshot is taken from the versions the validator recorded
    taken = take(s3, training_version, resolver.versions)

    # Then the copy is the validated version, its image URIs pointing at the copied v1 image
    copied = read(s3, taken.training_uri)
    assert copied == validated.replace(CAT.encode(), COPIED.encode())
    assert read(s3, COPIED) == cat_v1
    assert taken.training_uri == f"s3://{ARTIFACTS}/runs/{RUN_ID}/input/training/train.jsonl"
    assert (taken.training_version, taken.media_count, taken.unchecked_media) == (
        training_version,
        1,
        0,
    )
    assert (taken.rewritten_lines, taken.bytes) == (8, len(copied))
    head = s3.head_object(Bucket=ARTIFACTS, Key=taken.training_uri.split("/", 3)[3])
    assert head["Metadata"]["source-version-id"] == training_version
    json.dumps(taken.record())  # rides in the run document


def test_lines_without_media_are_copied_byte_for_byte(s3) -> None:
    # Given lines the rewrite must not touch: odd spacing, not JSON, CRLF, media elsewhere
    other = f"s3://another-bucket/{CAT_KEY}"
    with_media = orjson.dumps(conversation(1))
    lines = [
        b'{"prompt" :  "spaced",   "completion": "\\u00e9"}\n',
        b"not json at all \t\n",
        b'\xef\xbb\xbf{"prompt": "after a byte order mark"}\n',
        b"\n",
        orjson.dumps(conversation(2, uri=other)) + b"\n",
        b'{"schemaVersion": "x"}\r\n',
        with_media + b"\r\n",
        with_media,  # the last line, without a newline
    ]
    version = put(s3, TRAIN_KEY, b"".join(lines))
    put(s3, CAT_KEY, png(64, 64))

    taken = take(s3, version, {})
    copied = read(s3, taken.training_uri).splitlines(keepends=True)

    assert copied[:6] == lines[:6]
    rewritten = with_media.replace(CAT.encode(), COPIED.encode())
    assert copied[6:] == [rewritten + b"\r\n", rewritten]
    assert taken.rewritten_lines == 2
    assert taken.media_count == 1


def test_every_media_block_is_rewritten_and_each_object_copied_once_by_its_version(s3) -> None:
    video_key = "jobs/support/videos/clip.mp4"
    record = {
        "schemaVersion": "bedrock-conversation-2024",
        "system": [{"text": "Describe."}],
        "messages": [
            {
                "role": "user",
                "content": [
                    {"image": {"format": "png", "source": {"s3Location": {"uri": CAT}}}},
                    {
                        "image": {
                            "format": "png",
                            "source": {"s3Location": {"uri": CAT, "bucketOwner": "111122223333"}},
                        }
                    },
                    {
                        "video": {
                            "format": "mp4",
                            "source": {"s3Location": {"uri": f"s3://{INBOX}/{video_key}"}},
                        }
                    },
                    {"text": "What happens?"},
                ],
            },
            {"role": "assistant", "content": [{"text": "A cat jumps."}]},
        ],
    }
    version = put(s3, TRAIN_KEY, orjson.dumps(record) + b"\n")
    cat_v1, clip_v1 = put(s3, CAT_KEY, b"cat one"), put(s3, video_key, b"clip one")
    put(s3, CAT_KEY, b"cat two")  # overwritten after validation
    put(s3, video_key, b"clip two")

    taken = take(s3, version, {CAT: cat_v1, f"s3://{INBOX}/{video_key}": clip_v1})

    copy = orjson.loads(read(s3, taken.training_uri))
    uris = [location["uri"] for location in media_locations(copy)]
    media = f"s3://{ARTIFACTS}/runs/{RUN_ID}/input/media"
    assert uris == [f"{media}/{CAT_KEY}", f"{media}/{CAT_KEY}", f"{media}/{video_key}"]
    assert (
        copy["messages"][0]["content"][1]["image"]["source"]["s3Location"]["bucketOwner"]
        == "111122223333"
    )
    assert read(s3, uris[0]) == b"cat one"
    assert read(s3, uris[2]) == b"clip one"
    assert taken.media_count == 2
    assert keys(s3) == sorted(
        [
            f"runs/{RUN_ID}/input/training/train.jsonl",
            f"runs/{RUN_ID}/input/media/{CAT_KEY}",
            f"runs/{RUN_ID}/input/media/{video_key}",
        ]
    )


def test_media_the_validator_did_not_look_up_are_copied_as_they_are_now_and_counted(s3) -> None:
    version = put(s3, TRAIN_KEY, jsonl([conversation(1)]))
    put(s3, CAT_KEY, b"cat now")
    taken = take(s3, version, {})  # past the validator's reference cap: no version recorded
    assert read(s3, COPIED) == b"cat now"
    assert (taken.media_count, taken.unchecked_media) == (1, 1)


def test_training_and_validation_files_of_one_name_do_not_collide(s3) -> None:
    train = put(s3, TRAIN_KEY, b'{"prompt": "a", "completion": "b"}\n')
    held_out = put(s3, "jobs/support/held-out/train.jsonl", b'{"prompt": "c", "completion": "d"}\n')
    taken = take(
        s3,
        train,
        {},
        validation={"key": "jobs/support/held-out/train.jsonl", "version_id": held_out},
    )
    assert taken.validation_uri == f"s3://{ARTIFACTS}/runs/{RUN_ID}/input/validation/train.jsonl"
    assert taken.validation_version == held_out
    assert read(s3, taken.training_uri) != read(s3, taken.validation_uri)


# --- The source is only read; a retry writes the same ------------------------------------


def test_the_source_bucket_is_unchanged_and_a_retry_writes_the_same_keys_and_bytes(s3) -> None:
    version = put(s3, TRAIN_KEY, jsonl([conversation(i) for i in range(3)]))
    cat = put(s3, CAT_KEY, png(64, 64))
    put(s3, "jobs/support/job.json", b"{}")
    before = versions(s3)

    first = take(s3, version, {CAT: cat})
    after_first = {key: read(s3, f"s3://{ARTIFACTS}/{key}") for key in keys(s3)}
    second = take(s3, version, {CAT: cat})

    assert versions(s3) == before
    assert second == first
    assert {key: read(s3, f"s3://{ARTIFACTS}/{key}") for key in keys(s3)} == after_first
    assert all(key.startswith(f"runs/{RUN_ID}/input/") for key in after_first)


# --- Faults ------------------------------------------------------------------------------------


class Faulty:
    """The moto client, except that ``method`` fails with ``error``."""

    def __init__(self, s3: Any, method: str, error: Exception) -> None:
        self._s3, self._method, self._error = s3, method, error
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        self.calls.append(name)
        if name == self._method:

            def fail(**_: Any) -> Any:
                raise self._error

            return fail
        return getattr(self._s3, name)


def _fault(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, operation)


@pytest.mark.parametrize("method", ["get_object", "put_object", "copy_object"])
@pytest.mark.parametrize("code", ["SlowDown", "503", "InternalError"])
def test_a_transient_s3_fault_raises_the_retryable_error(s3, method: str, code: str) -> None:
    version = put(s3, TRAIN_KEY, jsonl([conversation(1)]))
    put(s3, CAT_KEY, png(64, 64))
    with pytest.raises(SnapshotUnavailableError):
        take(Faulty(s3, method, _fault(code, method)), version, {})


def test_a_stream_cut_mid_file_is_retried_and_a_started_upload_is_aborted(s3) -> None:
    version = put(s3, TRAIN_KEY, b'{"prompt": "a", "completion": "b"}\n' * 400_000)  # ~14 MB

    class CutBody:
        def __init__(self, body: Any) -> None:
            self._body, self._read = body, 0

        def read(self, size: int = -1) -> bytes:
            self._read += 1
            if self._read > 8:  # past the first part
                raise ResponseStreamingError(error="connection reset")
            return bytes(self._body.read(size))

    class Cutting(Faulty):
        def get_object(self, **request: Any) -> dict[str, Any]:
            answer = self._s3.get_object(**request)
            return {**answer, "Body": CutBody(answer["Body"])}

    with pytest.raises(SnapshotUnavailableError):
        take(Cutting(s3, "none", Exception()), version, {}, part_bytes=MIN_PART_BYTES)
    assert s3.list_multipart_uploads(Bucket=ARTIFACTS).get("Uploads", []) == []


def test_an_access_error_is_not_retried(s3) -> None:
    version = put(s3, TRAIN_KEY, jsonl([conversation(1)]))
    with pytest.raises(ClientError, match="AccessDenied"):
        take(Faulty(s3, "copy_object", _fault("AccessDenied", "CopyObject")), version, {})


# --- Large files -------------------------------------------------------------------------------


def test_a_file_over_one_part_is_uploaded_in_parts_equal_to_the_source(s3) -> None:
    data = jsonl([conversation(i) for i in range(40_000)])  # ~13 MB: three parts of 5 MiB
    assert len(data) > 2 * MIN_PART_BYTES
    version = put(s3, TRAIN_KEY, data)
    put(s3, CAT_KEY, png(64, 64))
    taken = take(s3, version, {}, part_bytes=MIN_PART_BYTES)
    assert read(s3, taken.training_uri) == data.replace(CAT.encode(), COPIED.encode())
    assert s3.list_multipart_uploads(Bucket=ARTIFACTS).get("Uploads", []) == []


def long_record(i: int) -> bytes:
    """A line of about 5 KB naming the image (few lines: tracemalloc slows each one)."""
    record = conversation(i)
    record["messages"][1]["content"][0]["text"] = f"{i} " + "purr " * 1000
    return orjson.dumps(record) + b"\n"


class Lines:
    """A streaming body of whole records, at least ``total`` bytes, made as it is read."""

    def __init__(self, total: int) -> None:
        self.left = total
        self.records = 0
        self.largest_read = 0
        self._pending = b""

    def read(self, size: int = -1) -> bytes:
        assert size > 0, "the copy never asks for the whole body"
        self.largest_read = max(self.largest_read, size)
        while len(self._pending) < size and self.left > 0:
            self.records += 1
            line = long_record(self.records)
            self.left -= len(line)
            self._pending += line
        out, self._pending = self._pending[:size], self._pending[size:]
        return out


class CountingS3:
    """Keeps a digest and the sizes of what is uploaded, not the bytes."""

    def __init__(self, body: Lines) -> None:
        self.body = body
        self.parts: list[int] = []
        self.digest = hashlib.sha256()
        self.copies: list[dict[str, Any]] = []

    def get_object(self, **_: Any) -> dict[str, Any]:
        return {"Body": self.body}

    def create_multipart_upload(self, **_: Any) -> dict[str, str]:
        return {"UploadId": "u-1"}

    def upload_part(self, *, Body: bytes, PartNumber: int, **_: Any) -> dict[str, str]:  # noqa: N803
        self.parts.append(len(Body))
        self.digest.update(Body)
        return {"ETag": f"e{PartNumber}"}

    def complete_multipart_upload(self, **_: Any) -> dict[str, Any]:
        return {}

    def copy_object(self, **request: Any) -> dict[str, Any]:
        self.copies.append(request)
        return {}


def test_a_50_mb_file_is_copied_in_bounded_memory() -> None:
    # Given a 50 MB training file, streamed, when it is copied in 5 MiB parts,
    total = 50 * 1000 * 1000
    body = Lines(total)
    fake = CountingS3(body)
    tracemalloc.start()
    try:
        taken = take(fake, "v1", {CAT: "c1"}, part_bytes=MIN_PART_BYTES)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Then it is read in buffer-sized pieces and written in parts, never held whole
    assert body.largest_read <= READ_BUFFER_BYTES
    assert peak < 4 * MIN_PART_BYTES < total / 2, f"peak {peak:,} bytes"
    assert sum(fake.parts) == taken.bytes > total  # the rewritten URIs are longer
    assert all(MIN_PART_BYTES <= size < MIN_PART_BYTES + 8192 for size in fake.parts[:-1])
    expected = hashlib.sha256()
    for i in range(1, body.records + 1):
        expected.update(long_record(i).replace(CAT.encode(), COPIED.encode()))
    assert fake.digest.hexdigest() == expected.hexdigest()
    assert taken.rewritten_lines == body.records
    assert fake.copies == [
        {
            "Bucket": ARTIFACTS,
            "Key": f"runs/{RUN_ID}/input/media/{CAT_KEY}",
            "CopySource": {"Bucket": INBOX, "Key": CAT_KEY, "VersionId": "c1"},
            "TaggingDirective": "REPLACE",
        }
    ]


def test_a_part_smaller_than_s3_takes_is_refused() -> None:
    with pytest.raises(ValueError, match="at least"):
        take(CountingS3(Lines(10)), "v1", {}, part_bytes=1024)


# --- The resolver remembers what it judged -------------------------------------------------------


def test_the_resolver_records_the_version_it_read(s3) -> None:
    first = put(s3, CAT_KEY, png(64, 64))
    resolver = S3MediaResolver(s3)
    found = resolver.resolve(CAT)
    assert found is not None
    assert resolver.versions == {CAT: first}
    assert resolver.resolve(f"s3://{INBOX}/jobs/support/images/none.png") is None
    assert resolver.versions == {CAT: first}  # a missing object has no version


def test_the_resolver_reads_the_bytes_of_the_version_its_head_saw() -> None:
    # Given a key overwritten between HeadObject and GetObject
    class Racing:
        def __init__(self) -> None:
            self.gets: list[dict[str, Any]] = []

        def head_object(self, **_: Any) -> dict[str, Any]:
            return {"ContentLength": 40, "VersionId": "v1"}

        def get_object(self, **request: Any) -> dict[str, Any]:
            self.gets.append(request)
            return {"Body": io.BytesIO(png(64, 64) if request.get("VersionId") == "v1" else b"new")}

    s3 = Racing()
    resolver = S3MediaResolver(s3)
    found = resolver.resolve(CAT)
    # Then the ranged read names the version, and that version is what is judged and recorded
    assert s3.gets[0]["VersionId"] == "v1"
    assert found is not None
    assert found[1].startswith(b"\x89PNG")
    assert resolver.versions == {CAT: "v1"}


def test_an_unversioned_object_is_recorded_as_the_null_version() -> None:
    class Plain:
        def head_object(self, **_: Any) -> dict[str, Any]:
            return {"ContentLength": 3}

        def get_object(self, **request: Any) -> dict[str, Any]:
            assert "VersionId" not in request
            return {"Body": io.BytesIO(b"abc")}

    resolver = S3MediaResolver(Plain())
    assert resolver.resolve(CAT) == (3, b"abc")
    assert resolver.versions == {CAT: "null"}


@pytest.mark.parametrize(
    ("code", "outcome"), [("NoSuchVersion", None), ("SlowDown", MediaUnavailableError)]
)
def test_a_version_gone_between_head_and_get_is_missing_a_throttled_get_retried(
    code: str, outcome: type[Exception] | None
) -> None:
    class Gone:
        def head_object(self, **_: Any) -> dict[str, Any]:
            return {"ContentLength": 3, "VersionId": "v1"}

        def get_object(self, **_: Any) -> dict[str, Any]:
            raise _fault(code, "GetObject")

    resolver = S3MediaResolver(Gone())
    if outcome is None:
        assert resolver.resolve(CAT) is None
    else:
        with pytest.raises(outcome):
            resolver.resolve(CAT)
    assert resolver.versions == {}


def test_the_walker_reads_the_media_blocks_the_validator_reads() -> None:
    assert list(media_locations({"prompt": "p", "completion": "c"})) == []
    assert list(media_locations([conversation(1)])) == []


# --- Lineage ----------------------------------------------------------------------------------


def test_lineage_tags_carry_the_data_versions_copied() -> None:
    source = ObjectVersion(INBOX, "jobs/support/job.json", "m1")
    base = {"run_id": RUN_ID, "execution_arn": "arn:x", "manifest_sha256": "ab" * 32}
    tags = lineage_tags(source, **base, training_version="t+1/x", validation_version="v.2")
    assert tags["bedrock-customization:training-version"] == "t+1/x"
    assert tags["bedrock-customization:validation-version"] == "v.2"
    assert lineage_tags(source, **base).keys() == tags.keys() - {
        "bedrock-customization:training-version",
        "bedrock-customization:validation-version",
    }
