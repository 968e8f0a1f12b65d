"""Journey control steps, run in the control Lambda: start_journey, exit_journey, and the token
store of `wait: for_event`. The generated refresh Tasks ("After <wait>", "Start") need no work of
their own: run_task reads the fresh contact, checks exit_when and evaluates what lies ahead.

start_journey goes through journeys.edges.entry.enter_contact with the deployment's catalog, exactly as
the entry webhook does (criteria, re-entry, a deterministic execution name), so a retried Task
starts the target once. The entry event it passes on carries the chain of recent starts
(`started_by.chain`): a chain of START_LOOP_LIMIT starts within START_LOOP_WINDOW is a loop that
passes no real wait, and the next start is refused (the step is `failed`, naming the chain).

exit_journey of another journey stops every execution of it the contact may still be in (the
membership record keeps them: re-entry can start one while an earlier one waits); each ends ABORTED
with error JourneyExited. Of its own journey (under apply_to) it stops its own execution only. A
journey the deployment does not know is a failed step, as for start_journey.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from typing import Any

from journeys import aws, clock
from journeys.edges import entry
from journeys.runtime.catalog import Catalog, UnknownJourney
from journeys.language.durations import parse_duration
from journeys.runtime.store import may_be_running
from journeys.runtime.task import Outcome, StepContext, StepWork

EXITED_ERROR = "JourneyExited"
START_LOOP_LIMIT = 10
START_LOOP_WINDOW = dt.timedelta(hours=1)


def _sfn():
    return aws.client("stepfunctions")


@contextmanager
def _naming(step_type: str):
    """A journey the deployment does not know fails the step; the reason names the step type."""
    try:
        yield
    except UnknownJourney as error:
        raise UnknownJourney(f"{step_type}: {error}") from None


# ---------------------------------------------------------------------------- start_journey


def recent_starts(event: dict[str, Any], now: dt.datetime) -> list[dict[str, Any]]:
    """The start_journey hops that led to this entry and happened within START_LOOP_WINDOW."""
    chain = (event.get("started_by") or {}).get("chain") or []
    return [hop for hop in chain if _within(hop.get("at"), now)]


def _within(at: Any, now: dt.datetime) -> bool:
    moment = clock.parse_timestamp(at)
    return moment is not None and now - moment < START_LOOP_WINDOW


def loop_reason(hops: list[dict[str, Any]], me: str, target: str) -> str:
    path = " → ".join([hop["journey"] for hop in hops] + [me, target])
    hours = int(START_LOOP_WINDOW.total_seconds() // 3600)
    return f"start_journey loop: {path} ({len(hops)} starts within {hours}h)"


def start_journey(ctx: StepContext) -> Outcome:
    target = ctx.settings.journey
    catalog = Catalog.packaged()
    with _naming("start_journey"):
        rules, arn = catalog.entry(target), catalog.state_machine_arn(target)
    me, now = ctx.event, clock.now()
    hops = recent_starts(me.state.event, now)
    if len(hops) >= START_LOOP_LIMIT:
        return Outcome("failed", reason=loop_reason(hops, me.journey.id, target))
    hop = {"journey": me.journey.id, "step": me.step.id, "at": clock.iso(now)}
    # The entry event of this journey, keyed by this step's pass: a retried Task names the same
    # execution (started once); a loop's next pass is a new entry, subject to re_entry.
    event = {**me.state.event, "idempotency_key": f"start_journey|{me.execution}|{me.step.id}|{me.state.seq}",
             "started_by": {**hop, "chain": hops + [hop]}}
    # The contact by id only: entry reads the stored one (a copy in hand may be older than a write of
    # another execution, and entry's upsert would put its old attributes back).
    result = entry.enter_contact(target, rules, {"id": ctx.contact["id"]}, event, state_machine_arn=arn, sfn=_sfn(),
                                 contacts=ctx.contacts, journeys=ctx.journeys)
    if result.status == "NOT_ENTERED":
        return Outcome("skipped", reason=f"not entered into {target}: {result.reason}")
    return Outcome("done", reason=None if result.status == "STARTED" else f"{target}: {result.reason}")


# ---------------------------------------------------------------------------- exit_journey


def exit_journey(ctx: StepContext) -> Outcome:
    me = ctx.event
    target = ctx.settings.journey or me.journey.id
    cause = f"exit_journey step '{me.step.id}' of journey '{me.journey.id}'"
    if target == me.journey.id:
        # This execution ends right after this Task: the compiled Choice that follows an exit_journey of
        # the journey itself goes to its end (SUCCEEDED, like `exit`) when the step is done.
        return Outcome("done")
    with _naming("exit_journey"):
        Catalog.packaged().entry(target)
    executions = may_be_running(ctx.journeys.membership(ctx.contact["id"], target))
    if not executions:
        return Outcome("skipped", reason=f"not in journey {target}")
    stopped, ended = stop_running(executions, cause=cause)
    ctx.journeys.forget_executions(ctx.contact["id"], target, stopped + list(ended))
    if not stopped:
        return Outcome("skipped", reason=f"journey {target} already finished ({', '.join(sorted(set(ended.values())))})")
    return Outcome("done", reason=f"stopped {len(stopped)} executions of {target}" if len(stopped) > 1 else None)


def stop_running(executions: list[str], cause: str) -> tuple[list[str], dict[str, str]]:
    """StopExecution for each execution still RUNNING; (stopped, {ended execution: its status}).
    An execution Step Functions no longer knows (purged ~90 days after it closed) has ended too."""
    sfn = _sfn()
    stopped: list[str] = []
    ended: dict[str, str] = {}
    for execution in executions:
        status = entry.execution_status(sfn, execution) or "PURGED"
        if status == "RUNNING":
            sfn.stop_execution(executionArn=execution, error=EXITED_ERROR, cause=cause)
            stopped.append(execution)
        else:
            ended[execution] = status
    return stopped, ended


# ---------------------------------------------------------------------------- wait: for_event


def await_event(ctx: StepContext) -> Outcome:
    """`wait: for_event`: keep the task token where deliver_event finds it (contact + event name)."""
    for_event = ctx.settings.for_event
    ctx.journeys.put_event_wait(contact_id=ctx.contact["id"], event=for_event.event, token=ctx.event.task_token,
                                execution=ctx.event.execution, journey=ctx.event.journey.id, step=ctx.event.step.id,
                                since=ctx.now, timeout_seconds=parse_duration(for_event.timeout))
    return Outcome("done")


WORK: dict[str, StepWork] = {"start_journey": start_journey, "exit_journey": exit_journey, "wait": await_event}
