"""Evaluate what lies ahead of a Task: the gates/splits it leads to and the wake times of waits.

The compiler lists them in the Task's `lookahead`; Choice states then branch on `$.checks` and
scheduled Wait states wait until `$.wake` (see compiler/asl.py for why).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from pydantic import TypeAdapter

from journeys import clock
from journeys.language import conditions, templates
from journeys.language.durations import parse_duration
from journeys.language.model import Condition
from journeys.language.timezones import contact_zone, next_time_of_day

_CONDITION = TypeAdapter(Condition)
DEFAULT_SEND_HOUR = 10


def evaluate(lookahead: dict[str, dict], contact: dict, event: dict, data: dict, journey_tz: str | None) -> dict[str, dict]:
    scope = {"contact": contact, "event": event, "journey": data}
    now = clock.now()
    checks = {key: _check(spec, scope, contact, now) for key, spec in (lookahead.get("checks") or {}).items()}
    wake = {key: clock.iso(_wake(spec, scope, contact, journey_tz, now)) for key, spec in (lookahead.get("wake") or {}).items()}
    return {"checks": checks, "wake": wake}


def _check(spec: dict, scope: dict, contact: dict, now: dt.datetime) -> Any:
    if "gate" in spec:
        return conditions.evaluate(_CONDITION.validate_python(spec["gate"]), scope, now)
    if "split" in spec:
        for branch in spec["split"]:
            if conditions.evaluate(_CONDITION.validate_python(branch["when"]), scope, now):
                return branch["name"]
        return None  # the Choice's Default: the split's default step
    return random_branch(spec["random"], f"{contact['id']}|{spec['seed']}")


def random_branch(branches: list[dict], seed: str) -> str:
    """A weighted choice that is stable for a contact and a step (a hash, not a coin)."""
    point = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big") / 2**64
    total = sum(float(branch["weight"]) for branch in branches)
    running = 0.0
    for branch in branches:
        running += float(branch["weight"]) / total
        if point < running:
            return branch["name"]
    return branches[-1]["name"]


def _wake(spec: dict, scope: dict, contact: dict, journey_tz: str | None, now: dt.datetime) -> dt.datetime:
    tz = contact_zone(contact, journey_tz)
    if "until_time" in spec:
        return next_time_of_day(now, spec["until_time"], tz, spec.get("days"))
    if "best_time_within" in spec:
        return best_send_time(contact, now, parse_duration(spec["best_time_within"]), tz)
    rendered = templates.render(spec["until"], {**scope, "now": clock.iso(now)})
    moment = clock.parse_timestamp(rendered)
    return max(moment, now) if moment else now  # an empty or past `until` does not wait


def best_send_time(contact: dict, now: dt.datetime, window_seconds: int, tz) -> dt.datetime:
    """The local hour in [now, now + window] with the most past engagement; else 10:00 local.

    Past engagement is the contact's `engagement_hours`: a list of local hours (0-23) at which
    they opened or clicked, or a mapping hour -> count. With no history and no 10:00 in the
    window, the email goes now.
    """
    counts = _hour_counts(contact.get("engagement_hours"))
    end = now + dt.timedelta(seconds=window_seconds)
    local = now.astimezone(tz)
    top = local.replace(minute=0, second=0, microsecond=0)
    candidates = [local] + [top + dt.timedelta(hours=h) for h in range(1, window_seconds // 3600 + 1)]
    candidates = [c for c in candidates if c.astimezone(dt.timezone.utc) <= end]
    if counts:
        best = max(candidates, key=lambda c: (counts.get(c.hour, 0), -c.timestamp()))
        if counts.get(best.hour, 0) > 0:
            return best.astimezone(dt.timezone.utc)
    for candidate in candidates:
        if candidate.hour == DEFAULT_SEND_HOUR and candidate.minute == 0:
            return candidate.astimezone(dt.timezone.utc)
    return now


def _hour_counts(history: Any) -> dict[int, float]:
    counts: dict[int, float] = {}
    if isinstance(history, dict):
        items = history.items()
    elif isinstance(history, list):
        items = ((hour, 1) for hour in history)
    else:
        return counts
    for hour, count in items:
        try:
            h = int(hour)
            counts[h] = counts.get(h, 0) + float(count)
        except (TypeError, ValueError):
            continue
    return counts
