"""``make demo``: seven runs of the synthesized app on the local emulator, as a person would watch them.

1. examples/dialogue-summaries: fine-tuning Nova Micro (dialogue summarization), deployed
   on demand, evaluated and ended on time -> SUCCEEDED
2. examples/image-captions: fine-tuning Nova Lite on images with captions -> SUCCEEDED
3. examples/product-knowledge: continued pre-training Titan Text Express (AWS's current
   tables no longer list it; the emulated account still has it) -> SUCCEEDED
4. examples/broken-dataset: a dataset with mistakes -> REJECTED with its line-numbered report
5. examples/llama-wrong-region: a Llama model sent to the us-east-1 stack -> REJECTED by
   Bedrock's live answer, with the Region that can run it
6. examples/distill-support: distillation from Nova Pro (teacher) into Nova Micro, support
   prompts mostly without answers: the teacher answers them through the emulated runtime,
   and the demo shows its answers -> SUCCEEDED
7. examples/rft-arithmetic: reinforcement fine-tuning of Nova 2 Lite with the built-in
   "numeric" grader, which the emulated job really invokes (by its alias) for every
   sample; the demo shows the grader's reward mean per step -> SUCCEEDED

A run held for approval (no price, so a total that cannot be shown to be under the
stage's threshold) is approved by someone other than its submitter, as the stage requires.

``python -m emulator.demo [--assembly cdk.out] [JOB_FOLDER ...]`` runs your own
job folders instead (train.jsonl, optional validation.jsonl, job.json); that is
``make local JOB=path/to/folder``. Exits 0 when every run ends as expected.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bedrock_customize import cli
from customization_core.estimate import Estimate
from customization_core.layout import (
    MANIFEST_NAME,
    job_prefix,
    manifest_key,
    output_prefix,
    report_page_key,
    validation_report_key,
)
from emulator import clock, distillation_jobs, people, rft_jobs
from emulator.cloud import LocalCloud
from emulator.state import BEDROCK, S3_SCHEME, Scenario

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = (
    ("dialogue-summaries", "SUCCEEDED"),
    ("image-captions", "SUCCEEDED"),
    ("product-knowledge", "SUCCEEDED"),
    ("broken-dataset", "REJECTED"),
    ("llama-wrong-region", "REJECTED"),
    ("distill-support", "SUCCEEDED"),
    ("rft-arithmetic", "SUCCEEDED"),
)
SHOWN_ANSWERS = 2  # teacher answers the demo prints
REPORTS = ROOT / "build" / "reports"  # each run's report page, copied from the artifacts bucket
DATA_FILES = ("train.jsonl", "validation.jsonl")
# Media a job folder may hold next to its data (uploaded under the same folder).
MEDIA_SUFFIXES = (".png", ".jpeg", ".jpg", ".gif", ".webp", ".mov", ".mkv", ".mp4", ".webm")
# A folder whose records must name their media by S3 URI holds the source table and the
# `bedrock-customize prepare` arguments instead of train.jsonl ({media_uri_prefix} is filled in).
PREPARE_FILE = "prepare.json"
DEMO_TIME_SCALE = 0.0002  # local seconds per workflow second


def _say(text: str = "") -> None:
    print(text, flush=True)


def follow(cloud: LocalCloud, execution: str, timeout: float = 60) -> dict[str, Any]:
    """Print each state as the execution enters it; the ended execution."""
    sfn = cloud.client("stepfunctions")
    shown = 0
    answered = False
    deadline = time.monotonic() + timeout
    while True:
        described: dict[str, Any] = sfn.describe_execution(executionArn=execution)
        entered = cloud.states_entered(execution)
        for name in entered[shown:]:
            _say(f"    -> {name}")
        shown = len(entered)
        if not answered:
            answered = _approve_if_held(cloud, execution)
        if described["status"] != "RUNNING":
            return described
        if time.monotonic() > deadline:
            raise TimeoutError(f"{execution} is still running after {timeout} s")
        time.sleep(0.05)


def _approve_if_held(cloud: LocalCloud, execution: str) -> bool:
    """Approve the run as someone other than its submitter once it waits for a person."""
    run_id = cloud.run_id_of(execution)
    item = cloud.registry_item(run_id) if run_id else None
    if run_id is None or item is None or item["status"] != "AWAITING_APPROVAL":
        return False
    reasons = "; ".join(item.get("approval_reasons") or ()) or "the stage asks for it"
    _say(f"    held for approval ({reasons})")
    approver = people.person(cloud, people.APPROVER)
    people.answer(cloud, run_id, "approve", by=approver)
    _say(f"    approved by {approver.name}, not its submitter {people.SUBMITTER}")
    return True


SCENARIO_FILE = "emulator-scenario.json"  # optional, in a job folder: how simulated Bedrock behaves
SOURCES = ("app.py", "cdk.json", "stacks", "lambdas", "customization_core")


def run_folder(cloud: LocalCloud, folder: Path) -> str | None:
    """Upload a job folder as a user would (data first, job.json last); its final status."""
    prefix, manifest = job_prefix(folder.name), manifest_key(folder.name)
    if (folder / SCENARIO_FILE).exists():
        settings = json.loads((folder / SCENARIO_FILE).read_text())
        BEDROCK.scenarios[prefix] = Scenario(**settings)
        _say(f"  simulated Bedrock scenario from {SCENARIO_FILE}: {settings}")
    for media in sorted(p for p in folder.rglob("*") if p.suffix.lower() in MEDIA_SUFFIXES):
        key = f"{prefix}{media.relative_to(folder).as_posix()}"
        cloud.upload(key, media.read_bytes())
        _say(f"  uploaded {key}")
    with tempfile.TemporaryDirectory() as scratch:
        data = (
            _prepared(cloud, folder, Path(scratch)) if (folder / PREPARE_FILE).exists() else folder
        )
        for file_name in DATA_FILES:
            if (data / file_name).exists():
                cloud.upload(f"{prefix}{file_name}", (data / file_name).read_bytes())
                _say(f"  uploaded {prefix}{file_name}")
    # As its submitter, tagged with their id, as `bedrock-customize submit` uploads it.
    uploaded = people.submit_manifest(cloud, manifest, (folder / MANIFEST_NAME).read_bytes())
    (execution,) = uploaded["executions"]
    _say(f"  uploaded {manifest} -> started execution {execution.rsplit(':', 1)[1]}")
    described = follow(cloud, execution)
    run_id = cloud.run_id_of(execution)
    item = cloud.registry_item(run_id) if run_id else None
    if item is None:
        _say(f"  the execution ended {described['status']} without a run in the registry")
        return None
    check = item.get("model_check") or {}
    if check.get("offered"):
        _say(
            f"  Bedrock in {check['region']} offers it for: "
            + ", ".join(check.get("customizations_supported") or ["no customization"])
        )
    for warning in item.get("warnings") or []:
        _say(f"  warning: {warning}")
    _report(cloud, item)
    _outputs(cloud, item)
    if item.get("job_arn"):
        _say(f"  Bedrock job: {item.get('job_name')} ({item['job_arn']})")
    if item.get("model_arn"):
        _say(f"  custom model: {item['model_arn']}")
    evaluation = item.get("evaluation") or {}
    if evaluation.get("summary"):
        _say(f"  evaluation: {evaluation['summary']}")
        _say(f"    report: {evaluation['report']}")
    deployment = item.get("deployment") or {}
    if deployment.get("arn"):
        _say(
            f"  deployment: {deployment['mode']}"
            + (
                f", {deployment.get('model_units', 1)} model unit(s)"
                if deployment["mode"] == "provisioned"
                else ""
            )
            + f", {deployment['arn']} -> {deployment['status']}"
        )
        if deployment.get("expires_at"):
            _say(
                f"    end time {deployment['expires_at']} (ttlHours {deployment['ttl_hours']:g}): "
                + (
                    "deleted by the workflow at its end time (the emulator shortens the wait)"
                    if deployment.get("deleted_at")
                    else "still serving"
                )
            )
    history = " > ".join(entry["status"] for entry in item["history"])
    _say(f"  registry: {item['status']} (history: {history})")
    _page(cloud, item)
    for note in cloud.notifications():
        _say("  notification:")
        _say(f"    | {note['subject']}")
        for line in note["message"].splitlines():
            _say(f"    | {line}")
    return str(item["status"])


def _outputs(cloud: LocalCloud, item: dict[str, Any]) -> None:
    """What a distillation or RFT job made: the teacher's answers, the grader's rewards."""
    kind = item.get("customization_type")
    if kind not in ("DISTILLATION", "REINFORCEMENT_FINE_TUNING") or not item.get("job_name"):
        return
    s3, bucket = cloud.client("s3"), cloud.output("ArtifactsBucketName")
    prefix = output_prefix(item["run_id"])

    def read(name: str) -> str | None:
        try:
            body = s3.get_object(Bucket=bucket, Key=f"{prefix}{name}")["Body"]
        except s3.exceptions.NoSuchKey:
            return None
        return str(body.read().decode("utf-8"))

    job = item["job_name"]
    if kind == "DISTILLATION":
        asked = sum(1 for name, _ in BEDROCK.teacher_calls if name == job)
        made = read(distillation_jobs.SYNTHETIC_DATA) or ""
        _say(
            f"  teacher: {asked} prompts answered by the teacher through the emulated runtime "
            f"(a stand-in model: it answers with the prompt's first line after the instruction); "
            f"synthetic data at s3://{bucket}/{prefix}{distillation_jobs.SYNTHETIC_DATA}"
        )
        lines = made.splitlines()
        # Spread over the file: the prompts of one topic come together.
        for line in lines[:: max(1, len(lines) // SHOWN_ANSWERS)][:SHOWN_ANSWERS]:
            messages = json.loads(line)["messages"]
            question = messages[-2]["content"][0]["text"].splitlines()[-1]
            _say(f"    {question}")
            _say(f"      teacher: {messages[-1]['content'][0]['text']}")
        return
    batches = sum(1 for name, _ in BEDROCK.grader_calls if name == job)
    rows = csv.DictReader(io.StringIO(read(rft_jobs.METRICS_FILE) or ""))
    means = [row["critic/rewards/mean"] for row in rows]
    _say(
        f"  grader: the job's grader function answered {batches} batches of samples; reward "
        f"mean per step {' > '.join(means) or 'not written'} "
        f"(s3://{bucket}/{prefix}{rft_jobs.METRICS_FILE})"
    )
    final = (item.get("metrics") or {}).get("final_reward_mean")
    if final is not None:
        _say(f"    the run records the last step's reward mean: {float(final):.4f}")


def _page(cloud: LocalCloud, item: dict[str, Any]) -> None:
    """The run's report page, as the pipeline wrote it, copied to build/reports/ to open."""
    key = report_page_key(item["run_id"])
    s3 = cloud.client("s3")
    try:
        body = s3.get_object(Bucket=cloud.output("ArtifactsBucketName"), Key=key)["Body"]
    except s3.exceptions.NoSuchKey:
        _say(f"  report page: none was written at {key}")
        return
    REPORTS.mkdir(parents=True, exist_ok=True)
    copy = REPORTS / f"{item['run_id']}.html"
    copy.write_bytes(body.read())
    _say(f"  report page: {copy.relative_to(ROOT)} ({copy.stat().st_size:,} bytes; s3 key {key})")


