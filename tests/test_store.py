"""The stores on (moto) DynamoDB: contact upserts merge, atomic updates, numbers round-trip; memberships keep
the executions that may run; event waits and delivered event ids."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from journeys.runtime import store
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


@pytest.fixture
def journeys(contacts):
    return store.JourneyStore(boto3.resource("dynamodb", region_name="us-east-1"))


def test_given_entries_then_the_membership_keeps_every_execution_that_may_run_until_forgotten(journeys):
    journeys.record_entry("c1", "j", "arn:first", "2026-01-05T08:00:00Z")
    running = journeys.record_entry("c1", "j", "arn:second", "2026-01-07T08:00:00Z")
    journeys.forget_executions("c1", "j", ["arn:first"])
    membership = journeys.membership("c1", "j")

    assert running == ["arn:first", "arn:second"]
    assert store.may_be_running(membership) == ["arn:second"]
    assert membership["execution"] == "arn:second" and membership["entries"] == 2


def test_given_a_record_written_before_the_running_set_then_its_latest_execution_may_run(journeys):
    journeys.table.put_item(Item={"pk": "CONTACT#c1", "sk": "JOURNEY#j", "execution": "arn:old", "entries": 1})

    assert store.may_be_running(journeys.membership("c1", "j")) == ["arn:old"]
    assert store.may_be_running(None) == []


def test_given_an_event_id_then_it_resumes_an_execution_once_unless_released(journeys):
    first = journeys.claim_resume("c1", "ping", "evt-1", "arn:a")
    again = journeys.claim_resume("c1", "ping", "evt-1", "arn:a")
    other = journeys.claim_resume("c1", "ping", "evt-1", "arn:b")
    journeys.release_resume("c1", "ping", "evt-1", "arn:a")
    after_release = journeys.claim_resume("c1", "ping", "evt-1", "arn:a")
    journeys.finish_delivery("c1", "ping", "evt-1")
    delivery = journeys.event_delivery("c1", "ping", "evt-1")

    assert (first, again, other, after_release) == (True, False, True, True)
    assert delivery["done"] is True and sorted(delivery["resumed"]) == ["arn:a", "arn:b"]
    assert delivery["expires_at"] > 0 and journeys.event_delivery("c1", "ping", "evt-2") is None


def test_given_a_taken_wait_then_restoring_it_puts_it_back_but_never_over_a_newer_one(journeys):
    wait = dict(contact_id="c1", event="ping", execution="arn:a", journey="j", step="listen", since="now", timeout_seconds=60)
    journeys.put_event_wait(token="t1", **wait)
    [taken] = journeys.event_waits("c1", "ping")
    assert journeys.take_event_wait("c1", "ping", "arn:a", "t1")
    journeys.restore_event_wait(taken)
    restored = [w["task_token"] for w in journeys.event_waits("c1", "ping")]
    journeys.put_event_wait(token="t2", **wait)  # the execution waits again with a new token
    journeys.restore_event_wait(taken)

    assert restored == ["t1"]
    assert [w["task_token"] for w in journeys.event_waits("c1", "ping")] == ["t2"]


# ---------------------------------------------------------------- keys: user-supplied parts never run into each other


def test_given_event_names_and_ids_that_join_to_the_same_text_then_their_deliveries_stay_apart(journeys):
    journeys.finish_delivery("c1", "order", "paid#x")

    assert journeys.event_delivery("c1", "order#paid", "x") is None
    assert journeys.event_delivery("c1", "order", "paid#x")["done"] is True


def test_given_an_event_whose_name_extends_another_then_each_sees_only_its_own_waits(journeys):
    wait = dict(contact_id="c1", execution="arn:a", journey="j", step="listen", since="now", timeout_seconds=60)
    journeys.put_event_wait(event="order#paid", token="t-paid", **wait)
    journeys.put_event_wait(event="order", token="t-order", **{**wait, "execution": "paid#arn:a"})

    assert [w["task_token"] for w in journeys.event_waits("c1", "order")] == ["t-order"]
    assert journeys.take_event_wait("c1", "order", "paid#arn:a", "t-order")
    assert [w["task_token"] for w in journeys.event_waits("c1", "order#paid")] == ["t-paid"]


def test_given_contact_ids_and_journeys_with_hashes_then_memberships_and_notes_stay_apart(journeys):
    journeys.record_entry("a#JOURNEY#b", "j", "arn:1", "2026-01-05T08:00:00Z")
    journeys.add_contact_item("c1", "NOTE", "2026-01-05T08:00:00Z", "r#1", {"text": "one"})
    journeys.add_contact_item("c1", "NOTE", "2026-01-05T08:00:00Z#r", "1", {"text": "two"})

    assert journeys.membership("a", "b#j") is None and journeys.membership("a#JOURNEY#b", "j")["execution"] == "arn:1"
    assert sorted(n["text"] for n in journeys.contact_items("c1", "NOTE")) == ["one", "two"]


def test_given_every_key_part_then_one_helper_escapes_it_and_leaves_plain_text_as_it_was(journeys):
    assert store.key_part("c-ada") == "c-ada"  # items written before the escaping stay readable
    assert store.key_part("paid#x") != store.key_part("paid") + "#x"
    assert store.key_part("100%#") == "100%25%23"
    long = store.key_part("k" * 500)
    assert long.startswith("sha256:") and len(long) < 100
