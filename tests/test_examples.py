"""Every shared example compiles, deterministically, and the committed ASL is up to date."""

from __future__ import annotations

import filecmp

import pytest

from journeys.compiler import compile_journey
from journeys.language.loader import load_journey

from conftest import REPO, SHARED

EXAMPLES = sorted(SHARED.glob("*.journey.yaml"))


def test_the_shared_examples_are_there():
    assert {p.name for p in EXAMPLES} >= {"lead-nurturing.journey.yaml", "trial-onboarding.journey.yaml", "enrichment.journey.yaml", "sales-handoff.journey.yaml"}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_given_a_shared_example_when_compiled_twice_then_same_bytes_and_valid_shape(path):
    journey, warnings = load_journey(path)
    first, second = compile_journey(journey).to_json(), compile_journey(load_journey(path)[0]).to_json()
    assert first == second
    assert warnings == []
    asl = compile_journey(journey).asl
    assert asl["StartAt"] in asl["States"]
    for name, state in asl["States"].items():
        assert len(name) <= 80
        for target in [state.get("Next"), state.get("Default"), *[c["Next"] for c in state.get("Choices", []) + state.get("Catch", [])]]:
            assert target is None or target in asl["States"], f"{name} -> {target}"
        if state["Type"] == "Task":
            assert state["Retry"][0]["ErrorEquals"][0].startswith("Lambda.")
            assert state["Catch"][-1]["ErrorEquals"] == ["States.ALL"]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_given_the_repo_then_statemachines_holds_the_shared_example_and_its_fresh_asl(path):
    copy = REPO / "statemachines" / path.name
    assert copy.is_file() and filecmp.cmp(copy, path, shallow=False), f"statemachines/{path.name} differs from ../shared"
    journey, _ = load_journey(copy)
    compiled = REPO / "statemachines" / f"{journey.id}.asl.json"
    assert compiled.read_text() == compile_journey(journey).to_json(), "run: journeys compile statemachines/*.journey.yaml"


def test_state_names_read_like_the_steps():
    journey, _ = load_journey(SHARED / "lead-nurturing.journey.yaml")
    names = list(compile_journey(journey).asl["States"])
    assert names[:3] == ["Tag as lead", "Send welcome email", "wait-2d"]
    assert "Engaged with emails?" in names
