"""Concurrent entries of one contact (a burst of webhooks with different event ids): the membership
is claimed with a conditional write before StartExecution, so exactly one starts.

Each request goes to its own copy of the entry function (as concurrent Lambda containers would:
one request at a time each), all against the same moto DynamoDB and Step Functions."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from webhook_world import REPO, containers, entries, executions, http_event, world  # noqa: F401 (fixtures)


BURST = 6
LEAD = {"id": "c-hot", "email": "hot@example.com", "first_name": "Hot", "lead_score": 95}


@pytest.fixture
def metrics_on(monkeypatch):
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "journeys-dev")


def burst(world, requests: list[dict]) -> list[dict]:
    """Send every request at the same moment, each to its own container."""
    import json

    handlers = containers(world, len(requests))
    gate = threading.Barrier(len(requests))

    def send(index: int) -> dict:
        gate.wait()
        response = handlers[index](requests[index])
        return {**response, "json": json.loads(response["body"])}

    with ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(send, range(len(requests))))


def test_given_a_burst_of_entries_of_a_new_contact_into_a_never_re_enter_journey_then_exactly_one_starts(
        metrics_on, world, http_event, capfd):
    requests = [entries(http_event, "sales-handoff", {"contact": LEAD, "event": {"id": f"form-{n}"}}) for n in range(BURST)]

    answers = burst(world, requests)

    statuses = sorted(a["json"].get("status", str(a["json"])) for a in answers)
    assert statuses.count("STARTED") == 1, statuses
    assert set(statuses) <= {"STARTED", "DUPLICATE", "NOT_ENTERED"}
    assert [a["statusCode"] for a in answers if a["json"]["status"] == "STARTED"] == [202]
    started = executions(world, "sales-handoff")
    assert len(started) == 1
    membership = world.journeys.membership("c-hot", "sales-handoff")
    assert membership["entries"] == 1 and membership["execution"] == started[0]["executionArn"]
    # Threads print their EMF records at once (lines may interleave): count the metric's values.
    assert capfd.readouterr().out.count('"JourneyEntered":[1.0]') == 1
    assert world.wait(started[0]["executionArn"])["status"] == "SUCCEEDED"


def test_given_a_burst_of_entries_into_a_re_entry_after_journey_then_exactly_one_starts(world, http_event):
    requests = [entries(http_event, "lead-nurturing", {"contact": LEAD, "event": {"id": f"form-{n}"}}) for n in range(BURST)]

    answers = burst(world, requests)

    statuses = [a["json"]["status"] for a in answers]
    assert statuses.count("STARTED") == 1, statuses
    not_entered = [a["json"]["reason"] for a in answers if a["json"]["status"] == "NOT_ENTERED"]
    assert all("re_entry" in reason or "already" in reason for reason in not_entered), not_entered
    assert len(executions(world, "lead-nurturing")) == 1
    assert world.journeys.membership("c-hot", "lead-nurturing")["entries"] == 1
