"""`journeys test` (journeys/local/rehearsal.py, cli/rehearsal.py): many contacts in one world on one
clock, each result equal to `journeys run` of that contact alone; arrivals, versions, stops,
previews, bad lines, exit codes and a clean --json."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest

from conftest import MONDAY_8AM, REPO, SHARED, shared_contact

from journeys.language.contact_model import ContactIn
from journeys.local.rehearsal import RehearsalError, rehearse
from journeys.local.segments import read_segment

JOURNEYS = [sys.executable, "-m", "journeys.cli"]


def journeys(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*JOURNEYS, *args], capture_output=True, text=True, cwd=REPO, timeout=300)


def segment_file(tmp_path, lines: list[dict], name: str = "segment.jsonl"):
    path = tmp_path / name
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def rehearsed(tmp_path, journey, lines, **kwargs):
    segment = read_segment(segment_file(tmp_path, lines), MONDAY_8AM)
    return rehearse(journey, segment, start=MONDAY_8AM, **kwargs)


THREE_SENDS = """
journey: drip
entry: {trigger: webhook}
steps:
  - {id: first, type: send_email, settings: {subject: "One {{ contact.id }}", text: "1"}}
  - {id: wait-1d, type: wait, settings: {duration: 1d}}
  - {id: second, type: send_email, settings: {subject: "Two", text: "2"}}
  - {id: wait-2d, type: wait, settings: {duration: 2d}}
  - {id: third, type: send_email, settings: {subject: "Three", text: "3"}}
