"""The one condition evaluator: operators, missing fields, numbers-as-strings, relative times."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import TypeAdapter, ValidationError

from journeys.language.conditions import evaluate
from journeys.language.model import Condition

NOW = dt.datetime(2026, 1, 10, 12, 0, tzinfo=dt.timezone.utc)
SCOPE = {
    "contact": {"plan": "trial", "tags": ["vip", "lead"], "size": "120", "score": 91, "email": "ada@x.example",
                "customer": True, "signed_up": "2026-01-05T08:00:00Z", "nothing": None},
    "event": {"source": "form"},
    "journey": {"company": {"status": 200, "body": {"employees": 150, "name": "Acme"}}},
}
CONDITION = TypeAdapter(Condition)


def holds(raw: dict) -> bool:
    return evaluate(CONDITION.validate_python(raw), SCOPE, NOW)


@pytest.mark.parametrize("raw, expected", [
    ({"field": "contact.plan", "op": "equals", "value": "trial"}, True),
    ({"field": "contact.plan", "op": "not_equals", "value": "trial"}, False),
    ({"field": "contact.size", "op": "gte", "value": 100}, True),  # numeric string vs number
    ({"field": "contact.size", "op": "equals", "value": 120}, True),
    ({"field": "contact.score", "op": "lt", "value": 90}, False),
    ({"field": "contact.tags", "op": "contains", "value": "vip"}, True),
    ({"field": "contact.tags", "op": "not_contains", "value": "vip"}, False),
    ({"field": "contact.email", "op": "contains", "value": "@x."}, True),
    ({"field": "contact.email", "op": "starts_with", "value": "ada"}, True),
    ({"field": "contact.plan", "op": "in", "value": ["trial", "paid"]}, True),
    ({"field": "contact.plan", "op": "not_in", "value": ["trial"]}, False),
    ({"field": "contact.customer", "op": "equals", "value": True}, True),
    ({"field": "event.source", "op": "exists"}, True),
    ({"field": "journey.company.body.employees", "op": "gte", "value": 100}, True),
    ({"field": "journey.company.status", "op": "equals", "value": 200}, True),
    ({"field": "contact.signed_up", "op": "after", "value": "-7d"}, True),
    ({"field": "contact.signed_up", "op": "before", "value": "-3d"}, True),
    ({"field": "contact.signed_up", "op": "before", "value": "2026-01-01T00:00:00Z"}, False),
    ({"field": "contact.plan", "op": "gt", "value": 1}, False),  # not a number: no order
])
def test_given_an_operator_then_it_means_what_the_contract_says(raw, expected):
    assert holds(raw) is expected


@pytest.mark.parametrize("op, value, expected", [
    ("equals", "x", False), ("gt", 1, False), ("contains", "x", False), ("in", ["x"], False),
    ("exists", None, False), ("before", "-1d", False),
    ("not_exists", None, True), ("not_equals", "x", True), ("not_contains", "x", True), ("not_in", ["x"], True),
])
def test_given_a_missing_field_then_only_the_negative_operators_match(op, value, expected):
    raw = {"field": "contact.missing", "op": op, **({"value": value} if value is not None else {})}
    assert holds(raw) is expected
    assert holds({**raw, "field": "contact.nothing"}) is expected  # null is missing too
    assert holds({**raw, "field": "journey.absent.body.x"}) is expected


def test_given_all_any_not_then_they_nest():
    assert holds({"all": [{"field": "contact.plan", "op": "equals", "value": "trial"},
                          {"any": [{"field": "contact.tags", "op": "contains", "value": "nope"},
                                   {"not": {"field": "event.source", "op": "equals", "value": "ads"}}]}]})


@pytest.mark.parametrize("raw", [
    {"field": "contact.plan", "op": "equal", "value": 1},
    {"field": "plan", "op": "equals", "value": 1},
    {"field": "contact.plan", "op": "equals"},
    {"field": "contact.plan", "op": "in", "value": "trial"},
    {"field": "contact.x", "op": "before", "value": "last tuesday"},
    {"all": []},
])
def test_given_an_invalid_condition_then_validation_fails(raw):
    with pytest.raises(ValidationError):
        CONDITION.validate_python(raw)


@pytest.mark.parametrize("stored, written, expected", [
    (True, "true", True),  # a boolean attribute against a quoted value in YAML
    ("true", True, True),  # a webhook's "true" against an unquoted YAML true
    (False, "false", True),
    ("false", False, True),
    ("TRUE", True, True),
    (True, "false", False),
    ("false", True, False),
    (True, 1, False),  # a boolean is not a number
    ("yes", True, False),
])
def test_given_a_boolean_and_its_string_then_equals_is_the_same_both_ways(stored, written, expected):
    # Given a contact attribute and a condition value, one a boolean and the other maybe its string
    scope = {"contact": {"flag": stored}, "event": {}, "journey": {}}

    # When equals and not_equals are evaluated, Then they agree with each other whichever side holds the string
    equals = evaluate(CONDITION.validate_python({"field": "contact.flag", "op": "equals", "value": written}), scope, NOW)
    not_equals = evaluate(CONDITION.validate_python({"field": "contact.flag", "op": "not_equals", "value": written}), scope, NOW)
    assert (equals, not_equals) == (expected, not expected)


def test_given_an_invalid_condition_then_pydantic_reports_one_error_at_its_key():
    # Given a field condition with an unknown operator
    with pytest.raises(ValidationError) as caught:
        CONDITION.validate_python({"field": "contact.plan", "op": "bigger", "value": 1})

    # Then one error, at `op`, not one per kind of condition it is not
    assert [(error["loc"][-1], error["msg"]) for error in caught.value.errors()] == [
        ("op", "Value error, unknown operator 'bigger'; valid: equals, not_equals, gt, gte, lt, lte, contains, not_contains, "
               "starts_with, in, not_in, exists, not_exists, before, after")]
