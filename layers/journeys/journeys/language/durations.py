"""Durations (`90s`, `15m`, `2h`, `3d`, `1w`, ISO 8601 `P3D`/`PT2H`) and relative times (`-7d`)."""

from __future__ import annotations

import datetime as dt
import re

from journeys import clock

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SHORT = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_ISO = re.compile(
    r"^P(?!$)(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?)?$"
)


# A wait must really wait (a 0s wait would let a loop spin) and end within the life of a Standard
# workflow execution (at most one year).
WAIT_MIN_SECONDS = 1
WAIT_MAX_SECONDS = 365 * 86400


class DurationError(ValueError):
    pass


def parse_duration(text: object) -> int:
    """Seconds in a duration; raises DurationError with the accepted forms."""
    if isinstance(text, str):
        short = _SHORT.match(text)
        if short:
            return int(short.group(1)) * _UNITS[short.group(2)]
        iso = _ISO.match(text.strip().upper())
        if iso:
            parts = {k: int(v or 0) for k, v in iso.groupdict().items()}
            return (parts["w"] * 7 + parts["d"]) * 86400 + parts["h"] * 3600 + parts["m"] * 60 + parts["s"]
    raise DurationError(
        f"invalid duration {text!r}: use a number and a unit (90s, 15m, 2h, 3d, 1w) or ISO 8601 (P3D, PT2H)"
    )


def parse_wait(text: object) -> int:
    """Seconds of a wait (`duration`, a for_event `timeout`, an optimized send's `window`): 1s to 365d."""
    seconds = parse_duration(text)
    if seconds < WAIT_MIN_SECONDS:
        raise DurationError(f"{text!r} does not wait: a wait lasts at least 1s")
    if seconds > WAIT_MAX_SECONDS:
        raise DurationError(f"{text!r} is longer than 365d: a Standard workflow execution lasts at most one year")
    return seconds


def parse_relative(text: object, now: dt.datetime) -> dt.datetime | None:
    """`-7d` / `+2h` relative to now; None when text is not a relative time."""
    if isinstance(text, str) and text[:1] in "+-" and len(text) > 1:
        try:
            seconds = parse_duration(text[1:])
        except DurationError:
            return None
        return now + dt.timedelta(seconds=seconds if text[0] == "+" else -seconds)
    return None


def timestamp_operand_is_valid(value: object) -> bool:
    """An operand `before`/`after` can compare with: ISO 8601 or a relative time like -7d. It lives
    here, not in conditions, so the model can check it without importing the evaluator."""
    return parse_relative(value, clock.now()) is not None or clock.parse_timestamp(value) is not None
