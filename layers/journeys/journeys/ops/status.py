"""`journeys status`: entries open or paused, the live version, and per version how many contacts
are at each place now, from the position records the Tasks keep (runtime/task.py), never from
execution histories."""

from __future__ import annotations

from collections import Counter
from typing import Any

from journeys import aws
from journeys.ops.stack import Stack
from journeys.ops.versions import live_version, running_by_version

NOT_YET = "working (no wait passed yet)"


def place(position: dict[str, Any] | None) -> str:
    """A position record as `journeys status` shows it."""
    if not position:
        return NOT_YET
    if position.get("waiting"):
        return f"waiting at {position['waiting']}"
    return f"working after {position['after']}"


def journey_status(stack: Stack, journey_id: str) -> dict[str, Any]:
    sfn = aws.client("stepfunctions")
    machine = stack.state_machine(journey_id)
    store = stack.journeys()
    switch = store.entry_switch(journey_id)
    positions = {p["execution"]: p for p in store.positions(journey_id)}
    by_version = running_by_version(sfn, machine)
    live = live_version(sfn, machine)
    versions = []
    for number, executions in by_version.items():
        if not executions and number != live:
            continue
        places = Counter(place(positions.get(arn)) for arn in executions)
        versions.append({"version": number, "live": number == live, "running": len(executions),
                         "at": dict(sorted(places.items()))})
    entries = {"entries": "paused" if switch.get("paused") else "open"}
    if switch.get("by"):
        entries.update(changed_by=switch["by"], changed_at=switch.get("at"))
    return {"journey": journey_id, "stack": stack.name, **entries, "live_version": live,
            "running": sum(v["running"] for v in versions), "versions": versions,
            "policies": store.policy_outcomes(journey_id)}  # sends capped or deferred so far (runtime/policies.py)
