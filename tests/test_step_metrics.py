"""The EMF metrics the step functions write are the ones template.yaml's alarms read: a goal exit
(exit_when holds; GoalReached leaves the handler) is counted as GoalExits by function, so the
Lambda error alarms can subtract it; a failed step is counted by step and once more per stack."""

from __future__ import annotations

import importlib.util
import json

import pytest
import yaml

from conftest import REPO, emf_records
from journeys.runtime.task import GoalReached
from journeys.runtime.store import ContactNotFound

REFRESH = json.loads((REPO / "events/control/refresh.json").read_text())  # lead-nurturing: exit_when customer
DEPLOYED_NAME = "journeys-dev-ControlFunction-AbC123"


@pytest.fixture
def control(monkeypatch):
    """The control function in a moto world, writing metrics as on AWS (service = the stack name)."""
    from journeys.local.runner import REGION, LocalContext, LocalStack

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "journeys-dev")
    with LocalStack() as stack:
        spec = importlib.util.spec_from_file_location("metrics_control_app", REPO / "functions/control/app.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        context = LocalContext(DEPLOYED_NAME, f"arn:aws:lambda:{REGION}:123456789012:function:{DEPLOYED_NAME}")
        stack.handle = lambda payload: module.lambda_handler(payload, context)
        yield stack


def alarm_dimensions(alarm: str, query: str | None = None) -> list[str]:
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    props = yaml.load((REPO / "template.yaml").read_text(), Loader=Loader)["Resources"][alarm]["Properties"]
    if query:
        props = next(q for q in props["Metrics"] if q["Id"] == query)["MetricStat"]["Metric"]
    return [d["Name"] for d in props["Dimensions"]]


def test_given_a_contact_at_the_goal_when_a_step_runs_then_goal_exits_is_written_before_the_error_leaves(control, capfd):
    control.contacts.upsert({**REFRESH["state"]["contact"], "customer": True})

    with pytest.raises(GoalReached):
        control.handle(REFRESH)

    written = emf_records(capfd.readouterr().out)  # file descriptor level: flushed, not just buffered
    assert [r["values"] for r in written["GoalExits"]] == [{"service": "journeys-dev", "FunctionName": DEPLOYED_NAME}]
    assert written["GoalExits"][0]["dimensions"] == alarm_dimensions("ControlErrorsAlarm", "goals")
    assert "StepFailed" not in written


def test_given_a_step_that_fails_then_step_failed_is_written_by_step_and_once_for_the_stacks_alarm(control, capfd):
    # no such contact in the table: the step cannot run
    with pytest.raises(ContactNotFound, match="does not exist"):
        control.handle(REFRESH)

    written = emf_records(capfd.readouterr().out)
    by_dimensions = {frozenset(r["dimensions"]): r["values"] for r in written["StepFailed"]}
    assert by_dimensions[frozenset({"service"})] == {"service": "journeys-dev"}
    assert ["service"] == alarm_dimensions("StepFailedAlarm")
    # the dashboard's schema {Journeys,service,Journey,Step,StepType}; a refresh Task is named by its type
    assert by_dimensions[frozenset({"service", "Journey", "Step", "StepType"})] == {
        "service": "journeys-dev", "Journey": "lead-nurturing", "Step": "refresh", "StepType": "refresh"}
    assert "GoalExits" not in written


def test_given_a_contact_not_at_the_goal_then_no_goal_exit_is_counted(control, capfd):
    control.contacts.upsert(REFRESH["state"]["contact"])

    state = control.handle(REFRESH)

    assert state["contact"]["id"] == REFRESH["state"]["contact"]["id"]
    assert "GoalExits" not in emf_records(capfd.readouterr().out)
