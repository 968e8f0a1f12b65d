"""The step graph as the compiler sees it: unreachable steps, the `exit` keyword, deep chains of
choices, state names, wait bounds, and a local run that never ends. Through the real loader and
compiler; what AWS would reject is checked with asl-validator (tests/infra/tools/asl_prepare.py
substitutes the ${...} placeholders first, as SAM would)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from conftest import MONDAY_8AM, REPO
from journeys.compiler import compile_journey
from journeys.language.errors import JourneyFileError
from journeys.language.loader import load_journey

sys.path.insert(0, str(REPO / "tests" / "infra"))
from infra_tools import ASL_VALIDATOR, SAM_VENV, TOOLS, require, run_offline  # noqa: E402

HEAD = """\
journey: graph
entry: {trigger: webhook}
steps:
"""
TAG = "type: add_tag, settings: {tags: [x]}"


def load(write_journey, steps_yaml: str):
    path = write_journey(HEAD + steps_yaml)
    journey, warnings = load_journey(path)
    return path, compile_journey(journey), warnings


def error_of(write_journey, steps_yaml: str) -> tuple[Path, str]:
    path = write_journey(HEAD + steps_yaml)
    with pytest.raises(JourneyFileError) as caught:
        load_journey(path)
    return path, str(caught.value)


def asl_validator(tmp_path: Path, *compiled) -> subprocess.CompletedProcess:
    """asl-validator's verdict on compiled state machines, placeholders substituted by asl_prepare
    from a minimal SAM template (JSON is YAML) that names them."""
    validator, python = require(ASL_VALIDATOR), require(SAM_VENV / "bin" / "python")
    project = tmp_path / "asl-project"
    (project / "statemachines").mkdir(parents=True)
    resources = {}
    for index, one in enumerate(compiled):
        text = one.to_json()
        (project / "statemachines" / f"m{index}.asl.json").write_text(text, encoding="utf-8")
        placeholders = {name: f"{name}-value" for name in sorted(_placeholders(text))}
        resources[f"Machine{index}"] = {"Type": "AWS::Serverless::StateMachine", "Properties": {
            "DefinitionUri": f"statemachines/m{index}.asl.json", "DefinitionSubstitutions": placeholders}}
    (project / "template.yaml").write_text(json.dumps({"Resources": resources}), encoding="utf-8")
    prepared = run_offline(python, TOOLS / "asl_prepare.py", project / "template.yaml", project / "prepared")
    assert prepared.returncode == 0, prepared.stderr
    files = prepared.stdout.split()
    assert len(files) == len(compiled)
    return run_offline(validator, *[arg for file in files for arg in ("--json-path", file)])


def assert_valid(tmp_path: Path, *compiled) -> None:
    done = asl_validator(tmp_path, *compiled)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("is valid") == len(compiled)


def _placeholders(text: str) -> set[str]:
    import re

    return set(re.findall(r"\$\{([^}]+)\}", text))


# ---------------------------------------------------------------- 1. unreachable steps


LOOP = f"""\
  - {{id: a, {TAG}}}
  - {{id: later, type: wait, settings: {{duration: 1d}}}}
  - {{id: still, type: gate, settings: {{when: {{field: contact.x, op: exists}}, else: exit}}}}
  - {{id: again, type: goto, settings: {{step: a}}}}
"""  # a contact with x loops for ever (one day per round)


def test_given_a_step_after_a_goto_when_compiled_then_it_has_no_state_and_aws_would_accept_the_asl(write_journey, tmp_path):
    path, compiled, warnings = load(write_journey, LOOP + f"  - {{id: never, name: Never sent, {TAG}}}\n")

    assert warnings == [f"{path}: step 'never': unreachable (no step leads to it): left out of the state machine"]
    assert list(compiled.asl["States"]) == ["a", "later", "still", "After later", "End"]
    assert [info.step_id for info in compiled.states.values()] == ["a", "later", "still", None, None]
    assert_valid(tmp_path, compiled)


def test_given_a_step_after_an_exit_journey_of_itself_then_it_is_unreachable_and_has_no_state(write_journey, tmp_path):
    path, compiled, warnings = load(write_journey, f"""\
  - {{id: a, {TAG}}}
  - {{id: leave, type: exit_journey}}
  - {{id: after, {TAG}}}
