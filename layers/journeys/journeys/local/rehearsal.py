"""`journeys test`: a segment of contacts through a journey in one local world, on one virtual clock.

The engine of `journeys run`, with many contacts: one LocalStack (moto's interpreter, our handlers
in-process), every contact its own execution entering through the one entry path (LocalStack.enter
-> edges/entry.py enter_contact) when the clock reaches its `at`, every per-contact result read as
`journeys run` reads it (runner.finished_run + trace.build_trace). Contacts share the world, so an
exit_journey or start_journey of one acts on the others as on AWS.

Versions and stops are scheduled on the same clock: `publish` deploys a new definition as the next
version of the state machine and moves the `live` alias (entries start the alias, so executions
already running stay on their version); a soft stop closes entries; a hard stop also stops every
running execution at that moment (StopExecution -> ABORTED).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from journeys import clock
from journeys.compiler import Compiled, compile_journey
from journeys.language.loader import load_journey
from journeys.local.runner import LocalStack, finished_run, not_entered_run, run_timeout
from journeys.local.segments import Segment, SegmentEntry
from journeys.local.trace import build_trace

STOPPED = "journey stopped"
HARD_STOP_CAUSE = "journey stopped (hard stop)"
STOP_KINDS = ("soft", "hard")
MESSAGE_KINDS = ("email", "notification_email", "site_notification")
PER_CONTACT_SECONDS = 5.0  # the wall-clock limit grows with the segment: run_timeout() + this per contact


class RehearsalError(ValueError):
    """A rehearsal that cannot start (a --publish file for another journey, ...): nothing ran."""


@dataclass
class Arrival:
    """One segment line once the clock reached it: what entering it gave."""

    entry: SegmentEntry
    status: str = "PENDING"  # STARTED | NOT_ENTERED
    execution_arn: str | None = None
    reason: str | None = None
    version: int | None = None


@dataclass
class Rehearsal:
    journey: str
    compiled: Compiled
    segment: Segment
    runs: list[dict[str, Any]] = field(default_factory=list)  # journeys run --json of each contact + version
    execution_arns: list[str] = field(default_factory=list)
    previews: list[Path] = field(default_factory=list)

    def status_counts(self) -> dict[str, int]:
        return dict(Counter(run["status"] for run in self.runs))

    def version_counts(self) -> dict[str, dict[str, int]]:
        counts = Counter(run["version"] for run in self.runs if run.get("version"))
        return {version: {"entered": counts[version]} for version in sorted(counts, key=int)}

    def step_counts(self) -> dict[str, dict[str, int]]:
        counts: dict[str, Counter] = {}
        for run in self.runs:
            for step in run.get("steps", []):
                counts.setdefault(step["id"], Counter())[step["outcome"]] += 1
        order = {step.id: n for n, step in enumerate(self.compiled.journey.steps)}
        return {sid: dict(counts[sid]) for sid in sorted(counts, key=lambda s: order.get(s, len(order)))}

    def reached_counts(self) -> dict[str, int]:
        """Step id -> contacts that reached the step (whatever its outcome)."""
        return dict(Counter(sid for run in self.runs for sid in {step["id"] for step in run.get("steps", [])}))

    def skip_reasons(self) -> dict[str, dict[str, int]]:
        reasons: dict[str, Counter] = {}
        for run in self.runs:
            for step in run.get("steps", []):
                if step["outcome"] in ("skipped", "failed"):
                    reasons.setdefault(step["id"], Counter())[step.get("detail") or step["outcome"]] += 1
        return {sid: dict(c) for sid, c in reasons.items()}

    def deferred_counts(self) -> dict[str, dict[str, int]]:
        """Step id -> why its sends waited (quiet hours, send rate) -> how many (they are also `done`)."""
        deferred: dict[str, Counter] = {}
        for run in self.runs:
            for step in run.get("steps", []):
                if step.get("deferred"):
                    deferred.setdefault(step["id"], Counter())[step["deferred"]] += 1
        return {sid: dict(c) for sid, c in deferred.items()}

    def waiting_counts(self) -> dict[str, int]:
        """Step id -> contacts whose execution had not ended there (hard stop, or still running)."""
        return dict(Counter(run["waiting_at"] for run in self.runs if run.get("waiting_at")))

    def edge_counts(self) -> dict[tuple[str, str], int]:
        """(from step id, to step id) -> contacts that went that way; "start" and "end" for the ends."""
        from journeys.compiler.mermaid import EDGE_END, EDGE_START

        edges: Counter = Counter()
        for run in self.runs:
            ids = [step["id"] for step in run.get("steps", [])]
            if not ids:
                continue
            path = [EDGE_START] + ids + ([EDGE_END] if run["status"] == "SUCCEEDED" else [])
            edges.update(zip(path, path[1:]))
        return dict(edges)

    def message_counts(self) -> dict[str, int]:
        counts = Counter(message["kind"] for run in self.runs for message in run.get("messages", []))
        return {kind: counts.get(kind, 0) for kind in MESSAGE_KINDS} | {k: v for k, v in counts.items() if k not in MESSAGE_KINDS}

    def to_json(self) -> dict[str, Any]:
        """The `journeys test --json` object of JOURNEYS.md."""
        return {
            "journey": self.journey, "contacts": len(self.segment.entries),
            "bad_lines": [{"line": line, "error": error} for line, error in self.segment.bad_lines],
            "status": self.status_counts(), "versions": self.version_counts(), "steps": self.step_counts(),
            "messages": self.message_counts(), "transitions": sum(run.get("transitions", 0) for run in self.runs),
            "runs": [{k: v for k, v in run.items() if k != "waiting_at"} for run in self.runs],
        }


def parse_when(when: str, start: dt.datetime, option: str) -> dt.datetime:
    """`+26h` (from the start) or an ISO 8601 timestamp; ValueError naming the option (`option` is
    e.g. "--stop 'hard@+2d'") otherwise."""
    from journeys.local.segments import LineError, parse_at

    try:
        return parse_at(when, start)
    except LineError as error:
        raise ValueError(f"{option}: {str(error).removeprefix('at: ')}") from None


def parse_publish(text: str, start: dt.datetime) -> tuple[str, dt.datetime]:
    """`NEW.journey.yaml@+3d` -> (path, when)."""
    path, sep, when = text.rpartition("@")
    if not sep or not path or not when:
        raise ValueError(f"--publish {text!r}: expected FILE@+DURATION (e.g. new.journey.yaml@+3d) or FILE@TIMESTAMP")
    return path, parse_when(when, start, f"--publish {text!r}")


def parse_stop(text: str, start: dt.datetime) -> tuple[str, dt.datetime]:
    """`soft@+2d` / `hard@2026-01-07T00:00:00Z` -> (kind, when)."""
    kind, sep, when = text.partition("@")
    if not sep or kind not in STOP_KINDS or not when:
        raise ValueError(f"--stop {text!r}: expected soft@+DURATION or hard@+DURATION (or @TIMESTAMP)")
    return kind, parse_when(when, start, f"--stop {text!r}")


def load_publishes(journey_id: str, publish: list[tuple[str | Path, dt.datetime]], allow_incomplete: bool = False
                   ) -> list[tuple[Compiled, dt.datetime]]:
    """Each --publish file compiled; RehearsalError when one is another journey (nothing runs)."""
    compiled = []
    for path, at in publish:
        journey, _ = load_journey(path, allow_incomplete=allow_incomplete)
        if journey.id != journey_id:
            raise RehearsalError(f"--publish {path}: it is journey {journey.id!r}, not {journey_id!r}: "
                                 "a new version must keep the journey id")
        compiled.append((compile_journey(journey), at))
    return compiled


def rehearse(journey_path: str | Path, segment: Segment, *, actions: str | Path | None = None,
             policies: str | Path | None = None,
             start: dt.datetime, publish: list[tuple[str | Path, dt.datetime]] = (),
             stop: tuple[str, dt.datetime] | None = None, preview_dir: str | Path | None = None,
             progress: Callable[[int, int], None] | None = None, meter=None, allow_incomplete: bool = False,
             timeout: float | None = None, compiled: Compiled | None = None) -> Rehearsal:
    """Run every contact of `segment` through the journey at `journey_path` in one world; see the module
    docstring. `progress(done, total)` is called as executions end; `meter`, if given, is a call meter
    whose `attached(stack)` context manager surrounds the run; `policies` (a policies.yaml) applies
    delivery policies, as `journeys run --policies` does; `compiled` runs that compilation of the
    journey instead (journeys cost prices both `optimize` modes)."""
    if compiled is None:
        journey, _ = load_journey(journey_path, allow_incomplete=allow_incomplete)
        compiled = compile_journey(journey)
    journey = compiled.journey
    versions = load_publishes(journey.id, list(publish), allow_incomplete)
    rehearsal = Rehearsal(journey.id, compiled, segment)
    arrivals = [Arrival(entry) for entry in segment.entries]
    total = len(arrivals)
    limit = (run_timeout() if timeout is None else timeout) + PER_CONTACT_SECONDS * total
    with LocalStack(start) as stack, (meter.attached(stack) if meter is not None else contextlib.nullcontext()):
        stack.deploy_beside(journey_path, allow_incomplete)
        stack.deploy(compiled, publish=True)
        definitions = {stack.versions[journey.id]: compiled}
        if actions:
            stack.load_actions(actions)
        if policies:
            stack.use_policies(policies)
        world = _World(stack, journey, definitions, arrivals)
        # At one moment a stop or a publish comes before arrivals ("from T"): scheduled first, kept first.
        if stop is not None:
            kind, at = stop
            stack.schedule(at, f"{kind} stop", lambda kind=kind: world.stop(kind))
        for new, at in versions:
            stack.schedule(at, "publish", lambda new=new: world.publish(new))
        for arrival in arrivals:
            stack.schedule(arrival.entry.at, "arrival", lambda a=arrival: world.arrive(a))
        world.drive(limit, progress)
        rehearsal.runs = world.collect(start)
        rehearsal.execution_arns = [a.execution_arn for a in arrivals if a.execution_arn]
        if preview_dir is not None:
            rehearsal.previews = write_previews(stack, rehearsal.runs, Path(preview_dir))
    return rehearsal


class _World:
    """The rehearsal's actions on the stack (scheduled on its clock) and the driver of time."""

    def __init__(self, stack: LocalStack, journey, definitions: dict[int, Compiled], arrivals: list[Arrival]):
        self.stack, self.journey, self.definitions, self.arrivals = stack, journey, definitions, arrivals
        self.stopped: str | None = None
        self.hard_stopped: set[str] = set()

    def arrive(self, arrival: Arrival) -> None:
        if self.stopped:
            arrival.status, arrival.reason = "NOT_ENTERED", STOPPED
            return
        current = self.definitions[self.stack.versions[self.journey.id]].journey
        entered = self.stack.enter(current, arrival.entry.contact, arrival.entry.event)
        if entered.status == "STARTED":
            arrival.status, arrival.execution_arn = "STARTED", entered.execution_arn
            arrival.version = self.stack.execution_version(entered.execution_arn)
        else:  # NOT_ENTERED, or DUPLICATE: the same contact and event twice enter once
            arrival.status, arrival.reason = "NOT_ENTERED", entered.reason

    def publish(self, compiled: Compiled) -> None:
        self.stack.deploy(compiled, publish=True)
        self.definitions[self.stack.versions[self.journey.id]] = compiled

    def stop(self, kind: str) -> None:
        self.stopped = kind
        if kind != "hard":
            return
        # Every execution of this journey still running ends now: none may send after this moment.
        mine = [a.execution_arn for a in self.arrivals if a.execution_arn]
        running = self.stack.waits.running()
        for arn in mine:
            if arn in running:
                self.stack.sfn.stop_execution(executionArn=arn, error="Journey.Stopped", cause=HARD_STOP_CAUSE)
                self.hard_stopped.add(arn)

    def drive(self, limit: float, progress: Callable[[int, int], None] | None) -> None:
        """Move the clock until nothing is scheduled and nothing runs (or the wall-clock limit)."""
        deadline = time.monotonic() + limit
        total, next_report = len(self.arrivals), 0.0
        while True:
            running = self.stack.waits.running()
            if not running and not self.stack.scheduled:
                break
            if progress is not None and time.monotonic() >= next_report:
                next_report = time.monotonic() + 0.1  # a bar needs no more; counting is O(contacts)
                progress(sum(1 for a in self.arrivals if a.status == "NOT_ENTERED" or
                             (a.execution_arn and a.execution_arn not in running)), total)
            if time.monotonic() > deadline:
                self.stack.scheduled.clear()
                for arn in running:
                    try:
                        self.stack.sfn.stop_execution(executionArn=arn, error="Local.Timeout",
                                                      cause=f"stopped after {limit:g} s of wall-clock time")
                    except Exception:  # noqa: BLE001 - one just starting (moto has no worker yet): the world's end stops it
                        pass
                deadline = float("inf")
                continue
            if not self.stack.tick():
                time.sleep(0.002)
        if progress is not None:
            progress(total, total)

    def collect(self, start: dt.datetime) -> list[dict[str, Any]]:
        """Each contact's `journeys run --json` object, plus the version it ran."""
        outbox: list[dict] = []  # not part of a trace; read once, not once per contact
        runs = []
        for arrival in self.arrivals:
            contact_id = arrival.entry.contact["id"]
            if arrival.status != "STARTED":
                compiled = self.definitions[min(self.definitions)]
                run = build_trace(not_entered_run(self.stack, compiled, contact_id, arrival.reason, start, outbox))
                runs.append({"version": None, **run})
                continue
            compiled = self.definitions.get(arrival.version) or self.definitions[min(self.definitions)]
            described = self.stack.sfn.describe_execution(executionArn=arrival.execution_arn)
            reason = HARD_STOP_CAUSE if arrival.execution_arn in self.hard_stopped and described["status"] == "ABORTED" else None
            events = [e for e in self.stack.delivered if e.get("contact") == contact_id]
            result = finished_run(self.stack, compiled, contact_id, described, start, events, reason, outbox)
            trace = build_trace(result)
            runs.append({"version": str(arrival.version) if arrival.version is not None else None, **trace,
                         "waiting_at": _waiting_at(result) if described["status"] != "SUCCEEDED" else None})
        return runs


