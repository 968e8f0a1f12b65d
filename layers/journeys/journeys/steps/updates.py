"""Contact updates: profile attributes, notes, tags, groups, unsubscribe."""

from __future__ import annotations

from .. import templates
from .runtime import Outcome, StepContext


def update_profile(ctx: StepContext) -> Outcome:
    s = ctx.settings
    values, unchanged = _values_to_set(ctx.event.step.settings.get("set") or {}, ctx.scope)
    ctx.contacts.update(ctx.contact["id"], set=values, unset=s.unset, increment=s.increment)
    reason = f"left unchanged (undefined): {', '.join(unchanged)}" if unchanged else None
    return Outcome("done", reason=reason)


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
        ctx.contacts.update(ctx.contact["id"], **({"add": {attr: items}} if adding else {"remove": {attr: items}}))
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
