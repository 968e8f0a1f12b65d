"""Notes a journey adds (add_note) are shown in the local trace, under a top-level `notes` key (what
a CRM user looks for beside the profile); site notifications are in `messages` as before."""

from __future__ import annotations

from integrations_support import run_trace

NOTING = """\
journey: noting
entry: {trigger: webhook}
steps:
  - {id: first, type: add_note, settings: {text: "Asked about {{ event.topic }}"}}
  - {id: pause, type: wait, settings: {duration: 2h}}
  - {id: ping, type: site_notification, settings: {title: "Welcome", body: "Hi {{ contact.first_name }}"}}
  - {id: second, type: add_note, settings: {text: "Sent the welcome card"}}
"""


def test_given_a_journey_that_adds_notes_then_the_trace_lists_them_in_order_with_time_step_and_journey(write_journey, ada):
    trace = run_trace(write_journey(NOTING), ada, {"topic": "pricing"})

    assert trace["status"] == "SUCCEEDED"
    assert trace["notes"] == [
        {"at": "2026-01-05T08:00:00Z", "text": "Asked about pricing", "journey": "noting"},
        {"at": "2026-01-05T10:00:00Z", "text": "Sent the welcome card", "journey": "noting"},
    ]
    assert "notes" not in trace["contact"]  # a note is not a profile attribute
    assert [m["kind"] for m in trace["messages"]] == ["site_notification"]


def test_given_a_journey_without_notes_then_the_trace_has_no_notes_key(write_journey, ada):
    trace = run_trace(write_journey(NOTING.split("  - {id: first")[0] + "  - {id: t, type: add_tag, settings: {tags: [x]}}\n"), ada)

    assert "notes" not in trace
