"""The one condition evaluator: entry criteria, apply_to, exit_when, gates and splits all use it.

Semantics (JOURNEYS.md): a missing field matches nothing but not_exists / not_equals /
not_contains / not_in. Numbers compare as numbers even when one side is a numeric string (a
webhook may send "120"); timestamps compare as instants; `before`/`after` accept ISO 8601 or a
time relative to now such as -7d.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from journeys import clock
from journeys.language.durations import parse_relative
from journeys.language.model import AllCondition, AnyCondition, Condition, FieldCondition, NotCondition

_MISSING = object()
_MATCH_WHEN_MISSING = {"not_exists", "not_equals", "not_contains", "not_in"}


def resolve(path: str, scope: Mapping[str, Any]) -> Any:
    """Value at a dotted path (`contact.tags`, `journey.company.body.employees`, `event.items.0`)."""
    current: Any = scope
    for part in path.split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.lstrip("-").isdigit() and -len(current) <= int(part) < len(current):
            current = current[int(part)]
        else:
            return _MISSING
    return _MISSING if current is None else current


def evaluate(condition: Condition | None, scope: Mapping[str, Any], now: dt.datetime | None = None) -> bool:
    """True when `condition` holds for scope = {contact, event, journey}; no condition holds."""
    if condition is None:
        return True
    now = now or clock.now()
    if isinstance(condition, AllCondition):
        return all(evaluate(part, scope, now) for part in condition.all)
    if isinstance(condition, AnyCondition):
        return any(evaluate(part, scope, now) for part in condition.any)
    if isinstance(condition, NotCondition):
        return not evaluate(condition.not_, scope, now)
    return _field(condition, scope, now)


def _field(condition: FieldCondition, scope: Mapping[str, Any], now: dt.datetime) -> bool:
    actual = resolve(condition.field, scope)
    op, expected = condition.op, condition.value
    if actual is _MISSING:
        return op in _MATCH_WHEN_MISSING
    if op == "exists":
        return True
    if op == "not_exists":
        return False
    if op in ("equals", "not_equals"):
        return _equal(actual, expected) == (op == "equals")
    if op in ("gt", "gte", "lt", "lte"):
        return _ordered(op, _number(actual), _number(expected))
    if op in ("contains", "not_contains"):
        return _contains(actual, expected) == (op == "contains")
    if op == "starts_with":
        return isinstance(actual, str) and isinstance(expected, str) and actual.startswith(expected)
    if op in ("in", "not_in"):
        found = any(_equal(actual, option) for option in expected)
        return found == (op == "in")
    if op in ("before", "after"):
        when = clock.parse_timestamp(actual)
        bound = parse_relative(expected, now) or clock.parse_timestamp(expected)
        if when is None or bound is None:
            return False
        return when < bound if op == "before" else when > bound
    raise ValueError(f"unknown operator {op}")  # unreachable: the model's Literal forbids it


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _equal(actual: Any, expected: Any) -> bool:
    if isinstance(actual, bool) or isinstance(expected, bool):
        return _boolean(actual) is not None and _boolean(actual) is _boolean(expected)
    left, right = _number(actual), _number(expected)
    if left is not None and right is not None and not (isinstance(actual, str) and isinstance(expected, str)):
        return left == right
    return actual == expected


def _boolean(value: Any) -> bool | None:
    """true/false, also as the strings "true"/"false" (any case) a webhook may send; else None.
    Either side may be the string: equality is symmetric."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _ordered(op: str, left: float | None, right: float | None) -> bool:
    if left is None or right is None:
        return False
    return {"gt": left > right, "gte": left >= right, "lt": left < right, "lte": left <= right}[op]


def _contains(actual: Any, expected: Any) -> bool:
    if isinstance(actual, list):
        return any(_equal(item, expected) for item in actual)
    if isinstance(actual, str):
        return str(expected) in actual
    if isinstance(actual, Mapping):
        return str(expected) in actual
    return False