"""


# ---------------------------------------------------------------------------- equal to journeys run


@pytest.fixture
def demo_api(tmp_path):
    """The demo API and an actions file pointing at it; calling it forgets the CRM tasks created so far
    (the CRM numbers them from 1), so that each world starts from the same API state."""
    from journeys.local.demo_api import serve

    server = serve(port=0, background=True)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    actions = tmp_path / "actions.yaml"
    actions.write_text((SHARED / "actions.yaml").read_text().replace("http://127.0.0.1:8765", base))

    def fresh():
        server.RequestHandlerClass.tasks.clear()
        return base, actions

    yield fresh
    server.shutdown()


def wall_clock_free(value):
    """The value without HTTP `date` headers (the demo API's answers carry the wall-clock time)."""
    if isinstance(value, dict):
        return {k: wall_clock_free(v) for k, v in value.items() if not (k == "date" and isinstance(v, str) and "GMT" in v)}
    if isinstance(value, list):
        return [wall_clock_free(v) for v in value]
    return value


EVENTS = {"trial-onboarding": lambda base: {"name": "trial_started"}, "enrichment": lambda base: {"crm_hook": f"{base}/hooks/crm"}}


@pytest.mark.parametrize("journey", ["lead-nurturing", "trial-onboarding", "enrichment", "sales-handoff"])
def test_given_a_shared_example_when_ada_and_bob_are_rehearsed_together_then_each_run_equals_journeys_run_alone(
        tmp_path, run, demo_api, journey):
    # Given the shared contacts in one segment (the integration examples calling a demo API of their own)
    base, actions = demo_api()
    event = EVENTS.get(journey, lambda base: {})(base)
    contacts = [shared_contact("ada"), shared_contact("bob")]
    path = SHARED / f"{journey}.journey.yaml"

    # When they are rehearsed together, and each is run alone (as the CLI does: the contact as the webhook takes it)
    together = rehearsed(tmp_path, path, [{"contact": c, "event": event} for c in contacts], actions=actions)
    base, actions = demo_api()
    event = EVENTS.get(journey, lambda base: {})(base)
    alone = [run(path, ContactIn.model_validate(c).as_contact(), event, actions_file=actions) for c in contacts]

    # Then each rehearsal run is the journeys run trace plus the version it ran
    for rehearsal_run, trace in zip(together.runs, alone):
        trace.pop("_run")
        assert wall_clock_free({k: v for k, v in rehearsal_run.items() if k not in ("version", "waiting_at")}) == wall_clock_free(trace)
        assert rehearsal_run["version"] == ("1" if trace["status"] != "NOT_ENTERED" else None)


# ---------------------------------------------------------------------------- arrivals, versions, stops


def test_given_arrival_offsets_then_each_contact_enters_at_its_time(tmp_path, write_journey):
    path = write_journey(THREE_SENDS, "drip.journey.yaml")

    result = rehearsed(tmp_path, path, [{"id": "early"}, {"contact": {"id": "late"}, "at": "+26h"},
                                        {"contact": {"id": "fixed"}, "at": "2026-01-05T09:30:00Z"}])

    firsts = {r["contact"]["id"]: r["steps"][0]["at"] for r in result.runs}
    assert firsts == {"early": "2026-01-05T08:00:00Z", "late": "2026-01-06T10:00:00Z", "fixed": "2026-01-05T09:30:00Z"}
    assert result.status_counts() == {"SUCCEEDED": 3}
    assert result.to_json()["messages"]["email"] == 0  # no email address: every send skipped


def test_given_a_publish_then_contacts_inside_stay_on_their_version_and_later_ones_run_the_new_one(tmp_path, write_journey):
    # Given v1 (three sends) and v2, which adds a tag before the first send
    path = write_journey(THREE_SENDS, "drip.journey.yaml")
    new = write_journey(THREE_SENDS.replace("steps:\n", "steps:\n  - {id: tag-v2, type: add_tag, settings: {tags: [v2]}}\n"),
                        "drip-v2.yaml.journey.yaml")
    people = [{"contact": {"id": "inside", "email": "i@example.com"}},
              {"contact": {"id": "after", "email": "a@example.com"}, "at": "+1d"}]

    # When v2 is published at +12h
    result = rehearsed(tmp_path, path, people, publish=[(new, MONDAY_8AM + dt.timedelta(hours=12))])

    # Then the contact inside finished on v1 and the later one ran v2
    by_id = {r["contact"]["id"]: r for r in result.runs}
    assert (by_id["inside"]["version"], by_id["after"]["version"]) == ("1", "2")
    assert [s["id"] for s in by_id["inside"]["steps"]][0] == "first"
    assert [s["id"] for s in by_id["after"]["steps"]][0] == "tag-v2" and "v2" in by_id["after"]["contact"]["tags"]
    assert result.to_json()["versions"] == {"1": {"entered": 1}, "2": {"entered": 1}}
    assert len(by_id["inside"]["messages"]) == 3


def test_given_a_publish_of_another_journey_then_nothing_runs(tmp_path, write_journey):
    path = write_journey(THREE_SENDS, "drip.journey.yaml")
    other = write_journey(THREE_SENDS.replace("journey: drip", "journey: other"), "other.journey.yaml")

    with pytest.raises(RehearsalError, match="it is journey 'other', not 'drip'"):
        rehearsed(tmp_path, path, [{"id": "c1"}], publish=[(other, MONDAY_8AM)])


def test_given_a_soft_stop_then_later_arrivals_do_not_enter_and_those_inside_finish(tmp_path, write_journey):
    path = write_journey(THREE_SENDS, "drip.journey.yaml")
    people = [{"contact": {"id": "inside", "email": "i@example.com"}},
              {"contact": {"id": "at-stop", "email": "s@example.com"}, "at": "+1d"},
              {"contact": {"id": "after", "email": "a@example.com"}, "at": "+2d"}]

    result = rehearsed(tmp_path, path, people, stop=("soft", MONDAY_8AM + dt.timedelta(days=1)))

    by_id = {r["contact"]["id"] if r["contact"] else None: r for r in result.runs}
    assert by_id["inside"]["status"] == "SUCCEEDED" and len(by_id["inside"]["messages"]) == 3
    stopped = [r for r in result.runs if r["status"] == "NOT_ENTERED"]
    assert len(stopped) == 2 and {r["reason"] for r in stopped} == {"journey stopped"}


def test_given_a_hard_stop_then_running_executions_are_aborted_and_no_message_goes_out_after_it(tmp_path, write_journey):
    path = write_journey(THREE_SENDS, "drip.journey.yaml")
    people = [{"contact": {"id": f"c{n}", "email": f"c{n}@example.com"}, "at": f"+{n}h"} for n in range(3)]
    stop_at = MONDAY_8AM + dt.timedelta(days=1, hours=1)  # c0 got its second email at +1d; c1 is due at the stop

    result = rehearsed(tmp_path, path, people, stop=("hard", stop_at))

    assert result.status_counts() == {"ABORTED": 3}
    assert {r["reason"] for r in result.runs} == {"journey stopped (hard stop)"}
    sent_at = [m["at"] for r in result.runs for m in r["messages"]]
    assert len(sent_at) == 4 and max(sent_at) < "2026-01-06T09:00:00Z"  # c1's second send was due at the stop
    assert result.waiting_counts() == {"wait-2d": 1, "wait-1d": 2}


def test_given_preview_dir_then_every_rendered_message_is_a_file(tmp_path, write_journey):
    path = write_journey(THREE_SENDS.replace("  - {id: wait-1d", "  - {id: inbox, type: site_notification, settings: {title: Hi, body: There}}\n  - {id: wait-1d"),
                         "drip.journey.yaml")
    people = [{"id": "c1", "email": "c1@example.com"}, {"id": "c2", "email": "c2@example.com", "subscribed": False}]

    result = rehearsed(tmp_path, path, people, preview_dir=tmp_path / "out")

    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["c1.first.eml", "c1.inbox.json", "c1.second.eml", "c1.third.eml", "c2.inbox.json"]
    assert "Subject: One c1" in (tmp_path / "out" / "c1.first.eml").read_text()
    assert json.loads((tmp_path / "out" / "c2.inbox.json").read_text())["kind"] == "site_notification"
    assert len(result.previews) == 5


def test_given_counts_then_the_graph_is_the_journeys_graph_drawing_with_counts(tmp_path):
    from journeys.compiler.mermaid import mermaid

    result = rehearsed(tmp_path, SHARED / "lead-nurturing.journey.yaml", [shared_contact("ada"), shared_contact("bob")])

    drawn = mermaid(result.compiled.journey, result.reached_counts(), result.edge_counts())
    plain = mermaid(result.compiled.journey)
    assert len(drawn.splitlines()) == len(plain.splitlines())
    assert 's_engaged{"Engaged with emails? (2)"}' in drawn and "s_engaged -->|next: 1| s_offer" in drawn
    assert "s_engaged -->|else: 1| s_nurture_end" in drawn and "s_done -->|2| finish" in drawn


# ---------------------------------------------------------------------------- the command


def test_given_bad_lines_when_tested_with_json_then_stdout_is_one_object_and_the_exit_code_is_1(tmp_path):
    segment = tmp_path / "s.jsonl"
    segment.write_text(json.dumps(shared_contact("ada")) + "\n{broken\n" + json.dumps(shared_contact("bob")) + "\n")

    done = journeys("test", str(SHARED / "lead-nurturing.journey.yaml"), "--segment", str(segment),
                    "--start", "2026-01-05T08:00:00Z", "--json", "--graph", str(tmp_path / "g.mmd"))

    assert done.returncode == 1, done.stderr
    result = json.loads(done.stdout)
    assert result["contacts"] == 2 and result["bad_lines"] == [{"line": 2, "error": result["bad_lines"][0]["error"]}]
    assert f"{segment}: line 2: not valid JSON" in done.stderr and "Traceback" not in done.stderr
    assert result["status"] == {"SUCCEEDED": 2} and result["versions"] == {"1": {"entered": 2}}
    assert result["steps"]["engaged"] == {"branch:next": 1, "branch:else": 1}
    assert result["transitions"] == sum(r["transitions"] for r in result["runs"])
    assert (tmp_path / "g.mmd").read_text().startswith("flowchart TD")


@pytest.mark.parametrize("args, message", [
    (["--segment", "{dir}/s.txt"], "unknown segment file type '.txt'"),
    (["--segment", "{dir}/empty.jsonl"], "the segment is empty"),
    (["--segment", "{dir}/ok.jsonl", "--stop", "soon@+1d"], "--stop 'soon@+1d': expected soft@"),
    (["--segment", "{dir}/ok.jsonl", "--stop", "hard@+eventually"], "--stop 'hard@+eventually'"),
    (["--segment", "{dir}/ok.jsonl", "--publish", "{other}@+1d"], "it is journey 'trial-onboarding', not 'lead-nurturing'"),
])
def test_given_unusable_input_then_one_error_line_and_exit_2(tmp_path, args, message):
    (tmp_path / "s.txt").write_text("{}\n")
    (tmp_path / "empty.jsonl").write_text("")
    (tmp_path / "ok.jsonl").write_text('{"id": "c1"}\n')
    filled = [a.format(dir=tmp_path, other=SHARED / "trial-onboarding.journey.yaml") for a in args]

    done = journeys("test", str(SHARED / "lead-nurturing.journey.yaml"), *filled, "--json")

    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("error: ") == 1 and message in done.stderr, done.stderr


# ---------------------------------------------------------------------------- delivery policies


def test_given_policies_then_the_funnel_counts_capped_and_deferred_sends(tmp_path, write_journey):
    from rich.console import Console

    from journeys.local.render import print_rehearsal

    path = write_journey(THREE_SENDS, "drip.journey.yaml")
    policies = tmp_path / "policies.yaml"
    policies.write_text('frequency_cap: {emails: 2, per: 7d}\nquiet_hours: {from: "21:00", to: "08:00"}\n')
    night = {"contact": {"id": "owl", "email": "owl@example.com", "timezone": "Europe/London"}, "at": "+14h"}  # 22:00

    result = rehearsed(tmp_path, path, [{"id": "lark", "email": "lark@example.com"}, night], policies=str(policies))

    assert result.deferred_counts() == {"first": {"quiet hours": 1}}  # then 08:00 + 1d, + 2d: outside the window
    assert result.skip_reasons() == {"third": {"frequency cap": 2}}
    owl = next(run for run in result.runs if run["contact"]["id"] == "owl")
    assert owl["steps"][0] == {**owl["steps"][0], "outcome": "done", "at": "2026-01-06T08:00:00Z", "deferred": "quiet hours"}
    console = Console(record=True, width=200)
    print_rehearsal(result, "graph", console=console)
    funnel = console.export_text()
    assert "deferred" in funnel and "quiet hours 1" in funnel and "frequency cap 2" in funnel
