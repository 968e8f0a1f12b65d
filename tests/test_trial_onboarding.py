"""trial-onboarding: profile updates, time-of-day wait in the contact's timezone, split, inbox."""

from __future__ import annotations

import datetime as dt

from conftest import MONDAY_8AM, SHARED, outcomes

JOURNEY = SHARED / "trial-onboarding.journey.yaml"
EVENT = {"name": "trial_started"}


def test_given_ada_activated_then_she_is_tagged_grouped_and_notified_at_9_london(run, ada):
    trace = run(JOURNEY, ada, EVENT)

    assert trace["status"] == "SUCCEEDED"
    assert outcomes(trace) == {
        "start": "done", "day0": "done", "morning": "done", "activated": "branch:Activated",
        "tag-active": "done", "group": "done", "inbox": "done", "end": "done",
    }
    at = {s["id"]: s["at"] for s in trace["steps"]}
    assert at["activated"] == "2026-01-05T09:00:00Z"  # 09:00 Europe/London in January
    contact = trace["contact"]
    assert contact["tags"] == ["activated"] and contact["groups"] == ["active-trials"]
    assert contact["lifecycle"] == "trial" and contact["trials"] == 1
    assert contact["trial_started_at"] == "2026-01-05T08:00:00Z"
    assert [(m["kind"], m["subject"]) for m in trace["messages"]] == [
        ("email", "Welcome to your trial"), ("site_notification", "Nice work, Ada"),
    ]


def test_given_bob_without_a_timezone_then_the_journey_timezone_and_the_nudge_path_apply(run, bob):
    trace = run(JOURNEY, bob, EVENT)

    steps = outcomes(trace)
    assert steps["activated"] == "branch:default"
    assert steps["day0"] == "skipped" and steps["nudge"] == "skipped"  # unsubscribed
    assert steps["note"] == "done" and "tag-active" not in steps
    at = {s["id"]: s["at"] for s in trace["steps"]}
    assert at["activated"] == "2026-01-05T08:00:00Z"  # 09:00 Europe/Berlin
    assert trace["messages"] == []


def test_given_a_saturday_start_then_the_weekday_wait_wakes_on_monday_morning(run, ada):
    saturday = MONDAY_8AM - dt.timedelta(days=2)
    trace = run(JOURNEY, ada, EVENT, start=saturday)

    assert {s["id"]: s["at"] for s in trace["steps"]}["activated"] == "2026-01-05T09:00:00Z"


def test_given_a_contact_off_the_plan_then_criteria_keep_them_out(run, ada):
    trace = run(JOURNEY, {**ada, "plan": "paid"}, EVENT)

    assert trace["status"] == "NOT_ENTERED"
    assert trace["reason"] == "entry criteria do not match"
    assert trace["steps"] == []


def test_given_ada_then_the_inbox_notification_and_nothing_else_is_stored_for_her(ada):
    from journeys.local.runner import LocalStack, run_journey

    with LocalStack(MONDAY_8AM) as stack:
        run_journey(JOURNEY, ada, EVENT, stack=stack)
        inbox = stack.journeys.contact_items("c-ada", "INBOX")
        notes = stack.journeys.contact_items("c-ada", "NOTE")

    assert [(i["title"], i["body"], i["read"], i["at"]) for i in inbox] == [
        ("Nice work, Ada", "Your first project is live.", False, "2026-01-05T09:00:00Z"),
    ]
    assert notes == []  # the note is on the nudge path only
