"""The sender addresses a journey's emails go out from (`from` of the email steps), and the SES identities
(their domains) that must be verified for them: `journeys build` lists them, the local world verifies
them (a rehearsal accepts the senders the journey names), and a sender SES rejects names its identity."""

from __future__ import annotations

from email.utils import parseaddr

from journeys.language.model import Journey

EMAIL_STEPS = {"send_email", "send_optimized_email", "send_notification_email"}


def sender_address(value: str) -> str | None:
    """`Marketing <news@ourcompany.example>` -> `news@ourcompany.example`; None if there is no address."""
    address = parseaddr(value)[1].strip()
    return address if "@" in address else None


def identity_of(address: str) -> str:
    """The SES identity that covers an address: its domain (verifying the domain verifies every address in it)."""
    return address.rsplit("@", 1)[1].lower()


def sender_addresses(journey: Journey) -> list[str]:
    """Every literal `from` address of the journey's email steps (a templated `from` is known only at run time)."""
    found = set()
    for step in journey.steps:
        value = step.settings.get("from") if step.type in EMAIL_STEPS else None
        if isinstance(value, str) and "{" not in value:
            address = sender_address(value)
            if address:
                found.add(address)
    return sorted(found)
