"""The app reads a contact's inbox (site notifications) and marks items read, through signed routes:
GET /contacts/{id}/inbox and POST /contacts/{id}/inbox/read."""

from __future__ import annotations

import pytest
from webhook_world import http_event, sample, world  # noqa: F401 (fixtures)


@pytest.fixture
def inbox(world):
    """Two notifications for c-ada, written as the site_notification step writes them."""
    for at, ref, title in (("2026-01-05T08:00:00Z", "exec-1:3", "Welcome"), ("2026-01-06T08:00:00Z", "exec-1:5", "Your trial")):
        world.journeys.add_contact_item("c-ada", "INBOX", at, ref, {"title": title, "body": "...", "journey": "trial-onboarding", "read": False})
    return world


def read_inbox(world, http_event, contact_id: str = "c-ada", **kwargs) -> dict:
    return world.call(http_event("GET", f"/contacts/{contact_id}/inbox", None, route="/contacts/{contact_id}/inbox",
                                 path_parameters={"contact_id": contact_id}, **kwargs))


def mark_read(world, http_event, body, contact_id: str = "c-ada") -> dict:
    return world.call(http_event("POST", f"/contacts/{contact_id}/inbox/read", body, route="/contacts/{contact_id}/inbox/read",
                                 path_parameters={"contact_id": contact_id}))


def test_given_notifications_when_the_app_reads_the_inbox_then_newest_first_with_ids_and_the_unread_count(inbox, http_event):
    response = read_inbox(inbox, http_event)

    assert response["statusCode"] == 200, response["body"]
    body = response["json"]
    assert body["contact_id"] == "c-ada" and body["unread"] == 2
    assert [(i["title"], i["at"], i["read"]) for i in body["items"]] == [
        ("Your trial", "2026-01-06T08:00:00Z", False), ("Welcome", "2026-01-05T08:00:00Z", False)]
    assert all(isinstance(i["id"], str) and i["id"] for i in body["items"])


def test_given_an_item_id_when_marked_read_then_only_it_is_read_and_a_repeat_marks_nothing(inbox, http_event):
    newest = read_inbox(inbox, http_event)["json"]["items"][0]["id"]

    first = mark_read(inbox, http_event, {"ids": [newest, "no-such-item"]})
    again = mark_read(inbox, http_event, {"ids": [newest]})

    assert first["statusCode"] == 200 and first["json"] == {"contact_id": "c-ada", "marked": [newest], "unknown": ["no-such-item"]}
    assert again["json"]["marked"] == []
    after = read_inbox(inbox, http_event)["json"]
    assert after["unread"] == 1 and [i["read"] for i in after["items"]] == [True, False]
    assert after["items"][0]["read_at"] == "2026-01-05T08:00:00Z"


def test_given_all_when_marked_read_then_every_item_is_read(inbox, http_event):
    response = mark_read(inbox, http_event, {"all": True})

    assert response["statusCode"] == 200 and len(response["json"]["marked"]) == 2
    assert read_inbox(inbox, http_event)["json"]["unread"] == 0


@pytest.mark.parametrize("body", [{}, {"ids": []}, {"ids": "x"}, {"all": True, "ids": ["x"]}, {"ids": ["x"], "extra": 1}])
def test_given_a_mark_read_body_that_says_neither_ids_nor_all_then_400(inbox, http_event, body):
    response = mark_read(inbox, http_event, body)

    assert response["statusCode"] == 400, response["body"]
    assert response["json"]["errors"]


def test_given_an_unsigned_or_replayed_inbox_read_then_401(inbox, http_event):
    assert read_inbox(inbox, http_event, signed=False)["statusCode"] == 401
    assert read_inbox(inbox, http_event, timestamp=1)["statusCode"] == 401


def test_given_a_signature_for_another_contacts_inbox_then_401(inbox, http_event):
    event = http_event("GET", "/contacts/c-eve/inbox", None, route="/contacts/{contact_id}/inbox", path_parameters={"contact_id": "c-eve"})
    event.update(rawPath="/contacts/c-ada/inbox", pathParameters={"contact_id": "c-ada"})
    event["requestContext"]["http"]["path"] = "/contacts/c-ada/inbox"

    assert inbox.call(event)["statusCode"] == 401


def test_given_a_contact_id_with_reserved_characters_then_its_own_inbox_is_read(world, http_event):
    world.journeys.add_contact_item("a#b/c", "INBOX", "2026-01-05T08:00:00Z", "r1", {"title": "Hi", "body": "", "read": False})

    response = read_inbox(world, http_event, contact_id="a%23b%2Fc")

    assert response["statusCode"] == 200, response["body"]
    assert response["json"]["contact_id"] == "a#b/c" and [i["title"] for i in response["json"]["items"]] == ["Hi"]


def test_given_the_sample_inbox_events_then_they_read_and_mark_the_inbox(inbox, sample):
    listed = inbox.call(sample("entry/get-contact-inbox.json"))
    marked = inbox.call(sample("entry/post-contact-inbox-read.json"))

    assert listed["statusCode"] == 200 and listed["json"]["unread"] == 2
    assert marked["statusCode"] == 200 and len(marked["json"]["marked"]) == 2
