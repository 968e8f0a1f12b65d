"""`optimize: cost`: each run of steps between two waits is one Task; traces stay the same as in
one-step mode (only the transition counts differ), for every shared example and contact and for
loops, splits, gates, goals, journey control, failing steps and event waits."""

from __future__ import annotations

import json
import socket
import textwrap
from pathlib import Path

import pytest

from journeys.compiler import compile_journey
from journeys.language.loader import load_journey
from journeys.local.runner import run_journey
from journeys.local.trace import build_trace

from conftest import MONDAY_8AM, SHARED, shared_contact

SAME_IN_BOTH = ("journey", "status", "reason", "steps", "contact", "journey_data", "messages")


def in_mode(source: Path, folder: Path, mode: str) -> Path:
    """A copy of a journey file with `optimize: <mode>` at its top."""
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / source.name
    copy.write_text(f"optimize: {mode}\n" + source.read_text())
    return copy


def both_modes(files: list[Path], tmp_path: Path) -> dict[str, dict[str, Path]]:
    """Every file copied into steps/ and cost/ (neighbours too: start_journey targets)."""
    return {mode: {f.name: in_mode(f, tmp_path / mode, mode) for f in files} for mode in ("steps", "cost")}


def trace_of(path: Path, contact: dict, **kwargs) -> dict:
    return build_trace(run_journey(path, contact, kwargs.pop("event", {}), start=MONDAY_8AM, **kwargs))


def same(steps_trace: dict, cost_trace: dict) -> None:
    for key in SAME_IN_BOTH:
        assert without_wall_clock(steps_trace.get(key)) == without_wall_clock(cost_trace.get(key)), key


def without_wall_clock(value):
    """An HTTP response's Date header is real time, not virtual: the one thing two runs differ in."""
    if isinstance(value, dict):
        return {k: without_wall_clock(v) for k, v in value.items() if k.lower() != "date"}
    if isinstance(value, list):
        return [without_wall_clock(v) for v in value]
    return value


@pytest.fixture
def demo_api(tmp_path):
    """Start a fresh demo API (its CRM numbers tasks from 1) -> (actions file pointing at it, base URL)."""
    from journeys.local.demo_api import _Handler, serve

    servers = []

    def start(mode: str) -> tuple[Path, str]:
        _Handler.tasks.clear()  # the demo CRM's task list is the handler class's: every run starts at task-1
        server = serve(port=0, background=True)
        servers.append(server)
        base = f"http://127.0.0.1:{server.server_address[1]}"
        path = tmp_path / f"actions-{mode}.yaml"
        path.write_text((SHARED / "actions.yaml").read_text().replace("http://127.0.0.1:8765", base))
        return path, base

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_given_lead_nurturing_in_cost_mode_when_compiled_then_three_runs_and_two_waits():
    journey, _ = load_journey(SHARED / "lead-nurturing.journey.yaml")
    states = compile_journey(journey.model_copy(update={"optimize": "cost"})).asl["States"]
    tasks = [name for name, state in states.items() if state["Type"] == "Task"]
    assert tasks == ["Tag as lead + Send welcome email", "Send case study email",
                     "Engaged with emails? + Send demo offer + done + Mark as cold"]
    waits = [name for name, state in states.items() if state["Type"] == "Wait" and not name.endswith(": waits to send")]
    assert waits == ["wait-2d", "wait-3d"]  # (a deferred send's wait is taken only when a policy defers it)
    assert states["Tag as lead + Send welcome email"]["Resource"] == "${StepsFunctionArn}"  # updates + messaging
    assert states["Send case study email"]["Resource"] == "${MessagingFunctionArn}"  # one group: its own function
    for name in states:
        assert len(name) <= 80 and "${" not in name


