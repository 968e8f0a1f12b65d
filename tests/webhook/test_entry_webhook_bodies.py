"""Bodies the entry webhook must refuse with a 400 naming the problem, never a 500 later: attribute
names DynamoDB cannot store, and numbers that JSON, Step Functions or DynamoDB do not accept."""

from __future__ import annotations

import pytest
from webhook_world import entries, executions, http_event, world  # noqa: F401 (fixtures)


@pytest.mark.parametrize("contact, shown", [
    ('{"id": "c1", "": 1}', "''"),
    ('{"id": "c1", "prefs": {"": true}}', "'prefs.'"),
    ('{"id": "c1", "%s": 1}' % ("a" * 256), "'" + "a" * 256 + "'"),
], ids=["empty", "empty-nested", "too-long"])
def test_given_an_attribute_name_dynamodb_cannot_store_then_400_names_it_and_nothing_is_stored(world, http_event, contact, shown):
    response = world.call(entries(http_event, "lead-nurturing", '{"contact": %s}' % contact))

    assert response["statusCode"] == 400, response["body"]
    assert response["json"]["error"] == "invalid request body"
    assert response["json"]["errors"] == [{"field": "contact", "type": "attribute_name",
                                           "message": f"attribute names must be 1 to 255 characters: {shown}"}]
    assert world.contacts.get("c1") is None and executions(world, "lead-nurturing") == []


def test_given_an_attribute_name_of_255_characters_then_the_contact_enters(world, http_event):
    response = world.call(entries(http_event, "lead-nurturing", '{"contact": {"id": "c1", "%s": 1}}' % ("a" * 255)))

    assert response["statusCode"] == 202, response["body"]
    assert world.contacts.get("c1")["a" * 255] == 1


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity"])
def test_given_a_non_finite_number_then_400_as_invalid_json(world, http_event, number):
    response = world.call(entries(http_event, "lead-nurturing", '{"contact": {"id": "c1", "score": %s}, "event": {}}' % number))

    assert response["statusCode"] == 400
    assert response["json"]["error"] == "body is not valid JSON"
    assert response["json"]["errors"] == [{"field": "(body)", "message": f"{number} is not a JSON number", "type": "json_invalid"}]
    assert world.contacts.get("c1") is None and executions(world, "lead-nurturing") == []


@pytest.mark.parametrize("number", ["1e999", "1e200", "-1e126", "1e-200", "1" * 39])
def test_given_a_number_out_of_dynamodbs_range_then_400_names_it(world, http_event, number):
    response = world.call(entries(http_event, "lead-nurturing", '{"contact": {"id": "c1"}, "event": {"amount": %s}}' % number))

    assert response["statusCode"] == 400, response["body"]
    assert response["json"]["error"] == "body has a number that cannot be stored"
    assert response["json"]["errors"][0]["type"] == "number_out_of_range" and number in response["json"]["errors"][0]["message"]
    assert executions(world, "lead-nurturing") == []


def test_given_large_but_storable_numbers_then_the_contact_enters(world, http_event):
    response = world.call(entries(http_event, "lead-nurturing", '{"contact": {"id": "c1", "big": 9.9e125, "small": 1e-130, "digits": %s}}' % ("9" * 38)))

    assert response["statusCode"] == 202, response["body"]
    assert world.contacts.get("c1")["digits"] == int("9" * 38)


# ------------------------------------------------------------------ bodies that used to end in a 500


def nested(depth: int, inner: str = "1") -> str:
    return "[" * depth + inner + "]" * depth


@pytest.mark.parametrize("body", [
    nested(20_000),
    '{"contact": {"id": "c1"}, "event": {"deep": %s}}' % nested(3_000),
    '{"contact": {"id": "c1", "deep": %s}}' % nested(31),
], ids=["list-20000-deep", "event-3000-deep", "attribute-past-dynamodbs-32-levels"])
def test_given_a_body_nested_deeper_than_dynamodb_stores_then_400_at_the_door(world, http_event, body):
    response = world.call(entries(http_event, "lead-nurturing", body))

    assert response["statusCode"] == 400, response["body"]
    assert response["json"]["error"] == "body nests deeper than 32 levels (DynamoDB stores at most 32)"
    assert world.contacts.get("c1") is None and executions(world, "lead-nurturing") == []


