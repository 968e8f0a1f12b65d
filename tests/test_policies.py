"""Delivery policies (JOURNEYS.md): frequency cap across journeys, quiet hours, the stack's send rate.

Driven through the real runner (moto's interpreter, our handlers in-process, the virtual clock) and,
for the races, through the real conditional writes on moto's DynamoDB from many threads."""

from __future__ import annotations

import collections
import datetime as dt
import json
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "journeys"
LEAD = REPO / "statemachines" / "lead-nurturing.journey.yaml"
ADA = json.loads((SHARED / "contacts" / "ada.json").read_text())
UTC = dt.timezone.utc


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


def run(tmp_path, policies: str | None, journey: Path = LEAD, contact: dict = ADA, start: str = "2026-01-05T08:00:00Z"):
    from journeys import clock
    from journeys.local.runner import run_journey
    from journeys.local.trace import build_trace

    options = {"policies_file": write(tmp_path / "policies.yaml", policies)} if policies is not None else {}
    return build_trace(run_journey(journey, contact, start=clock.parse_timestamp(start), **options))


# ------------------------------------------------------------------------------ the policies file

@pytest.mark.parametrize("text, key, says", [
    ("frequency_cap: {emails: -1, per: 7d}", "frequency_cap.emails", "at least 1"),
    ("frequency_cap: {emails: 3}", "frequency_cap.per", "missing"),
    ("frequency_cap: {emails: 3, per: soon}", "frequency_cap.per", "duration"),
    ('quiet_hours: {from: "9pm", to: "08:00"}', "quiet_hours.from", "HH:MM"),
    ('quiet_hours: {from: "21:00", to: "21:00"}', "quiet_hours.to", "same time"),
    ("send_rate: fast", "send_rate", "14/s"),
    ("send_rate: 0/s", "send_rate", "14/s"),
    ("sendrate: 14/s", "sendrate", "unknown key"),
])
def test_given_a_bad_policies_file_then_the_error_names_the_file_and_the_key(tmp_path, text, key, says):
    from journeys.language.errors import JourneyFileError
    from journeys.language.policies import load_policies

    path = write(tmp_path / "policies.yaml", text)
    with pytest.raises(JourneyFileError) as raised:
        load_policies(path)

    message = str(raised.value)
    assert message.startswith(f"{path}: {key}: ") and says in message, message


def test_given_the_contract_example_then_it_reads_as_written(tmp_path):
    from journeys.language.policies import load_policies

    policies = load_policies(write(tmp_path / "p.yaml", """\
        frequency_cap: {emails: 3, per: 7d}
        quiet_hours: {from: "21:00", to: "08:00"}
        send_rate: 14/s
    """))

    assert (policies.frequency_cap.emails, policies.frequency_cap.window_seconds) == (3, 7 * 86400)
    assert policies.quiet_hours.minutes == (21 * 60, 8 * 60)
    assert policies.emails_per_second == 14
    unquoted = load_policies(write(tmp_path / "q.yaml", "quiet_hours: {from: 21:00, to: 08:00}\nsend_rate: 600/m\n"))
    assert unquoted.quiet_hours.minutes == (21 * 60, 8 * 60) and unquoted.emails_per_second == 10  # YAML's 21:00 is 1260


def test_given_a_bad_policies_file_when_running_then_one_error_line_and_nothing_runs(tmp_path):
    bad = write(tmp_path / "policies.yaml", "frequency_cap: {emails: -1, per: 7d}\n")
    done = subprocess.run([sys.executable, "-m", "journeys.cli", "run", str(LEAD), "--contact", str(SHARED / "contacts" / "ada.json"),
                           "--policies", str(bad)], capture_output=True, text=True, cwd=REPO)

    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [f"error: {bad}: frequency_cap.emails: emails: -1 — at least 1 (to send no marketing email, unsubscribe the contact)"]


