"""Every bad-input class of JOURNEYS.md: a clear error naming file, step and key; never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from journeys.language.errors import JourneyFileError
from journeys.language.loader import load_journey

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


def test_given_a_cycle_through_a_wait_with_a_way_out_then_it_compiles(write_journey):
    path = write_journey(HEAD + """\
  - {id: digest, type: send_email, settings: {subject: Digest, text: x}}
  - {id: later, type: wait, settings: {duration: 1w}}
  - {id: still-in, type: gate, settings: {when: {field: contact.plan, op: equals, value: pro}, else: exit}}
  - {id: again, type: goto, settings: {step: digest}}
""")
    journey, warnings = load_journey(path)
    assert [s.id for s in journey.steps] == ["digest", "later", "still-in", "again"] and warnings == []


def test_given_a_cycle_through_a_wait_with_no_way_out_then_it_is_an_error_saying_how_to_end_it(write_journey):
    # Step Functions rejects a state machine with no terminal state (asl-validator: MISSING_END_STATE).
    text = problems(write_journey, """\
  - {id: digest, type: send_email, settings: {subject: Digest, text: x}}
  - {id: later, type: wait, settings: {duration: 1w}}
  - {id: again, type: goto, settings: {step: digest}}
""")
    assert "step 'digest'" in text and "the journey never ends" in text
    assert "add an exit, a gate with 'else: exit' or entry.exit_when" in text


def test_given_a_cycle_with_no_exit_but_an_exit_when_goal_then_it_compiles(write_journey):
    path = write_journey("""\
journey: digest
entry: {trigger: webhook, exit_when: {field: contact.plan, op: equals, value: churned}}
steps:
  - {id: digest, type: send_email, settings: {subject: Digest, text: x}}
  - {id: later, type: wait, settings: {duration: 1w}}
  - {id: again, type: goto, settings: {step: digest}}
