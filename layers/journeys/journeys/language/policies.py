"""Delivery policies (JOURNEYS.md "Delivery policies"): `statemachines/policies.yaml`, one per stack.

    frequency_cap: {emails: 3, per: 7d}       # marketing emails per contact, across all journeys
    quiet_hours: {from: "21:00", to: "08:00"} # contact's timezone (else the journey's, else UTC)
    send_rate: 14/s                           # emails per second for the whole stack

A journey opts out at its top level with `policies: {frequency_cap: off, quiet_hours: off}`.
The send rate has no opt-out: it is the stack's SES quota, which every email shares.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from journeys.language.durations import DurationError, parse_duration
from journeys.language.errors import JourneyFileError, Problem

HH_MM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(s|m|h|sec|second|min|minute|hour)\s*$")
RATE_UNITS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class FrequencyCap(_Strict):
    emails: int = Field(ge=1, description="marketing emails a contact may get within `per`, across all journeys")
    per: str = Field(description="the rolling window: 24h, 7d, 1w, ...")

    @field_validator("emails", mode="before")
    @classmethod
    def _whole_number(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("emails is a whole number of emails, at least 1 (e.g. emails: 3)")
        if value < 1:
            raise ValueError(f"emails: {value} — at least 1 (to send no marketing email, unsubscribe the contact)")
        return value

    @field_validator("per")
    @classmethod
    def _window(cls, value: str) -> str:
        try:
            parse_duration(value)
        except DurationError as error:
            raise ValueError(str(error)) from None
        return value

    @property
    def window_seconds(self) -> int:
        return parse_duration(self.per)


class QuietHours(_Strict):
    start: str = Field(alias="from", description='"21:00": when the quiet window begins (24-hour HH:MM)')
    end: str = Field(alias="to", description='"08:00": when it ends; a window that crosses midnight is normal')

    @field_validator("start", "end", mode="before")
    @classmethod
    def _hh_mm(cls, value: Any) -> str:
        if isinstance(value, int) and not isinstance(value, bool):
            # YAML 1.1 reads an unquoted 21:00 as the sexagesimal number 1260
            value = f"{value // 60:02d}:{value % 60:02d}"
        if not isinstance(value, str) or not HH_MM.match(value.strip()):
            raise ValueError(f"{value!r} is not a time of day as HH:MM (e.g. \"21:00\")")
        return value.strip()

    @field_validator("end")
    @classmethod
    def _not_empty(cls, value: str, info) -> str:
        if info.data.get("start") == value:
            raise ValueError("from and to are the same time: the window would be empty")
        return value

    @property
    def minutes(self) -> tuple[int, int]:
        """(from, to) as minutes after midnight."""
        return _minutes(self.start), _minutes(self.end)


class Policies(_Strict):
    """The stack's delivery policies; every one is optional (absent: no such policy)."""

    frequency_cap: FrequencyCap | None = None
    quiet_hours: QuietHours | None = None
    send_rate: str | None = Field(default=None, description="emails per second for the whole stack, e.g. 14/s (or 600/m)")

    @field_validator("send_rate", mode="before")
    @classmethod
    def _rate(cls, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = f"{value}/s"
        match = RATE.match(value) if isinstance(value, str) else None
        if not match or float(match.group(1)) <= 0:
            raise ValueError(f"{value!r} is not a rate: write emails per second like 14/s (or per minute: 600/m)")
        return value.strip()

    @property
    def emails_per_second(self) -> float | None:
        if self.send_rate is None:
            return None
        match = RATE.match(self.send_rate)
        return float(match.group(1)) / RATE_UNITS[match.group(2)]

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True)


NO_POLICIES = Policies()


class JourneyPolicies(_Strict):
    """A journey's opt-out: `policies: {frequency_cap: off, quiet_hours: off}` (e.g. transactional mail)."""

    frequency_cap: bool = True
    quiet_hours: bool = True

    @field_validator("frequency_cap", "quiet_hours", mode="before")
    @classmethod
    def _on_off(cls, value: Any) -> bool:
        # YAML 1.1 reads a bare off/on as false/true; the quoted words mean the same
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("off", "on"):
            return value.strip().lower() == "on"
        raise ValueError(f"{value!r}: write on or off")


def load_policies(path: str | Path) -> Policies:
    """The policies file at `path`, or JourneyFileError naming the file and each bad key."""
    import yaml

    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise JourneyFileError(str(path), [Problem(f"cannot read file: {error.strerror}")]) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise JourneyFileError(str(path), [Problem(f"{where}not valid YAML: {getattr(error, 'problem', None) or error}")]) from None
    return parse_policies(raw if raw is not None else {}, str(path))


def parse_policies(raw: Any, file: str | None = None) -> Policies:
    if not isinstance(raw, dict):
        raise JourneyFileError(file, [Problem("a policies file is a mapping: frequency_cap, quiet_hours, send_rate")])
    try:
        return Policies.model_validate(raw)
    except ValidationError as error:
        raise JourneyFileError(file, [_problem(item) for item in error.errors()]) from None


def _problem(item: dict[str, Any]) -> Problem:
    key = ".".join(str(part) for part in item["loc"])
    if item["type"] == "extra_forbidden":
        return Problem("unknown key (valid: frequency_cap, quiet_hours, send_rate; frequency_cap has emails, per; "
                       "quiet_hours has from, to)", key=key)
    if item["type"] == "missing":
        return Problem("required key is missing", key=key)
    message = str(item["msg"]).removeprefix("Value error, ")
    return Problem(message, key=key)


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)
