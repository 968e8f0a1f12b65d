"""journeys pause / resume against the ops world: the switch in JourneyTable, honoured by the one
entry path (enter_contact) whoever asks: the webhook, /events, start_journey."""

from __future__ import annotations

import json
import threading

from ops_world import STACK, cli, entries, ops, publish, samples, world  # noqa: F401 (fixtures)
from webhook_world import containers, executions, http_event  # noqa: F401


def contact(n: int) -> dict:
    return {"id": f"c-{n}", "email": f"c{n}@example.com", "first_name": f"C{n}"}


def enter(ops, http_event, journey: str, person: dict) -> dict:
    return ops.call(entries(http_event, journey, {"contact": person}))["json"]


def test_given_a_paused_journey_when_a_contact_posts_an_entry_then_not_entered_journey_paused_and_resume_reopens(ops, http_event):
    done = cli("pause", "lead-nurturing", "--stack", STACK)
    assert done.exit_code == 0, done.output
    assert "entries paused" in done.output

    refused = enter(ops, http_event, "lead-nurturing", contact(1))
    assert (refused["status"], refused["reason"]) == ("NOT_ENTERED", "journey paused")
    assert executions(ops, "lead-nurturing") == []

    assert cli("resume", "lead-nurturing", "--stack", STACK).exit_code == 0
    assert enter(ops, http_event, "lead-nurturing", contact(1))["status"] == "STARTED"


def test_given_a_paused_journey_when_its_trigger_event_arrives_then_not_entered_journey_paused(ops):
    cli("pause", "trial-onboarding", "--stack", STACK)

    result = ops.deliver("trial_started", {"id": "c-trial", "email": "t@example.com", "plan": "trial"})

    assert result["entered"] == []
    assert result["not_entered"] == [{"journey": "trial-onboarding", "reason": "journey paused"}]
    assert executions(ops, "trial-onboarding") == []


def test_given_a_burst_of_concurrent_entries_when_paused_midway_then_none_starts_after_the_switch_and_those_inside_go_on(ops, http_event):
    from journeys.ops.stack import find_stack

    store = find_stack(STACK).journeys()
    answers: dict[int, dict] = {}
    answered_before_pause: set[int] = set()
    lock, ten_answered = threading.Lock(), threading.Event()
    handlers = containers(ops, 40)  # concurrent requests reach concurrent containers, as on AWS

    def post(n: int) -> None:
        answer = json.loads(handlers[n](entries(http_event, "lead-nurturing", {"contact": contact(n)}))["body"])
        with lock:
            answers[n] = answer
            if len(answers) >= 10:
                ten_answered.set()

    burst = [threading.Thread(target=post, args=(n,)) for n in range(20)]
    for thread in burst:
        thread.start()
    assert ten_answered.wait(120)
    with lock:
        answered_before_pause = set(answers)
    assert cli("pause", "lead-nurturing", "--stack", STACK).exit_code == 0  # while the rest of the burst is in flight
    after = [threading.Thread(target=post, args=(n,)) for n in range(20, 40)]
    for thread in after:
        thread.start()
    for thread in burst + after:
        thread.join()

    outcome = {n: (a["status"], a.get("reason")) for n, a in answers.items()}
    assert {outcome[n] for n in answered_before_pause} == {("STARTED", None)}
    assert {outcome[n] for n in range(20, 40)} == {("NOT_ENTERED", "journey paused")}
    assert set(outcome.values()) <= {("STARTED", None), ("NOT_ENTERED", "journey paused")}  # in flight: either
    started = {a["execution_arn"] for a in answers.values() if a["status"] == "STARTED"}
    running = {e["executionArn"] for e in executions(ops, "lead-nurturing") if e["status"] == "RUNNING"}
    assert len(started) >= 10 and started <= running  # those inside go on
    assert store.entries_paused("lead-nurturing")
