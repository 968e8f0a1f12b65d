"""`journeys enter JOURNEY --segment FILE`: a segment through the stack's segment-entry machine.

The CLI reads the file once (a bad file is refused before anything is uploaded), uploads it to the
stack's segment bucket as a CSV of `line,text` (the line number travels with each line, so bad
lines are reported by number; the one line parser, language/segments.py, runs in the batch child),
and starts the segment-entry state machine (statemachines/segment-entry.asl.json: a Distributed
Map over that object). Progress comes from the Map Run's item counts (DescribeMapRun); the summary
from the batches' records in JourneyTable.
"""

from __future__ import annotations

import csv
import io
import json
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from journeys import aws, clock
from journeys.language.segments import carries_arrival, digest, read_lines
from journeys.ops.stack import Stack

POLL_SECONDS = 1.0


@dataclass
class SegmentRun:
    journey: str
    run: str  # the segment-entry execution's name, also the key of its batch records
    segment: str  # content digest: names the contacts' executions (a re-run enters nobody twice)
    lines: int
    execution_arn: str | None = None
    with_arrivals: int = 0  # lines with an `at` or an `event`: rehearsal arrivals, entered now here


def line_file(path: str | Path) -> tuple[bytes, dict[str, Any], int]:
    """(the CSV to upload, the segment's format/header/digest/lines with arrivals, number of lines)."""
    fmt, header, numbered = read_lines(path)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["line", "text"])
    writer.writerows(numbered)
    meta = {"format": fmt, "header": header or [], "segment": digest(Path(path).read_bytes())}
    with_arrivals = sum(1 for _, text in numbered if carries_arrival(fmt, header, text))
    return out.getvalue().encode(), {**meta, "with_arrivals": with_arrivals}, len(numbered)


def upload(stack: Stack, journey_id: str, path: str | Path) -> tuple[SegmentRun, dict[str, Any]]:
    """Put the segment's line file in the stack's bucket; (the run, the segment-entry machine's input)."""
    stack.state_machine(journey_id)  # a journey the stack does not have: refused before any upload
    body, meta, lines = line_file(path)
    stamp = clock.now().strftime("%Y%m%dT%H%M%S")
    run = f"{journey_id[:36]}-{meta['segment']}-{stamp}-{uuid.uuid4().hex[:4]}"  # <= 80 characters, an execution name
    key = f"segments/{journey_id}/{meta['segment']}.csv"
    aws.client("s3").put_object(Bucket=stack.segment_bucket, Key=key, Body=body, ServerSideEncryption="AES256")
    with_arrivals = meta.pop("with_arrivals")
    given = {"bucket": stack.segment_bucket, "key": key, "journey": journey_id, "run": run, **meta}
    return SegmentRun(journey_id, run, meta["segment"], lines, with_arrivals=with_arrivals), given


def start(stack: Stack, journey_id: str, path: str | Path) -> SegmentRun:
    run, given = upload(stack, journey_id, path)
    run.execution_arn = aws.client("stepfunctions").start_execution(
        stateMachineArn=stack.segment_machine, name=run.run, input=json.dumps(given))["executionArn"]
    return run


def map_run_counts(sfn, execution_arn: str) -> dict[str, int] | None:
    """The Map Run's item counts (total, succeeded, failed, running, ...), once it exists."""
    runs = sfn.list_map_runs(executionArn=execution_arn).get("mapRuns", [])
    if not runs:
        return None
    return sfn.describe_map_run(mapRunArn=runs[0]["mapRunArn"])["itemCounts"]


def wait(run: SegmentRun, on_counts: Callable[[dict[str, int]], None] | None = None, poll: float = POLL_SECONDS,
         sleep: Callable[[float], None] = time.sleep) -> str:
    """Until the segment-entry execution ends; returns its status."""
    sfn = aws.client("stepfunctions")
    while True:
        status = sfn.describe_execution(executionArn=run.execution_arn)["status"]
        counts = map_run_counts(sfn, run.execution_arn)
        if counts and on_counts:
            on_counts(counts)
        if status != "RUNNING":
            return status
        sleep(poll)


def summary(stack: Stack, run: SegmentRun, status: str | None = None) -> dict[str, Any]:
    """entered, not entered by reason, bad lines with their numbers (from the batches' records)."""
    batches = stack.journeys().segment_batches(run.run)
    reasons: Counter = Counter()
    for batch in batches:
        reasons.update(batch.get("not_entered") or {})
    bad = sorted((line for batch in batches for line in batch.get("bad") or []), key=lambda b: b["line"])
    return {"journey": run.journey, "run": run.run, "status": status, "lines": run.lines,
            "entered": sum(b.get("entered", 0) for b in batches), "not_entered": dict(sorted(reasons.items())),
            "bad_lines": bad, "execution": run.execution_arn}
