"""Segment files (JOURNEYS.md, Segments): the contacts a rehearsal (`journeys test`) enters.

`.jsonl`: one JSON object a line, either a contact or `{"contact": {...}, "event": {...}, "at": "+26h"}`.
`.csv`: a header row of attribute names; `tags` and `groups` cells split on `;`; an empty cell is an
absent attribute; an `at` column, if any, is the arrival time (not an attribute).
`at` is ISO 8601 or an offset (`+26h`, `+3d`) from the rehearsal's start; without it, the start.

Every contact is checked by the model the entry webhook checks with (language/contact_model.py): a
bad line is kept aside with its line number and the error, the others go on.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from journeys import clock
from journeys.actions.errors import describe_validation_error
from journeys.language.contact_model import ContactIn
from journeys.language.durations import DurationError, parse_duration

SUFFIXES = (".jsonl", ".csv")
LIST_COLUMNS = ("tags", "groups")
WRAPPER_KEYS = {"contact", "event", "at"}


class SegmentError(ValueError):
    """The whole file is unusable (unknown type, unreadable, no contact at all): nothing runs."""


class LineError(ValueError):
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


def checked_contact(contact: Any) -> dict[str, Any]:
    """The contact as the entry webhook takes it (one model), or LineError naming each bad field."""
    if not isinstance(contact, dict):
        raise LineError("contact: expected a JSON object")
    try:
        return ContactIn.model_validate(contact).as_contact()
    except ValidationError as error:
        raise LineError("; ".join(f"{key}: {message}" for key, message in describe_validation_error(error))) from None


def read_segment(path: str | Path, start: dt.datetime) -> Segment:
    """Read and check every line of a segment file; raise SegmentError when nothing can run."""
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise SegmentError(f"{path}: unknown segment file type {path.suffix or '(none)'!r}: expected .jsonl or .csv")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise SegmentError(f"{path}: cannot read the segment: {error.strerror}") from None
    except UnicodeDecodeError:
        raise SegmentError(f"{path}: the segment is not UTF-8 text") from None
    segment = Segment(str(path))
    rows = _jsonl_rows(text) if path.suffix.lower() == ".jsonl" else _csv_rows(text, path)
    for line, row in rows:
        try:
            segment.entries.append(_entry(line, row, start))
        except LineError as error:
            segment.bad_lines.append((line, str(error)))
    if not segment.entries and not segment.bad_lines:
        raise SegmentError(f"{path}: the segment is empty: no contact to run")
    return segment


def _entry(line: int, row: Any, start: dt.datetime) -> SegmentEntry:
    if isinstance(row, LineError):
        raise row
    if not isinstance(row, dict):
        raise LineError("expected a JSON object (a contact, or {\"contact\": ..., \"event\": ..., \"at\": ...})")
    if isinstance(row.get("contact"), dict) and "id" not in row:  # the wrapped form
        unknown = sorted(set(row) - WRAPPER_KEYS)
        if unknown:
            raise LineError(f"unknown key(s) {', '.join(unknown)}: a wrapped line has contact, event, at")
        event = row.get("event", {})
        if not isinstance(event, dict):
            raise LineError("event: expected a JSON object")
        at = parse_at(row["at"], start) if row.get("at") is not None else start
        return SegmentEntry(line, checked_contact(row["contact"]), event, at)
    return SegmentEntry(line, checked_contact(row), {}, start)


def _jsonl_rows(text: str):
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            yield number, json.loads(raw)
        except json.JSONDecodeError as error:
            yield number, LineError(f"not valid JSON: {error.msg} (column {error.colno})")


def _csv_rows(text: str, path: Path):
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        return
    header = [name.strip() for name in header]
    if "id" not in header:
        raise SegmentError(f"{path}: line 1: the header row names no `id` column")
    for cells in reader:
        index = reader.line_num  # the line a row ends on (a quoted cell may span lines)
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(header):
            yield index, LineError(f"{len(cells)} cells for {len(header)} columns")
            continue
        row: dict[str, Any] = {}
        for name, cell in zip(header, cells):
            if cell == "":
                continue  # an empty cell is an absent attribute
            row[name] = [part.strip() for part in cell.split(";") if part.strip()] if name in LIST_COLUMNS else cell
        at = row.pop("at", None)
        yield index, ({"contact": row, "at": at} if at is not None else row)
