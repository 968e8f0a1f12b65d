"""Contact updates: profile attributes, notes, tags, groups, unsubscribe."""

from __future__ import annotations

from botocore.exceptions import ClientError

from journeys.language import templates
from journeys.runtime.task import Outcome, StepContext


def update_profile(ctx: StepContext) -> Outcome:
    """set, unset and increment as one atomic update: all of it applies, or none of it."""
    s = ctx.settings
    values, unchanged = _values_to_set(ctx.event.step.settings.get("set") or {}, ctx.scope)
    try:
        ctx.contacts.update(ctx.contact["id"], set=values, unset=s.unset, increment=s.increment)
    except ClientError as error:
        if not _is_wrong_operand(error):
            raise
        # Explained from the contact as stored now (not as read before): the update itself is the check.
        why = _not_a_number(ctx.contacts.require(ctx.contact["id"]), s.increment)
        return Outcome("failed", reason=f"{why}; nothing was applied (the step is one update)")
    reason = f"left unchanged (undefined): {', '.join(unchanged)}" if unchanged else None
    return Outcome("done", reason=reason)


def _is_wrong_operand(error: ClientError) -> bool:
    """DynamoDB's refusal to add a number to a non-number (`Incorrect operand type ... operand type: S`)."""
    details = error.response.get("Error", {})
    return details.get("Code") == "ValidationException" and "operand type" in str(details.get("Message", "")).lower()


def _not_a_number(contact: dict, increment: dict) -> str:
    for attr in increment:
        value = contact.get(attr)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            return f"increment: attribute '{attr}' holds {_kind(value)}, not a number"
    return "increment: an attribute to increment does not hold a number"


def _kind(value) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


def _values_to_set(templates_by_attr: dict, scope: dict) -> tuple[dict, list[str]]:
    """The rendered `set`, and the attributes it leaves alone. A value that is exactly one output whose
    expression is undefined (`"{{ journey.company.body.name }}"` after a failed lookup) keeps what is stored:
    writing '' would wipe contact data. A mixed template ("Hi {{ x }}") still renders undefined as empty."""
    values, unchanged = {}, []
    for attr, source in templates_by_attr.items():
        if isinstance(source, str):
            value = templates.render(source, scope, when_undefined=templates.UNDEFINED)
        else:
            value = templates.render_settings(source, scope, path=f"set.{attr}")
        if value is templates.UNDEFINED:
            unchanged.append(attr)
        else:
            values[attr] = value
    return values, unchanged


def add_note(ctx: StepContext) -> Outcome:
    text = str(templates.render(ctx.settings.text, ctx.scope))
    ctx.journeys.add_contact_item(ctx.contact["id"], "NOTE", ctx.now, ctx.ref, {"text": text, "journey": ctx.event.journey.id})
    return Outcome("done")


def _list_change(attr: str, adding: bool):
    def change(ctx: StepContext) -> Outcome:
        items = list(getattr(ctx.settings, attr))
        change = {"add": {attr: items}} if adding else {"remove": {attr: items}}
        ctx.contacts.update(ctx.contact["id"], current=ctx.contact, **change)  # the contact in hand: no read
        return Outcome("done")

    return change


def unsubscribe(ctx: StepContext) -> Outcome:
    reason = templates.render(ctx.settings.reason, ctx.scope) if ctx.settings.reason else "journey step"
    ctx.contacts.update(ctx.contact["id"], set={"subscribed": False, "unsubscribed_at": ctx.now, "unsubscribe_reason": str(reason)})
    return Outcome("done")


WORK = {
    "update_profile": update_profile,
    "add_note": add_note,
    "add_tag": _list_change("tags", adding=True),
    "remove_tag": _list_change("tags", adding=False),
    "add_to_group": _list_change("groups", adding=True),
    "remove_from_group": _list_change("groups", adding=False),
    "unsubscribe": unsubscribe,
}