""")

    assert warnings == [f"{path}: step 'after': unreachable (no step leads to it): left out of the state machine"]
    assert compiled.asl["States"]["leave"] == {"Type": "Succeed", "Comment": "exit_journey · step leave"}
    assert list(compiled.asl["States"]) == ["a", "leave"]
    assert_valid(tmp_path, compiled)


def test_given_a_step_after_an_exit_journey_naming_its_own_journey_then_it_has_no_state(write_journey):
    _, compiled, _ = load(write_journey, f"""\
  - {{id: leave, type: exit_journey, settings: {{journey: graph}}}}
  - {{id: after, {TAG}}}
""")

    assert list(compiled.asl["States"]) == ["leave"]


def test_given_a_dead_step_with_the_same_name_as_a_live_one_then_the_live_state_keeps_the_plain_name(write_journey):
    _, compiled, _ = load(write_journey, f"""\
  - {{id: a, name: Welcome, {TAG}}}
  - {{id: stop, type: exit}}
  - {{id: b, name: Welcome, {TAG}}}
""")

    assert list(compiled.asl["States"]) == ["Welcome", "stop"]


# ---------------------------------------------------------------- 2. the exit keyword


def test_given_a_step_with_id_exit_then_it_is_a_compile_error_naming_the_key(write_journey):
    path, text = error_of(write_journey, f"""\
  - {{id: a, {TAG}}}
  - {{id: exit, type: send_email, settings: {{subject: Goodbye, text: bye}}}}
""")

    assert text == f"{path}: step 'exit': id: 'exit' is reserved: it means the end of the journey"


def test_given_a_gate_whose_else_is_exit_then_the_else_ends_the_journey(write_journey):
    _, compiled, _ = load(write_journey, f"""\
  - {{id: a, {TAG}}}
  - {{id: vip, type: gate, settings: {{when: {{field: contact.vip, op: exists}}, else: exit}}}}
  - {{id: b, {TAG}}}
""")

    assert compiled.asl["States"]["vip"]["Default"] == "End"
    assert compiled.asl["States"]["End"]["Type"] == "Succeed"


@pytest.mark.parametrize("step_id, state", [
    ("Exit", "Exit"), ("EXIT", "EXIT"), ("exit-now", "exit-now"), ("end", "end"),
    ("End", "End #2"),  # "End" is the name of the generated end state
])
def test_given_ids_that_only_resemble_the_keyword_then_they_are_ordinary_steps(write_journey, step_id, state):
    _, compiled, warnings = load(write_journey, f"""\
  - {{id: a, {TAG}, next: {step_id}}}
  - {{id: {step_id}, {TAG}}}
