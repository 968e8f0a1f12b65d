"""Delivery policies at send time: quiet hours, the frequency cap and the stack's send rate.

One semantics locally and on AWS. An email step asks, in this order:
1. quiet hours (marketing email only, unless the journey opts out): inside the window the send is
   *deferred* until the window ends;
2. the frequency cap (marketing email only, unless the journey opts out): a conditional write takes
   one of the contact's slots in the rolling window, or the send is `skipped` (`frequency cap`);
3. the send rate (every email: it is the stack's SES quota): a conditional write reserves the next
   free slot of the stack's schedule; a slot later than now defers the send until it.

A deferral is the `SendDeferred` error, whose message is the time to wake. The compiled Catch of an
email Task takes it to a Wait state until that time and then runs the Task again; Lambda never
sleeps, and a send that is not deferred costs no extra state transition.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from journeys import clock
from journeys.language.policies import NO_POLICIES, JourneyPolicies, Policies, parse_policies
from journeys.language.timezones import contact_zone, next_time_of_day

POLICIES_ENV = "JOURNEYS_POLICIES"  # a policies JSON file; else the one `journeys build` packaged
PACKAGED = Path(__file__).with_name("policies.json")
RATE_KEY = {"pk": "POLICY#send-rate", "sk": "SCHEDULE"}
CAP_SK = "POLICY#frequency-cap"
CLAIM_ATTEMPTS = 20  # optimistic writes under contention; each loser re-reads and tries again


class SendDeferred(Exception):
    """Not now: the message is the ISO 8601 time to try again (the compiled Wait reads it); the
    subclass's name (Lambda's errorType, the Catch's Error) says why."""

    reason = "deferred"

    def __init__(self, until: dt.datetime):
        super().__init__(clock.iso(until))
        self.until = until


class QuietHoursDeferral(SendDeferred):
    reason = "quiet hours"


class SendRateDeferral(SendDeferred):
    reason = "send rate"


# What the compiled Catch of an email Task lists (compiler/asl.py), by the name Lambda reports.
DEFERRALS = {cls.__name__: cls.reason for cls in (QuietHoursDeferral, SendRateDeferral)}


class PolicyContention(Exception):
    """A slot could not be claimed in CLAIM_ATTEMPTS tries: retried by the Task like a throttle."""


