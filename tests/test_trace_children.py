"""start_journey no longer hides the child: the local trace shows the executions a run started, their
steps and messages, under `children` in --json and indented in the table (issue 8, item 15)."""

from __future__ import annotations

import io
import json

from click.testing import CliRunner
from rich.console import Console

from conftest import SHARED
from journeys.cli.main import main
from journeys.local.render import print_trace

CHILD = """\
journey: welcome-series
entry: {trigger: webhook}
steps:
  - {id: hello, type: send_email, settings: {subject: "Welcome {{ contact.first_name }}", html: "<p>Hi</p>"}}
  - {id: pause, type: wait, settings: {duration: 1d}}
  - {id: tagged, type: add_tag, settings: {tags: [welcomed]}}
"""
GRANDCHILD_STEP = "  - {id: deeper, type: start_journey, settings: {journey: follow-up}}\n"
GRANDCHILD = """\
journey: follow-up
entry: {trigger: webhook}
steps:
  - {id: nudge, type: add_tag, settings: {tags: [followed-up]}}
"""
PARENT = """\
journey: signup
entry: {trigger: webhook}
steps:
  - {id: start-welcome, type: start_journey, settings: {journey: welcome-series}}
  - {id: signed, type: add_tag, settings: {tags: [signed-up]}}
"""


def test_given_start_journey_when_run_then_the_trace_has_the_child_with_its_steps_and_messages(write_journey, run, ada):
    write_journey(CHILD + GRANDCHILD_STEP, name="welcome-series.journey.yaml")
    write_journey(GRANDCHILD, name="follow-up.journey.yaml")
    parent = write_journey(PARENT, name="signup.journey.yaml")

    trace = run(parent, ada)

    assert [s["id"] for s in trace["steps"]] == ["start-welcome", "signed"] and trace["messages"] == []
    [child] = trace["children"]
    assert child["journey"] == "welcome-series" and child["status"] == "SUCCEEDED"
    assert [(s["id"], s["outcome"]) for s in child["steps"]] == [("hello", "done"), ("pause", "done"), ("tagged", "done"), ("deeper", "done")]
    assert child["messages"][0]["subject"] == "Welcome Ada" and child["messages"][0]["step"] == "hello"
    assert child["steps"][2]["at"] == "2026-01-06T08:00:00Z"  # its own wait, on the virtual clock
    [grandchild] = child["children"]
    assert grandchild["journey"] == "follow-up" and [s["id"] for s in grandchild["steps"]] == ["nudge"]
    assert "children" not in grandchild
    assert {"signed-up", "welcomed", "followed-up"} <= set(trace["contact"]["tags"])


def test_given_a_trace_with_children_when_printed_then_the_child_follows_indented():
    trace = {"journey": "signup", "status": "SUCCEEDED", "contact": {"id": "c-1"},
             "steps": [{"id": "go", "type": "start_journey", "outcome": "done", "at": "2026-01-05T08:00:00Z"}],
             "children": [{"journey": "welcome-series", "status": "SUCCEEDED", "contact": {"id": "c-1"},
                           "steps": [{"id": "hello", "type": "send_email", "outcome": "done", "at": "2026-01-05T08:00:00Z"}],
                           "messages": [{"step": "hello", "kind": "email", "to": "a@x.example", "subject": "Welcome", "at": "2026-01-05T08:00:00Z"}]}]}
    out = io.StringIO()

    print_trace(trace, Console(file=out, width=120))

    lines = out.getvalue().splitlines()
    child_at = next(i for i, line in enumerate(lines) if "welcome-series" in line)
    assert lines[child_at].startswith("    ↳ started welcome-series")
    assert any(line.startswith("    ") and "hello" in line and "send_email" in line for line in lines[child_at:])
    assert any(line.startswith("    ") and "Welcome" in line for line in lines[child_at + 1:])
    assert sum("contact" in line for line in lines) == 1


def test_given_a_journey_without_start_journey_when_run_as_json_then_its_trace_has_no_children():
    done = CliRunner().invoke(main, ["run", str(SHARED / "lead-nurturing.journey.yaml"), "--contact",
                                     str(SHARED / "contacts" / "ada.json"), "--start", "2026-01-05T08:00:00Z", "--json"])
    assert done.exit_code == 0, done.output
    assert "children" not in json.loads(done.output)
