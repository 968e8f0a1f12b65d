"""JOURNEYS.md "Webhook signature": the HMAC binds timestamp, method, path and body; a timestamp more
than 300 s from the server's clock, or a signature made for another path or method, is a 401. Headers
no key could have produced (non-ASCII) are a 401/403 too, never a 500."""

from __future__ import annotations

import datetime as dt

import pytest
from webhook_world import MONDAY_8AM, entries, executions, http_event, samples, world  # noqa: F401 (fixtures)

LEAD = {"id": "c-hot", "email": "hot@example.com", "lead_score": 95}
NOW = int(MONDAY_8AM.timestamp())


def resigned(event: dict, **signed_for) -> dict:
    """The event with its signature replaced by one made for other parts (path, method, timestamp)."""
    parts = {"timestamp": int(event["headers"]["x-journeys-timestamp"]), "method": event["requestContext"]["http"]["method"],
             "path": event["rawPath"], **signed_for}
    event["headers"]["x-journeys-signature"] = samples.sign(event["body"], samples.LOCAL_WEBHOOK_SECRET, **parts)
    return event


def test_given_a_body_signed_for_another_journey_when_posted_then_401_and_nobody_enters(world, http_event):
    event = resigned(entries(http_event, "lead-nurturing", {"contact": LEAD}), path="/journeys/sales-handoff/entries")

    response = world.call(event)

    assert response["statusCode"] == 401, response["body"]
    assert "method, path" in response["json"]["error"]
    assert executions(world, "lead-nurturing") == [] and world.contacts.get("c-hot") is None


def test_given_a_signature_made_for_another_method_then_401(world, http_event):
    response = world.call(resigned(entries(http_event, "sales-handoff", {"contact": LEAD}), method="PUT"))

    assert response["statusCode"] == 401 and executions(world, "sales-handoff") == []


@pytest.mark.parametrize("age, status", [(-301, 401), (-300, 202), (300, 202), (301, 401)])
def test_given_a_timestamp_far_from_the_servers_clock_then_401_and_near_it_accepted(world, http_event, age, status):
    response = world.call(entries(http_event, "sales-handoff", {"contact": LEAD}, timestamp=NOW + age))

    assert response["statusCode"] == status, response["body"]
    if status == 401:
        assert response["json"]["error"] == "X-Journeys-Timestamp is more than 300 s from the server's clock"


def test_given_a_captured_event_replayed_later_then_401(world, http_event):
    body = {"name": "trial_started", "contact": {"id": "c-ada", "plan": "trial"}, "payload": {"source": "app"}}
    captured = http_event("POST", "/events", body, route="/events")
    world.waits.advance_to(MONDAY_8AM + dt.timedelta(minutes=6))

    response = world.call(captured)

    assert response["statusCode"] == 401 and world.contacts.get("c-ada") is None


@pytest.mark.parametrize("headers, error", [
    ({"x-journeys-timestamp": None}, "missing X-Journeys-Timestamp header"),
    ({"x-journeys-timestamp": "yesterday"}, "X-Journeys-Timestamp must be unix seconds"),
    ({"x-journeys-timestamp": "١٧٦٧٦٠٠٠٠٠"}, "X-Journeys-Timestamp must be unix seconds"),
    ({"x-journeys-signature": "sha256=é" + "0" * 63}, "signature does not match the request (timestamp, method, path and body)"),
    ({"x-journeys-signature": "sha256=\udcff"}, "signature does not match the request (timestamp, method, path and body)"),
], ids=["no-timestamp", "words", "arabic-digits", "non-ascii-signature", "surrogate-signature"])
def test_given_malformed_signature_headers_then_401_naming_the_problem_not_a_500(world, http_event, headers, error):
    event = entries(http_event, "sales-handoff", {"contact": LEAD})
    for name, value in headers.items():
        if value is None:
            del event["headers"][name]
        else:
            event["headers"][name] = value

    response = world.call(event)

    assert response["statusCode"] == 401, response["body"]
    assert response["json"] == {"error": error}


@pytest.mark.parametrize("token", ["é" * 32, "0" * 10_000], ids=["non-ascii", "huge"])
def test_given_a_non_ascii_or_huge_unsubscribe_token_then_403_not_a_500(world, http_event, token):
    world.contacts.upsert({"id": "c-ada", "email": "ada@example.com"})

    response = world.call(http_event("POST", "/unsubscribe", "List-Unsubscribe=One-Click", signed=False,
                                     query={"contact": "c-ada", "token": token}))

    assert response["statusCode"] == 403, response["body"]
    assert world.contacts.get("c-ada")["subscribed"] is True


def test_given_deploy_mds_curl_recipe_then_its_signature_is_the_one_the_webhook_verifies(world, http_event):
    import re
    import subprocess

    from webhook_world import REPO

    recipe = re.search(r"^sign\(\) \{.*?^\}$", (REPO / "docs" / "DEPLOY.md").read_text(), re.S | re.M).group(0)
    body = '{"contact":{"id":"c-hot","lead_score":95}}'
    script = f'{recipe}\nsign POST /journeys/sales-handoff/entries "$BODY"\necho "$TS $SIG"'
    env = {"PATH": "/usr/bin:/bin", "KEY": samples.LOCAL_WEBHOOK_SECRET, "BODY": body}
    stamp, digest = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, check=True).stdout.split()

    event = entries(http_event, "sales-handoff", body, timestamp=NOW)
    event["headers"].update({"x-journeys-timestamp": stamp, "x-journeys-signature": f"sha256={digest}"})
    assert digest == samples.sign(body, samples.LOCAL_WEBHOOK_SECRET, timestamp=int(stamp), path="/journeys/sales-handoff/entries")[7:]
    world.waits.advance_to(dt.datetime.fromtimestamp(int(stamp), dt.timezone.utc))  # the server clock: now
    assert world.call(event)["statusCode"] == 202
