"""events/: every sample drives its function (task payloads captured from real local runs)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
from infra_tools import REPO

TASK_SAMPLES = sorted(p for p in (REPO / "events").glob("*/*.json") if p.parent.name != "entry")


def test_given_the_sample_folders_then_every_function_of_the_template_has_samples():
    folders = {p.parent.name for p in (REPO / "events").glob("*/*.json")}

    assert folders == {"entry", "messaging", "updates", "actions", "control"}


@pytest.mark.parametrize("path", TASK_SAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_given_a_task_sample_when_its_function_handles_it_then_a_new_execution_state_comes_back(path: Path):
    from journeys.compiler import compile_journey
    from journeys.language.loader import load_journey
    from journeys.local.runner import REGION, LocalContext, LocalStack

    payload = json.loads(path.read_text())
    function = path.parent.name
    with LocalStack() as stack:
        # The example journeys are deployed, as where the samples come from (exit_journey and
        # start_journey look their target up in the catalog).
        for journey_file in sorted((REPO / "statemachines").glob("*.journey.yaml")):
            stack.deploy(compile_journey(load_journey(journey_file)[0]))
        stack.contacts.upsert(payload["state"]["contact"])
        spec = importlib.util.spec_from_file_location(f"sample_{function}", REPO / "functions" / function / "app.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)

        try:
            state = module.lambda_handler(payload, LocalContext(function, f"arn:aws:lambda:{REGION}:123456789012:function:{function}"))
        except Exception as error:
            # Named errors the compiled Retry/Catch handle: the goal was reached, or the outbound call
            # failed (no Action is configured in this bare world) - the payload itself was understood.
            assert type(error).__name__ in ("GoalReached", "IntegrationFailed"), error
            if type(error).__name__ == "IntegrationFailed":
                assert payload["step"]["settings"]["action"] in str(error)
            return

    assert state["contact"]["id"] == payload["state"]["contact"]["id"]
    assert state["seq"] == payload["state"]["seq"] + 1
    if payload["step"]["type"] != "refresh":
        assert state["last"]["step"] == payload["step"]["id"]
        assert state["last"]["outcome"] in ("done", "skipped", "failed")


def test_given_the_entry_samples_then_each_is_an_http_api_v2_event_signed_with_the_documented_local_secret():
    sys.path.insert(0, str(REPO / "events"))
    from generate import LOCAL_WEBHOOK_SECRET, sign

    for path in sorted((REPO / "events" / "entry").glob("*.json")):
        event = json.loads(path.read_text())
        assert event["version"] == "2.0" and event["routeKey"].split()[0] == event["requestContext"]["http"]["method"]
        headers = event["headers"]
        if "x-journeys-signature" in headers:
            assert headers["x-journeys-signature"] == sign(
                event.get("body", ""), LOCAL_WEBHOOK_SECRET, timestamp=int(headers["x-journeys-timestamp"]),
                method=event["requestContext"]["http"]["method"], path=event["rawPath"])
