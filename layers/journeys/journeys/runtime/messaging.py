"""Messaging steps: marketing email (with one-click unsubscribe), team notifications, in-app inbox."""

from __future__ import annotations

import os
from email import policy
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from journeys import aws
from journeys.language import templates
from journeys.runtime import observability, policies
from journeys.runtime.unsubscribe import unsubscribe_headers
from journeys.runtime.task import Outcome, StepContext

DEFAULT_FROM = "Journeys <hello@journeys.example>"
# Long List-Unsubscribe URLs must stay readable: no RFC 2047 encoding of a URL header.
MIME_POLICY = policy.SMTP.clone(max_line_length=998)


def send_email(ctx: StepContext) -> Outcome:
    return _marketing_email(ctx, at=ctx.now)


def send_optimized_email(ctx: StepContext) -> Outcome:
    # The Wait before this Task held the contact until the chosen hour: now *is* that hour.
    return _marketing_email(ctx, at=ctx.now)


def send_notification_email(ctx: StepContext) -> Outcome:
    rendered = templates.render_settings(ctx.event.step.settings, ctx.scope)
    to = [str(address) for address in rendered["to"] if str(address).strip()]
    if not to:
        return Outcome("skipped", reason="no recipient")
    policies.before_send(ctx, marketing=False)  # team email: exempt from cap and quiet hours, not from the rate
    message_id = _send(
        sender=rendered.get("from") or _default_from(), to=to, subject=str(rendered["subject"]),
        text=_opt(rendered.get("text")), html=_opt(rendered.get("html")), headers={}, ref=ctx.ref,
    )
    return Outcome("done", message={"kind": "notification_email", "to": ", ".join(to), "subject": str(rendered["subject"]), "at": ctx.now, "id": message_id})


def site_notification(ctx: StepContext) -> Outcome:
    rendered = templates.render_settings(ctx.event.step.settings, ctx.scope)
    item = {"title": str(rendered["title"]), "body": str(rendered["body"]), **({"url": str(rendered["url"])} if rendered.get("url") else {})}
    ctx.journeys.add_contact_item(ctx.contact["id"], "INBOX", ctx.now, ctx.ref, {**item, "journey": ctx.event.journey.id, "read": False})
    return Outcome("done", message={"kind": "site_notification", "to": ctx.contact["id"], "subject": item["title"], "at": ctx.now})


WORK = {
    "send_email": send_email,
    "send_optimized_email": send_optimized_email,
    "send_notification_email": send_notification_email,
    "site_notification": site_notification,
}


def _marketing_email(ctx: StepContext, at: str) -> Outcome:
    contact = ctx.contact
    not_subscribed = _not_subscribed(contact)
    if not_subscribed:
        return Outcome("skipped", reason=not_subscribed)
    rendered = templates.render_settings(ctx.event.step.settings, ctx.scope)
    to = str(rendered.get("to") or contact.get("email") or "").strip()
    if not to:
        return Outcome("skipped", reason="no email address")
    held = policies.before_send(ctx, marketing=True)  # may defer (quiet hours, send rate): raises
    if held:
        observability.count("SendsCapped", {"Journey": ctx.event.journey.id})
        return Outcome("skipped", reason=held)
    subject = str(rendered["subject"])
    message_id = _send(
        sender=rendered.get("from") or _default_from(), to=[to], subject=subject,
        text=_opt(rendered.get("text")), html=_opt(rendered.get("html")),
        headers={**unsubscribe_headers(contact["id"]), **({"Reply-To": rendered["reply_to"]} if rendered.get("reply_to") else {})},
        ref=ctx.ref,
    )
    return Outcome("done", message={"kind": "email", "to": to, "subject": subject, "at": at, "id": message_id})


def _not_subscribed(contact: dict) -> str | None:
    """Why marketing email may not go to this contact, or None. Only `subscribed: true` (or no
    `subscribed` at all: the store's default is true) lets it go; a value like "no" or null is not
    consent, so it is skipped rather than guessed at."""
    if "subscribed" not in contact or contact["subscribed"] is True:
        return None
    if contact["subscribed"] is False:
        return "unsubscribed"
    return f"not subscribed (subscribed: {contact['subscribed']!r})"


def _send(*, sender: str, to: list[str], subject: str, text: str | None, html: str | None, headers: dict[str, str], ref: str) -> str:
    """SES v2 SendEmail with a raw MIME message: SES's simple content cannot carry our headers."""
    message = EmailMessage(policy=MIME_POLICY)
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(idstring=ref, domain=sender.rsplit("@", 1)[-1].strip("> "))
    for name, value in headers.items():
        message[name] = value
    if text:
        message.set_content(text)
    if html:
        if text:
            message.add_alternative(html, subtype="html")
        else:
            message.set_content(html, subtype="html")
    kwargs: dict[str, Any] = {
        "FromEmailAddress": sender, "Destination": {"ToAddresses": to},
        "Content": {"Raw": {"Data": message.as_bytes()}},
    }
    if os.environ.get("SES_CONFIGURATION_SET"):
        kwargs["ConfigurationSetName"] = os.environ["SES_CONFIGURATION_SET"]
    return aws.client("sesv2").send_email(**kwargs)["MessageId"]


def _default_from() -> str:
    return os.environ.get("JOURNEYS_FROM_ADDRESS", DEFAULT_FROM)


def _opt(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


