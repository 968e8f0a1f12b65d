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
    """The first moment >= now that is hh:mm local time on one of `days` (any day when None).

    Local wall-clock arithmetic, so 09:00 stays 09:00 across a DST change.
    """
    hour, minute = (int(part) for part in hhmm.split(":"))
    allowed = set(days or WEEKDAYS)
    local_now = now.astimezone(tz)
    for offset in range(8):
        day = local_now.date() + dt.timedelta(days=offset)
        candidate = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)
        if WEEKDAYS[candidate.weekday()] in allowed and candidate >= local_now:
            return candidate.astimezone(dt.timezone.utc)
    raise ValueError(f"no day in {sorted(allowed)}")  # unreachable: the model forbids empty days
