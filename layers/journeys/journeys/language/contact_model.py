"""A contact as it arrives, from a webhook sender or a local contact file: one model for both.

`{id, email, first_name, ..., timezone, tags: [], groups: [], subscribed}` plus any attributes
(JOURNEYS.md, Contacts); attribute names become DynamoDB attribute names.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from journeys.language.timezones import known_timezone

# A stored contact (attributes merged over every post) is at most this many bytes of JSON: it goes
# into every execution's state, which Step Functions caps at 256 KiB with the steps' results.
CONTACT_MAX_BYTES = 32 * 1024
# `subscribed` spellings read as false (besides the boolean): what unsubscribe forms commonly send.
SUBSCRIBED_FALSE = ("false", "no", "off", "0", 0)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ATTRIBUTE_NAME_MAX = 255  # contact attributes become DynamoDB attribute names (never empty)


class ContactIn(BaseModel):
    """A contact as senders give it: `id` plus any attributes (stored as given, merged)."""

    model_config = ConfigDict(extra="allow")
    id: str = Field(min_length=1, max_length=256)
    email: str | None = Field(None, max_length=254)
    first_name: str | None = Field(None, max_length=256)
    last_name: str | None = Field(None, max_length=256)
    timezone: str | None = None
    tags: list[str] | None = None
    groups: list[str] | None = None
    subscribed: bool | None = Field(None, description="false unsubscribes; true is ignored (consent is not given by webhook)")

    @field_validator("email")
    @classmethod
    def _email(cls, value):
        if value is not None and not EMAIL.match(value):
            raise ValueError("not an email address")
        return value

    _timezone = field_validator("timezone")(known_timezone)

    @field_validator("subscribed", mode="before")
    @classmethod
    def _subscribed(cls, value):
        """Opting out is honoured in any unambiguous spelling (a lost unsubscribe is the costly
        mistake); consent must be the boolean true (or "true"). Anything else ("yes", 1) is refused."""
        spelled = value.strip().lower() if isinstance(value, str) else value
        if value is None or isinstance(value, bool):
            return value
        if spelled in SUBSCRIBED_FALSE and not isinstance(spelled, float):
            return False
        if spelled == "true":
            return True
        raise PydanticCustomError("subscribed_not_boolean", "subscribed must be true or false, got {value}",
                                  {"value": repr(value)[:40]})

    @model_validator(mode="after")
    def _attribute_names(self):
        bad = [path for path in _attribute_paths(self.model_extra or {}) if not 1 <= len(path[-1]) <= ATTRIBUTE_NAME_MAX]
        if bad:
            shown = ", ".join(repr(".".join(path)) for path in bad[:5])
            raise PydanticCustomError("attribute_name", "attribute names must be 1 to {max} characters: {names}",
                                      {"max": ATTRIBUTE_NAME_MAX, "names": shown})
        return self

    def as_contact(self) -> dict[str, Any]:
        contact = self.model_dump(exclude_unset=True, mode="json")
        if contact.get("subscribed") is True:
            del contact["subscribed"]  # an unsubscribed contact stays unsubscribed
        return contact


class ContactTooLarge(ValueError):
    """A contact past CONTACT_MAX_BYTES: refused whole (the webhook answers 413)."""


def check_contact_size(contact: dict[str, Any]) -> None:
    size = len(json.dumps(contact, separators=(",", ":"), default=str).encode("utf-8", "surrogatepass"))
    if size > CONTACT_MAX_BYTES:
        raise ContactTooLarge(f"contact {str(contact.get('id'))[:64]!r} would be {size:,} bytes of JSON; a contact holds at "
                              f"most {CONTACT_MAX_BYTES:,} bytes (send fewer or smaller attributes)")


def _attribute_paths(attributes: dict[str, Any], parent: tuple[str, ...] = ()):
    """Every attribute name with its path, nested maps included (each is a DynamoDB name)."""
    for name, value in attributes.items():
        yield parent + (name,)
        if isinstance(value, dict):
            yield from _attribute_paths(value, parent + (name,))
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    yield from _attribute_paths(item, parent + (name,))
