"""The one contact store on (moto) DynamoDB: upsert merges, atomic updates, numbers round-trip."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from journeys import store
from journeys.local.runner import local_environment


@pytest.fixture
def contacts():
    local_environment()
    with mock_aws():
        store.create_tables(boto3.client("dynamodb", region_name="us-east-1"))
        yield store.ContactStore(boto3.resource("dynamodb", region_name="us-east-1"))


def test_given_a_new_contact_when_upserted_then_defaults_are_added(contacts):
    stored = contacts.upsert({"id": "c1", "email": "a@x.example", "score": 1.5})
    assert stored == {"id": "c1", "email": "a@x.example", "score": 1.5, "tags": [], "groups": [], "subscribed": True}


def test_given_a_stored_contact_when_upserted_again_then_given_attributes_merge_and_others_stay(contacts):
    contacts.upsert({"id": "c1", "email": "a@x.example", "tags": ["vip"], "subscribed": False})
    stored = contacts.upsert({"id": "c1", "first_name": "Ada"})
    assert stored["tags"] == ["vip"] and stored["subscribed"] is False and stored["first_name"] == "Ada"


def test_given_updates_then_lists_stay_unique_and_increments_accumulate(contacts):
    contacts.upsert({"id": "c1"})
    contacts.update("c1", add={"tags": ["a", "b"]}, increment={"n": 2})
    contacts.update("c1", add={"tags": ["b", "c"]}, increment={"n": 0.5}, set={"plan": "trial"})
    stored = contacts.update("c1", remove={"tags": ["a"]}, unset=["plan"])
    assert stored["tags"] == ["b", "c"] and stored["n"] == 2.5 and "plan" not in stored


def test_given_a_missing_contact_then_require_says_so(contacts):
    with pytest.raises(store.ContactNotFound, match="'ghost' does not exist"):
        contacts.require("ghost")


def test_the_tables_are_created_from_the_one_spec(contacts):
    client = boto3.client("dynamodb", region_name="us-east-1")
    for logical_id, spec in store.TABLES.items():
        described = client.describe_table(TableName=store.table_name(logical_id))["Table"]
        assert described["KeySchema"] == spec["KeySchema"]
