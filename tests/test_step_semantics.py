"""Step semantics beyond the shared examples: exactly-once sends, goals, random splits,
optimized send times, re-entry, time-of-day waits."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

from journeys.local.runner import LocalStack, run_journey
from journeys.runtime.lookahead import best_send_time, random_branch
from journeys.language.timezones import next_time_of_day, zone

from conftest import MONDAY_8AM, REPO, outcomes


def test_given_a_retried_send_task_then_the_email_goes_out_once(ada, tmp_path):
    # Given the payload Step Functions builds for "Send welcome email"
    asl = json.loads((REPO / "statemachines" / "lead-nurturing.asl.json").read_text())
    parameters = asl["States"]["Send welcome email"]["Parameters"]
    payload = {k.removesuffix(".$"): v for k, v in parameters.items() if not k.endswith(".$")}
    payload.update(execution="arn:aws:states:us-east-1:123456789012:execution:lead-nurturing:x", state={"contact": ada, "event": {}, "data": {}, "seq": 3})
    with LocalStack(MONDAY_8AM) as stack:
        stack.contacts.upsert(ada)
        # When the task runs three times (Retry, Lambda retry, redrive) with the same payload
        results = [stack.handlers("messaging", payload) for _ in range(3)]
        outbox_after_retries = len(stack.outbox())
        # And once more on a loop's next pass (a new seq)
        stack.handlers("messaging", {**payload, "state": {**payload["state"], "seq": 9}})
        outbox_after_loop = len(stack.outbox())

    # Then one email, the same answer each time, and a second email only for the new pass
    assert outbox_after_retries == 1 and outbox_after_loop == 2
    assert results[0]["last"] == results[1]["last"] == results[2]["last"] == {"step": "welcome", "outcome": "done"}


def test_given_exit_when_then_a_contact_who_reaches_the_goal_leaves_after_the_wait(write_journey, run, ada):
    path = write_journey("""\
journey: goal
entry:
  trigger: webhook
  exit_when: {field: contact.customer, op: equals, value: true}
steps:
  - {id: buy, type: update_profile, settings: {set: {customer: true}}}
  - {id: hello, type: send_email, settings: {subject: Hello, text: x}}
  - {id: later, type: wait, settings: {duration: 1d}}
  - {id: upsell, type: send_email, settings: {subject: Upsell, text: x}}
""")
    trace = run(path, ada)

    assert trace["status"] == "SUCCEEDED" and trace["reason"] == "goal reached (exit_when)"
    assert outcomes(trace) == {"buy": "done", "hello": "done", "later": "done"}  # checked after the wait only
    assert [m["subject"] for m in trace["messages"]] == ["Hello"]


def test_given_a_random_split_then_each_contact_keeps_its_branch_and_weights_hold():
    branches = [{"name": "A", "weight": 70}, {"name": "B", "weight": 30}]
    picks = Counter(random_branch(branches, f"contact-{i}|experiment") for i in range(4000))
    assert 0.66 < picks["A"] / 4000 < 0.74
    assert all(random_branch(branches, f"contact-{i}|experiment") == random_branch(branches, f"contact-{i}|experiment") for i in range(50))
    assert Counter(random_branch(branches, f"contact-{i}|other-step") for i in range(50)) != Counter(
        random_branch(branches, f"contact-{i}|experiment") for i in range(50))


def test_given_a_random_split_in_a_journey_then_the_trace_names_the_branch(write_journey, run, ada):
    path = write_journey("""\
journey: experiment
entry: {trigger: webhook}
steps:
  - id: ab
    type: split
    settings: {branches: [{name: Short, weight: 1, next: short}, {name: Long, weight: 1, next: long}]}
  - {id: short, type: add_tag, settings: {tags: [short]}, next: end}
  - {id: long, type: add_tag, settings: {tags: [long]}}
  - {id: end, type: exit}
""")
    trace = run(path, ada)
    branch = outcomes(trace)["ab"]
    expected = random_branch([{"name": "Short", "weight": 1}, {"name": "Long", "weight": 1}], "c-ada|ab")
    assert branch == f"branch:{expected}" and trace["contact"]["tags"] == [expected.lower()]
    assert trace["_run"].compiled.asl["StartAt"] == "Start"  # a split first needs its check evaluated


def test_given_engagement_history_then_the_optimized_email_goes_at_the_contacts_best_hour(write_journey, run, ada):
    path = write_journey("""\
journey: optimized
entry: {trigger: webhook}
steps:
  - {id: tip, name: Send tip at best time, type: send_optimized_email, settings: {subject: Tip, text: x, window: 24h}}
""")
    trace = run(path, {**ada, "engagement_hours": [14, 14, 20]})  # London hours

    assert [(m["kind"], m["at"]) for m in trace["messages"]] == [("email", "2026-01-05T14:00:00Z")]
    no_history = run(path, {**ada, "id": "c-new"})
    assert no_history["messages"][0]["at"] == "2026-01-05T10:00:00Z"  # 10:00 in their timezone


def test_best_send_time_falls_back_to_now_when_no_10am_fits_the_window():
    now = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.timezone.utc)
    assert best_send_time({}, now, 3 * 3600, zone("UTC")) == now


def test_given_re_entry_after_30d_then_a_second_entry_waits_its_turn(ada):
    from journeys.local.trace import build_trace

    path = REPO / "statemachines" / "lead-nurturing.journey.yaml"
    with LocalStack(MONDAY_8AM) as stack:
        first = run_journey(path, ada, {"topic": "a"}, stack=stack)
        again = run_journey(path, ada, {"topic": "b"}, stack=stack)
        stack.clock.advance(31 * 86400)
        later = run_journey(path, ada, {"topic": "c"}, stack=stack)

    assert first.status == "SUCCEEDED"
    assert again.status == "NOT_ENTERED" and "re_entry after 30d" in build_trace(again)["reason"]
    assert later.status == "SUCCEEDED"


def test_time_of_day_waits_keep_wall_clock_time_across_dst():
    berlin = zone("Europe/Berlin")
    before_dst = dt.datetime(2026, 3, 28, 12, 0, tzinfo=dt.timezone.utc)  # Saturday
    assert next_time_of_day(before_dst, "09:00", berlin, ["mon"]).isoformat() == "2026-03-30T07:00:00+00:00"
    assert next_time_of_day(before_dst, "09:00", berlin).isoformat() == "2026-03-29T07:00:00+00:00"
