"""Segment files (JOURNEYS.md, Segments): the one reader of their lines, for every use of a segment.

`.jsonl` (or `.ndjson`): one JSON object a line, a contact or `{"contact": {...}, "event": {...},
"at": "+26h"}`. `.csv`: a header row of attribute names; `tags` and `groups` cells split on `;`; an
empty or missing trailing cell is an absent attribute; an `at` column, if any, is the arrival time (not
an attribute). One line is one contact: a quoted cell cannot hold a line break (the AWS segment entry
reads the file line by line).
A line becomes a contact through the one contact model (contact_model.ContactIn), so a segment line,
a webhook body and a contact file obey the same rules.

`journeys enter --segment` (the CLI reads the file, the segment-entry function parses each line:
edges/segment.py) enters every contact now; `journeys test` (local/segments.py) also reads each
line's arrival time `at` and entry event.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from journeys.language.contact_model import ContactIn

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
# CSV cells are text; these columns hold lists (`a;b`). Everything else, `subscribed` included, is
# the contact model's to read (a webhook's "true"/"no" and a CSV cell's mean the same; "yes" is an error).
LIST_COLUMNS = ("tags", "groups")
WRAPPER_KEYS = {"contact", "event", "at"}


class SegmentError(ValueError):
    """The file as a whole cannot be read (unknown type, unreadable, no header, empty): nothing runs."""


class BadLine(ValueError):
    """One line is not a contact: the message says why (the line number is the caller's)."""


@dataclass
class Line:
    """One good segment line: the contact, its entry event, and its `at` as written (None: at once)."""

    contact: dict[str, Any]
    event: dict[str, Any] = field(default_factory=dict)
    at: Any = None


def segment_format(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise SegmentError(f"{path}: unknown segment file type {suffix or '(none)'!r}: a segment is a .csv "
                           "(header row + one contact per line) or a .jsonl file (one JSON object per line)")
    return FORMATS[suffix]


def digest(data: bytes) -> str:
    """Names a segment by its content: the same file is the same segment (re-runs enter nobody twice)."""
    return hashlib.sha256(data).hexdigest()[:20]


def read_lines(path: str | Path) -> tuple[str, list[str] | None, list[tuple[int, str]]]:
    """(format, CSV header or None, [(line number, text)]) for the non-blank lines after the header."""
    fmt = segment_format(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as error:
        raise SegmentError(f"{path}: cannot read the segment: {error.strerror}") from None
    except UnicodeDecodeError:
        raise SegmentError(f"{path}: the segment is not UTF-8 text") from None
    # Lines end at \n only (str.splitlines would also break inside a cell at U+2028, \x0c, ...); a
    # row of empty cells (`,,`: spreadsheet exports end with them) is as blank as an empty line.
    lines = enumerate((line.removesuffix("\r") for line in text.split("\n")), start=1)
    numbered = [(n, line) for n, line in lines if line.strip() and (fmt != "csv" or line.strip(", \t"))]
    header = None
    if fmt == "csv":
        _refuse_multiline_cells(path, text)
    if fmt == "csv" and numbered:
        (_, first), numbered = numbered[0], numbered[1:]
        header = [name.strip() for name in next(csv.reader([first]))]
        if "id" not in header:
            raise SegmentError(f"{path}: line 1: the CSV header has no `id` column (got: {', '.join(header)})")
    if not numbered:
        raise SegmentError(f"{path}: the segment is empty: no contact to run")
    return fmt, header, numbered


def _refuse_multiline_cells(path: str | Path, text: str) -> None:
    """One line is one contact: a quoted cell holding a line break would split a contact in two."""
    reader = csv.reader(io.StringIO(text, newline=""))
    ended = 0
    try:
        for _ in reader:
            if reader.line_num > ended + 1:
                raise SegmentError(f"{path}: lines {ended + 1}-{reader.line_num}: a quoted cell holds a line break: "
                                   "a segment has one contact per line")
            ended = reader.line_num
    except csv.Error as error:
        raise SegmentError(f"{path}: line {reader.line_num}: {error}") from None


def parse_entry(fmt: str, header: list[str] | None, text: str) -> Line:
    """One segment line -> its contact (as enter_contact takes it), event and `at`; BadLine says why not."""
    row = _row(fmt, header, text)
    if _wrapped(row):
        unknown = sorted(set(row) - WRAPPER_KEYS)
        if unknown:
            raise BadLine(f"unknown key(s) {', '.join(unknown)}: a wrapped line has contact, event, at")
        event = row.get("event", {})
        if not isinstance(event, dict):
            raise BadLine("event: expected a JSON object")
        return Line(checked_contact(row["contact"]), event, row.get("at"))
    at = row.pop("at", None) if fmt == "csv" else None
    return Line(checked_contact(row), {}, at)


def carries_arrival(fmt: str, header: list[str] | None, text: str) -> bool:
    """Whether a line has an arrival time or an entry event (what only a rehearsal uses): a cheap
    look, without checking the contact."""
    try:
        row = _row(fmt, header, text)
    except BadLine:
        return False
    if fmt == "csv":
        return "at" in row
    return _wrapped(row) and (row.get("at") is not None or bool(row.get("event")))


def parse_line(fmt: str, header: list[str] | None, text: str) -> dict[str, Any]:
    """One segment line -> the contact as enter_contact takes it; BadLine says why not."""
    return parse_entry(fmt, header, text).contact


def checked_contact(contact: Any) -> dict[str, Any]:
    """The contact as the entry webhook takes it (one model), or BadLine naming each bad field."""
    if not isinstance(contact, dict):
        raise BadLine("contact: expected a JSON object")
    try:
        return ContactIn.model_validate(contact).as_contact()
    except ValidationError as error:
        from journeys.actions.errors import describe_validation_error

        raise BadLine("; ".join(f"{key}: {message}" for key, message in describe_validation_error(error))) from None


def _wrapped(row: dict[str, Any]) -> bool:
    """`{"contact": {...}, "event": ..., "at": ...}` rather than a contact."""
    return isinstance(row.get("contact"), dict) and "id" not in row


def _row(fmt: str, header: list[str] | None, text: str) -> dict[str, Any]:
    if fmt == "jsonl":
        try:
            row = json.loads(text)
        except json.JSONDecodeError as error:
            raise BadLine(f"not valid JSON: {error.msg} (column {error.colno})") from None
        if not isinstance(row, dict):
            raise BadLine(f"expected a JSON object (a contact, or {{\"contact\": ..., \"event\": ..., \"at\": ...}}), "
                          f"got {type(row).__name__}")
        return row
    try:
        cells = next(csv.reader(io.StringIO(text), strict=True), [])
    except csv.Error:
        raise BadLine("a quoted cell runs past the end of the line: a segment cell cannot hold a line break") from None
    if len(cells) > len(header or []):
        raise BadLine(f"{len(cells)} cells, the header has {len(header or [])}")
    # Missing trailing cells are absent attributes, as empty ones are.
    return {name: _cell(name, value) for name, value in zip(header, cells) if value != ""}


def _cell(name: str, value: str) -> Any:
    if name in LIST_COLUMNS:
        return [item.strip() for item in value.split(";") if item.strip()]
    return value


def contacts(path: str | Path) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """(line number, contact, None) or (line number, None, why) for every line of a segment file."""
    fmt, header, numbered = read_lines(path)
    for number, text in numbered:
        try:
            yield number, parse_line(fmt, header, text), None
        except BadLine as error:
            yield number, None, str(error)