def test_given_a_journey_that_opts_out_with_bare_off_then_it_is_read_as_off(tmp_path):
    from journeys.language.loader import load_journey

    text = LEAD.read_text().replace("entry:", "policies: {frequency_cap: off, quiet_hours: off}\nentry:", 1)
    journey, _ = load_journey(write(tmp_path / "x.journey.yaml", text))

    assert (journey.policies.frequency_cap, journey.policies.quiet_hours) == (False, False)


# ------------------------------------------------------------------------------ quiet hours

QUIET = 'quiet_hours: {from: "21:00", to: "08:00"}\n'


@pytest.mark.parametrize("now, zone, until", [
    ("2026-01-05T22:00:00+00:00", "Europe/London", "2026-01-06T08:00:00+00:00"),   # after from: next morning
    ("2026-01-06T07:59:00+00:00", "Europe/London", "2026-01-06T08:00:00+00:00"),   # before to: this morning
    ("2026-01-06T08:00:00+00:00", "Europe/London", None),                          # `to` itself is outside
    ("2026-01-05T20:59:00+00:00", "Europe/London", None),
    ("2026-01-05T20:30:00+00:00", "Europe/Berlin", "2026-01-06T07:00:00+00:00"),   # 21:30 in Berlin
    # DST: Berlin springs forward on 2026-03-29 (02:00 -> 03:00): 08:00 that day is 06:00 UTC
    ("2026-03-28T21:00:00+00:00", "Europe/Berlin", "2026-03-29T06:00:00+00:00"),
    # and falls back on 2026-10-25 (03:00 -> 02:00): 08:00 that day is 07:00 UTC
    ("2026-10-24T20:00:00+00:00", "Europe/Berlin", "2026-10-25T07:00:00+00:00"),
    ("2026-01-05T23:00:00+00:00", "America/New_York", None),                       # 18:00 there
])
def test_given_quiet_hours_across_midnight_then_the_send_waits_for_their_local_end(now, zone, until):
    from journeys.language.policies import Policies
    from journeys.runtime.policies import quiet_until

    policies = Policies.model_validate({"quiet_hours": {"from": "21:00", "to": "08:00"}})
    got = quiet_until(dt.datetime.fromisoformat(now), policies, {"timezone": zone}, None)

    assert got == (dt.datetime.fromisoformat(until) if until else None)


def test_given_a_window_within_one_day_then_only_inside_it_is_quiet():
    from journeys.language.policies import Policies
    from journeys.runtime.policies import quiet_until

    policies = Policies.model_validate({"quiet_hours": {"from": "12:00", "to": "14:00"}})
    inside = quiet_until(dt.datetime(2026, 1, 5, 13, 0, tzinfo=UTC), policies, {}, None)

    assert inside == dt.datetime(2026, 1, 5, 14, 0, tzinfo=UTC)
    assert quiet_until(dt.datetime(2026, 1, 5, 11, 59, tzinfo=UTC), policies, {}, None) is None
    assert quiet_until(dt.datetime(2026, 1, 5, 23, 0, tzinfo=UTC), policies, {"timezone": "Nope/Zone"}, "Europe/Berlin") is None


def test_given_a_contact_entering_at_night_then_the_welcome_goes_at_eight_their_time_and_says_so(tmp_path):
    night = run(tmp_path, QUIET, start="2026-01-05T22:00:00Z")  # Ada is in Europe/London

    steps = {step["id"]: step for step in night["steps"]}
    assert steps["tag-lead"]["at"] == "2026-01-05T22:00:00Z"  # not an email: no quiet hours
    assert steps["welcome"] == {**steps["welcome"], "outcome": "done", "at": "2026-01-06T08:00:00Z", "deferred": "quiet hours"}
    welcome = next(m for m in night["messages"] if m["step"] == "welcome")
    assert welcome["at"] == "2026-01-06T08:00:00Z"
    assert night["status"] == "SUCCEEDED"


