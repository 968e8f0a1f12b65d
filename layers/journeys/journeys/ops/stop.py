"""`journeys stop --hard`: stop every running execution of a journey (or of one version).

Paced under the Step Functions API quotas (a steady rate, plus botocore's adaptive retries on
throttling), and safe to run again: each run lists what is still RUNNING. A contact's membership
is marked ended before its execution is stopped, so an interrupted run never leaves a stopped
execution unmarked (the next run stops and marks it again, both idempotent).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config

from journeys import clock
from journeys.ops.stack import Stack
from journeys.ops.versions import running_by_version

STOP_ERROR = "Journeys.HardStop"
# StopExecution and DescribeExecution share the account's API token buckets (refills of a few
# dozen per second, see DEPLOY.md); a steady 20/s leaves room for the stack's own calls.
DEFAULT_RATE = 20.0
RETRIES = Config(retries={"mode": "adaptive", "max_attempts": 10})


class Pace:
    """At most `rate` calls per second (a simple spacing; the retries absorb any throttling left)."""

    def __init__(self, rate: float, sleep: Callable[[float], None] = time.sleep):
        self.interval, self.sleep, self.next_at, self.lock = 1.0 / rate, sleep, 0.0, threading.Lock()

    def __call__(self) -> None:
        with self.lock:
            now = time.monotonic()
            if self.next_at > now:
                self.sleep(self.next_at - now)
            self.next_at = max(now, self.next_at) + self.interval


def _contact_of(sfn, execution: str, positions: dict[str, dict], pace: Pace) -> str | None:
    """The contact of an execution: its position record, else its input (one DescribeExecution)."""
    if execution in positions:
        return positions[execution]["contact"]
    pace()
    try:
        return json.loads(sfn.describe_execution(executionArn=execution).get("input") or "{}").get("contact", {}).get("id")
    except sfn.exceptions.ExecutionDoesNotExist:
        return None


def hard_stop(stack: Stack, journey_id: str, *, by: str, why: str, version: int | None = None,
              rate: float = DEFAULT_RATE, on_listed: Callable[[int], None] | None = None,
              on_stopped: Callable[[], None] | None = None) -> dict[str, Any]:
    sfn = boto3.client("stepfunctions", config=RETRIES)
    machine = stack.state_machine(journey_id)
    store = stack.journeys()
    targets = [arn for arns in running_by_version(sfn, machine, only=version).values() for arn in arns]
    if on_listed:
        on_listed(len(targets))
    positions = {p["execution"]: p for p in store.positions(journey_id)}
    cause = f"journeys stop --hard by {by}: {why}"
    pace, stopped, gone = Pace(rate), 0, 0
    for execution in targets:
        contact = _contact_of(sfn, execution, positions, pace)
        if contact:
            store.end_membership(contact, journey_id, execution, clock.iso(clock.now()), cause)
        pace()
        try:
            sfn.stop_execution(executionArn=execution, error=STOP_ERROR, cause=cause)
            stopped += 1
        except sfn.exceptions.ExecutionDoesNotExist:
            gone += 1
        if on_stopped:
            on_stopped()
    return {"journey": journey_id, "version": version, "stopped": stopped, "already_gone": gone, "cause": cause}