def _prepared(cloud: LocalCloud, folder: Path, scratch: Path) -> Path:
    """train.jsonl written by `bedrock-customize prepare`, its media named in the datasets bucket."""
    spec = json.loads((folder / PREPARE_FILE).read_text())
    prefix = f"{S3_SCHEME}{cloud.output('DatasetsBucketName')}/{job_prefix(folder.name)}"
    args = [a.replace("{media_uri_prefix}", prefix) for a in spec["args"]]
    command = ["prepare", str(folder / spec["source"]), *args, "-o", str(scratch / "train.jsonl")]
    _say(f"  bedrock-customize {' '.join(command[:2])} ... --media-uri-prefix {prefix}")
    cli.main(command, standalone_mode=False)
    return scratch


def _report(cloud: LocalCloud, item: dict[str, Any]) -> None:
    key = validation_report_key(item["run_id"])
    try:
        body = cloud.client("s3").get_object(Bucket=cloud.output("ArtifactsBucketName"), Key=key)[
            "Body"
        ]
    except cloud.client("s3").exceptions.NoSuchKey:
        _say(f"  rejected before the data was read: {item.get('reason')}")
        return
    report = json.loads(body.read())
    tokens = report["tokens"]
    _say(
        f"  validation: {report['records']} training and {report['validation_records'] or 0} validation records, "
        f"{report['error_count']} errors, {report['warning_count']} warnings; "
        f"tokens (estimated, high) total {tokens['total']:,}, max {tokens['max']:,}, p95 {tokens['p95']:,}"
    )
    media = report.get("media")
    if media:
        _say(
            f"  media: {media['images']} images, {media['videos']} videos, {media['bytes']:,} bytes; "
            f"{media['checked']} objects read from the datasets bucket and checked by their bytes"
        )
    for finding in report["errors"][:10]:
        where = f"{finding['file']}:{finding['line']}" if finding["line"] else finding["file"]
        _say(f"    {where} {finding['code']}: {finding['message']}")
    # The run's whole estimate as EstimateCost recorded it; the report's (training and
    # storage) for a run rejected before it was priced.
    estimate = item.get("estimate") or report.get("estimate")
    if estimate:
        _say("  cost estimate:")
        for line in Estimate.from_dict(estimate).lines():
            _say(f"    {line}")


