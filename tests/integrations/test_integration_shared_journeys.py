"""The shared `enrichment` and `sales-handoff` journeys, end to end for ada and bob, against a local server
that stands in for the enrichment API, the CRM and the CRM's webhook (actions.yaml's base_url rewritten)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from integrations_support import (  # noqa: F401 - fixtures
    closed_base_url,
    SHARED, SHARED_ACTIONS, SHARED_BASE, START, Reply, actions_file, details, outcomes, quick_http, run_trace, server,
)

ENRICHMENT = SHARED / "enrichment.journey.yaml"
SALES = SHARED / "sales-handoff.journey.yaml"
NURTURING = SHARED / "lead-nurturing.journey.yaml"


def enrichment_api(server):
    server.route("/companies/analytical.example", Reply(200, json={"name": "Analytical Engines", "employees": 250}))
    server.route("/companies/tiny.example", Reply(200, json={"name": "Tiny", "employees": 3}))
    server.route("/crm-hook", Reply(202, json={"received": True}))
    server.route("/crm/tasks", Reply(201, json={"id": "T-42", "status": "open"}))


def test_given_ada_when_she_runs_enrichment_then_a_big_company_gets_the_crm_call_and_the_pitch(server, actions_file, ada):
    enrichment_api(server)

    trace = run_trace(ENRICHMENT, ada, {"crm_hook": server.url("/crm-hook")}, actions_file=actions_file)

    assert trace["status"] == "SUCCEEDED"
    assert outcomes(trace) == {"lookup": "done", "save": "done", "big": "branch:next", "wait-1h": "done",
                               "notify-crm": "done", "pitch": "done", "end": "done"}
    at = {s["id"]: s["at"] for s in trace["steps"]}
    assert at["lookup"] == "2026-01-05T08:00:00Z" and at["notify-crm"] == "2026-01-05T09:00:00Z"
    assert trace["contact"]["company"] == "Analytical Engines" and trace["contact"]["company_size"] == 250
    assert server.calls("/crm-hook")[0].json() == {"email": "ada@analytical.example", "company": "Analytical Engines"}
    assert [m["subject"] for m in trace["messages"]] == ["Built for Analytical Engines"]
    assert trace["journey_data"]["company"]["body"]["employees"] == 250
    assert trace["journey_data"]["crm_ack"]["status"] == 202
    stored = {r["step"]: r for r in trace["_run"].step_results}
    assert stored["lookup"]["data"]["body"] == {"name": "Analytical Engines", "employees": 250}  # in DynamoDB too


def test_given_bob_when_he_runs_enrichment_then_a_small_company_is_tagged_and_nothing_is_sent(server, actions_file, bob):
    enrichment_api(server)

    trace = run_trace(ENRICHMENT, bob, {"crm_hook": server.url("/crm-hook")}, actions_file=actions_file)

    assert trace["status"] == "SUCCEEDED"
    assert outcomes(trace) == {"lookup": "done", "save": "done", "big": "branch:else", "small": "done", "end": "done"}
    assert "smb" in trace["contact"]["tags"] and trace["contact"]["company"] == "Tiny"
    assert trace["messages"] == [] and server.calls("/crm-hook") == []


def test_given_ada_when_she_runs_sales_handoff_alone_then_the_crm_task_is_kept_and_nothing_to_exit(server, actions_file, ada):
    enrichment_api(server)

    trace = run_trace(SALES, ada, actions_file=actions_file)

    assert trace["status"] == "SUCCEEDED"
    assert outcomes(trace) == {"notify": "done", "crm-task": "done", "remember": "done", "stop-nurture": "skipped"}
    assert details(trace)["stop-nurture"] == "not in journey lead-nurturing"
    assert trace["contact"]["crm_task_id"] == "T-42"
    assert server.calls("/crm/tasks")[0].json() == {"subject": "Call Ada", "contact_email": "ada@analytical.example"}
    assert trace["messages"][0]["kind"] == "notification_email" and trace["messages"][0]["subject"] == "Hot lead: ada@analytical.example"


def test_given_bob_when_he_runs_sales_handoff_then_the_criteria_keep_him_out(server, actions_file, bob):
    enrichment_api(server)

    trace = run_trace(SALES, bob, actions_file=actions_file)

    assert trace["status"] == "NOT_ENTERED" and trace["reason"] == "entry criteria do not match"
    assert server.calls("/crm/tasks") == []


def test_given_ada_in_lead_nurturing_when_sales_handoff_runs_then_her_nurturing_execution_is_stopped(server, actions_file, ada):
    from journeys.language.loader import load_journey
    from journeys.local.runner import LocalStack, run_journey
    from journeys.local.trace import build_trace

    enrichment_api(server)
    with LocalStack(START) as stack:
        stack.deploy_beside(SALES)  # lead-nurturing and the other shared journeys
        nurturing = stack.enter(load_journey(NURTURING)[0], ada, {})
        assert nurturing.status == "STARTED"

        trace = build_trace(run_journey(SALES, ada, {}, stack=stack, actions_file=actions_file))
        stopped = stack.sfn.describe_execution(executionArn=nurturing.execution_arn)
        entered = [e["stateEnteredEventDetails"]["name"] for e in stack.history(nurturing.execution_arn) if e["type"].endswith("StateEntered")]

    assert outcomes(trace)["stop-nurture"] == "done"
    assert stopped["status"] == "ABORTED"
    assert "Send case study email" not in entered  # stopped during its first wait, before the case study
    assert [m["subject"] for m in trace["messages"]] == ["Hot lead: ada@analytical.example"]


def enrichment_cli(event, actions_file, **env: str) -> subprocess.CompletedProcess:
    """`journeys run` of the shared enrichment journey for Ada, --json, as a user types it."""
    return subprocess.run([sys.executable, "-m", "journeys.cli", "run", str(ENRICHMENT), "--contact", str(SHARED / "contacts" / "ada.json"),
                           "--event", str(event), "--actions", str(actions_file), "--start", "2026-01-05T08:00:00Z", "--json"],
                          capture_output=True, text=True, timeout=120, env={**os.environ, **env})


def test_given_the_cli_when_enrichment_runs_with_actions_then_the_json_trace_has_the_data_keys(server, actions_file, tmp_path):
    enrichment_api(server)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"crm_hook": server.url("/crm-hook")}))

    done = enrichment_cli(event, actions_file)

    assert done.returncode == 0, done.stderr
    trace = json.loads(done.stdout)
    assert sorted(trace["journey_data"]) == ["company", "crm_ack"]
    assert trace["messages"][0]["subject"] == "Built for Analytical Engines"


def test_given_the_enrichment_api_is_down_when_ada_runs_enrichment_then_her_stored_company_is_kept(tmp_path, ada):
    closed = closed_base_url()
    actions = tmp_path / "actions.yaml"
    actions.write_text(SHARED_ACTIONS.read_text().replace(SHARED_BASE, closed))

    trace = run_trace(ENRICHMENT, ada, {"crm_hook": f"{closed}/crm-hook"}, actions_file=actions)

    assert trace["status"] == "SUCCEEDED"
    assert outcomes(trace) == {"lookup": "failed", "save": "done", "big": "branch:else", "small": "done", "end": "done"}
    assert "cannot connect" in details(trace)["lookup"]
    assert details(trace)["save"] == "left unchanged (undefined): company, company_size"
    assert trace["contact"]["company"] == "Analytical" and trace["contact"]["company_size"] == 120  # nothing lost


def test_given_powertools_logs_at_info_when_the_cli_prints_json_then_stdout_is_only_the_trace(server, actions_file, tmp_path):
    enrichment_api(server)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"crm_hook": server.url("/crm-hook")}))

    done = enrichment_cli(event, actions_file, POWERTOOLS_LOG_LEVEL="INFO")

    assert done.returncode == 0, done.stderr
    trace = json.loads(done.stdout)
    assert outcomes(trace)["big"] == "branch:next"
    logged = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    assert any(record.get("message") == "step finished" for record in logged)  # the handlers' logs, on stderr