def test_given_an_attribute_nested_within_the_limit_then_the_contact_enters(world, http_event):
    response = world.call(entries(http_event, "lead-nurturing", '{"contact": {"id": "c1", "deep": %s}}' % nested(29, '"[{x}]"')))

    assert response["statusCode"] == 202, response["body"]
    assert world.contacts.get("c1")["deep"] == __import__("json").loads(nested(29, '"[{x}]"'))


@pytest.mark.parametrize("text", ['"\\udfff"', '"a\\ud800b"', '{"\\udfff": 1}'], ids=["lone-low", "lone-high", "in-a-name"])
def test_given_a_lone_surrogate_in_an_attribute_then_400_names_it(world, http_event, text):
    response = world.call(entries(http_event, "lead-nurturing", '{"contact": {"id": "c1", "note": %s}}' % text))

    assert response["statusCode"] == 400, response["body"]
    assert response["json"]["error"] == "body has text that is not valid Unicode (a lone surrogate escape such as \\udfff)"
    assert world.contacts.get("c1") is None


# ------------------------------------------------------------------ contacts that grow without bound


def test_given_posts_that_grow_the_contact_past_32_kib_then_413_naming_the_limit_and_nothing_of_it_stored(world, http_event):
    chunk = "x" * 10_000
    answers = [world.call(entries(http_event, "sales-handoff", {"contact": {"id": "c1", f"notes{n}": chunk, "lead_score": n}}))
               for n in range(4)]

    assert [a["statusCode"] for a in answers[:3]] == [200, 200, 200]
    assert answers[3]["statusCode"] == 413, answers[3]["body"]
    assert "32,768 bytes" in answers[3]["json"]["error"] and "c1" in answers[3]["json"]["error"]
    stored = world.contacts.get("c1")
    assert "notes3" not in stored and stored["lead_score"] == 2  # nothing of the refused request
    later = world.call(entries(http_event, "sales-handoff", {"contact": {"id": "c1", "lead_score": 99}}))
    assert later["statusCode"] == 202  # the contact still works


def test_given_an_event_that_would_grow_the_contact_past_32_kib_then_413(world, http_event):
    world.contacts.upsert({"id": "c1", "bio": "x" * 30_000})

    response = world.call(http_event("POST", "/events", {"name": "trial_started", "contact": {"id": "c1", "more": "y" * 5_000}},
                                     route="/events"))

    assert response["statusCode"] == 413, response["body"]
    assert "more" not in world.contacts.get("c1")


# ------------------------------------------------------------------ subscribed is a boolean


@pytest.mark.parametrize("value", ["yes", "maybe", 1, "1", "on", [], {}], ids=str)
def test_given_a_subscribed_that_does_not_clearly_say_true_or_false_then_400_names_the_field(world, http_event, value):
    response = world.call(entries(http_event, "lead-nurturing", {"contact": {"id": "c1", "subscribed": value}}))

    assert response["statusCode"] == 400, response["body"]
    [error] = response["json"]["errors"]
    assert error["field"] == "contact.subscribed" and error["type"] == "subscribed_not_boolean"
    assert "true or false" in error["message"]
    assert world.contacts.get("c1") is None


@pytest.mark.parametrize("value", [False, "false", "FALSE", "no", "off", "0", 0])
def test_given_a_subscribed_that_clearly_says_false_then_the_contact_is_unsubscribed(world, http_event, value):
    response = world.call(entries(http_event, "sales-handoff", {"contact": {"id": "c1", "subscribed": value, "lead_score": 1}}))

    assert response["statusCode"] == 200, response["body"]
    assert world.contacts.get("c1")["subscribed"] is False
