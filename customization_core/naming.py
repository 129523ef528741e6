"""Deterministic names for a run, derived from the object version that started it.

The same ``job.json`` object version always gives the same run id, job name,
client request token and custom model name, so an S3 event delivered twice
cannot start a second Bedrock job; a new version of the file is a new run.
Patterns and lengths are those of CreateModelCustomizationJob (botocore model):
https://docs.aws.amazon.com/bedrock/latest/APIReference/API_CreateModelCustomizationJob.html
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Final

from customization_core import layout

JOB_NAME_PATTERN: Final = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9\+\-\.])*$")
JOB_NAME_MAX: Final = 63
MODEL_NAME_PATTERN: Final = re.compile(r"^([0-9a-zA-Z][_-]?){1,63}$")
TOKEN_PATTERN: Final = re.compile(r"^[a-zA-Z0-9]([-a-zA-Z0-9]{0,254}[a-zA-Z0-9])?$")
TAG_KEY_MAX: Final = 128
TAG_VALUE_MAX: Final = 256
# The API's TagKey/TagValue pattern is [a-zA-Z0-9\s._:/=+@-]*; its \s also admits tabs and
# newlines, which AWS's tagging rules do not, so only the plain space is taken here.
TAG_PATTERN: Final = re.compile(r"^[a-zA-Z0-9 ._:/=+@-]*$")
MAX_TAGS: Final = 200
# One key segment of the API's S3Uri pattern (trainingDataConfig, validators, outputDataConfig):
# s3://[a-z0-9][-.a-z0-9]{1,61}[a-z0-9](?:/[-!_*'().a-z0-9A-Z]+(?:/[-!_*'().a-z0-9A-Z]+)*)?/?
# with at most 1,024 characters in all (botocore bedrock 2023-04-20 service model, 1.44.8).
S3_KEY_SEGMENT: Final = re.compile(r"^[-!_*'().a-zA-Z0-9]+$")
S3_URI_MAX: Final = 1024
S3_KEY_RULE: Final = (
    "Bedrock's S3 URI rule allows only letters, digits and - ! _ * ' ( ) . in each "
    "folder or file name (no spaces, + = @ :, non-ASCII or '..')"
)

TAG_PREFIX: Final = "bedrock-customization:"
RUN_ID_TAG: Final = f"{TAG_PREFIX}run-id"
# The owner tag: which stack's pipeline made a Bedrock job, custom model, Provisioned
# Throughput or custom model deployment. Its value is the stack name (PipelineConfig's
# stack_name). The handlers' IAM policies require it: aws:RequestTag/<OWNER_TAG> on every
# create and tag, aws:ResourceTag/<OWNER_TAG> on every stop, delete and read
# (stacks/bedrock_arns.py).
OWNER_TAG: Final = f"{TAG_PREFIX}stack"
HASH_CHARS: Final = 12  # 48 bits of SHA-256: collisions need ~16 million runs of one job folder
PRODUCT: Final = "bc"


@dataclass(frozen=True)
class ObjectVersion:
    """The S3 object version a run comes from (EventBridge's Object Created detail)."""

    bucket: str
    key: str
    version_id: str

    @property
    def identity(self) -> str:
        return f"s3://{self.bucket}/{self.key}?versionId={self.version_id}"

    def digest(self) -> str:
        return hashlib.sha256(self.identity.encode()).hexdigest()


def s3_key_problem(key: str, *, bucket: str = "b" * 63) -> str | None:
    """Why Bedrock's S3 URI pattern refuses ``key`` (a data key or a folder), or None."""
    # A folder ends with "/"; any other empty segment ("a//b") the pattern refuses.
    segments = key.removesuffix("/").split("/")
    for segment in segments:
        if not S3_KEY_SEGMENT.fullmatch(segment) or ".." in segment:
            return f"{segment!r} in {key!r}: {S3_KEY_RULE}; rename it"
    if len(f"s3://{bucket}/{key}") > S3_URI_MAX:
        return (
            f"{key!r} makes an S3 URI longer than Bedrock's {S3_URI_MAX:,} characters; shorten it"
        )
    return None


def _slug(text: str, allowed: str, limit: int) -> str:
    """``text`` with runs of characters outside ``allowed`` turned into one '-', trimmed to ``limit``."""
    slug = re.sub(f"[^{allowed}]+", "-", text).strip("-")[:limit].strip("-")
    return slug or "run"


@dataclass(frozen=True)
class RunNames:
    run_id: str
    job_name: str
    client_request_token: str
    custom_model_name: str
    output_prefix: str
    report_key: str


def run_names(source: ObjectVersion, *, custom_model_name: str | None = None) -> RunNames:
    """Every generated name of the run started by ``source``."""
    digest = source.digest()[:HASH_CHARS]
    label = layout.job_label(source.key)
    # Run ids name S3 prefixes and registry keys: lower case, digits and '-'.
    run_id = f"{_slug(label.lower(), 'a-z0-9', 40)}-{digest}"
    job_name = f"{PRODUCT}-{_slug(label, 'a-zA-Z0-9', JOB_NAME_MAX - HASH_CHARS - 4)}-{digest}"
    model_name = custom_model_name or f"{_slug(label, 'a-zA-Z0-9', 63 - HASH_CHARS - 1)}-{digest}"
    return RunNames(
        run_id=run_id,
        job_name=job_name,
        # The idempotency token: the same object version, the same token.
        client_request_token=source.digest()[:64],
        custom_model_name=model_name,
        output_prefix=layout.output_prefix(run_id),
        report_key=layout.validation_report_key(run_id),
    )


def tag_value(text: str) -> str:
    """``text`` as a Bedrock tag value: other characters become '_', long values keep a hash."""
    value = re.sub(r"[^a-zA-Z0-9 ._:/=+@-]", "_", text)
    if len(value) <= TAG_VALUE_MAX:
        return value
    digest = hashlib.sha256(text.encode()).hexdigest()[:HASH_CHARS]
    return f"{value[: TAG_VALUE_MAX - HASH_CHARS - 3]}...{digest}"


def lineage_tags(
    source: ObjectVersion,
    *,
    run_id: str,
    execution_arn: str,
    manifest_sha256: str,
    training_version: str | None = None,
    validation_version: str | None = None,
) -> dict[str, str]:
    """The tags that trace a job and its custom model back to their data and run.

    ``training_version`` and ``validation_version``: the versions of the data files
    that were validated and copied for the job (customization_core/snapshot.py).
    """
    tags = {
        RUN_ID_TAG: run_id,
        f"{TAG_PREFIX}dataset-bucket": tag_value(source.bucket),
        f"{TAG_PREFIX}dataset-key": tag_value(source.key),
        f"{TAG_PREFIX}dataset-version": tag_value(source.version_id),
        f"{TAG_PREFIX}execution-arn": tag_value(execution_arn),
        f"{TAG_PREFIX}manifest-sha256": manifest_sha256,
    }
    if training_version is not None:
        tags[f"{TAG_PREFIX}training-version"] = tag_value(training_version)
    if validation_version is not None:
        tags[f"{TAG_PREFIX}validation-version"] = tag_value(validation_version)
    return tags


def notice_subject(text: str) -> str:
    """An SNS subject: ASCII, at most 100 characters.

    Source: https://docs.aws.amazon.com/sns/latest/api/API_Publish.html
    """
    return ("Bedrock customization " + text).encode("ascii", "replace").decode()[:100]