@pytest.mark.parametrize("who", ["ada", "bob"])
@pytest.mark.parametrize("example", ["lead-nurturing", "trial-onboarding", "enrichment", "sales-handoff"])
def test_given_a_shared_example_when_run_in_both_modes_then_the_traces_are_the_same(example, who, tmp_path, demo_api):
    copies = both_modes(sorted(SHARED.glob("*.journey.yaml")), tmp_path)
    contact = shared_contact(who)
    traces = {}
    for mode, files in copies.items():
        actions, base = demo_api(mode)
        traces[mode] = trace_of(files[f"{example}.journey.yaml"], contact, actions_file=actions, event={"crm_hook": f"{base}/hooks/crm"})

    same(traces["steps"], traces["cost"])
    if traces["cost"]["status"] != "NOT_ENTERED":  # sales-handoff's criteria keep Bob out
        assert traces["cost"]["transitions"] < traces["steps"]["transitions"]
    if example == "lead-nurturing" and who == "ada":
        assert (traces["steps"]["transitions"], traces["cost"]["transitions"]) == (9, 5)


LOOP = """
journey: loop
entry: {trigger: webhook}
steps:
  - id: top
    type: join
  - id: count
    type: update_profile
    settings: {increment: {visits: 1}}
  - id: enough
    type: gate
    settings:
      when: {field: contact.visits, op: lt, value: 3}
      else: exit
  - id: nap
    type: wait
    settings: {duration: 1d}
  - id: again
    type: goto
    settings: {step: top}
"""

BRANCHES = """
journey: branches
entry:
  trigger: webhook
  exit_when: {field: contact.customer, op: equals, value: true}
steps:
  - id: pick
    type: split
    settings:
      branches:
        - {name: A, weight: 50, next: a}
        - {name: B, weight: 50, next: b}
  - id: a
    type: add_tag
    settings: {tags: [a]}
    next: plan
  - id: b
    type: add_tag
    settings: {tags: [b]}
  - id: plan
    type: split
    settings:
      branches:
        - {name: Big, when: {field: contact.company_size, op: gte, value: 50}, next: big}
      default: small
  - id: big
    name: Call a closed port
    type: webhook
    data_key: hook
    settings: {url: "CLOSED/hook"}
    next: later
  - id: small
    type: start_journey
    settings: {journey: other}
  - id: later
    type: wait
    settings: {duration: 1h}
  - id: convert
    type: update_profile
    settings: {set: {customer: true}}
  - id: nap
    type: wait
    settings: {duration: 1h}
  - id: never
    type: send_email
    settings: {subject: "too late", text: "the goal was reached"}
"""

OTHER = """
journey: other
entry: {trigger: webhook}
steps:
  - id: mark
    type: add_tag
    settings: {tags: [other]}
  - id: rest
    type: wait
    settings: {duration: 1d}
  - id: leave
    type: exit_journey
    settings: {journey: branches}
"""

EVENTS = """
journey: events
entry: {trigger: webhook}
steps:
  - id: best
    type: send_optimized_email
    settings: {subject: "hello", text: "at your best hour", window: 24h}
  - id: listen
    type: wait
    settings:
      for_event: {event: demo_booked, timeout: 2d}
      on_event: booked
      on_timeout: nudge
  - id: nudge
    type: send_email
    settings: {subject: "nudge", text: "still there?"}
    next: fin
  - id: booked
    type: add_note
    settings: {text: "booked a demo"}
  - id: fin
    type: exit
"""


def closed_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def patterns(tmp_path, monkeypatch):
    monkeypatch.setenv("JOURNEYS_HTTP_TIMEOUT", "0.5")
    monkeypatch.setenv("JOURNEYS_HTTP_RETRIES", "0")
    sources = tmp_path / "sources"
    sources.mkdir()
    for name, text in {"loop": LOOP, "branches": BRANCHES.replace("CLOSED", closed_url()), "other": OTHER, "events": EVENTS}.items():
        (sources / f"{name}.journey.yaml").write_text(textwrap.dedent(text))
    return both_modes(sorted(sources.glob("*.journey.yaml")), tmp_path)


