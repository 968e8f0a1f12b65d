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