def _stale_sources(assembly: Path) -> str | None:
    """A source file newer than the cloud assembly, if any."""
    built = (assembly / "manifest.json").stat().st_mtime
    for source in SOURCES:
        path = ROOT / source
        files = [path] if path.is_file() else list(path.rglob("*.py")) + list(path.rglob("*.json"))
        for file in files:
            if file.stat().st_mtime > built:
                return str(file.relative_to(ROOT))
    return None


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--assembly", type=Path, default=ROOT / "cdk.out", help="the cloud assembly (cdk.out)"
    )
    parser.add_argument(
        "jobs", nargs="*", type=Path, help="job folders to run instead of the examples"
    )
    args = parser.parse_args(argv)
    if not (args.assembly / "manifest.json").exists():
        _say(f"No cloud assembly at {args.assembly}: run `make synth` first.")
        return 2
    stale = _stale_sources(args.assembly)
    if stale:
        _say(f"{args.assembly} is older than {stale}: synthesizing again.")
        cdk = ROOT / "node_modules" / ".bin" / "cdk"
        subprocess.run(  # noqa: S603 - the pinned CDK CLI of this checkout
            [str(cdk), "synth", "-c", "stage=dev", "--quiet", "-o", str(args.assembly)],
            cwd=ROOT,
            check=True,
        )
    plan: list[tuple[Path, str | None]] = [(folder, None) for folder in args.jobs] or [
        (ROOT / "examples" / name, status) for name, status in EXAMPLES
    ]
    for folder, _ in plan:
        if not (folder / MANIFEST_NAME).exists():
            _say(
                f"{folder} has no job.json: a job folder holds train.jsonl, optional validation.jsonl, media and job.json."
            )
            return 2
    # One emulated hour in 0.72 s: the example's two-hour deployment ends within the demo.
    clock.TIME_SCALE = DEMO_TIME_SCALE
    started = time.monotonic()
    _say(f"Local emulator: the app synthesized in {args.assembly}, on an in-process AWS (moto),")
    _say("with the real handlers from lambdas/ and simulated Bedrock jobs. No AWS account is used.")
    outcomes = []
    with LocalCloud.start(args.assembly, quiet=True) as cloud:
        for number, (folder, expected) in enumerate(plan, 1):
            label = f", expected {expected}" if expected else ""
            _say()
            _say(
                f"== Run {number}: {folder.relative_to(ROOT) if folder.is_relative_to(ROOT) else folder}{label}"
            )
            outcomes.append((folder.name, expected, run_folder(cloud, folder)))
    _say()
    matched = all(expected in (None, status) for _, expected, status in outcomes)
    results = ", ".join(f"{name}: {status}" for name, _, status in outcomes)
    _say(
        f"{'As expected' if matched else 'NOT as expected'}: {results} ({time.monotonic() - started:.1f} s)"
    )
    return 0 if matched else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