def _waiting_at(run) -> str | None:
    """The step whose state the execution was in when it ended without finishing."""
    entered = None
    for event in run.history:
        if event["type"].endswith("StateEntered"):
            entered = event["stateEnteredEventDetails"]["name"]
        elif event["type"].endswith("StateExited"):
            entered = None
    info = run.compiled.states.get(entered) if entered else None
    return getattr(info, "step_id", None)


def write_previews(stack: LocalStack, runs: list[dict], folder: Path) -> list[Path]:
    """Every message as rendered: `<contact>.<step>.eml` (the raw MIME SES was given) or `.json`."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    from journeys.local.runner import REGION

    raw_by_id = {getattr(m, "id", None): getattr(m, "raw_data", None)
                 for m in ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages}
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for run in runs:
        contact_id = (run.get("contact") or {}).get("id") or "contact"
        results = stack.journeys.step_results(run["execution"]) if run.get("execution") else []
        for result in results:
            message = result.get("message")
            if not message:
                continue
            base = _safe(f"{contact_id}.{result['step']}")
            raw = raw_by_id.get(message.get("id"))
            path = folder / (base + (".eml" if raw else ".json"))
            if raw:
                path.write_text(raw, encoding="utf-8")
            else:
                path.write_text(json.dumps({"step": result["step"], **message}, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            written.append(path)
    return written


def _safe(name: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9._@-]", "_", name)
