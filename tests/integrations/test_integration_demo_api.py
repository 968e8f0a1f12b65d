"""`journeys demo-api`, the local peer of the README's integration recipe: the shared enrichment journey run
against it sends each shared contact down the branch their profile suggests (Ada's company is big, Bob's small)."""

from __future__ import annotations

import pytest

from integrations_support import SHARED, SHARED_ACTIONS, SHARED_BASE, outcomes, quick_http, run_trace  # noqa: F401

ENRICHMENT = SHARED / "enrichment.journey.yaml"


@pytest.fixture
def demo_actions(tmp_path):
    """The demo API on a free port, and the shared actions.yaml pointed at it."""
    from journeys.local.demo_api import serve

    server = serve(port=0, background=True)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    path = tmp_path / "actions.yaml"
    path.write_text(SHARED_ACTIONS.read_text().replace(SHARED_BASE, base))
    yield path, base
    server.shutdown()
    server.server_close()


def test_given_the_demo_api_when_ada_runs_enrichment_then_her_big_company_gets_the_crm_call_and_the_pitch(demo_actions, ada):
    actions, base = demo_actions

    trace = run_trace(ENRICHMENT, ada, {"crm_hook": f"{base}/hooks/crm"}, actions_file=actions)

    assert outcomes(trace) == {"lookup": "done", "save": "done", "big": "branch:next", "wait-1h": "done",
                               "notify-crm": "done", "pitch": "done", "end": "done"}
    assert trace["contact"]["company"] == "Analytical Engines" and trace["contact"]["company_size"] >= 100
    assert trace["journey_data"]["crm_ack"]["body"] == {"received": True}


def test_given_the_demo_api_when_bob_runs_enrichment_then_his_small_company_is_tagged_smb(demo_actions, bob):
    actions, base = demo_actions

    trace = run_trace(ENRICHMENT, bob, {"crm_hook": f"{base}/hooks/crm"}, actions_file=actions)

    assert outcomes(trace) == {"lookup": "done", "save": "done", "big": "branch:else", "small": "done", "end": "done"}
    assert trace["contact"]["company_size"] == bob["company_size"]  # the demo agrees with his profile (3)
    assert "smb" in trace["contact"]["tags"] and trace["messages"] == []
