"""A newcomer's typos get the nearest valid name, and `compile --check` says when all is well
(issue 8, item 17)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from conftest import REPO
from journeys.cli.main import main
from journeys.language.errors import JourneyFileError
from journeys.language.loader import parse_journey

JOURNEY = """
journey: typos
entry: {trigger: webhook}
steps:
  - id: welcome
    type: send_email
    settings: {subject: Hi, html: Hello}
  - id: wait-1
    type: wait
    settings: {duration: 1d}
"""


def problems(text: str) -> list[str]:
    with pytest.raises(JourneyFileError) as raised:
        parse_journey(text, "typos.journey.yaml")
    return [problem.render("typos.journey.yaml") for problem in raised.value.problems]


def test_given_a_mistyped_step_type_then_the_error_suggests_the_nearest_type():
    assert problems(JOURNEY.replace("type: send_email", "type: send_emial"))[0].startswith(
        "typos.journey.yaml: step 'welcome': type: unknown step type 'send_emial' (did you mean 'send_email'?); valid types:")


def test_given_mistyped_keys_at_the_top_in_a_step_and_in_settings_then_each_suggests_the_nearest_key():
    text = JOURNEY.replace("steps:", "stepz: 1\nsteps:", 1).replace("subject: Hi", "subjct: Hi").replace(
        "    type: wait\n", "    type: wait\n    nxt: welcome\n")

    found = problems(text)

    assert "typos.journey.yaml: stepz: unknown key (did you mean 'steps'?)" in found
    assert "typos.journey.yaml: step 'welcome': settings.subjct: unknown key (did you mean 'subject'?)" in found
    assert "typos.journey.yaml: step 'wait-1': nxt: unknown key (did you mean 'next'?)" in found


def test_given_a_mistyped_step_id_in_next_or_else_then_the_error_suggests_the_nearest_id():
    text = JOURNEY.replace("settings: {duration: 1d}", "settings: {duration: 1d}\n    next: gate") + """
  - id: gate
    type: gate
    settings: {when: {field: contact.plan, op: equals, value: pro}, else: wait1}
  - id: end
    type: exit
"""
    assert problems(text.replace("next: gate", "next: gaet")) == [
        "typos.journey.yaml: step 'wait-1': next: names no step: 'gaet' (did you mean 'gate'?)",
        "typos.journey.yaml: step 'gate': settings.else: names no step: 'wait1' (did you mean 'wait-1'?)"]


def test_given_a_key_nothing_resembles_then_no_suggestion_is_made():
    assert problems(JOURNEY.replace("html: Hello", "html: Hello, zzz: 1")) == [
        "typos.journey.yaml: step 'welcome': settings.zzz: unknown key"]


def test_given_up_to_date_files_when_compile_check_runs_then_it_says_so():
    files = [str(p) for p in sorted((REPO / "statemachines").glob("*.journey.yaml"))]

    done = CliRunner().invoke(main, ["compile", "--check", *files])

    assert done.exit_code == 0, done.output
    assert done.output.strip().endswith(f"up to date: {len(files)} files")
