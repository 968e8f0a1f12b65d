"""Timezones: the contact's, else the journey's, else UTC; and time-of-day waits."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@lru_cache(maxsize=512)
def zone(name: str | None) -> ZoneInfo | None:
    if not name or not isinstance(name, str):
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def known_timezone(value: str | None) -> str | None:
    """A pydantic validator body: None or an IANA zone name, else a clear error."""
    if value is not None and zone(value) is None:
        raise ValueError(f"unknown timezone {value!r} (use an IANA name like Europe/Berlin)")
    return value


def contact_zone(contact: dict, journey_timezone: str | None) -> ZoneInfo:
    """A contact's own timezone wins; an unknown name falls back like a missing one."""
    return zone(contact.get("timezone")) or zone(journey_timezone) or ZoneInfo("UTC")


def next_time_of_day(now: dt.datetime, hhmm: str, tz: ZoneInfo, days: list[str] | None = None) -> dt.datetime:
    """The first instant >= now that reads hh:mm on the local clock on one of `days` (any day when None).

    Wall-clock time, so 09:00 stays 09:00 across a DST change; compared as real instants (UTC), since
    datetimes sharing a tzinfo compare by wall clock and ignore which of two 02:30s is meant.
    """
    hour, minute = (int(part) for part in hhmm.split(":"))
    allowed = set(days or WEEKDAYS)
    now_utc = now.astimezone(dt.timezone.utc)
    today = now_utc.astimezone(tz).date()
    for offset in range(8):
        day = today + dt.timedelta(days=offset)
        if WEEKDAYS[day.weekday()] not in allowed:
            continue
        wall = dt.datetime(day.year, day.month, day.day, hour, minute)
        for instant in _instants(wall, tz):
            if instant >= now_utc:
                return instant
    raise ValueError(f"no day in {sorted(allowed)}")  # unreachable: the model forbids empty days


def _instants(wall: dt.datetime, tz: ZoneInfo) -> list[dt.datetime]:
    """The UTC instants at which the local clock reads `wall`, earliest first: one; two when the clocks
    fall back (02:30 happens twice); none when they spring forward past it, and then the instant they
    jump (the first valid time after it), so that a wait never skips a day."""
    first = wall.replace(tzinfo=tz, fold=0).astimezone(dt.timezone.utc)
    second = wall.replace(tzinfo=tz, fold=1).astimezone(dt.timezone.utc)
    if first < second:
        return [first, second]  # fall back: fold=0 is the earlier, summer-time reading
    if first == second:
        return [first]
    return [_transition(second, first, tz)]  # a gap: fold=1 reads the new offset, so it lies before


def _transition(before: dt.datetime, after: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """The first instant in (before, after] whose UTC offset is the one after the clocks changed."""
    offset_after = after.astimezone(tz).utcoffset()
    low, high = before, after
    while high - low > dt.timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(tz).utcoffset() == offset_after:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)
