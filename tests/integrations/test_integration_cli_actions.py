"""`journeys actions list | test | call`: tests for users of their Actions."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from integrations_support import Reply, actions_file, closed_base_url, quick_http, server, write_actions  # noqa: F401 - fixtures


def journeys(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "journeys.cli", "actions", *args], capture_output=True, text=True,
                          timeout=60, env={**os.environ, **(env or {})})


def test_given_actions_list_then_it_shows_each_module_with_its_fields_and_functions():
    done = journeys("list")

    assert done.returncode == 0, done.stderr
    assert "http" in done.stdout and "crm" in done.stdout
    assert "config: base_url, headers?, auth?" in done.stdout
    assert "create_task(subject, contact_email, owner?, due_in_days?, notes?)" in done.stdout
    as_json = json.loads(journeys("list", "--json").stdout)
    assert {m["type"] for m in as_json} >= {"http", "crm"}


def test_given_actions_test_when_the_endpoint_answers_then_it_reports_ok(server, actions_file):
    server.route("/crm", Reply(200, json={"ok": True}))

    done = journeys("test", "crm", "--actions", str(actions_file))

    assert done.returncode == 0, done.stderr
    assert "crm (crm): ok - reachable (200)" in done.stdout


def test_given_actions_test_when_credentials_are_rejected_then_it_says_so(server, write_actions):
    server.route("/api", Reply(401, json={"error": "bad key"}))
    path = write_actions([{"id": "api", "type": "http", "config": {"base_url": server.url("/api"), "auth": {"type": "bearer", "secret": "api-key"}}}])

    done = journeys("test", "api", "--actions", str(path), env={"JOURNEYS_SECRET_API_KEY": "top-secret-key"})

    assert done.returncode == 2
    assert "credentials were rejected (401)" in done.stdout
    assert "top-secret-key" not in done.stdout + done.stderr


def test_given_actions_call_then_it_prints_the_real_response(server, actions_file):
    server.route("/companies/analytical.example", Reply(200, json={"name": "Analytical Engines", "employees": 250}))

    done = journeys("call", "enrich", "request", "--input", '{"method": "GET", "path": "/companies/analytical.example"}',
                    "--actions", str(actions_file))

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == 200 and result["body"] == {"name": "Analytical Engines", "employees": 250}


def test_given_actions_call_with_invalid_input_then_it_names_the_field(server, actions_file):
    done = journeys("call", "crm", "create_task", "--input", '{"subject": "Call"}', "--actions", str(actions_file))

    assert done.returncode == 2
    assert "contact_email" in done.stderr and "Traceback" not in done.stderr
    assert server.requests == []


def test_given_no_loopback_then_the_call_is_refused_as_a_deployed_lambda_would(server, actions_file):
    done = journeys("call", "enrich", "request", "--input", "{}", "--actions", str(actions_file), "--no-loopback")

    assert done.returncode == 2 and "loopback" in done.stderr
    assert server.requests == []


def test_given_an_unknown_action_id_then_it_lists_the_defined_ones(actions_file):
    done = journeys("test", "nope", "--actions", str(actions_file))

    assert done.returncode == 1 and "no action 'nope' (defined: crm, enrich)" in done.stderr


def test_given_an_unreachable_endpoint_when_calling_then_stderr_is_one_clear_line_summing_up_the_attempts(write_actions):
    path = write_actions([{"id": "down", "type": "http", "config": {"base_url": f"{closed_base_url()}/api"}}])

    done = journeys("call", "down", "request", "--input", '{"path": "/ping"}', "--actions", str(path))

    assert done.returncode == 2 and done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith("error: GET http://127.0.0.1:") and "cannot connect after 4 attempt(s)" in line
