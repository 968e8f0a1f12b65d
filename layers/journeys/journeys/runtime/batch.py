"""One Task, many steps (`optimize: cost`): a run of steps between two waits in one invocation.

The compiler (compiler/fold.py) hands the Task the run as a small graph: `ops` by step id, each
with its `next` edges, and `start`, the edge the run begins with. An edge either leads to an op
(`to`) or leaves the run (`out`: the wait state that follows, or null for the end of the journey),
after crossing the joins and go-tos in `via`. This walks it:

  task    the step's own work through run_step, exactly as a one-step Task does it (apply_to,
          idempotency per execution x step x seq, the step record); a failure fails that step
          only (outcome `failed`, the error named) and the contact goes on to its next step
  choice  a gate or split decided by the one condition evaluator (lookahead), its branch taken
  skip    a step compiled as a skip (incomplete settings)
  exit    the end of the journey

The Task returns the execution state with `next` (the out taken, which a Choice after the Task
branches on when there is more than one) and `ran` (each step's outcome, for the trace and metrics).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, Field

from journeys.compiler.asl import RETRY
from journeys.language.model import Condition
from journeys.runtime import lookahead
from journeys.runtime.policies import DEFERRALS, SendDeferred, deferral
from journeys.runtime.store import ContactStore, JourneyStore
from journeys.runtime.task import (
    ExecutionState,
    GoalReached,
    JourneyRef,
    StepInProgress,
    StepRef,
    StepWork,
    TaskEvent,
    check_goal,
    resolve_data,
    run_step,
)

# Every loop passes a wait (the loader refuses others), so a run ends; this only guards a bug.
MAX_OPS_PER_RUN = 10_000
# Errors that must leave the Task, not fail one step: the goal, and whatever the compiled Retry
# retries (StepInProgress and any other error it names), since a retried Task redoes the whole run
# and every step already done answers from its idempotency record.
PASS_THROUGH = (GoalReached, StepInProgress, SendDeferred)  # a deferred send: the run waits, then runs again
RETRIED = {name for rule in RETRY for name in rule["ErrorEquals"]}


def _leaves_the_task(error: Exception) -> bool:
    return isinstance(error, PASS_THROUGH) or type(error).__name__ in RETRIED


class Batch(BaseModel):
    start: dict[str, Any]
    ops: dict[str, dict[str, Any]] = Field(default_factory=dict)


class BatchEvent(BaseModel):
    journey: JourneyRef
    batch: Batch
    execution: str
    state: ExecutionState
    exit_when: Condition | None = None


def run_batch(payload: dict[str, Any], work: dict[str, StepWork], contacts: ContactStore | None = None,
              journeys: JourneyStore | None = None, idempotent: Callable | None = None) -> dict[str, Any]:
    event = BatchEvent.model_validate(payload)
    contacts = contacts or ContactStore()
    journeys = journeys or JourneyStore()
    state = event.state
    contact = contacts.require(state.contact["id"])
    data = dict(state.data)
    seq = state.seq
    ran: list[dict[str, Any]] = []
    goal_pending = event.exit_when is not None  # checked where a one-step Task after the wait would check it
    # Back from a deferred send: the steps before it answer from their records without running, so
    # the first step whose work runs is the deferred one, and only it gets the deferral.
    held = deferral({**(state.model_extra or {}), "seq": state.seq})
    ran_work: list[str] = []
    work = {kind: _noting(fn, kind, ran_work) for kind, fn in work.items()}

    edge = event.batch.start
    for _ in range(MAX_OPS_PER_RUN):
        ran += [{"step": step_id, "outcome": "done"} for step_id in edge.get("via") or []]
        if "to" not in edge:
            break
        op = event.batch.ops[edge["to"]]
        kind = op["kind"]
        if goal_pending and kind != "skip":
            goal_pending = False
            if kind != "exit":
                check_goal(event.exit_when, contact, state.event, resolve_data(data, journeys))
        if kind == "skip":
            ran.append({"step": op["id"], "outcome": "skipped", "reason": "incomplete settings"})
            edge = op["next"][0]
        elif kind == "exit":
            ran.append({"step": op["id"], "outcome": "done"})
            edge = {"out": None}
        elif kind == "choice":
            outcome, edge = _decide(op, contact, state.event, resolve_data(data, journeys), event.journey.timezone)
            ran.append({"step": op["id"], "outcome": outcome})
        else:
            extra = {"deferral": {**held, "seq": seq}} if held and not ran_work else {}
            step_event = TaskEvent(journey=event.journey, step=StepRef.model_validate(op["step"]), execution=event.execution,
                                   state=ExecutionState(contact=contact, event=state.event, data=data, seq=seq, **extra))
            try:
                result, contact, data = run_step(step_event, contact, resolve_data(data, journeys), work, contacts, journeys, idempotent)
                ran.append({"step": op["id"], "outcome": result.outcome, **({"reason": result.reason} if result.reason else {})})
                if extra and ran_work:  # it ran after waiting (quiet hours, send rate)
                    ran[-1]["deferred"] = DEFERRALS.get(held["error"], held["error"])
            except Exception as error:  # noqa: BLE001 - the step fails, the contact goes on (as a Catch does)
                if _leaves_the_task(error):
                    raise
                ran.append({"step": op["id"], "outcome": "failed", "detail": f"{type(error).__name__}: {error}"})
            seq += 1
            edge = op["next"][0]
    else:
        raise RuntimeError(f"a run of steps passed {MAX_OPS_PER_RUN} steps without reaching a wait")

    out = edge.get("out")
    if goal_pending and out is not None:  # wait -> wait: the refresh between them checks the goal
        check_goal(event.exit_when, contact, state.event, resolve_data(data, journeys))
    ahead = lookahead.evaluate({"wake": edge.get("wake") or {}}, contact, state.event, resolve_data(data, journeys),
                               event.journey.timezone)
    result = state.model_dump()
    for stale in ("failure", "last", "checks", "deferral"):
        result.pop(stale, None)
    result.update(contact=contact, data=data, seq=seq + 1, wake=ahead["wake"], next=out, ran=ran)
    return result


def _noting(fn: StepWork, kind: str, ran_work: list[str]) -> StepWork:
    def noted(ctx):
        ran_work.append(kind)
        return fn(ctx)
    return noted


def _decide(op: dict[str, Any], contact: dict, entry_event: dict, view: dict, timezone: str | None) -> tuple[str, dict]:
    """A gate's or split's branch, as its Choice state would take it in one-step mode."""
    value = lookahead.evaluate({"checks": {"it": op["check"]}}, contact, entry_event, view, timezone)["checks"]["it"]
    edges = op["next"]
    if op["type"] == "gate":
        return ("branch:next", edges[0]) if value is True else ("branch:else", edges[1])
    names = op["branches"]
    if value in names:
        return f"branch:{value}", edges[names.index(value)]
    return "branch:default", edges[len(names)] if op.get("default") else edges[0]
