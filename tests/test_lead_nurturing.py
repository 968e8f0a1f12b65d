"""lead-nurturing for the shared contacts: what a marketer would predict."""

from __future__ import annotations

import email

from conftest import SHARED, outcomes

JOURNEY = SHARED / "lead-nurturing.journey.yaml"


def test_given_ada_when_she_runs_then_three_emails_go_out_days_apart(run, ada):
    trace = run(JOURNEY, ada, {"topic": "pricing"})

    assert trace["status"] == "SUCCEEDED"
    assert [(m["step"], m["at"]) for m in trace["messages"]] == [
        ("welcome", "2026-01-05T08:00:00Z"), ("case-study", "2026-01-07T08:00:00Z"), ("offer", "2026-01-10T08:00:00Z"),
    ]
    assert trace["messages"][0]["subject"] == "Thanks for reaching out, Ada"
    assert trace["messages"][1]["subject"] == "How teams like Analytical use us"
    assert outcomes(trace) == {
        "tag-lead": "done", "welcome": "done", "wait-2d": "done", "case-study": "done", "wait-3d": "done",
        "engaged": "branch:next", "offer": "done", "done": "done",
    }
    assert "lead" in trace["contact"]["tags"]


def test_given_ada_then_each_email_is_in_the_ses_outbox_with_one_click_unsubscribe(run, ada):
    trace = run(JOURNEY, ada, {"topic": "pricing"})

    outbox = trace["_run"].outbox
    assert [m["subject"] for m in outbox] == [m["subject"] for m in trace["messages"]]
    first = email.message_from_string(outbox[0]["raw"])
    assert first["To"] == "ada@analytical.example"
    assert first["List-Unsubscribe"].startswith("<https://") and "contact=c-ada" in first["List-Unsubscribe"]
    assert first["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "We got your request about pricing." in first.get_payload()


def test_given_bob_who_unsubscribed_then_no_marketing_email_and_he_is_marked_cold(run, bob):
    trace = run(JOURNEY, bob)

    assert trace["status"] == "SUCCEEDED"
    assert trace["messages"] == [] and trace["_run"].outbox == []
    steps = {s["id"]: s for s in trace["steps"]}
    assert steps["welcome"]["outcome"] == "skipped" and steps["welcome"]["detail"] == "unsubscribed"
    assert steps["engaged"]["outcome"] == "branch:else"  # no email_clicks: a missing field matches nothing
    assert steps["nurture-end"]["outcome"] == "done"
    assert trace["contact"]["lead_status"] == "cold"
    assert "offer" not in steps


def test_given_a_small_subscribed_company_then_apply_to_skips_the_case_study(run, ada):
    small = {**ada, "id": "c-small", "company_size": 5}
    trace = run(JOURNEY, small)

    assert outcomes(trace)["case-study"] == "skipped"
    assert {s["id"]: s.get("detail") for s in trace["steps"]}["case-study"] == "apply_to"
    assert [m["step"] for m in trace["messages"]] == ["welcome", "offer"]


# What a user pays is transitions per contact (issue 11). Each shared contact visits 8 steps here,
# each one state (no join or goto); today's design adds one Task, "After wait-3d", that re-reads
# the contact before the gate. Cost mode's target is 5 (3 runs of steps, 2 waits).
TRANSITIONS_PER_CONTACT_BUDGET = 9


def test_given_the_examples_then_transitions_per_contact_stay_within_budget(run, ada, bob):
    for contact in (ada, bob):
        trace = run(JOURNEY, contact)
        assert trace["transitions"] <= TRANSITIONS_PER_CONTACT_BUDGET, trace["transitions"]
