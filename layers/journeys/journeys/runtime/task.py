"""What every step Task does around its own work, on AWS and locally alike.

parse the task payload -> read the fresh contact -> exit_when (after waits) -> apply_to ->
the step's own work (idempotent per execution x step x seq) -> record the result ->
evaluate what lies ahead (checks, wake) -> return the new execution state.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from journeys import clock
from journeys.language import conditions
from journeys.language.model import ACTION_TYPES, SETTINGS, Condition
from journeys.runtime.store import ContactStore, JourneyStore
from journeys.runtime import lookahead


class GoalReached(Exception):
    """exit_when holds: the Task fails with this error (Lambda's errorType is the class name)
    and the compiled Catch ends the journey in its "Goal reached" state."""


class StepInProgress(Exception):
    """An earlier attempt of this very step is still running: the compiled Retry asks again later."""


class JourneyRef(BaseModel):
    id: str
    timezone: str | None = None
    policies: dict[str, Any] | None = None  # the journey's opt-out of delivery policies


class StepRef(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str | None
    type: str
    settings: dict[str, Any] = Field(default_factory=dict)
    apply_to: Condition | None = None
    data_key: str | None = None


class ExecutionState(BaseModel):
    """The state Step Functions carries between steps (see compiler/asl.py)."""

    model_config = ConfigDict(extra="allow")
    contact: dict[str, Any]
    event: dict[str, Any] = Field(default_factory=dict)
    data: dict[str, Any] = Field(default_factory=dict)
    seq: int = 0


class TaskEvent(BaseModel):
    journey: JourneyRef
    step: StepRef
    execution: str
    state: ExecutionState
    exit_when: Condition | None = None
    lookahead: dict[str, dict[str, Any]] | None = None
    task_token: str | None = None


@dataclass
class StepContext:
    """What a step's own work gets: the fresh contact, rendered-template scope, the stores."""

    event: TaskEvent
    contact: dict[str, Any]
    settings: Any  # the validated settings model of the step type
    contacts: ContactStore
    journeys: JourneyStore
    now: str = field(default_factory=lambda: clock.iso(clock.now()))
    data: dict[str, Any] | None = None  # data keys with stored (large) results resolved

    @property
    def scope(self) -> dict[str, Any]:
        state = self.event.state
        return {"contact": self.contact, "event": state.event, "journey": state.data if self.data is None else self.data, "now": self.now}

    @property
    def ref(self) -> str:
        """Stable per execution x step x seq: the same on a retry, new on a loop's next pass."""
        raw = f"{self.event.execution}|{self.event.step.id}|{self.event.state.seq}"
        return hashlib.sha256(raw.encode()).hexdigest()[:16]


@dataclass
class Outcome:
    outcome: str  # done | skipped | failed
    reason: str | None = None
    message: dict[str, Any] | None = None  # what was sent (messaging steps)
    data: dict[str, Any] | None = None  # integration result for the data key

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


StepWork = Callable[[StepContext], Outcome]

# Step Functions carries at most 256 KiB per state; a state over it is States.DataLimitExceeded,
# which no Catch absorbs (the execution fails). A Task's output stays under STATE_BUDGET, leaving the
# rest for what Step Functions adds around it (the step's settings in Parameters, $.failure, an
# event's $.received). An integration result travels inline only while it fits both its own limit
# and what is left of the budget; otherwise it stays in JourneyTable and the state carries
# {status, headers, body: null, stored: {pk, sk, bytes}} instead.
STATE_BUDGET = 160 * 1024
INLINE_DATA_LIMIT = 32 * 1024
# What run_task adds after the step's work and keep_data cannot measure yet: checks, wake, last.
STATE_RESERVE = 8 * 1024


def json_size(value: Any) -> int:
    """Bytes of `value` as Step Functions carries it (compact JSON)."""
    return len(json.dumps(value, default=str, separators=(",", ":")).encode())


def next_state(event: TaskEvent, contact: dict[str, Any], data: dict[str, Any], ahead: dict[str, Any],
               last: dict[str, Any] | None) -> dict[str, Any]:
    """The execution state a Task returns: the state it got with the fresh contact and data, the
    next seq, what lies ahead (checks, wake) and the step's outcome (last)."""
    state = event.state.model_dump()
    state.pop("failure", None)
    state.pop("deferral", None)  # a deferred send that went: its wait is over
    state.update(contact=contact, data=data, seq=event.state.seq + 1, checks=ahead["checks"], wake=ahead["wake"])
    if last:
        state["last"] = last
    else:
        state.pop("last", None)
    return state


def inline_room(ctx: StepContext, data_key: str) -> int:
    """Bytes left in the state's budget for the result under `data_key`."""
    others = {name: value for name, value in ctx.event.state.data.items() if name != data_key}
    without = next_state(ctx.event, ctx.contact, others, {"checks": {}, "wake": {}}, None)
    return STATE_BUDGET - STATE_RESERVE - json_size(without) - json_size({data_key: None})


def keep_data(ctx: StepContext, data_key: str, result: dict[str, Any]) -> dict[str, Any]:
    """What the state may carry of an integration result; one that does not fit is stored, referenced."""
    size = json_size(result)
    if size <= INLINE_DATA_LIMIT and size <= inline_room(ctx, data_key):  # the room only when it can fit
        return result
    ref, note = ctx.journeys.store_large_result(ctx.event.execution, ctx.event.state.seq, data_key, result)
    marks = {"truncated": True} if result.get("truncated") else {}  # the trace shows the cut without a read
    return {"status": result.get("status"), "headers": result.get("headers"), "body": None, "stored": ref, **marks, **note}


def resolve_data(data: dict[str, Any], journeys: JourneyStore) -> dict[str, Any]:
    """Data keys as templates and conditions see them: stored results read back in full."""
    view = dict(data)
    for name, value in data.items():
        ref = value.get("stored") if isinstance(value, dict) else None
        if isinstance(ref, dict) and "pk" in ref and "sk" in ref:
            full = journeys.load_large_result(ref)
            if full is not None:
                view[name] = {**full, **({"body_dropped": value["body_dropped"]} if "body_dropped" in value else {})}
    return view


def run_task(payload: dict[str, Any], work: dict[str, StepWork], contacts: ContactStore | None = None,
             journeys: JourneyStore | None = None, idempotent: Callable | None = None) -> dict[str, Any]:
    """Run one step Task; `work` maps step types to their functions (a handler's group)."""
    event = TaskEvent.model_validate(payload)
    contacts = contacts or ContactStore()
    journeys = journeys or JourneyStore()
    contact = contacts.require(event.state.contact["id"])
    view = resolve_data(event.state.data, journeys)
    scope = {"contact": contact, "event": event.state.event, "journey": view}
    if event.exit_when is not None and conditions.evaluate(event.exit_when, scope):
        raise GoalReached(f"contact {contact['id']} reached the journey's goal (exit_when)")

    step = event.step
    data = dict(event.state.data)
    last: dict[str, Any] | None = None
    if event.task_token is not None and step.type in work:
        # A `.waitForTaskToken` Task (wait for_event): its own work stores the token and returns;
        # Step Functions ignores what we return and waits for SendTaskSuccess or the timeout. Not
        # made idempotent: every attempt of the Task has a new token, and the latest must be kept.
        settings = SETTINGS[step.type].model_validate(step.settings)
        work[step.type](StepContext(event, contact, settings, contacts, journeys, data=view))
        return {"waiting": step.id}
    if step.type in ACTION_TYPES:
        settings = SETTINGS[step.type].model_validate(step.settings)
        ctx = StepContext(event, contact, settings, contacts, journeys, data=view)
        if not conditions.evaluate(step.apply_to, scope):
            result = Outcome("skipped", reason="apply_to")
        else:
            run = idempotent or (lambda fn, c: fn(c).as_dict())
            result = Outcome(**run(work[step.type], ctx))
        if result.data is not None and step.data_key:
            data[step.data_key] = result.data
        journeys.record_step(event.execution, event.state.seq, step.id, {"type": step.type, "at": ctx.now, **result.as_dict()})
        last = {"step": step.id, "outcome": result.outcome, **({"reason": result.reason} if result.reason else {})}
        contact = contacts.require(contact["id"])  # the step may have changed it

    ahead = lookahead.evaluate(event.lookahead or {}, contact, event.state.event, resolve_data(data, journeys), event.journey.timezone)
    return next_state(event, contact, data, ahead, last)


__all__ = ["STATE_BUDGET", "GoalReached", "Outcome", "StepContext", "StepInProgress", "TaskEvent", "keep_data", "resolve_data",
           "run_task"]