@pytest.mark.parametrize("journey, who, kwargs", [
    ("loop", "ada", {}),
    ("branches", "ada", {}),  # big: the failing webhook, then the goal after a wait
    ("branches", "bob", {}),  # small: start_journey, whose journey exits this one
    ("events", "ada", {"event_at": ["demo_booked@+3h"]}),
    ("events", "bob", {}),  # timeout
], ids=["loop-through-waits", "split-fail-goal", "split-start-exit", "event", "event-timeout"])
def test_given_a_pattern_when_run_in_both_modes_then_the_traces_are_the_same(patterns, journey, who, kwargs):
    contact = {**shared_contact(who), "customer": False}
    traces = {mode: trace_of(files[f"{journey}.journey.yaml"], contact, **kwargs) for mode, files in patterns.items()}

    same(traces["steps"], traces["cost"])
    outcomes = [(step["id"], step["outcome"]) for step in traces["cost"]["steps"]]
    if journey == "loop":
        assert outcomes.count(("count", "done")) == 3 and outcomes[-1] == ("enough", "branch:else")
        assert traces["cost"]["contact"]["visits"] == 3
    if journey == "branches" and who == "ada":
        assert ("big", "failed") in outcomes and traces["cost"]["reason"] == "goal reached (exit_when)"
        assert "never" not in dict(outcomes)
    if journey == "branches" and who == "bob":
        assert ("small", "done") in outcomes
    if journey == "events":
        assert ("listen", "event" if kwargs else "timeout") in outcomes


def test_given_a_failing_step_in_a_run_then_only_that_step_fails_and_the_next_one_runs(patterns):
    trace = trace_of(patterns["cost"]["branches.journey.yaml"], {**shared_contact("ada"), "customer": False})
    outcomes = [(step["id"], step["outcome"]) for step in trace["steps"]]
    failed = outcomes.index(("big", "failed"))
    assert outcomes[failed + 1:failed + 3] == [("later", "done"), ("convert", "done")]
    detail = next(step["detail"] for step in trace["steps"] if step["id"] == "big")
    assert detail.startswith("IntegrationFailed: POST webhook: ") and "cannot connect" in detail


def test_given_quiet_hours_when_a_folded_run_sends_at_night_then_it_waits_and_the_email_goes_once_at_eight(tmp_path):
    from journeys import clock

    policies = tmp_path / "policies.yaml"
    policies.write_text('quiet_hours: {from: "21:00", to: "08:00"}\n')
    night = clock.parse_timestamp("2026-01-05T22:00:00Z")  # Ada is in Europe/London
    traces = {mode: build_trace(run_journey(files["lead-nurturing.journey.yaml"], shared_contact("ada"), start=night,
                                            policies_file=policies))
              for mode, files in both_modes([SHARED / "lead-nurturing.journey.yaml"], tmp_path).items()}

    welcome = {mode: next(s for s in trace["steps"] if s["id"] == "welcome") for mode, trace in traces.items()}
    assert welcome["cost"] == welcome["steps"] == {**welcome["steps"], "at": "2026-01-06T08:00:00Z", "deferred": "quiet hours"}
    assert [m["step"] for m in traces["cost"]["messages"]] == [m["step"] for m in traces["steps"]["messages"]]
    assert [s["id"] for s in traces["cost"]["steps"]] == [s["id"] for s in traces["steps"]["steps"]]


def test_given_long_step_names_when_folded_then_run_names_fit_80_characters_and_stay_unique():
    from journeys.language.loader import parse_journey

    long = "A very long step name that goes on and on and on, well past forty characters"
    text = "journey: names\nentry: {trigger: webhook}\nsteps:\n" + "".join(
        f"  - {{id: s{i}, name: '{long}', type: add_tag, settings: {{tags: [t{i}]}}}}\n"
        f"  - {{id: w{i}, type: wait, settings: {{duration: 1h}}}}\n" for i in range(2)) \
        + "  - {id: x1, name: 'Short', type: add_tag, settings: {tags: [x]}}\n  - {id: x2, name: '" + long + "', type: add_tag, settings: {tags: [y]}}\n"
    journey, _ = parse_journey(text)
    states = compile_journey(journey.model_copy(update={"optimize": "cost"})).asl["States"]

    tasks = [name for name, state in states.items() if state["Type"] == "Task"]
    assert len(tasks) == 3 and all(len(name) <= 80 for name in states)
    assert tasks == [long, f"{long} #2", "Short + 1 more"]  # the same name twice: told apart
