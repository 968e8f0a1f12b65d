"""Segment entry, one batch: the child of the segment-entry state machine's Distributed Map.

Each line goes through the one entry path (enter_contact: entry criteria, re-entry rules, the
pause switch); its entry event keys the execution by the segment's content, so a re-run of the
same file names the same executions and enters nobody twice. The batch's counts are written to
JourneyTable (one item per batch: a retried batch overwrites its own), where the CLI sums them.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from typing import Any

from journeys.edges import entry
from journeys.language.segments import BadLine, parse_line

START_RATE_ENV = "JOURNEYS_SEGMENT_START_RATE"  # StartExecution per second per batch; 0: no pacing
DEFAULT_START_RATE = 12.0  # x MaxConcurrency 10 = 120/s, under the lowest StartExecution refill (150/s)


def segment_event(segment: str) -> dict[str, str]:
    """The entry event of every contact of a segment (its key names the executions)."""
    return {"idempotency_key": f"segment-{segment}", "segment": segment}


def enter_batch(event: dict[str, Any], *, catalog, sfn, contacts, journeys, sleep=time.sleep) -> dict[str, Any]:
    batch = event["BatchInput"]
    journey_id, fmt, header = batch["journey"], batch["format"], batch.get("header") or None
    rules, arn = catalog.entry(journey_id), catalog.state_machine_arn(journey_id)
    rate = float(os.environ.get(START_RATE_ENV, DEFAULT_START_RATE))
    entered, not_entered, bad, next_at = 0, Counter(), [], 0.0
    for item in event["Items"]:
        line = int(item["line"])
        try:
            contact = parse_line(fmt, header, item["text"])
        except BadLine as error:
            bad.append({"line": line, "error": str(error)})
            continue
        if rate > 0:  # the batch's share of the account's StartExecution quota
            now = time.monotonic()
            if next_at > now:
                sleep(next_at - now)
            next_at = max(now, next_at) + 1.0 / rate
        result = entry.enter_contact(journey_id, rules, contact, segment_event(batch["segment"]), state_machine_arn=arn,
                                     sfn=sfn, contacts=contacts, journeys=journeys)
        if result.status == "STARTED":
            entered += 1
        else:
            not_entered[result.reason or result.status.lower()] += 1
    first = int(event["Items"][0]["line"]) if event["Items"] else 0
    journeys.record_segment_batch(batch["run"], first, entered, dict(not_entered), bad)
    return {"entered": entered, "not_entered": sum(not_entered.values()), "bad": len(bad)}