def test_given_sends_outside_quiet_hours_then_they_cost_no_extra_transition(tmp_path):
    plain = run(tmp_path, None)
    with_policies = run(tmp_path, QUIET + "send_rate: 14/s\nfrequency_cap: {emails: 5, per: 7d}\n")

    assert with_policies["transitions"] == plain["transitions"]
    assert with_policies["steps"] == plain["steps"]


def test_given_a_journey_that_opts_out_of_quiet_hours_then_it_sends_at_night(tmp_path):
    text = LEAD.read_text().replace("entry:", "policies: {quiet_hours: off}\nentry:", 1)
    journey = write(tmp_path / "transactional.journey.yaml", text)

    night = run(tmp_path, QUIET, journey=journey, start="2026-01-05T22:00:00Z")

    welcome = next(step for step in night["steps"] if step["id"] == "welcome")
    assert welcome["at"] == "2026-01-05T22:00:00Z" and "deferred" not in welcome


# ------------------------------------------------------------------------------ frequency cap

def test_given_a_cap_of_two_then_the_third_marketing_email_is_skipped_as_capped(tmp_path):
    capped = run(tmp_path, "frequency_cap: {emails: 2, per: 7d}\n")

    outcomes = {step["id"]: (step["outcome"], step.get("detail")) for step in capped["steps"]}
    assert outcomes["welcome"] == ("done", None) and outcomes["case-study"] == ("done", None)
    assert outcomes["offer"] == ("skipped", "frequency cap")
    assert [m["step"] for m in capped["messages"] if m["kind"] == "email"] == ["welcome", "case-study"]


def test_given_a_window_that_has_passed_then_old_sends_no_longer_count(tmp_path):
    # 2 per 2 days: welcome (day 0) and case study (day 2) fill it, the offer (day 5) finds day 0 gone
    rolled = run(tmp_path, "frequency_cap: {emails: 2, per: 2d}\n")

    assert [m["step"] for m in rolled["messages"] if m["kind"] == "email"] == ["welcome", "case-study", "offer"]


def _cap_world():
    from journeys.language.policies import Policies
    from journeys.local.runner import LocalStack

    stack = LocalStack(dt.datetime(2026, 1, 5, 8, 0, tzinfo=UTC))
    return stack, Policies.model_validate({"frequency_cap": {"emails": 3, "per": "7d"}})


