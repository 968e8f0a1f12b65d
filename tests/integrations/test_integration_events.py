"""`wait: for_event`: the control Lambda keeps the task token, deliver_event resumes the execution
(on_event) or the timeout takes on_timeout; events also enter journeys they trigger. Locally the
events arrive at virtual times (`journeys run --event-at NAME@+2h`). An event at the deadline is too
late; an event id is delivered once; a throttled resume keeps the wait for the sender's retry."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time

import pytest
from botocore.exceptions import ClientError

from integrations_support import START, outcomes, quick_http, run_trace  # noqa: F401 - fixtures

WAITING = """\
journey: demo-follow-up
entry: {trigger: webhook}
steps:
  - {id: invite, type: send_email, settings: {subject: "Book a demo", text: x}}
  - id: wait-demo
    type: wait
    settings:
      for_event: {event: demo_booked, timeout: 1d}
      on_event: thanks
      on_timeout: nudge
  - {id: thanks, type: send_email, settings: {subject: "See you at the demo", text: x}, next: end}
  - {id: nudge, type: add_tag, settings: {tags: [no-demo]}}
  - {id: end, type: exit}
"""


def steps_at(trace) -> dict[str, tuple[str, str]]:
    return {s["id"]: (s["outcome"], s["at"]) for s in trace["steps"]}


def test_given_a_wait_for_an_event_when_it_arrives_in_time_then_the_journey_takes_on_event_at_that_time(write_journey, ada):
    path = write_journey(WAITING)

    trace = run_trace(path, ada, event_at=["demo_booked@+2h"])

    assert trace["status"] == "SUCCEEDED"
    assert steps_at(trace) == {"invite": ("done", "2026-01-05T08:00:00Z"), "wait-demo": ("event", "2026-01-05T08:00:00Z"),
                               "thanks": ("done", "2026-01-05T10:00:00Z"), "end": ("done", "2026-01-05T10:00:00Z")}
    assert trace["events"][0]["name"] == "demo_booked" and trace["events"][0]["at"] == "2026-01-05T10:00:00Z"
    assert trace["events"][0]["resumed"] == [trace["execution"]]


def test_given_a_wait_for_an_event_when_it_arrives_too_late_then_the_timeout_takes_on_timeout(write_journey, ada):
    path = write_journey(WAITING)

    trace = run_trace(path, ada, event_at=["demo_booked@+2d"])

    assert outcomes(trace) == {"invite": "done", "wait-demo": "timeout", "nudge": "done", "end": "done"}
    assert steps_at(trace)["nudge"] == ("done", "2026-01-06T08:00:00Z")
    assert "no-demo" in trace["contact"]["tags"]


def test_given_an_event_for_another_contact_or_name_then_the_wait_goes_on(write_journey, ada):
    from journeys.local.runner import LocalStack, run_journey
    from journeys.local.trace import build_trace

    path = write_journey(WAITING)
    with LocalStack(START) as stack:
        stack.schedule_event(START, "demo_booked", {"id": "someone-else"})
        stack.schedule_event(START, "demo_cancelled", {"id": ada["id"]})
        trace = build_trace(run_journey(path, ada, {}, stack=stack))

    assert outcomes(trace)["wait-demo"] == "timeout"
    assert [e["resumed"] for e in trace["events"]] == [[], []]


def test_given_an_event_that_triggers_a_journey_then_delivery_enters_the_contact_and_resumes_the_wait(write_journey, ada):
    write_journey("""\
journey: demo-prep
entry: {trigger: event, event: demo_booked}
steps:
  - {id: prep, type: add_tag, settings: {tags: [demo-prep]}}