def active() -> Policies:
    """The stack's policies: $JOURNEYS_POLICIES (local runs, tests), else the packaged file, else none."""
    path = os.environ.get(POLICIES_ENV) or (str(PACKAGED) if PACKAGED.exists() else "")
    if not path:
        return NO_POLICIES
    stat = os.stat(path)
    return _read(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _read(path: str, _mtime: int, _size: int) -> Policies:
    return parse_policies(json.loads(Path(path).read_text(encoding="utf-8")), path)


# ---------------------------------------------------------------- quiet hours

def quiet_until(now: dt.datetime, policies: Policies, contact: dict[str, Any], journey_timezone: str | None) -> dt.datetime | None:
    """When the quiet window around `now` ends for this contact, or None when `now` is not in it.

    The contact's timezone, else the journey's, else UTC; the window may cross midnight; it is read on
    the local wall clock, so on a DST day it is as many real hours longer or shorter as the day is.
    """
    quiet = policies.quiet_hours
    if quiet is None:
        return None
    tz = contact_zone(contact, journey_timezone)
    local = now.astimezone(tz)
    minute = local.hour * 60 + local.minute
    start, end = quiet.minutes
    inside = start <= minute < end if start < end else (minute >= start or minute < end)
    if not inside:
        return None
    return next_time_of_day(now + dt.timedelta(seconds=1), quiet.end, tz)


# ---------------------------------------------------------------- frequency cap

def take_cap_slot(table, contact_id: str, ref: str, now: dt.datetime, policies: Policies) -> bool:
    """Count this send against the contact's cap, atomically: True if it may go, False if capped.

    The contact's sends in the window live in one item (`sends`: ref -> epoch second); a conditional
    write on its `version` makes two journeys racing for the last slot take it once. A retried send
    (same ref) finds itself already counted and goes without counting twice.
    """
    cap = policies.frequency_cap
    key = {"pk": f"CONTACT#{contact_id}", "sk": CAP_SK}
    since = now.timestamp() - cap.window_seconds
    for _ in range(CLAIM_ATTEMPTS):
        item = table.get_item(Key=key, ConsistentRead=True).get("Item") or {}
        sends = {ref_: int(at) for ref_, at in (item.get("sends") or {}).items() if int(at) > since}
        if ref in sends:
            return True
        if len(sends) >= cap.emails:
            return False
        sends[ref] = int(now.timestamp())
        version = int(item.get("version", 0))
        try:
            table.put_item(
                Item={**key, "sends": sends, "version": version + 1,
                      "expires_at": int(now.timestamp()) + cap.window_seconds + 86400},
                ConditionExpression="attribute_not_exists(pk) OR version = :v",
                ExpressionAttributeValues={":v": version},
            )
            return True
        except ClientError as error:
            _unless_condition_failed(error)
            continue  # another send of this contact won the race: read again
    raise PolicyContention(f"frequency cap of contact {contact_id}: no slot claimed in {CLAIM_ATTEMPTS} tries")


def release_cap_slot(table, contact_id: str, ref: str) -> None:
    """Give back a slot taken by a send that then did not go (e.g. the send rate deferred it)."""
    key = {"pk": f"CONTACT#{contact_id}", "sk": CAP_SK}
    try:
        table.update_item(Key=key, UpdateExpression="REMOVE sends.#ref", ExpressionAttributeNames={"#ref": ref},
                          ConditionExpression="attribute_exists(pk)")
    except ClientError as error:
        _unless_condition_failed(error)


# ---------------------------------------------------------------- send rate

def reserve_send_slot(table, now: dt.datetime, policies: Policies) -> dt.datetime:
    """The time this email may go under the stack's send rate: a slot of one shared schedule.

    The schedule is one item, `next` = the epoch second (fractional) of the next free slot. Taking a
    slot adds 1/rate to it, on condition that it is not in the past (an UpdateItem that cannot lose a
    race); when it is in the past (the stack was quiet) the first sender restarts it at now. Slots
    are whole seconds when compared with the clock, so at most `rate` emails go in any second.
    """
    step = 1.0 / policies.emails_per_second
    now_s = now.timestamp()
    for _ in range(CLAIM_ATTEMPTS):
        try:
            new = table.update_item(
                Key=RATE_KEY, UpdateExpression="SET #next = #next + :step",
                ConditionExpression="#next >= :now", ExpressionAttributeNames={"#next": "next"},
                ExpressionAttributeValues={":step": _decimal(step), ":now": _decimal(now_s)},
                ReturnValues="UPDATED_NEW",
            )["Attributes"]["next"]
            return _instant(float(new) - step)
        except ClientError as error:
            _unless_condition_failed(error)
        try:
            table.update_item(
                Key=RATE_KEY, UpdateExpression="SET #next = :after",
                ConditionExpression="attribute_not_exists(#next) OR #next < :now",
                ExpressionAttributeNames={"#next": "next"},
                ExpressionAttributeValues={":after": _decimal(now_s + step), ":now": _decimal(now_s)},
            )
            return _instant(now_s)
        except ClientError as error:
            _unless_condition_failed(error)
            continue  # someone restarted it first: take the next slot of their schedule
    raise PolicyContention(f"send rate: no slot reserved in {CLAIM_ATTEMPTS} tries")


def _unless_condition_failed(error: ClientError) -> None:
    """A lost conditional write is expected (someone else moved first): anything else is raised. By
    the error code, not the class: each client builds its own exception classes."""
    if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
        raise error


def _instant(epoch: float) -> dt.datetime:
    """A slot as the whole second it falls in (so no second holds more than `rate` sends)."""
    return dt.datetime.fromtimestamp(math.floor(epoch + 1e-6), dt.timezone.utc)


def _decimal(value: float):
    from decimal import Decimal

    return Decimal(repr(round(value, 6)))


# ---------------------------------------------------------------- the decision

def before_send(ctx, *, marketing: bool) -> str | None:
    """Apply the policies to the email `ctx` is about to send: None = send now; "frequency cap" =
    skip it; raises SendDeferred when it must wait (quiet hours, send rate)."""
    policies = active()
    if policies == NO_POLICIES:
        return None
    now = clock.parse_timestamp(ctx.now)
    opted = JourneyPolicies.model_validate(ctx.event.journey.policies or {})
    if marketing and opted.quiet_hours:
        until = quiet_until(now, policies, ctx.contact, ctx.event.journey.timezone)
        if until is not None:
            _count(ctx, "deferred: quiet hours")
            raise QuietHoursDeferral(until)
    table = ctx.journeys.table
    capped_here = False
    if marketing and opted.frequency_cap and policies.frequency_cap is not None:
        if not take_cap_slot(table, ctx.contact["id"], ctx.ref, now, policies):
            _count(ctx, "capped: frequency cap")
            return "frequency cap"
        capped_here = True
    if policies.send_rate is not None and not _holds_rate_slot(ctx, now):
        slot = reserve_send_slot(table, now, policies)
        if slot > now:
            if capped_here:
                release_cap_slot(table, ctx.contact["id"], ctx.ref)  # counted again when it goes
            _count(ctx, "deferred: send rate")
            raise SendRateDeferral(slot)
    return None


def _count(ctx, outcome: str) -> None:
    """What `journeys status` shows of the policies; losing a count must not lose the send."""
    try:
        ctx.journeys.count_policy_outcome(ctx.event.journey.id, outcome)
    except ClientError:
        pass


def deferral(state: dict[str, Any]) -> dict[str, Any] | None:
    """The deferral that brought this Task back, from the execution state: {until, error, seq} as
    the compiled Pass state keeps it, only when made at this state's seq (a later step never mistakes
    an old deferral for its own)."""
    kept = state.get("deferral")
    if not isinstance(kept, dict) or "error" not in kept or kept.get("seq") != state.get("seq"):
        return None
    return kept


def _holds_rate_slot(ctx, now: dt.datetime) -> bool:
    """This Task already waited for its send-rate slot and the slot has come."""
    kept = deferral({**(ctx.event.state.model_extra or {}), "seq": ctx.event.state.seq})
    if kept is None or kept["error"] != SendRateDeferral.__name__:
        return False
    until = clock.parse_timestamp((kept.get("until") or {}).get("errorMessage"))
    return until is not None and until <= now
