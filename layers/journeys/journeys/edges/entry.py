"""Entering a contact into a journey: event match, criteria, re-entry, a deterministic name.

Used by the entry webhook on AWS, by start_journey, and by the local runner: one set of rules.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from journeys import clock
from journeys.language import conditions
from journeys.runtime import observability
from journeys.language.model import Entry
from journeys.runtime.store import may_be_running

# The membership record keeps the executions that may still run (exit_journey stops them all); past
# this many, entering asks Step Functions which have ended and forgets those.
RUNNING_SET_LIMIT = 16
PAUSED_REASON = "journey paused"  # `journeys pause`: the switch in JourneyTable


@dataclass
class EntryDecision:
    entered: bool
    reason: str | None = None


def decide(entry: Entry, contact: dict[str, Any], event: dict[str, Any], membership: dict[str, Any] | None,
           event_name: str | None = None) -> EntryDecision:
    """May this contact enter now? (criteria read the stored, upserted contact)"""
    if entry.trigger == "event" and event_name is not None and event_name != entry.event:
        return EntryDecision(False, f"event '{event_name}' does not enter this journey (it waits for '{entry.event}')")
    if membership:
        after = entry.re_entry_after_seconds
        if after is None:
            return EntryDecision(False, "already entered this journey (re_entry: never)")
        entered_at = clock.parse_timestamp(membership.get("entered_at"))
        if after and entered_at and (clock.now() - entered_at).total_seconds() < after:
            return EntryDecision(False, f"entered {clock.iso(entered_at)}; re_entry after {entry.re_entry['after']} has not passed")
    scope = {"contact": contact, "event": event, "journey": {}}
    if not conditions.evaluate(entry.criteria, scope):
        return EntryDecision(False, "entry criteria do not match")
    return EntryDecision(True)


def explicit_key(event: dict[str, Any]) -> str | None:
    """The sender's own key for an event: `idempotency_key`, else `id`, else `event_id`."""
    for key in ("idempotency_key", "id", "event_id"):
        if isinstance(event.get(key), (str, int)) and str(event[key]):
            return str(event[key])
    return None


def idempotency_key(event: dict[str, Any], contact: dict[str, Any]) -> str:
    """The event's own key when it has one, else a hash of the event and the contact as sent: a
    webhook delivered twice names the same execution (Step Functions starts it once), while a new
    payload is a new entry, subject to re_entry."""
    key = explicit_key(event)
    if key:
        return key
    sent = json.dumps({"event": event, "contact": contact}, sort_keys=True, default=str)
    return hashlib.sha256(sent.encode()).hexdigest()[:24]


def execution_name(journey_id: str, contact_id: str, key: str) -> str:
    """<= 80 chars of [A-Za-z0-9-_]: readable contact prefix + a digest of journey, contact, key."""
    digest = hashlib.sha256(f"{journey_id}|{contact_id}|{key}".encode()).hexdigest()[:20]
    readable = re.sub(r"[^A-Za-z0-9_-]", "-", contact_id)[:50]
    return f"{readable}-{digest}"


def initial_state(contact: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    return {"contact": contact, "event": event, "data": {}, "seq": 0}


@dataclass
class EntryResult:
    status: str  # STARTED | DUPLICATE | NOT_ENTERED
    execution_arn: str | None = None
    reason: str | None = None


ENTRY_METRICS = {"STARTED": "JourneyEntered", "DUPLICATE": "JourneyDuplicate", "NOT_ENTERED": "JourneyNotEntered"}


def enter_contact(journey_id: str, rules: Entry, contact: dict[str, Any], event: dict[str, Any], *,
                  state_machine_arn: str, sfn, contacts, journeys, event_name: str | None = None) -> EntryResult:
    """Upsert the contact, apply the entry rules, start the execution (once per idempotency key).

    The one way into a journey: the webhook (entries and events), start_journey and the local runner
    all call it, so its outcome is counted here (JourneyEntered, JourneyDuplicate, JourneyNotEntered
    by Journey) whoever asked. `contact` is the contact as the sender gave it (it keys an event that
    has no key of its own).
    """
    result = _enter(journey_id, rules, contact, event, state_machine_arn=state_machine_arn, sfn=sfn,
                    contacts=contacts, journeys=journeys, event_name=event_name)
    observability.count(ENTRY_METRICS[result.status], {"Journey": journey_id})
    return result


def _enter(journey_id: str, rules: Entry, contact: dict[str, Any], event: dict[str, Any], *,
           state_machine_arn: str, sfn, contacts, journeys, event_name: str | None) -> EntryResult:
    if journeys.entries_paused(journey_id):
        return EntryResult("NOT_ENTERED", reason=PAUSED_REASON)
    stored = contacts.upsert(contact)
    membership = journeys.membership(stored["id"], journey_id)
    name = execution_name(journey_id, stored["id"], idempotency_key(event, contact))
    earlier = _started_before(membership, name)
    if earlier:
        # The same event again, after its execution started: the same entry, not a re-entry.
        return EntryResult("DUPLICATE", execution_arn=earlier, reason="this event already entered the contact")
    decision = decide(rules, stored, event, membership, event_name)
    if not decision.entered:
        return EntryResult("NOT_ENTERED", reason=decision.reason)
    try:
        arn = sfn.start_execution(stateMachineArn=state_machine_arn, name=name,
                                  input=json.dumps(initial_state(stored, event)))["executionArn"]
    except sfn.exceptions.ExecutionAlreadyExists:
        # Delivered twice: the first delivery started it. Report that execution, start nothing.
        return EntryResult("DUPLICATE", execution_arn=_execution_arn(state_machine_arn, name),
                           reason="this event already entered the contact")
    running = journeys.record_entry(stored["id"], journey_id, arn, clock.iso(clock.now()))
    if len(running) > RUNNING_SET_LIMIT and len(running) % RUNNING_SET_LIMIT == 1:
        # Each time the set grows past another RUNNING_SET_LIMIT, not on every entry: one
        # DescribeExecution per earlier execution, amortised to about one per entry.
        ended = [other for other in running if other != arn and execution_status(sfn, other) != "RUNNING"]
        journeys.forget_executions(stored["id"], journey_id, ended)
    return EntryResult("STARTED", execution_arn=arn)


def _started_before(membership: dict[str, Any] | None, name: str) -> str | None:
    """The execution named `name` if the contact x journey record knows it (this entry, again)."""
    known = may_be_running(membership) + [(membership or {}).get("execution")]
    return next((arn for arn in known if arn and arn.endswith(":" + name)), None)


def execution_status(sfn, execution_arn: str) -> str | None:
    """RUNNING, SUCCEEDED, ABORTED, ...; None once Step Functions no longer knows the execution
    (closed executions are purged after about 90 days)."""
    try:
        return sfn.describe_execution(executionArn=execution_arn)["status"]
    except sfn.exceptions.ExecutionDoesNotExist:
        return None


def _execution_arn(state_machine_arn: str, name: str) -> str:
    """arn:...:stateMachine:NAME[:alias] -> arn:...:execution:NAME:execution-name"""
    parts = state_machine_arn.split(":")
    return ":".join(parts[:5] + ["execution", parts[6], name])
