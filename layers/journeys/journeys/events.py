"""Events about a contact: resume the journeys waiting for them, enter the journeys they trigger.

`wait: for_event` compiles to a `.waitForTaskToken` Task: the control Lambda stores the task token in
JourneyTable (pk CONTACT#<id>, sk WAIT#<event>#<execution>) and returns; Step Functions then waits.
deliver_event (POST /events on AWS, `journeys run --event-at` locally) sends SendTaskSuccess with
the event to every waiting execution of the contact: the journey takes `on_event`. If nothing
arrives within the wait's timeout, Step Functions raises States.Timeout and the journey takes
`on_timeout`; the stale token item is removed at the next delivery (or by TTL).
"""

from __future__ import annotations

import json

from . import clock, entry

def deliver_event(name: str, contact: dict, payload: dict, *, catalog, sfn, contacts, journeys) -> dict:
    """Resume the contact's executions waiting for event `name` (SendTaskSuccess with the event),
    then enter the contact into every journey whose entry trigger is this event (enter_contact:
    criteria and re-entry apply). Returns {"resumed": [execution ARNs], "entered": [execution ARNs],
    "not_entered": [{"journey", "reason"}]}."""
    contact_id = contact["id"]
    if len(contact) > 1:  # attributes sent with the event: the resumed steps read the fresh contact
        contacts.upsert(contact)
    resumed: list[str] = []
    output = json.dumps({"event": name, "payload": payload, "at": clock.iso(clock.now())}, default=str)
    stale = tuple(getattr(sfn.exceptions, n) for n in ("TaskTimedOut", "InvalidToken", "TaskDoesNotExist")
                  if hasattr(sfn.exceptions, n))
    for wait in journeys.event_waits(contact_id, name):
        # Take the token first (only if it is still this one): a resumed execution that loops
        # back into the same wait stores its next token under the same key.
        if not journeys.take_event_wait(contact_id, name, wait["execution"], wait["task_token"]):
            continue  # another delivery took it
        try:
            sfn.send_task_success(taskToken=wait["task_token"], output=output)
            resumed.append(wait["execution"])
        except stale:
            pass  # the wait timed out or its execution ended: nothing to resume

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
    return {"resumed": resumed, "entered": entered, "not_entered": not_entered}
