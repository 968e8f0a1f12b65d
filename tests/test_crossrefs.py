"""Action steps and journey targets are checked when journeys are validated, compiled and built, not
when a contact reaches the step (issue 8, item 11)."""

from __future__ import annotations

import textwrap

import pytest
from click.testing import CliRunner

from conftest import SHARED
from journeys.cli.main import main
from journeys.compiler.build import BuildError, cross_check
from journeys.language.loader import load_journey

ACTIONS = str(SHARED / "actions.yaml")  # enrich (http), crm (crm)

CRM_STEP = """
journey: handoff
entry: {{trigger: webhook}}
steps:
  - id: crm-task
    type: crm_action
    settings:
      action: {action}
      function: {function}
      input: {input}
"""


def write(tmp_path, text: str, name: str = "handoff.journey.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def validate(*args: str):
    return CliRunner().invoke(main, ["validate", *args])


def crm_journey(tmp_path, action="crm", function="create_task",
                input='{subject: "Call {{ contact.first_name }}", contact_email: "{{ contact.email }}"}'):
    return write(tmp_path, CRM_STEP.format(action=action, function=function, input=input))


def test_given_the_shared_journeys_and_actions_then_validate_and_compile_check_pass():
    files = [str(p) for p in sorted(SHARED.glob("*.journey.yaml"))]

    assert validate("--actions", ACTIONS, *files).exit_code == 0


def test_given_a_function_the_module_lacks_then_validate_names_file_step_key_and_the_nearest_function(tmp_path):
    path = crm_journey(tmp_path, function="create_tsk")

    done = validate("--actions", ACTIONS, path)

    assert done.exit_code == 1
    assert (f"{path}: step 'crm-task': settings.function: Action 'crm' (module 'crm') has no function 'create_tsk' "
            "(did you mean 'create_task'?); valid: create_deal, create_task, upsert_contact") in done.output


def test_given_an_action_id_not_in_the_actions_file_then_compile_fails_naming_it(tmp_path):
    path = crm_journey(tmp_path, action="cmr")

    done = CliRunner().invoke(main, ["compile", "--actions", ACTIONS, "-o", str(tmp_path), path])

    assert done.exit_code == 1 and not (tmp_path / "handoff.asl.json").exists()
    assert f"{path}: step 'crm-task': settings.action: names no Action: 'cmr' (did you mean 'crm'?); configured: crm, enrich" in done.output


def test_given_input_fields_then_names_are_checked_for_templates_and_values_for_literals(tmp_path):
    path = crm_journey(tmp_path, input='{subjct: "Call {{ contact.first_name }}", contact_email: not-an-email, due_in_days: "{{ contact.days }}"}')

    done = validate("--actions", ACTIONS, path)

    assert done.exit_code == 1
    lines = done.output.splitlines()
    assert f"{path}: step 'crm-task': settings.input.subjct: unknown key (did you mean 'subject'?)" in lines
    assert f"{path}: step 'crm-task': settings.input.subject: required key is missing" in lines
    assert any(line.startswith(f"{path}: step 'crm-task': settings.input.contact_email: ") for line in lines)
    assert not any("due_in_days" in line for line in lines)  # a template: its value is known when it renders


def test_given_no_actions_file_then_action_steps_are_not_checked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no statemachines/actions.yaml here
    assert validate(crm_journey(tmp_path, function="nope")).exit_code == 0


def exit_journey(tmp_path, target: str, name: str = "stopper.journey.yaml") -> str:
    return write(tmp_path, f"""
        journey: stopper
        entry: {{trigger: webhook}}
        steps:
          - {{id: stop, type: exit_journey, settings: {{journey: {target}}}}}
        """, name)


def test_given_several_files_when_an_exit_journey_target_is_unknown_then_it_is_an_error_with_a_suggestion(tmp_path):
    lead = str(SHARED / "lead-nurturing.journey.yaml")
    path = exit_journey(tmp_path, "lead-nuturing")

    done = validate(lead, path)

    assert done.exit_code == 1
    assert (f"{path}: step 'stop': settings.journey: names no journey: 'lead-nuturing' (did you mean 'lead-nurturing'?); "
            "known: lead-nurturing, stopper") in done.output
    assert validate(path).exit_code == 0  # alone, the other journeys are unknown: nothing to check against
    assert validate(lead, exit_journey(tmp_path, "lead-nurturing", "ok.journey.yaml")).exit_code == 0


def test_given_a_stack_when_built_then_start_targets_and_action_steps_are_checked(tmp_path):
    (tmp_path / "statemachines").mkdir()
    (tmp_path / "statemachines" / "actions.yaml").write_text((SHARED / "actions.yaml").read_text())
    journeys = [load_journey(exit_journey(tmp_path, "ghost"))[0], load_journey(crm_journey(tmp_path, function="create_tsk"))[0]]

    with pytest.raises(BuildError) as raised:
        cross_check(tmp_path, journeys)

    assert "step 'stop': settings.journey: names no journey: 'ghost'" in str(raised.value)
    assert "step 'crm-task': settings.function: Action 'crm' (module 'crm') has no function 'create_tsk'" in str(raised.value)