""", name="demo-prep.journey.yaml")
    path = write_journey(WAITING, name="demo-follow-up.journey.yaml")

    trace = run_trace(path, ada, event_at=["demo_booked@+1h"])

    delivered = trace["events"][0]
    assert delivered["resumed"] == [trace["execution"]]
    assert len(delivered["entered"]) == 1 and ":demo-prep:" in delivered["entered"][0]
    assert outcomes(trace)["wait-demo"] == "event"


def test_given_deliver_event_then_it_returns_resumed_and_entered_executions(write_journey, ada):
    from journeys.edges.events import deliver_event
    from journeys.language.loader import load_journey
    from journeys.local.runner import LocalStack

    write_journey("journey: on-signup\nentry: {trigger: event, event: signed_up}\nsteps:\n  - {id: t, type: add_tag, settings: {tags: [signed]}}\n",
                  name="on-signup.journey.yaml")
    path = write_journey(WAITING, name="demo-follow-up.journey.yaml")
    with LocalStack(START) as stack:
        stack.deploy_beside(path)
        stack.deploy(__import__("journeys.compiler", fromlist=["compile_journey"]).compile_journey(load_journey(path)[0]))
        entered = deliver_event("signed_up", {"id": ada["id"], "email": ada["email"]}, {"source": "form"}, catalog=stack.catalog(),
                                sfn=stack.sfn, contacts=stack.contacts, journeys=stack.journeys)
        again = deliver_event("signed_up", {"id": ada["id"]}, {"source": "form"}, catalog=stack.catalog(),
                              sfn=stack.sfn, contacts=stack.contacts, journeys=stack.journeys)
        status = stack.wait(entered["entered"][0])["status"]

    assert entered["resumed"] == [] and len(entered["entered"]) == 1
    assert again["entered"] == [] and again["not_entered"][0]["journey"] == "on-signup"
    assert status == "SUCCEEDED"


def test_given_the_cli_when_event_at_is_given_then_the_trace_shows_the_event(write_journey, tmp_path):
    path = write_journey(WAITING)
    contact = tmp_path / "ada.json"
    contact.write_text(json.dumps({"id": "c-ada", "email": "ada@example.com"}))

    done = subprocess.run([sys.executable, "-m", "journeys.cli", "run", str(path), "--contact", str(contact),
                           "--start", "2026-01-05T08:00:00Z", "--event-at", "demo_booked@+3h", "--json"],
                          capture_output=True, text=True, timeout=120)
    bad = subprocess.run([sys.executable, "-m", "journeys.cli", "run", str(path), "--contact", str(contact),
                          "--event-at", "demo_booked@soon"], capture_output=True, text=True, timeout=60)

    assert done.returncode == 0, done.stderr
    trace = json.loads(done.stdout)
    assert {s["id"]: s["outcome"] for s in trace["steps"]}["wait-demo"] == "event"
    assert trace["events"][0]["at"] == "2026-01-05T11:00:00Z"
    assert bad.returncode == 1 and "demo_booked@soon" in bad.stderr and "Traceback" not in bad.stderr


def test_given_an_event_exactly_at_the_timeout_then_the_wait_times_out_and_delivery_says_it_resumed_nothing(write_journey, ada):
    path = write_journey(WAITING)

    trace = run_trace(path, ada, event_at=["demo_booked@+1d"])

    assert outcomes(trace)["wait-demo"] == "timeout"
    delivered = trace["events"][0]
    assert delivered["at"] == "2026-01-06T08:00:00Z"
    assert delivered["resumed"] == [] and delivered["expired"] == [trace["execution"]]


LISTENING = """\
journey: {journey}
entry: {{trigger: webhook}}
steps:
  - id: listen
    type: wait
    settings:
      for_event: {{event: ping, timeout: 1d}}
      on_event: count
      on_timeout: done
  - {{id: count, type: update_profile, settings: {{increment: {{{counter}: 1}}}}, next: listen}}
  - {{id: done, type: exit}}
