"""Entering a contact into a journey: event match, criteria, re-entry, a deterministic name.

Used by the entry webhook on AWS, by start_journey, and by the local runner: one set of rules.
"""

from __future__ import annotations

import datetime as dt
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

# Step Functions refuses a StartExecution input over 256 KiB.
START_INPUT_LIMIT = 262_144
# An entry claim still unrecorded after this long was left by a crash (the entry webhook answers
# within 29 s): a retry of the same event starts it.
CLAIM_STALE_SECONDS = 60
# The membership record keeps the executions that may still run (exit_journey stops them all); past
# this many, entering asks Step Functions which have ended and forgets those.
RUNNING_SET_LIMIT = 16
PAUSED_REASON = "journey paused"  # `journeys pause`: the switch in JourneyTable


class EntryTooLarge(ValueError):
    """The contact and event would not fit the execution's input: the sender gets a 4xx naming it."""


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
    start = Start(journey_id, stored["id"], execution_name(journey_id, stored["id"], idempotency_key(event, contact)),
                  state_machine_arn, sfn, journeys)
    seen = _this_entry_again(membership, start, stored, event)
    if seen is not None:
        return seen
    decision = decide(rules, stored, event, membership, event_name)
    if not decision.entered:
        return EntryResult("NOT_ENTERED", reason=decision.reason)
    execution_input = start_input(stored, event)
    claim = None
    if rules.re_entry_after_seconds != 0:  # never / after: one conditional write picks one of concurrent entries
        claim = _claim(rules, journeys, stored["id"], journey_id, start.name)
        if claim is None:
            return _claim_lost(rules, stored, event, start, event_name, execution_input)
    return start.run(execution_input, claim)


@dataclass
class Start:
    """StartExecution of one entry under its deterministic name, then the record of it."""

    journey_id: str
    contact_id: str
    name: str
    state_machine_arn: str
    sfn: Any
    journeys: Any

    def run(self, execution_input: str, claim=None) -> EntryResult:
        sfn, journeys = self.sfn, self.journeys
        try:
            arn = sfn.start_execution(stateMachineArn=self.state_machine_arn, name=self.name, input=execution_input)["executionArn"]
        except sfn.exceptions.ExecutionAlreadyExists:
            # Delivered twice: the first delivery started it. Report that execution, start nothing.
            return _duplicate(_execution_arn(self.state_machine_arn, self.name))
        except Exception:
            if claim is not None:
                journeys.release_entry(claim)  # nothing started: a retry may enter
            raise
        running = journeys.record_entry(self.contact_id, self.journey_id, arn, clock.iso(clock.now()))
        if len(running) > RUNNING_SET_LIMIT and len(running) % RUNNING_SET_LIMIT == 1:
            # Each time the set grows past another RUNNING_SET_LIMIT, not on every entry: one
            # DescribeExecution per earlier execution, amortised to about one per entry.
            ended = [other for other in running if other != arn and execution_status(sfn, other) != "RUNNING"]
            journeys.forget_executions(self.contact_id, self.journey_id, ended)
        return EntryResult("STARTED", execution_arn=arn)


def start_input(contact: dict[str, Any], event: dict[str, Any]) -> str:
    """The StartExecution input; over Step Functions' limit it is refused here, not lost there."""
    text = json.dumps(initial_state(contact, event))
    size = len(text.encode())
    if size > START_INPUT_LIMIT:
        raise EntryTooLarge(f"the journey's first state (contact and event) would be {size:,} bytes; "
                            f"Step Functions accepts at most {START_INPUT_LIMIT:,} (send a smaller event)")
    return text


def _claim(rules: Entry, journeys, contact_id: str, journey_id: str, name: str):
    """The conditional write that takes the entry (re_entry never: only a first entry; after: only
    once the window has passed since the last); None when another entry holds it."""
    after = rules.re_entry_after_seconds
    now = clock.now()
    last_before = None if after is None else clock.iso(now - dt.timedelta(seconds=after))
    return journeys.claim_entry(contact_id, journey_id, name, clock.iso(now), last_before)


def _claim_lost(rules: Entry, stored, event, start: Start, event_name: str | None, execution_input: str) -> EntryResult:
    """Another entry of this contact claimed the journey first: the same event (DUPLICATE, or its
    start if that is still to come), or the re-entry rule keeps this one out (NOT_ENTERED)."""
    membership = start.journeys.membership(start.contact_id, start.journey_id)
    seen = _this_entry_again(membership, start, stored, event)
    if seen is not None:
        return seen
    decision = decide(rules, stored, event, membership, event_name)
    return EntryResult("NOT_ENTERED", reason=decision.reason or "another entry of this contact into the journey came first")


def _this_entry_again(membership: dict[str, Any] | None, start: Start, stored, event) -> EntryResult | None:
    """The answer when the contact x journey record already knows this very entry (its execution
    name): started (DUPLICATE, the same entry, not a re-entry) or claimed; None for a new entry."""
    earlier = _started_before(membership, start.name)
    if earlier:
        return _duplicate(earlier)
    if _claimed_by(membership, start.name):
        return _claimed_entry(membership, start, stored, event)
    return None


def _claimed_entry(membership: dict[str, Any], start: Start, stored, event) -> EntryResult:
    """This same event claimed the entry. A fresh claim is being started by that delivery: this one
    is its DUPLICATE. A claim older than any request lives was left by a crash before its start:
    start it now, under the same name (Step Functions starts one execution per name)."""
    claimed_at = clock.parse_timestamp(membership.get("entered_at"))
    if claimed_at and (clock.now() - claimed_at).total_seconds() < CLAIM_STALE_SECONDS:
        return _duplicate(_execution_arn(start.state_machine_arn, start.name))
    return start.run(start_input(stored, event))


def _duplicate(execution_arn: str) -> EntryResult:
    return EntryResult("DUPLICATE", execution_arn=execution_arn, reason="this event already entered the contact")


def _started_before(membership: dict[str, Any] | None, name: str) -> str | None:
    """The execution named `name` if the contact x journey record knows it (this entry, again)."""
    known = may_be_running(membership) + [(membership or {}).get("execution")]
    return next((arn for arn in known if arn and arn.endswith(":" + name)), None)


def _claimed_by(membership: dict[str, Any] | None, name: str) -> bool:
    """Is the entry claimed for execution `name` and not yet recorded as started?"""
    return (membership or {}).get("claimed") == name


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
