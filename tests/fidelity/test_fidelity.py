"""Every compiled example replays identically on a second ASL interpreter (issue 13).

Each case runs on moto as `journeys run` does (one LocalStack for all, virtual clock starting in
2024 so every recorded wake time lies in the past); its history is then replayed on
aws-local-stepfunctions (tests/fidelity/replay.mjs, one Node process for the whole batch) with
every Task answered by moto's recorded outcomes. The state sequence, each state's input and
output, each Task's input after Parameters, the Choice branches and the final output must agree.

Cases: every shared example journey × ada and bob, plus every journey in tests/fidelity/cases/
(step types and flow constructs; add a journey file there to add a case, e.g. one with
`optimize: cost`) for ada (and bob where his profile takes other branches). A hand-made broken machine (a Choice on a missing path, no guard)
must come out different: the proof that this harness can fail.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from fidelity_support import HERE, Case, differences, record, replay, require_replayer

REPO = HERE.parents[1]
SHARED = REPO.parent / "shared" / "journeys"
CASES = HERE / "cases"
START = dt.datetime(2024, 3, 4, 8, 0, tzinfo=dt.timezone.utc)  # a Monday, years before any real now()
CONTACTS = ("ada", "bob")
ALONE = {"fidelity-target"}  # started by every-step, not a case of its own
NOT_ENTERED = {("sales-handoff", "bob")}  # its entry criteria keep bob out: no execution to replay
# A generated case runs for ada; these for bob too, whose profile takes other branches (his score, his
# unsubscribe) - the rest would only repeat ada's path and cost CPU time.
BOTH = {"every-step", "splits", "cost-splits"}
# Runs that need more than a contact: outside events at virtual times.
VARIANTS = {"for-event": {"delivered": ["demo_booked@+2h"], "timed out": []}}


def journey_files() -> list[Path]:
    shared = sorted(SHARED.glob("*.journey.yaml"))
    own = [p for p in sorted(CASES.glob("*.journey.yaml")) if f"fidelity-{p.name.removesuffix('.journey.yaml')}" not in ALONE]
    return shared + own


def runs() -> list[tuple[str, Path, str, list[str]]]:
    """(case name, journey file, contact, events at) for every case."""
    out = []
    for path in journey_files():
        stem = path.name.removesuffix(".journey.yaml")
        shared = path.parent == SHARED
        for contact in CONTACTS if shared or stem in BOTH else CONTACTS[:1]:
            if (stem, contact) in NOT_ENTERED:
                continue
            for variant, events in VARIANTS.get(stem, {"": []}).items():
                out.append((f"{stem} × {contact}" + (f" ({variant})" if variant else ""), path, contact, events))
    return out


RUNS = runs()
BROKEN = HERE / "broken" / "unguarded-choice.asl.json"


def _contact(name: str, case: str) -> dict:
    contact = json.loads((SHARED / "contacts" / f"{name}.json").read_text())
    if "(" in case:  # a variant runs the same journey again: its own contact, so entry rules let it in
        contact["id"] += "-" + case.split("(")[1].rstrip(")").replace(" ", "-")
    return contact


def _moto_cases(tmp: Path) -> dict[str, Case]:
    from journeys.local.demo_api import serve
    from journeys.local.runner import LocalStack, run_journey

    server = serve(port=0, background=True)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    actions = tmp / "actions.yaml"
    actions.write_text((SHARED / "actions.yaml").read_text().replace("http://127.0.0.1:8765", base))
    cases: dict[str, Case] = {}
    try:
        with LocalStack(START) as stack:
            for name, path, contact, events in RUNS:
                event = {"crm_hook": f"{base}/hooks/crm"} if path.name.startswith("enrichment") else None
                run = run_journey(path, _contact(contact, name), event, stack=stack, actions_file=actions,
                                  event_at=events or None, timeout=60)
                assert run.execution_arn, f"{name}: not entered ({run.reason})"
                definition = stack.sfn.describe_state_machine(stateMachineArn=stack.state_machines[run.journey.id])["definition"]
                cases[name] = record(name, json.loads(definition), run.execution_arn, run.history)
            cases["broken"] = _broken_on_moto(stack)
    finally:
        server.shutdown()
    return cases


def _broken_on_moto(stack) -> Case:
    from journeys.local.runner import ROLE_ARN

    definition = BROKEN.read_text()
    arn = stack.sfn.create_state_machine(name="fidelity-broken", definition=definition, roleArn=ROLE_ARN)["stateMachineArn"]
    execution = stack.sfn.start_execution(stateMachineArn=arn, input=json.dumps({"contact": {"id": "c-ada"}}))["executionArn"]
    stack.wait(execution, 30)
    return record("broken (unguarded Choice)", json.loads(definition), execution, stack.history(execution))


@pytest.fixture(scope="module")
def compared(tmp_path_factory) -> dict[str, tuple[Case, dict]]:
    require_replayer()  # before a minute of moto runs
    cases = _moto_cases(tmp_path_factory.mktemp("fidelity"))
    replayed = replay(list(cases.values()))
    return {key: (case, replayed[case.name]) for key, case in cases.items()}


@pytest.mark.parametrize("name", [r[0] for r in RUNS])
def test_given_a_compiled_journey_when_replayed_on_a_second_interpreter_then_every_state_agrees(compared, name):
    case, replayed = compared[name]

    found = differences(case, replayed)

    assert case.states and case.end.get("status") == "SUCCEEDED", f"{name}: moto run {case.end}"
    assert not found, "\n".join(found[:40])


def test_given_the_cases_then_every_step_type_and_flow_construct_is_covered(compared):
    from journeys.language.loader import load_journey

    types = {step.type for path in journey_files() + [CASES / "target.journey.yaml"] for step in load_journey(path)[0].steps}
    states = {(s["type"], s["state"]) for name, (case, _) in compared.items() if name != "broken" for s in case.states}

    missing = {"send_email", "send_optimized_email", "send_notification_email", "site_notification", "update_profile",
               "add_note", "add_tag", "remove_tag", "add_to_group", "remove_from_group", "unsubscribe", "start_journey",
               "exit_journey", "webhook", "action", "crm_action", "wait", "split", "gate", "goto", "join", "exit"} - types
    assert not missing, f"no case has step types {sorted(missing)}"
    kinds = {kind for kind, _ in states}
    assert {"Task", "Wait", "Choice", "Succeed"} <= kinds, kinds
    assert any(o.get("error") for case, _ in compared.values() for outs in case.outcomes.values() for o in outs), "no failing Task"
    goal = compared["exit-when × ada"][0].states
    assert goal[-1]["state"] == "Goal reached", [s["state"] for s in goal]
    loop = [s["state"] for s in compared["goto-loop × ada"][0].states]
    assert loop.count("Count a lap") == 3, loop
    assert "Thank for booking" in [s["state"] for s in compared["for-event × ada (delivered)"][0].states]
    assert "Tag as silent" in [s["state"] for s in compared["for-event × ada (timed out)"][0].states]


def test_given_a_choice_on_a_missing_path_when_replayed_then_the_harness_reports_the_difference(compared):
    case, replayed = compared["broken"]

    found = differences(case, replayed)

    # moto quietly takes the Default; AWS (and the second interpreter) fail with States.Runtime.
    assert case.end["status"] == "SUCCEEDED" and replayed["end"]["status"] == "FAILED", (case.end, replayed["end"])
    assert any("broken (unguarded Choice)" in line and "'Decide'" in line or "state sequence" in line for line in found), found
    assert any("execution SUCCEEDED on moto" in line and "States.Runtime" in line for line in found), found


def test_given_a_recorded_task_input_altered_when_compared_then_the_diff_names_journey_contact_and_state(compared):
    import copy

    case, replayed = compared["lead-nurturing × ada"]
    altered = copy.deepcopy(case)
    altered.tasks[1]["input"]["step"]["settings"]["subject"] = "Another subject"

    found = differences(altered, replayed)

    assert found == [f"lead-nurturing × ada: Task {case.tasks[1]['state']!r} input after Parameters: "
                     f"$.step.settings.subject: moto \"Another subject\", replay {json.dumps(case.tasks[1]['input']['step']['settings']['subject'])}"]
