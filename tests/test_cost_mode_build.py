"""`journeys build --optimize cost` and Express where it fits (compiler/express.py)."""

from __future__ import annotations

import shutil

import yaml

from journeys.compiler import compile_journey
from journeys.compiler.build import plan
from journeys.compiler.express import express_misfit
from journeys.language.loader import parse_journey

from conftest import REPO, SHARED


def cost(text: str):
    journey, _ = parse_journey(text)
    return compile_journey(journey.model_copy(update={"optimize": "cost"}))


def template_of(tmp_path, optimize, policies=True):
    shutil.copy(REPO / "template.yaml", tmp_path / "template.yaml")
    shutil.copytree(REPO / "statemachines", tmp_path / "statemachines")
    if not policies:
        (tmp_path / "statemachines" / "policies.yaml").unlink(missing_ok=True)
    (tmp_path / "layers/journeys/journeys/runtime").mkdir(parents=True)
    outputs, _ = plan(tmp_path, optimize)
    return yaml.load(outputs[tmp_path / "template.yaml"], Loader=_Loose), outputs


class _Loose(yaml.SafeLoader):
    """Reads CloudFormation's short tags (!Ref, !Sub, ...) as plain values."""


_Loose.add_multi_constructor("!", lambda loader, suffix, node: loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode)
                             else loader.construct_sequence(node) if isinstance(node, yaml.SequenceNode) else loader.construct_mapping(node))


def machines_of(template) -> dict:
    """The journeys' state machines by journey id (not the stack's segment-entry machine)."""
    return {r["Properties"]["Tags"]["journey"]: r["Properties"] for r in template["Resources"].values()
            if r["Type"] == "AWS::Serverless::StateMachine" and "journey" in r["Properties"].get("Tags", {})}


def test_given_a_stack_with_quiet_hours_or_a_send_rate_then_a_journey_that_emails_stays_standard(tmp_path):
    template, _ = template_of(tmp_path, "cost")  # statemachines/policies.yaml: quiet hours and 14/s
    assert {m["Type"] for m in machines_of(template).values()} == {"STANDARD"}


def test_given_build_optimize_cost_then_short_journeys_deploy_as_express_and_the_others_stay_standard(tmp_path):
    template, outputs = template_of(tmp_path, "cost", policies=False)
    resources = template["Resources"]
    machines = machines_of(template)

    assert machines["sales-handoff"]["Type"] == "EXPRESS"  # one run of steps, no wait
    assert machines["sales-handoff"]["Logging"]["Level"] == "ALL"
    assert {machines[j]["Type"] for j in ("lead-nurturing", "trial-onboarding", "enrichment")} == {"STANDARD"}
    assert "StepsFunctionArn" in machines["lead-nurturing"]["DefinitionSubstitutions"]
    assert "optimize: cost" in outputs[tmp_path / "statemachines/lead-nurturing.asl.json"]


def test_given_the_default_build_then_every_journey_stays_standard_and_one_step_per_task(tmp_path):
    template, outputs = template_of(tmp_path, None)
    machines = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::Serverless::StateMachine"]
    assert {m["Type"] for m in machines} == {"STANDARD"}
    assert outputs[tmp_path / "statemachines/lead-nurturing.asl.json"] == (REPO / "statemachines/lead-nurturing.asl.json").read_text()


HEAD = "journey: j\nentry: {trigger: webhook}\nsteps:\n"


def test_given_cost_journeys_then_express_only_when_every_path_ends_within_five_minutes():
    short = HEAD + "  - {id: a, type: add_tag, settings: {tags: [x]}}\n  - {id: w, type: wait, settings: {duration: 2m}}\n" \
                   "  - {id: b, type: add_tag, settings: {tags: [y]}}\n"
    assert express_misfit(cost(short)) is None
    long = short.replace("2m", "10m")
    assert "over Express's 300 s" in express_misfit(cost(long))
    event = HEAD + "  - {id: w, type: wait, settings: {for_event: {event: e, timeout: 1m}}}\n  - {id: b, type: add_tag, settings: {tags: [y]}}\n"
    assert "waits for an event" in express_misfit(cost(event))
    loop = HEAD + ("  - {id: a, type: add_tag, settings: {tags: [x]}}\n  - {id: w, type: wait, settings: {duration: 1m}}\n"
                   "  - {id: g, type: gate, settings: {when: {field: contact.n, op: lt, value: 3}, else: exit}}\n"
                   "  - {id: back, type: goto, settings: {step: a}}\n")
    assert "loop" in express_misfit(cost(loop))
    until = HEAD + "  - {id: w, type: wait, settings: {until_time: '09:00'}}\n  - {id: b, type: add_tag, settings: {tags: [y]}}\n"
    assert "run time" in express_misfit(cost(until))
    assert "exit_journey" in express_misfit(cost(short), exited_by_others=True)
    email = HEAD + "  - {id: e, type: send_email, settings: {subject: hi, text: hi}}\n"
    assert express_misfit(cost(email)) is None
    assert "quiet hours or send rate" in express_misfit(cost(email), sends_may_wait=True)
    journey, _ = parse_journey(short)
    assert "optimize: steps" in express_misfit(compile_journey(journey))