"""


def test_given_events_without_an_id_then_each_one_resumes_the_looping_wait(write_journey, ada):
    path = write_journey(LISTENING.format(journey="pings", counter="pings"))

    trace = run_trace(path, ada, event_at=["ping@+1h", "ping@+2h", "ping@+3h"])

    assert [e["resumed"] for e in trace["events"]] == [[trace["execution"]]] * 3
    assert trace["contact"]["pings"] == 3  # nothing tells them apart: no deduplication


def test_given_a_repeated_event_id_then_it_resumes_nothing_and_starts_nothing(write_journey, ada):
    from journeys.local.runner import LocalStack, run_journey
    from journeys.local.trace import build_trace

    write_journey("journey: on-ping\nentry: {trigger: event, event: ping, re_entry: always}\nsteps:\n"
                  "  - {id: t, type: update_profile, settings: {increment: {entered: 1}}}\n", name="on-ping.journey.yaml")
    path = write_journey(LISTENING.format(journey="pings", counter="pings"), name="pings.journey.yaml")
    hour = dt.timedelta(hours=1)
    with LocalStack(START) as stack:
        stack.schedule_event(START + hour, "ping", {"id": ada["id"]}, {"id": "evt-1"})
        stack.schedule_event(START + 2 * hour, "ping", {"id": ada["id"]}, {"id": "evt-1"})
        stack.schedule_event(START + 3 * hour, "ping", {"id": ada["id"]}, {"id": "evt-2"})
        trace = build_trace(run_journey(path, ada, {}, stack=stack))

    first, repeat, other = trace["events"]
    assert first["resumed"] == [trace["execution"]] and len(first["entered"]) == 1
    assert repeat["duplicate"] is True and "evt-1" in repeat["reason"]
    assert (repeat["resumed"], repeat["entered"], repeat["not_entered"]) == ([], [], [])
    assert other["resumed"] == [trace["execution"]] and len(other["entered"]) == 1
    assert trace["contact"]["pings"] == 2 and trace["contact"]["entered"] == 2


def wait_until(condition, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.005)


class FailingSends:
    """Step Functions throttles the n-th SendTaskSuccess call (a botocore hook on the real client)."""

    def __init__(self, sfn, nth: int):
        self.sfn, self.nth, self.calls = sfn, nth, 0

    def __enter__(self):
        self.sfn.meta.events.register("before-call.sfn.SendTaskSuccess", self.maybe_fail)
        return self

    def __exit__(self, *exc):
        self.sfn.meta.events.unregister("before-call.sfn.SendTaskSuccess", self.maybe_fail)

    def maybe_fail(self, **_):
        self.calls += 1
        if self.calls == self.nth:
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "SendTaskSuccess")


def test_given_send_task_success_throttled_then_the_wait_is_kept_and_the_retry_resumes_it(write_journey, ada):
    from journeys.compiler import compile_journey
    from journeys.language.loader import load_journey
    from journeys.local.runner import LocalStack

    journey = load_journey(write_journey(WAITING))[0]
    with LocalStack(START) as stack:
        stack.deploy(compile_journey(journey))
        arn = stack.enter(journey, ada, {}).execution_arn
        wait_until(lambda: stack.journeys.event_waits(ada["id"], "demo_booked"))
        with FailingSends(stack.sfn, nth=1), pytest.raises(ClientError, match="ThrottlingException"):
            stack.deliver("demo_booked", {"id": ada["id"]}, {"id": "booking-7"})
        kept = stack.journeys.event_waits(ada["id"], "demo_booked")
        retried = stack.deliver("demo_booked", {"id": ada["id"]}, {"id": "booking-7"})
        status = stack.wait(arn)["status"]
        subjects = [message["subject"] for message in stack.outbox()]

    assert [w["execution"] for w in kept] == [arn]
    assert retried["resumed"] == [arn]
    assert status == "SUCCEEDED" and subjects == ["Book a demo", "See you at the demo"]  # on_event, not on_timeout


def test_given_a_delivery_that_failed_midway_then_its_retry_resumes_only_what_it_had_not(write_journey, ada):
    from journeys.compiler import compile_journey
    from journeys.language.loader import load_journey
    from journeys.local.runner import LocalStack

    both = [load_journey(write_journey(LISTENING.format(journey=j, counter=f"{j.replace('-', '_')}_pings"),
                                       name=f"{j}.journey.yaml"))[0] for j in ("pings-a", "pings-b")]
    with LocalStack(START) as stack:
        for journey in both:
            stack.deploy(compile_journey(journey))
            stack.enter(journey, ada, {})

        def waiting() -> int:
            return len(stack.journeys.event_waits(ada["id"], "ping"))

        wait_until(lambda: waiting() == 2)
        with FailingSends(stack.sfn, nth=2), pytest.raises(ClientError):
            stack.deliver("ping", {"id": ada["id"]}, {"id": "evt-1"})  # resumes pings-a, throttled on pings-b
        wait_until(lambda: waiting() == 2 and stack.contacts.get(ada["id"]).get("pings_a_pings") == 1)
        retried = stack.deliver("ping", {"id": ada["id"]}, {"id": "evt-1"})
        wait_until(lambda: waiting() == 2 and stack.contacts.get(ada["id"]).get("pings_b_pings") == 1)
        contact = stack.contacts.get(ada["id"])

    assert [arn.split(":")[-2] for arn in retried["resumed"]] == ["pings-b"]
    assert (contact["pings_a_pings"], contact["pings_b_pings"]) == (1, 1)


TRIGGERED = """\
journey: trial-welcome
entry: {trigger: event, event: trial_started}
steps:
  - {id: hello, type: add_tag, settings: {tags: [trial]}}
  - {id: later, type: wait, settings: {duration: 1d}}
  - {id: bye, type: add_tag, settings: {tags: [day-two]}}
"""


def test_given_an_event_triggered_journey_when_its_entry_event_comes_later_then_it_enters_at_the_events_time(write_journey, ada):
    path = write_journey(TRIGGERED, name="trial-welcome.journey.yaml")

    trace = run_trace(path, ada, event_at=["trial_started@+1h"])

    assert trace["status"] == "SUCCEEDED"
    assert steps_at(trace)["hello"] == ("done", "2026-01-05T09:00:00Z")
    assert steps_at(trace)["bye"] == ("done", "2026-01-06T09:00:00Z")
    assert "events" not in trace  # the entry event entered it: not delivered a second time


def test_given_an_event_triggered_journey_and_only_other_events_then_it_enters_at_the_start(write_journey, ada):
    path = write_journey(TRIGGERED, name="trial-welcome.journey.yaml")

    trace = run_trace(path, ada, event_at=["demo_booked@+1h"])

    assert steps_at(trace)["hello"] == ("done", "2026-01-05T08:00:00Z")