""")

    assert warnings == []
    assert compiled.asl["States"]["a"]["Next"] == state
    assert compiled.states[state].step_id == step_id


# ---------------------------------------------------------------- 3. deep chains of choices


def gates(count: int) -> str:
    """A tag, then `count` gates whose `next` and `else` both lead to the next gate: 2^count paths."""
    lines = [f"  - {{id: t0, {TAG}}}"]
    for index in range(count):
        lines.append(f"  - {{id: g{index}, type: gate, settings: {{when: {{field: contact.x, op: exists}}, else: g{index + 1}}}}}")
    lines.append(f"  - {{id: g{count}, type: exit}}")
    return "\n".join(lines) + "\n"


def test_given_500_gates_whose_branches_meet_again_when_compiled_then_it_completes_with_valid_asl(write_journey, tmp_path):
    _, compiled, warnings = load(write_journey, gates(500))

    states = compiled.asl["States"]
    assert warnings == []
    # the tag, the gates (Choice), the exit, and the refresh that evaluates the gates if the tag fails
    assert set(states) == {"t0", *(f"g{i}" for i in range(501)), "Recover after t0"}
    assert list(states["t0"]["Parameters"]["lookahead"]["checks"]) == [f"g{i}" for i in range(500)]
    assert states["g499"]["Choices"][0]["Next"] == states["g499"]["Default"] == "g500"
    assert_valid(tmp_path, compiled)


def test_given_3000_chained_gates_then_they_compile_without_deep_recursion(write_journey):
    _, compiled, _ = load(write_journey, gates(3000))

    assert len(compiled.asl["States"]["t0"]["Parameters"]["lookahead"]["checks"]) == 3000


def test_given_the_graph_checks_on_a_long_chain_of_gates_then_they_report_nothing():
    from journeys.compiler.graph import Graph
    from journeys.language.loader import parse_journey

    journey, _ = parse_journey(HEAD + gates(3000))
    graph = Graph(journey.steps, journey.id)

    assert graph.unreachable() == [] and graph.cycles_without_wait() == []


# ---------------------------------------------------------------- 4. state names


@pytest.mark.parametrize("name, message", [
    ('"Line one\\nline two"', "a name is one line of printable text: no line breaks, tabs or other control characters"),
    ('"tab\\there"', "a name is one line of printable text: no line breaks, tabs or other control characters"),
    ('"x\\u2028y"', "a name is one line of printable text: no line breaks, tabs or other control characters"),
    ('"x\\u0001y"', "a name is one line of printable text: no line breaks, tabs or other control characters"),
    ('"  "', "a name needs a visible character (leave 'name' out to use the id)"),
    ('""', "a name needs a visible character (leave 'name' out to use the id)"),
    ('"${UpdatesFunctionArn}"', "a name may not contain '${': SAM would substitute it at deploy time"),
    ('"' + "\U0001F680" * 41 + '"', "a name has at most 80 characters (a state's name on AWS)"),
    ('"' + "n" * 81 + '"', "String should have at most 80 characters"),
])
def test_given_a_name_no_state_may_have_then_it_is_a_compile_error_naming_the_key(write_journey, name, message):
    path, text = error_of(write_journey, f"  - {{id: a, name: {name}, {TAG}}}\n")

    assert text == f"{path}: step 'a': name: {message}"


def test_given_names_with_spaces_around_them_then_the_states_are_named_without(write_journey):
    _, compiled, _ = load(write_journey, f"""\
  - {{id: a, name: "  Welcome  ", {TAG}}}
  - {{id: b, name: "Täg 🚀 <b>", {TAG}}}
""")

    assert list(compiled.asl["States"]) == ["Welcome", "Täg 🚀 <b>", "End"]


def test_given_long_names_that_clash_then_each_state_name_fits_80_characters_and_keeps_its_id(write_journey, tmp_path):
    long_name, rockets = "N" * 80, "\U0001F680" * 40  # 80 UTF-16 code units each
    wait_id, mail_id = "w" * 64, "m" * 64
    _, compiled, _ = load(write_journey, f"""\
  - {{id: a, name: {long_name}, {TAG}}}
  - {{id: b, name: {long_name}, {TAG}}}
  - {{id: c, name: "{rockets}", {TAG}}}
  - {{id: d, name: "{rockets}", {TAG}}}
  - {{id: {wait_id}, name: {long_name}, type: wait, settings: {{duration: 1d}}}}
  - {{id: g, type: gate, settings: {{when: {{field: contact.x, op: exists}}, else: {mail_id}}}}}
  - {{id: {mail_id}, name: {long_name}, type: send_optimized_email, settings: {{subject: Hi, text: x}}}}
