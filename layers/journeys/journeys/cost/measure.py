"""Rehearse contacts through a journey in one local world with a Meter attached: what
`journeys cost` prices. Each contact is the same `run_journey` as `journeys run`, one after the
other on one virtual clock, in the journey's own mode or another `optimize` mode."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

from journeys.compiler import compile_journey
from journeys.cost.estimate import Measured
from journeys.language.loader import load_journey
from journeys.language.model import Journey
from journeys.local.metering import Meter
from journeys.local.runner import REPO, LocalStack, run_journey
from journeys.local.trace import build_trace

DEFAULT_CONTACTS = REPO.parent / "shared" / "journeys" / "contacts"
START = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.timezone.utc)


def has_modes() -> bool:
    """Whether journeys have an `optimize` mode (steps | cost) to compare."""
    return "optimize" in Journey.model_fields


def default_contacts(folder: Path = DEFAULT_CONTACTS) -> list[dict]:
    """The shared example contacts (../shared/journeys/contacts/*.json), in name order."""
    files = sorted(Path(folder).glob("*.json"))
    if not files:
        raise FileNotFoundError(f"{folder}: no example contacts (*.json) to rehearse")
    return [json.loads(path.read_text(encoding="utf-8")) for path in files]


def workflow_type(compiled) -> str:
    """STANDARD, or EXPRESS when the compilation says so (cost mode may pick Express)."""
    for name in ("workflow_type", "workflow", "type"):
        value = getattr(compiled, name, None)
        if isinstance(value, str) and value.upper() in ("STANDARD", "EXPRESS"):
            return value.upper()
    return "STANDARD"


def measure(path: str | Path, contacts: list[dict], mode: str | None = None, start: dt.datetime = START,
            progress: Callable[[int], None] | None = None, event: dict | None = None,
            actions_file: str | Path | None = None) -> Measured:
    """Every contact through the journey at `path` (compiled in `mode` when given), metered; each
    enters with `event` (default none); `actions_file` is loaded before the meter starts."""
    journey, _ = load_journey(path)
    if mode is not None:
        journey = journey.model_copy(update={"optimize": mode})
    compiled = compile_journey(journey)
    meter, traces, own = Meter(), [], []
    with LocalStack(start) as stack:
        stack.deploy_beside(path)
        stack.deploy(compiled)
        if actions_file:
            stack.load_actions(actions_file)  # setup, as `journeys actions deploy` is: not a contact's cost
        with meter.attached(stack):
            for done, contact in enumerate(contacts, 1):
                run = run_journey(path, contact, dict(event or {}), stack=stack, compiled=compiled)
                traces.append(build_trace(run))
                if run.execution_arn:
                    own.append(run.execution_arn)
                if progress:
                    progress(done)
        counts, own_counts = meter.counts(), meter.counts(own)
    return Measured(journey.id, len(contacts), counts, own_counts, traces, workflow_type(compiled),
                    getattr(journey, "optimize", None))


def measure_segment(path: str | Path, segment_file: str | Path, mode: str | None = None, start: dt.datetime = START,
                    progress: Callable[[int], None] | None = None, actions_file: str | Path | None = None) -> Measured:
    """A segment's contacts through the journey with the rehearsal engine of `journeys test` (their
    arrivals on one clock, one world), metered; `mode` compiles the journey in that `optimize` mode."""
    from journeys.local.rehearsal import rehearse
    from journeys.local.segments import read_segment

    segment = read_segment(segment_file, start)
    if not segment.entries:
        raise ValueError(f"{segment_file}: no valid contact to price")
    journey, _ = load_journey(path)
    options: dict = {}
    if mode is not None:
        journey = journey.model_copy(update={"optimize": mode})
        options["compiled"] = compile_journey(journey)
    meter = Meter()
    result = rehearse(path, segment, actions=actions_file, start=start, meter=meter,
                      progress=(lambda done, total: progress(done)) if progress else None, **options)
    own = [arn for arn in result.execution_arns if arn]
    return Measured(journey.id, len(segment.entries), meter.counts(), meter.counts(own), list(result.runs),
                    workflow_type(result.compiled), getattr(journey, "optimize", None))
