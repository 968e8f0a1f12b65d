"""Journey control steps, run in the control Lambda: start_journey, exit_journey, and the token
store of `wait: for_event`. The generated refresh Tasks ("After <wait>", "Start") need no work of
their own: run_task reads the fresh contact, checks exit_when and evaluates what lies ahead.

start_journey goes through journeys.entry.enter_contact with the deployment's catalog, exactly as
the entry webhook does (criteria, re-entry, a deterministic execution name), so a retried Task
starts the target once. exit_journey stops the contact's running execution of that journey
(StopExecution; the execution ends ABORTED with error JourneyExited).
"""

from __future__ import annotations

from .. import aws, entry
from ..catalog import Catalog, UnknownJourney
from ..durations import parse_duration
from .runtime import Outcome, StepContext, StepWork

EXITED_ERROR = "JourneyExited"


def _sfn():
    return aws.client("stepfunctions")


def start_journey(ctx: StepContext) -> Outcome:
    target = ctx.settings.journey
    catalog = Catalog.packaged()
    try:
        rules, arn = catalog.entry(target), catalog.state_machine_arn(target)
    except UnknownJourney as error:
        raise UnknownJourney(f"start_journey: {error}") from None
    me = ctx.event
    # The entry event of this journey, keyed by this step's pass: a retried Task names the same
    # execution (started once); a loop's next pass is a new entry, subject to re_entry.
    event = {**me.state.event, "idempotency_key": f"start_journey|{me.execution}|{me.step.id}|{me.state.seq}",
             "started_by": {"journey": me.journey.id, "step": me.step.id}}
    result = entry.enter_contact(target, rules, ctx.contact, event, state_machine_arn=arn, sfn=_sfn(),
                                 contacts=ctx.contacts, journeys=ctx.journeys)
    if result.status == "NOT_ENTERED":
        return Outcome("skipped", reason=f"not entered into {target}: {result.reason}")
    return Outcome("done", reason=None if result.status == "STARTED" else f"{target}: {result.reason}")


def exit_journey(ctx: StepContext) -> Outcome:
    me = ctx.event
    target = ctx.settings.journey or me.journey.id
    if target == me.journey.id:
        execution = me.execution
    else:
        membership = ctx.journeys.membership(ctx.contact["id"], target)
        if not membership or not membership.get("execution"):
            return Outcome("skipped", reason=f"not in journey {target}")
        execution = membership["execution"]
    sfn = _sfn()
    status = sfn.describe_execution(executionArn=execution)["status"]
    if status != "RUNNING":
        return Outcome("skipped", reason=f"journey {target} already finished ({status})")
    sfn.stop_execution(executionArn=execution, error=EXITED_ERROR,
                       cause=f"exit_journey step '{me.step.id}' of journey '{me.journey.id}'")
    return Outcome("done")


def await_event(ctx: StepContext) -> Outcome:
    """`wait: for_event`: keep the task token where deliver_event finds it (contact + event name)."""
    for_event = ctx.settings.for_event
    ctx.journeys.put_event_wait(contact_id=ctx.contact["id"], event=for_event.event, token=ctx.event.task_token,
                                execution=ctx.event.execution, journey=ctx.event.journey.id, step=ctx.event.step.id,
                                since=ctx.now, timeout_seconds=parse_duration(for_event.timeout))
    return Outcome("done")


WORK: dict[str, StepWork] = {"start_journey": start_journey, "exit_journey": exit_journey, "wait": await_event}