""")

    names = list(compiled.asl["States"])
    wait_state = "N" * 13 + f" ({wait_id})"  # the id is what tells clashing states apart: it stays whole
    assert names == [
        "N" * 76 + " (a)", "N" * 76 + " (b)", "\U0001F680" * 38 + " (c)", "\U0001F680" * 38 + " (d)",
        wait_state, "g", "N" * 13 + " (" + "m" * 54 + ": best time", "N" * 13 + f" ({mail_id})",
        "After " + wait_state[:74],  # the refresh before the gate
        # the send's deferral (quiet hours, send rate): the suffix is kept whole, the name is cut
        "N" * 13 + " (" + "m" * 55 + ": deferred", "N" * 13 + " (" + "m" * 50 + ": waits to send",
        "End",
    ]
    assert all(len(name.encode("utf-16-le")) // 2 <= 80 for name in names)
    assert len(set(names)) == len(names)
    assert_valid(tmp_path, compiled)


# ---------------------------------------------------------------- 5. wait bounds


@pytest.mark.parametrize("settings, key, message", [
    ("{duration: 0s}", "settings.duration", "'0s' does not wait: a wait lasts at least 1s"),
    ("{duration: P0D}", "settings.duration", "'P0D' does not wait: a wait lasts at least 1s"),
    ("{duration: 366d}", "settings.duration",
     "'366d' is longer than 365d: a Standard workflow execution lasts at most one year"),
    ("{duration: 99999999999d}", "settings.duration",
     "'99999999999d' is longer than 365d: a Standard workflow execution lasts at most one year"),
    ("{for_event: {event: demo_booked, timeout: 0m}}", "settings.for_event.timeout",
     "'0m' does not wait: a wait lasts at least 1s"),
    ("{for_event: {event: demo_booked, timeout: 53w}}", "settings.for_event.timeout",
     "'53w' is longer than 365d: a Standard workflow execution lasts at most one year"),
])
def test_given_a_wait_out_of_bounds_then_it_is_a_compile_error_naming_the_key(write_journey, settings, key, message):
    path, text = error_of(write_journey, f"  - {{id: w, type: wait, settings: {settings}}}\n")

    assert text == f"{path}: step 'w': {key}: {message}"


@pytest.mark.parametrize("window, message", [
    ("0s", "'0s' does not wait: a wait lasts at least 1s"),
    ("400d", "'400d' is longer than 365d: a Standard workflow execution lasts at most one year"),
])
def test_given_an_optimized_send_window_out_of_bounds_then_it_is_a_compile_error(write_journey, window, message):
    path, text = error_of(write_journey, f"  - {{id: e, type: send_optimized_email, settings: {{subject: Hi, text: x, window: {window}}}}}\n")

    assert text == f"{path}: step 'e': settings.window: {message}"


def test_given_waits_at_the_bounds_then_they_compile_to_their_seconds(write_journey):
    _, compiled, _ = load(write_journey, """\
  - {id: short, type: wait, settings: {duration: 1s}}
  - {id: long, type: wait, settings: {duration: 365d}}
  - {id: event, type: wait, settings: {for_event: {event: demo_booked, timeout: P365D}}}
""")

    states = compiled.asl["States"]
    assert (states["short"]["Seconds"], states["long"]["Seconds"]) == (1, 31536000)
    assert states["event"]["TimeoutSeconds"] == 31536000


def test_given_a_loop_whose_only_wait_is_until_then_it_is_rejected_as_it_may_not_wait(write_journey):
    path, text = error_of(write_journey, f"""\
  - {{id: a, {TAG}}}
  - {{id: w, type: wait, settings: {{until: "{{{{ contact.renews_at }}}}"}}}}
  - {{id: again, type: goto, settings: {{step: a}}}}
""")

    assert text == (f"{path}: step 'a': next: this loop passes no wait step that always waits (a wait `until` "
                    "a past time does not wait) and would spin without end: a -> w -> again -> a")


@pytest.mark.parametrize("wait", ["{duration: 1s}", "{until_time: '09:00'}", "{for_event: {event: ping, timeout: 1d}}"])
def test_given_a_loop_through_a_wait_that_always_waits_then_it_compiles(write_journey, wait):
    _, _, warnings = load(write_journey, f"""\
  - {{id: a, {TAG}}}
  - {{id: w, type: wait, settings: {wait}}}
  - {{id: still, type: gate, settings: {{when: {{field: contact.x, op: exists}}, else: exit}}}}
  - {{id: again, type: goto, settings: {{step: a}}}}
