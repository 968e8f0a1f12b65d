"""Events about a contact: resume the journeys waiting for them, enter the journeys they trigger.

`wait: for_event` compiles to a `.waitForTaskToken` Task: the control Lambda stores the task token in
JourneyTable (pk CONTACT#<id>, sk WAIT#<event>#<execution>, with the wait's deadline) and returns;
Step Functions then waits. deliver_event (POST /events on AWS, `journeys run --event-at` locally)
sends SendTaskSuccess with the event to every waiting execution of the contact: the journey takes
`on_event`. If nothing arrives before the wait's timeout, Step Functions raises States.Timeout and the
journey takes `on_timeout`; an event arriving at or after the deadline resumes nothing (the wait is
reported `expired`) and its stale token item is removed.

An event with an id (`idempotency_key`, `id` or `event_id` in the payload) is delivered once per
contact: JourneyTable remembers it for DELIVERED_EVENT_RETENTION, with the executions it resumed, so
a repeat resumes nothing and starts nothing (`duplicate` in the result). A delivery that fails midway
(Step Functions throttling after the client's retries) puts back the wait it could not resume and
may be retried with the same id: the retry resumes only what the first attempt did not.
"""

from __future__ import annotations

import json
from typing import Any

from journeys import clock
from journeys.edges import entry


def deliver_event(name: str, contact: dict, payload: dict, *, catalog, sfn, contacts, journeys) -> dict:
    """Resume the contact's executions waiting for event `name` (SendTaskSuccess with the event),
    then enter the contact into every journey whose entry trigger is this event (enter_contact:
    criteria and re-entry apply). Returns {"resumed": [execution ARNs], "expired": [execution ARNs
    whose wait had timed out], "entered": [execution ARNs], "not_entered": [{"journey", "reason"}]},
    or for a repeated event id {"duplicate": true, "reason", and those lists empty}."""
    contact_id = contact["id"]
    key = entry.explicit_key(payload)
    if key is not None and (journeys.event_delivery(contact_id, name, key) or {}).get("done"):
        return {"duplicate": True, "reason": f"event {name} {key!r} was already delivered",
                "resumed": [], "expired": [], "entered": [], "not_entered": []}
    if len(contact) > 1:  # attributes sent with the event: the resumed steps read the fresh contact
        contacts.upsert(contact)
    output = json.dumps({"event": name, "payload": payload, "at": clock.iso(clock.now())}, default=str)
    resumed, expired = _resume_waits(Delivery(name, contact_id, key, journeys), output, sfn)
    entered, not_entered = _enter_triggered(name, contact, payload, catalog=catalog, sfn=sfn, contacts=contacts,
                                            journeys=journeys)
    if key is not None:
        journeys.finish_delivery(contact_id, name, key)
    return {"resumed": resumed, "expired": expired, "entered": entered, "not_entered": not_entered}


class Delivery:
    """One event for one contact, and what JourneyTable remembers of it when it has an id."""

    def __init__(self, name: str, contact_id: str, key: str | None, journeys):
        self.name, self.contact_id, self.key, self.journeys = name, contact_id, key, journeys

    def claim(self, execution: str) -> bool:
        """May this event resume `execution`? Not twice: a looping execution waits again under the same ARN."""
        return self.key is None or self.journeys.claim_resume(self.contact_id, self.name, self.key, execution)

    def release(self, execution: str) -> None:
        if self.key is not None:
            self.journeys.release_resume(self.contact_id, self.name, self.key, execution)


def _resume_waits(delivery: Delivery, output: str, sfn) -> tuple[list[str], list[str]]:
    journeys, contact_id, name = delivery.journeys, delivery.contact_id, delivery.name
    stale = tuple(getattr(sfn.exceptions, n) for n in ("TaskTimedOut", "InvalidToken", "TaskDoesNotExist")
                  if hasattr(sfn.exceptions, n))
    resumed: list[str] = []
    expired: list[str] = []
    for wait in journeys.event_waits(contact_id, name):
        execution = wait["execution"]
        if _past_deadline(wait):
            # The wait has timed out (on_timeout), whatever Step Functions would say: its stale
            # token goes (if still this one), and nothing is claimed for this event.
            if journeys.take_event_wait(contact_id, name, execution, wait["task_token"]):
                expired.append(execution)
            continue
        if not delivery.claim(execution):
            continue  # this event already resumed it (a repeat, or a retry of a delivery that failed midway)
        # Take the token first (only if it is still this one): a resumed execution that loops back
        # into the same wait stores its next token under the same key.
        if not journeys.take_event_wait(contact_id, name, execution, wait["task_token"]):
            delivery.release(execution)
            continue  # another delivery took it
        try:
            sfn.send_task_success(taskToken=wait["task_token"], output=output)
        except stale:
            delivery.release(execution)
            expired.append(execution)  # the wait timed out or its execution ended: nothing resumed
            continue
        except Exception:
            # Throttled or failed: the execution still waits. Keep its token for the sender's retry.
            journeys.restore_event_wait(wait)
            delivery.release(execution)
            raise
        resumed.append(execution)
    return resumed, expired


def _past_deadline(wait: dict[str, Any]) -> bool:
    """An event at or after the wait's deadline is too late: the timeout takes on_timeout."""
    deadline_ms = wait.get("deadline_ms")
    return deadline_ms is not None and clock.now().timestamp() * 1000 >= deadline_ms


def _enter_triggered(name: str, contact: dict, payload: dict, *, catalog, sfn, contacts, journeys
                     ) -> tuple[list[str], list[dict[str, str]]]:
    entered: list[str] = []
    not_entered: list[dict[str, str]] = []
    for journey_id in catalog.triggered_by(name):
        result = entry.enter_contact(journey_id, catalog.entry(journey_id), contact, payload,
                                     state_machine_arn=catalog.state_machine_arn(journey_id), sfn=sfn,
                                     contacts=contacts, journeys=journeys, event_name=name)
        if result.status == "STARTED":
            entered.append(result.execution_arn)
        else:
            not_entered.append({"journey": journey_id, "reason": result.reason or result.status.lower()})
    return entered, not_entered