""")
    journey, warnings = load_journey(path)
    assert journey.entry.exit_when is not None and warnings == []


def test_given_an_unreachable_step_then_it_is_a_warning(write_journey):
    path = write_journey(HEAD + "  - {id: a, type: exit}\n  - {id: orphan, type: add_tag, settings: {tags: [x]}}\n")
    _, warnings = load_journey(path)
    assert warnings == [f"{path}: step 'orphan': unreachable (no step leads to it): left out of the state machine"]


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


def load_errors(path) -> str:
    """The whole error text of loading `path` (which must fail)."""
    with pytest.raises(JourneyFileError) as caught:
        load_journey(path)
    return str(caught.value)


VALID_TYPES = ("send_email, send_optimized_email, send_notification_email, site_notification, update_profile, add_note, "
               "add_tag, remove_tag, add_to_group, remove_from_group, unsubscribe, start_journey, exit_journey, webhook, "
               "action, crm_action, wait, split, gate, goto, join, exit")
OPERATORS = "equals, not_equals, gt, gte, lt, lte, contains, not_contains, starts_with, in, not_in, exists, not_exists, before, after"


@pytest.mark.parametrize("step, expected", [
    ("{id: a, type: [exit]}", f"step 'a': type: unknown step type ['exit']; valid types: {VALID_TYPES}"),
    ("{id: a, type: {x: 1}}", f"step 'a': type: unknown step type {{'x': 1}}; valid types: {VALID_TYPES}"),
    ("{id: a, type: 5}", f"step 'a': type: unknown step type 5; valid types: {VALID_TYPES}"),
    ("{id: a}", f"step 'a': type: required key is missing; valid types: {VALID_TYPES}"),
    ("{id: [a], type: exit}", "step '#1': id: Input should be a valid string"),
    ("{id: a, type: exit, next: {b: 1}}", "step 'a': next: Input should be a valid string"),
    ("{id: a, type: add_tag, settings: [x]}", "step 'a': settings: Input should be a valid dictionary"),
    ("{id: a, type: add_tag, settings: {tags: [x]}, name: [x]}", "step 'a': name: Input should be a valid string"),
    ("{id: a, type: add_tag, settings: {tags: [x]}, apply_to: [x]}",
     "step 'a': apply_to: a condition is {field, op, value} or one of all: [...], any: [...], not: {...}"),
])
def test_given_a_step_key_of_the_wrong_shape_then_one_named_error_and_no_traceback(write_journey, step, expected):
    # Given a step whose type, id, next, settings, name or apply_to is a list, a mapping or missing
    path = write_journey(f"{HEAD}  - {step}\n")

    # When it is loaded, Then exactly one error names the step and the key
    assert load_errors(path) == f"{path}: {expected}"


GATE = "  - {{id: a, type: gate, settings: {{when: {when}, else: b}}}}\n  - {{id: b, type: exit}}\n"
SPLIT = "  - {{id: a, type: split, settings: {{branches: {branches}, default: b}}}}\n  - {{id: b, type: exit}}\n"


@pytest.mark.parametrize("name, steps, expected", [
    ("unknown operator", GATE.format(when="{field: contact.x, op: bigger, value: 1}"),
     f"settings.when.op: unknown operator 'bigger'; valid: {OPERATORS}"),
    ("missing field", GATE.format(when="{op: equals, value: 1}"), "settings.when.field: required key is missing"),
    ("not a field", GATE.format(when="{field: plan, op: equals, value: 1}"),
     "settings.when.field: 'plan' is not a field: use contact.<attr>, event.<attr> or journey.<data_key>.<path>"),
    ("missing value", GATE.format(when="{field: contact.x, op: gte}"), "settings.when.value: 'gte' needs a value"),
    ("in without a list", SPLIT.format(branches="[{name: A, when: {field: contact.x, op: in, value: 5}, next: b}]"),
     "settings.branches.0.when.value: 'in' needs a list"),
    ("not_in without a list", GATE.format(when="{field: contact.x, op: not_in, value: trial}"),
     "settings.when.value: 'not_in' needs a list"),
    ("bad relative time", GATE.format(when="{field: contact.x, op: before, value: last tuesday}"),
     "settings.when.value: 'before' needs an ISO 8601 timestamp or a relative time like -7d"),
    ("empty all", GATE.format(when="{all: []}"), "settings.when.all: list at least one condition"),
    ("all with a mapping", GATE.format(when="{all: {field: contact.x, op: exists}}"), "settings.when.all: takes a list of conditions"),
    ("not with a list", GATE.format(when="{not: [{field: contact.x, op: exists}]}"),
     "settings.when.not: takes one condition, not a list (wrap several in all: or any:)"),
    ("neither field nor group", GATE.format(when="{fild: contact.x}"),
     "settings.when: a condition is {field, op, value} or one of all: [...], any: [...], not: {...}"),
    ("nested mistake", GATE.format(when="{any: [{field: contact.x, op: exists}, {not: {field: contact.y, op: after}}]}"),
     "settings.when.any.1.not.value: 'after' needs a value"),
    ("mixed split", SPLIT.format(branches="[{name: A, weight: 50, next: b}, {name: B, when: {field: contact.x, op: exists}, next: b}]"),
     "settings.branches: a split's branches are either all conditional (when) or all random (weight), not both"),
    ("split branch without next", SPLIT.format(branches="[{name: A, when: {field: contact.x, op: exists}}]"),
     "settings.branches.0.next: required key is missing"),
    ("random branch without next", "  - {id: a, type: split, settings: {branches: [{name: A, weight: 1}]}}\n",
     "settings.branches.0.next: required key is missing"),
    ("split without branches", SPLIT.format(branches="[]"), "settings.branches: list at least one branch"),
])
def test_given_a_condition_or_split_mistake_then_exactly_one_error_says_what_to_fix(write_journey, name, steps, expected):
    # Given a gate or split with one mistake
    path = write_journey(HEAD + steps)

    # When it is loaded, Then one error, at the key of the mistake, in the journey's words
    assert load_errors(path) == f"{path}: step 'a': {expected}", name


def test_given_a_mistake_in_entry_criteria_or_apply_to_then_it_is_named_the_same_way(write_journey):
    # Given conditions outside a step's settings
    head = "journey: bad\nentry: {trigger: webhook, criteria: {field: contact.plan, op: in, value: trial}}\nsteps:\n"
    step = "  - {id: a, type: add_tag, settings: {tags: [x]}, apply_to: {field: contact.x, op: exists_not}}\n"
    path = write_journey(head + step)

    # When loaded, Then each names its own key
    assert load_errors(path) == "\n".join([
        f"{path}: entry.criteria.value: 'in' needs a list",
        f"{path}: step 'a': apply_to.op: unknown operator 'exists_not' (did you mean 'exists'?); valid: {OPERATORS}",
    ])


def test_given_an_unknown_liquid_filter_then_it_is_a_compile_error_naming_step_and_setting(write_journey):
    # Given a template that parses but uses a filter Liquid does not have (it would fail for every contact)
    steps = "  - {id: e, type: send_email, settings: {subject: 'Hi {{ contact.first_name | nosuchfilter }}', text: x}}\n"
    path = write_journey(HEAD + steps)

    # When loaded, Then a compile error names the step, the setting and the filter
    assert load_errors(path) == (
        f"{path}: step 'e': settings.subject: invalid template 'Hi {{{{ contact.first_name | nosuchfilter }}}}': "
        "unknown filter 'nosuchfilter'")


def test_given_an_include_tag_then_it_is_a_compile_error(write_journey):
    steps = "  - {id: n, type: add_note, settings: {text: \"{% include 'footer' %}\"}}\n"
    path = write_journey(HEAD + steps)

    assert load_errors(path) == (
        f"{path}: step 'n': settings.text: invalid template \"{{% include 'footer' %}}\": "
        "tag 'include' is not available (a journey has no template files)")


def test_given_days_empty_then_it_is_a_compile_error(write_journey):
    # Given a time-of-day wait with an empty list of days (it would read as "never")
    steps = "  - {id: w, type: wait, settings: {until_time: '09:00', days: []}}\n"
    path = write_journey(HEAD + steps)

    # When loaded, Then the error says what to write instead
    assert load_errors(path) == f"{path}: step 'w': settings.days: list at least one day, or leave it out for every day"


@pytest.mark.parametrize("head, steps, expected", [
    ("journey: Bad_Id\nentry: {trigger: webhook}\nsteps:\n", "  - {id: a, type: exit}\n",
     "journey: 'Bad_Id' is not valid here: use lowercase letters, digits and '-', starting with a letter or digit, at most 40 characters"),
    ("journey: ok\nentry: {trigger: webhook, re_entry: {after: soon}}\nsteps:\n", "  - {id: a, type: exit}\n",
     "entry.re_entry.after: invalid duration 'soon'"),
    (HEAD, "  - {id: w, type: wait, settings: {until_time: 9am}}\n  - {id: a, type: exit}\n",
     "step 'w': settings.until_time: '9am' is not valid here: use a time of day as HH:MM, 24-hour"),
    (HEAD, "  - {id: '-a', type: exit}\n",
     "step '-a': id: '-a' is not valid here: use letters, digits, '-' and '_', starting with a letter or digit"),
    (HEAD, "  - {id: u, type: update_profile, settings: {set: {visits: 0}, increment: {visits: 1}}}\n",
     "step 'u': settings: attribute 'visits' is in both set and increment: one step changes an attribute once"),
])
def test_given_a_value_of_the_wrong_form_then_the_error_says_what_to_write_not_a_regex(write_journey, head, steps, expected):
    text = problems(write_journey, steps, head=head)

    assert expected in text and "should match pattern" not in text
