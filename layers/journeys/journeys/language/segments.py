"""Segment files: one contact per line, CSV (a header row names the attributes) or JSONL (one JSON
object per line). A line becomes a contact through the one contact model (contact_model.ContactIn),
so a segment line, a webhook body and a contact file obey the same rules.

Shared by `journeys enter --segment` (the CLI reads the file, the segment-entry function parses each
line) and local rehearsal: one parser.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from journeys.language.contact_model import ContactIn

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
# CSV cells are text; these columns hold lists (`a;b`). Everything else, `subscribed` included, is
# the contact model's to read (a webhook's "true"/"no" and a CSV cell's mean the same; "yes" is an error).
LIST_COLUMNS = ("tags", "groups")


class SegmentError(ValueError):
    """The file as a whole cannot be read (unknown format, no header, empty)."""


class BadLine(ValueError):
    """One line is not a contact: the message says why (the line number is the caller's)."""


def segment_format(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise SegmentError(f"{path}: a segment is a .csv (header row + one contact per line) or a .jsonl file "
                           f"(one JSON object per line), not {suffix or 'a file without suffix'}")
    return FORMATS[suffix]


def digest(data: bytes) -> str:
    """Names a segment by its content: the same file is the same segment (re-runs enter nobody twice)."""
    return hashlib.sha256(data).hexdigest()[:20]


def read_lines(path: str | Path) -> tuple[str, list[str] | None, list[tuple[int, str]]]:
    """(format, CSV header or None, [(line number, text)]) for the non-blank lines after the header."""
    fmt = segment_format(path)
    text = Path(path).read_text(encoding="utf-8-sig")
    numbered = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not numbered:
        raise SegmentError(f"{path}: empty segment")
    header = None
    if fmt == "csv":
        (_, first), numbered = numbered[0], numbered[1:]
        header = [name.strip() for name in next(csv.reader([first]))]
        if "id" not in header:
            raise SegmentError(f"{path}: line 1: the CSV header has no 'id' column (got: {', '.join(header)})")
    return fmt, header, numbered


def parse_line(fmt: str, header: list[str] | None, text: str) -> dict[str, Any]:
    """One segment line -> the contact as enter_contact takes it; BadLine says why not."""
    if fmt == "jsonl":
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as error:
            raise BadLine(f"not JSON: {error.msg} (column {error.colno})") from None
        if not isinstance(raw, dict):
            raise BadLine(f"expected a JSON object, got {type(raw).__name__}")
    else:
        cells = next(csv.reader(io.StringIO(text)), [])
        if len(cells) != len(header or []):
            raise BadLine(f"{len(cells)} cells, the header has {len(header or [])}")
        raw = {name: _cell(name, value) for name, value in zip(header, cells) if value != ""}
    try:
        return ContactIn.model_validate(raw).as_contact()
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "contact"
        raise BadLine(f"{where}: {first['msg']}") from None


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
