"""Errors raised by Actions. Messages are for people: they name the action, host, field or file,
and never carry a secret value or a traceback."""

from __future__ import annotations


class ActionError(Exception):
    """Base class: anything an Action call can fail with."""


class OutboundBlocked(ActionError):
    """The destination (or a redirect hop) is not allowed by the OutboundPolicy."""


class ActionTimeout(ActionError):
    """The endpoint did not answer in time, even after retries."""


class ActionConfigError(ActionError):
    """An Action's configuration does not match its module's schema."""


class ActionInputError(ActionError):
    """A function's input does not match its schema."""


class UnknownModule(ActionError):
    """No module is registered for an Action's `type`."""


class SecretNotFound(ActionError):
    """A `{"secret": NAME}` reference could not be resolved (the message names NAME, never a value)."""


def describe_validation_error(exc, prefix: str = "") -> list[tuple[str, str]]:
    """(key, message) pairs from a pydantic ValidationError, built from loc and msg only: pydantic's own
    str() echoes the offending input, which may be a secret."""
    pairs = []
    for error in exc.errors(include_url=False, include_input=False):
        key = ".".join(str(part) for part in error.get("loc", ()))
        pairs.append((f"{prefix}{key}" if key else prefix.rstrip(".") or "(root)", error.get("msg", "invalid")))
    return pairs
