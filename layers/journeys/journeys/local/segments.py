"""A segment file as `journeys test` rehearses it: each good line's contact and entry event, arriving
at its `at` (ISO 8601 or an offset such as `+26h` from the rehearsal's start; without it, the start).

Lines are read by the one segment reader (language/segments.py), as `journeys enter --segment` reads
them on AWS: a bad line is kept aside with its line number and the error, the others go on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from journeys import clock
from journeys.language.durations import DurationError, parse_duration
from journeys.language.segments import BadLine, SegmentError, parse_entry, read_lines

__all__ = ["LineError", "Segment", "SegmentEntry", "SegmentError", "parse_at", "read_segment"]


class LineError(BadLine):
    """One line is bad: it is left out and reported with its number."""


@dataclass
class SegmentEntry:
    line: int
    contact: dict[str, Any]
    event: dict[str, Any]
    at: dt.datetime


@dataclass
class Segment:
    path: str
    entries: list[SegmentEntry] = field(default_factory=list)
    bad_lines: list[tuple[int, str]] = field(default_factory=list)


def parse_at(text: Any, start: dt.datetime) -> dt.datetime:
    """`+26h` (an offset from the start) or an ISO 8601 timestamp -> an aware datetime."""
    if isinstance(text, str) and text.strip().startswith("+"):
        try:
            return start + dt.timedelta(seconds=parse_duration(text.strip()[1:]))
        except DurationError as error:
            raise LineError(f"at: {error}") from None
    moment = clock.parse_timestamp(text)
    if moment is None:
        raise LineError(f"at: {text!r} is neither +DURATION (e.g. +26h) nor an ISO 8601 timestamp")
    return moment


def read_segment(path: str | Path, start: dt.datetime) -> Segment:
    """Read and check every line of a segment file; SegmentError when nothing can run."""
    fmt, header, numbered = read_lines(path)
    segment = Segment(str(path))
    for number, text in numbered:
        try:
            line = parse_entry(fmt, header, text)
            at = parse_at(line.at, start) if line.at is not None else start
        except BadLine as error:
            segment.bad_lines.append((number, str(error)))
            continue
        segment.entries.append(SegmentEntry(number, line.contact, line.event, at))
    return segment
