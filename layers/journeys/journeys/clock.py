"""The one source of "now" for the core.

On AWS it is the wall clock. The local runner installs a virtual clock (moto's Wait states and
Retry back-offs advance it), and every handler, template and condition reads time through here.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

UTC = dt.timezone.utc

_override: Callable[[], dt.datetime] | None = None
_lock = threading.Lock()


def now() -> dt.datetime:
    """Current time, timezone-aware UTC."""
    source = _override
    return source() if source is not None else dt.datetime.now(UTC)


def iso(moment: dt.datetime) -> str:
    """ISO 8601 in UTC with a Z suffix, second precision (what Step Functions' Wait accepts)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(value: object) -> dt.datetime | None:
    """An aware datetime from an ISO 8601 string (or datetime); None when it isn't one."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            return None
    else:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class VirtualClock:
    """A clock that only moves when told to: waits and back-offs advance it instantly."""

    def __init__(self, start: dt.datetime):
        self._now = start.astimezone(UTC)

    def now(self) -> dt.datetime:
        with _lock:
            return self._now

    def advance(self, seconds: float) -> None:
        if seconds > 0:
            with _lock:
                self._now += dt.timedelta(seconds=seconds)

    def advance_to(self, moment: dt.datetime) -> None:
        with _lock:
            if moment > self._now:
                self._now = moment


def install(clock: VirtualClock | None) -> None:
    """Route now() to a virtual clock (None restores the wall clock)."""
    global _override
    _override = clock.now if clock is not None else None
