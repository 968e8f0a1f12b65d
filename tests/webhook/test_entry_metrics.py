"""Entries are counted per journey however they arrive (POST /journeys/<id>/entries or an event on
POST /events), with exactly the dimensions the dashboard's search reads."""

from __future__ import annotations

import re

import pytest
from webhook_world import http_event, sample, world  # noqa: F401 (fixtures)

from conftest import emf_records
from journeys.compiler import build


@pytest.fixture
def metrics_on(monkeypatch):
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")  # before the world: local runs keep them off
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "journeys-dev")


def counted(out: str, metric: str) -> list[dict]:
    return [record["values"] for record in emf_records(out).get(metric, [])]


def entered(out: str) -> list[dict]:
    return counted(out, "JourneyEntered")


def dashboard_schema() -> set[str]:
    expression = build.search(("Journey",), "JourneyEntered")
    return set(re.search(r"\{Journeys,([^}]*)\}", expression).group(1).split(","))


def test_given_an_event_that_starts_a_journey_then_journey_entered_is_counted_for_that_journey(metrics_on, world, sample, capfd):
    response = world.call(sample("entry/post-events-trial-started.json"))

    assert response["statusCode"] == 202, response["body"]
    counted = entered(capfd.readouterr().out)
    assert counted == [{"service": "journeys-dev", "Journey": "trial-onboarding"}]
    assert set(counted[0]) == dashboard_schema()


def test_given_a_webhook_entry_then_journey_entered_has_the_same_dimensions(metrics_on, world, sample, capfd):
    response = world.call(sample("entry/post-entries-lead-nurturing.json"))

    assert response["statusCode"] == 202, response["body"]
    assert entered(capfd.readouterr().out) == [{"service": "journeys-dev", "Journey": "lead-nurturing"}]


def test_given_an_event_whose_journey_keeps_the_contact_out_then_journey_not_entered_is_counted_for_it(metrics_on, world, http_event, capfd):
    body = {"name": "trial_started", "contact": {"id": "c-paid", "email": "p@example.com", "plan": "paid"}, "payload": {"id": "evt-9"}}

    response = world.call(http_event("POST", "/events", body, route="/events"))

    assert response["statusCode"] == 200 and response["json"]["not_entered"][0]["journey"] == "trial-onboarding"
    out = capfd.readouterr().out
    assert counted(out, "JourneyNotEntered") == [{"service": "journeys-dev", "Journey": "trial-onboarding"}]
    assert counted(out, "JourneyEntered") == []