def test_given_two_journeys_racing_for_the_last_slot_then_exactly_one_takes_it():
    from journeys.runtime.policies import take_cap_slot

    stack, policies = _cap_world()
    with stack:
        table, now = stack.journeys.table, stack.clock.now()
        assert take_cap_slot(table, "c-1", "earlier-1", now, policies) and take_cap_slot(table, "c-1", "earlier-2", now, policies)
        for attempt in range(5):  # several rounds: a lost race must never be a lucky schedule
            barrier, results = threading.Barrier(8), {}

            def send(ref: str) -> None:
                barrier.wait()
                results[ref] = take_cap_slot(table, f"c-race-{attempt}", ref, now, policies)

            for ref in ("a", "b"):  # the contact has 2 of 3 sends already
                assert take_cap_slot(table, f"c-race-{attempt}", f"before-{ref}", now, policies)
            threads = [threading.Thread(target=send, args=(f"journey-{i}",)) for i in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(10)

            assert sorted(results.values()) == [False] * 7 + [True], results


def test_given_a_send_retried_after_it_counted_then_it_counts_once():
    from journeys.runtime.policies import take_cap_slot

    stack, policies = _cap_world()
    with stack:
        table, now = stack.journeys.table, stack.clock.now()
        assert all(take_cap_slot(table, "c-2", "the-same-send", now, policies) for _ in range(5))
        assert take_cap_slot(table, "c-2", "second", now, policies) and take_cap_slot(table, "c-2", "third", now, policies)
        assert not take_cap_slot(table, "c-2", "fourth", now, policies)


# ------------------------------------------------------------------------------ send rate

def test_given_many_reservations_at_once_then_each_second_holds_at_most_the_rate():
    from journeys.language.policies import Policies
    from journeys.local.runner import LocalStack
    from journeys.runtime.policies import reserve_send_slot

    policies = Policies.model_validate({"send_rate": "10/s"})
    with LocalStack(dt.datetime(2026, 1, 5, 8, 0, tzinfo=UTC)) as stack:
        now, slots, lock = stack.clock.now(), [], threading.Lock()

        def reserve() -> None:
            slot = reserve_send_slot(stack.journeys.table, now, policies)
            with lock:
                slots.append(slot)

        threads = [threading.Thread(target=reserve) for _ in range(60)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)

    per_second = collections.Counter(slots)
    assert len(slots) == 60 and max(per_second.values()) == 10 and len(per_second) == 6
    assert min(slots) == now and max(slots) == now + dt.timedelta(seconds=5)


def test_given_contacts_entering_at_once_then_sends_keep_the_rate_and_none_is_dropped(tmp_path):
    from journeys.compiler import compile_journey
    from journeys.language.loader import load_journey
    from journeys.local.runner import LocalStack

    journey, _ = load_journey(write(tmp_path / "hello.journey.yaml", """\
        journey: hello
        entry: {trigger: webhook, re_entry: always}
        steps:
          - id: hi
            type: send_email
            settings: {subject: "Hi {{ contact.first_name }}", text: "Hello"}
          - id: team
            type: send_notification_email
            settings: {to: ["team@journeys.example"], subject: "{{ contact.id }} entered", text: "."}
    """))
    start = dt.datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    with LocalStack(start) as stack:
        stack.use_policies(write(tmp_path / "policies.yaml", "send_rate: 5/s\n"))
        stack.deploy(compile_journey(journey))
        arns = [stack.enter(journey, {"id": f"c{i}", "email": f"c{i}@example.com"}).execution_arn for i in range(15)]
        statuses = [stack.wait(arn)["status"] for arn in arns]
        sent = [result["message"] for arn in arns for result in stack.journeys.step_results(arn) if result.get("message")]
        assert len(stack.outbox()) == len(sent)  # what SES accepted is what the steps say they sent

    assert statuses == ["SUCCEEDED"] * 15
    assert len(sent) == 30  # 15 marketing + 15 team emails: none dropped
    seconds = collections.Counter(clock_second(message) for message in sent)
    assert max(seconds.values()) <= 5
    span = max(seconds) - min(seconds)
    assert span == dt.timedelta(seconds=5)  # 30 emails at 5/s: seconds 0..5


def clock_second(message: dict) -> dt.datetime:
    return dt.datetime.fromisoformat(message["at"].replace("Z", "+00:00")).replace(microsecond=0)


# ------------------------------------------------------------------------------ the compiled machine

def test_given_an_email_task_then_its_catch_waits_out_a_deferral_and_other_tasks_have_none():
    from journeys.compiler import compile_journey
    from journeys.compiler.asl import DEFERRALS
    from journeys.language.loader import load_journey
    from journeys.runtime.policies import DEFERRALS as RAISED

    states = compile_journey(load_journey(LEAD)[0]).asl["States"]

    assert sorted(DEFERRALS) == sorted(RAISED)  # the Catch lists what the runtime raises
    welcome = states["Send welcome email"]
    deferral = next(c for c in welcome["Catch"] if c["ErrorEquals"] == DEFERRALS)
    keep = states[deferral["Next"]]
    assert keep["Type"] == "Pass" and keep["ResultPath"] == "$.deferral"
    wait = states[keep["Next"]]
    assert wait == {**wait, "Type": "Wait", "TimestampPath": "$.deferral.until.errorMessage", "Next": "Send welcome email"}
    assert welcome["Catch"][-1]["ErrorEquals"] == ["States.ALL"]  # a deferral is caught before "anything else"
    assert all(DEFERRALS not in [c["ErrorEquals"] for c in state.get("Catch", [])]
               for name, state in states.items() if "email" not in name.lower() and "offer" not in name.lower())