""")

    assert warnings == []


def graph_of(steps_yaml: str, head: str = HEAD):
    # The steps as the loader validates them, without its graph checks (which would refuse a
    # journey that never ends before the graph could be asked about it).
    import yaml

    from journeys.compiler.graph import Graph
    from journeys.language.model import Step

    raw = yaml.safe_load(head + steps_yaml)
    return Graph([Step.model_validate(step) for step in raw["steps"]], raw["journey"])


def test_given_a_journey_no_path_of_which_ends_then_the_graph_reports_it_naming_the_first_step():
    graph = graph_of(f"""\
  - {{id: a, {TAG}}}
  - {{id: later, type: wait, settings: {{duration: 1w}}}}
  - {{id: again, type: goto, settings: {{step: a}}}}
""")

    [problem] = graph.never_ends()
    assert (problem.step, problem.key) == ("a", "next")
    assert problem.message == (
        "the journey never ends: no path reaches an exit or the end of the last step, so contacts would loop "
        "forever (Step Functions rejects a state machine without a way out); add an exit, a gate with "
        "'else: exit' or entry.exit_when")
    assert graph.never_ends(goal=True) == []  # exit_when: the goal is the way out


def test_given_a_loop_with_a_way_out_then_the_graph_finds_that_it_ends():
    assert graph_of(LOOP).never_ends() == []


# ---------------------------------------------------------------- 5. a local run that never ends


def test_given_a_journey_that_loops_forever_when_run_locally_then_it_is_stopped_at_the_limit(write_journey):
    from moto.stepfunctions.parser.utils import TMP_THREADS

    from journeys.local.runner import run_journey

    path = write_journey(HEAD + LOOP)
    before = set(threading.enumerate()) | set(TMP_THREADS)  # what earlier tests may have left is theirs

    run = run_journey(path, {"id": "c1", "email": "c1@example.com", "x": 1}, start=MONDAY_8AM, timeout=1)

    assert run.status == "ABORTED"
    assert run.reason == "stopped after 1 s of wall-clock time, the local run's limit (JOURNEYS_RUN_TIMEOUT sets it)"
    assert run.history[-1]["type"] == "ExecutionAborted"
    assert [t for t in TMP_THREADS if t.is_alive() and t not in before] == []  # no execution goes on after the run
    assert [t.name for t in threading.enumerate() if t not in before and not t.daemon] == []


def test_given_the_cli_and_a_journey_that_loops_forever_then_it_exits_at_the_limit_with_status_aborted(write_journey, tmp_path):
    path = write_journey(HEAD + LOOP)
    contact = tmp_path / "contact.json"
    contact.write_text('{"id": "c1", "email": "c1@example.com", "x": 1}')
    env = {**os.environ, "JOURNEYS_RUN_TIMEOUT": "2"}

    done = subprocess.run([sys.executable, "-m", "journeys.cli", "run", str(path), "--contact", str(contact), "--json",
                           "--start", "2026-01-05T08:00:00Z"], capture_output=True, text=True, cwd=REPO, env=env, timeout=120)

    assert done.returncode == 2, done.stderr
    trace = json.loads(done.stdout)
    assert trace["status"] == "ABORTED", trace.get("reason")
    assert trace["reason"] == "stopped after 2 s of wall-clock time, the local run's limit (JOURNEYS_RUN_TIMEOUT sets it)"
    assert {step["id"] for step in trace["steps"]} == {"a", "later", "still", "again"}


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_given_a_run_limit_that_is_not_a_positive_number_then_it_is_refused(monkeypatch, value):
    from journeys.local.runner import run_timeout

    monkeypatch.setenv("JOURNEYS_RUN_TIMEOUT", value)

    with pytest.raises(ValueError, match=f"JOURNEYS_RUN_TIMEOUT='{value}': expected a number of seconds > 0"):
        run_timeout()
