"""Every bad-input class of JOURNEYS.md: a clear error naming file, step and key; never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from journeys.errors import JourneyFileError
from journeys.loader import load_journey

HEAD = """\
journey: bad
entry: {trigger: webhook}
steps:
"""


def problems(write_journey, steps_yaml: str, head: str = HEAD) -> str:
    path = write_journey(head + steps_yaml)
    with pytest.raises(JourneyFileError) as caught:
        load_journey(path)
    text = str(caught.value)
    assert text.startswith(str(path)), text
    return text


@pytest.mark.parametrize("name, steps, expected", [
    ("unknown type", "  - {id: a, type: send_sms, settings: {}}\n",
     ["step 'a'", "type", "unknown step type 'send_sms'", "send_email", "wait"]),
    ("next names no step", "  - {id: a, type: add_tag, settings: {tags: [x]}, next: nowhere}\n",
     ["step 'a'", "next", "names no step: 'nowhere'"]),
    ("gate else names no step", "  - {id: a, type: gate, settings: {when: {field: contact.x, op: exists}, else: nope}}\n",
     ["step 'a'", "settings.else", "'nope'"]),
    ("goto names no step", "  - {id: a, type: goto, settings: {step: ghost}}\n", ["step 'a'", "settings.step", "'ghost'"]),
    ("duplicate ids", "  - {id: a, type: exit}\n  - {id: a, type: exit}\n", ["step 'a'", "id", "duplicate step id"]),
    ("invalid condition", "  - {id: g, type: gate, settings: {when: {field: contact.x, op: bigger, value: 1}, else: g2}}\n  - {id: g2, type: exit}\n",
     ["step 'g'", "settings.when", "op"]),
    ("invalid duration", "  - {id: w, type: wait, settings: {duration: 3 days}}\n", ["step 'w'", "settings.duration", "invalid duration"]),
    ("invalid template", "  - {id: e, type: send_email, settings: {subject: 'Hi {{ contact.name | }', text: x}}\n",
     ["step 'e'", "settings.subject", "invalid template"]),
    ("missing settings", "  - {id: e, type: send_email, settings: {text: x}}\n", ["step 'e'", "settings.subject", "required"]),
    ("two wait kinds", "  - {id: w, type: wait, settings: {duration: 1d, until_time: '09:00'}}\n", ["step 'w'", "exactly one of"]),
    ("apply_to on a flow step", "  - {id: w, type: wait, apply_to: {field: contact.x, op: exists}, settings: {duration: 1d}}\n",
     ["step 'w'", "apply_to", "action steps only"]),
    ("unknown key", "  - {id: a, type: add_tag, settings: {tags: [x], colour: red}}\n", ["step 'a'", "settings.colour", "unknown key"]),
    ("a key Step Functions would read as a path", "  - {id: u, type: update_profile, settings: {set: {'price.$': 1}}}\n",
     ["step 'u'", "settings.set.price.$"]),
])
def test_given_a_bad_journey_then_the_error_names_step_and_key(write_journey, name, steps, expected):
    text = problems(write_journey, steps)
    for fragment in expected:
        assert fragment in text, f"{name}: {fragment!r} not in {text!r}"


def test_given_a_cycle_without_a_wait_then_it_is_rejected_naming_the_loop(write_journey):
    text = problems(write_journey, """\
  - {id: a, type: add_tag, settings: {tags: [x]}}
  - {id: b, type: goto, settings: {step: a}}
""")
    assert "step 'a'" in text and "passes no wait step" in text and "a -> b -> a" in text


def test_given_a_cycle_through_a_wait_then_it_compiles(write_journey):
    path = write_journey(HEAD + """\
  - {id: digest, type: send_email, settings: {subject: Digest, text: x}}
  - {id: later, type: wait, settings: {duration: 1w}}
  - {id: again, type: goto, settings: {step: digest}}
""")
    journey, warnings = load_journey(path)
    assert [s.id for s in journey.steps] == ["digest", "later", "again"] and warnings == []


def test_given_an_unreachable_step_then_it_is_a_warning(write_journey):
    path = write_journey(HEAD + "  - {id: a, type: exit}\n  - {id: orphan, type: add_tag, settings: {tags: [x]}}\n")
    _, warnings = load_journey(path)
    assert warnings == [f"{path}: step 'orphan': unreachable (no step leads to it)"]


def test_given_top_level_errors_then_they_name_the_key(write_journey):
    text = problems(write_journey, "  - {id: a, type: exit}\n", head="journey: Bad_Id\nentry: {trigger: event}\ntimezone: Mars/Base\nsteps:\n")
    assert "journey:" in text and "entry:" in text and "timezone" in text and "Mars/Base" in text


def test_given_broken_yaml_then_the_error_gives_the_line(write_journey):
    path = write_journey("journey: x\nsteps: [\n")
    with pytest.raises(JourneyFileError) as caught:
        load_journey(path)
    assert "line" in str(caught.value) and "not valid YAML" in str(caught.value)


def test_given_incomplete_skip_then_the_step_compiles_to_a_skip_with_a_warning(write_journey, run, ada):
    path = write_journey("""\
journey: partial
incomplete: skip
entry: {trigger: webhook}
steps:
  - {id: half-done, type: send_email, settings: {text: no subject yet}}
  - {id: tag, type: add_tag, settings: {tags: [seen]}}
""")
    _, warnings = load_journey(path)
    assert len(warnings) == 1 and "step 'half-done'" in warnings[0] and "skip" in warnings[0]
    trace = run(path, ada)
    assert [(s["id"], s["outcome"]) for s in trace["steps"]] == [("half-done", "skipped"), ("tag", "done")]
    assert trace["messages"] == []


def test_given_the_cli_and_a_bad_file_then_it_exits_1_without_a_traceback(write_journey):
    path = write_journey(HEAD + "  - {id: a, type: send_sms}\n")
    for command in ("validate", "compile"):
        done = subprocess.run([sys.executable, "-m", "journeys.cli", command, str(path)], capture_output=True, text=True)
        assert done.returncode == 1
        assert "Traceback" not in done.stderr and f"{path}: step 'a': type: unknown step type" in done.stderr


def test_given_allow_incomplete_on_the_cli_then_it_compiles(write_journey, tmp_path):
    path = write_journey(HEAD + "  - {id: e, type: send_email, settings: {text: x}}\n")
    done = subprocess.run([sys.executable, "-m", "journeys.cli", "compile", "--allow-incomplete", str(path), "-o", str(tmp_path / "out")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "step 'e'" in done.stderr and (tmp_path / "out" / "bad.asl.json").is_file()
