"""The http and crm modules, run_action / test_action and the module registry, against a real local server."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from actions_testserver import Reply, server, sleeps  # noqa: F401 - fixtures
from journeys import actions
from journeys.actions import (
    ActionError, ActionInputError, ActionSpec, EnvSecrets, OutboundBlocked, OutboundPolicy, UnknownModule,
    get_module, module_catalog, run_action, test_action,
)

LOOPBACK_OK = OutboundPolicy(allow_loopback=True)


def http_action(server, **config) -> ActionSpec:
    return ActionSpec(id="enrich", name="Enrichment", type="http", config={"base_url": server.url("/api"), **config})


def crm_action(server, **config) -> ActionSpec:
    return ActionSpec(id="crm", name="CRM", type="crm", config={"base_url": server.url("/crm"), **config})


def test_given_an_http_action_when_posting_a_json_body_then_the_server_gets_it(server):
    server.route("/api/companies/acme.com", lambda req: Reply(200, json={"name": "Acme", "echo": req.json()}))

    result = run_action(http_action(server, headers={"X-Team": "growth"}), "request",
                        {"method": "POST", "path": "/companies/acme.com", "query": {"v": 2},
                         "headers": {"X-Req": "1"}, "body": {"email": "ann@acme.com"}},
                        policy=LOOPBACK_OK)

    assert result["status"] == 200
    assert result["body"] == {"name": "Acme", "echo": {"email": "ann@acme.com"}}
    [call] = server.calls("/api/companies/acme.com")
    assert call.method == "POST" and call.query == "v=2"
    assert call.headers["x-team"] == "growth" and call.headers["x-req"] == "1"


def test_given_an_http_action_when_input_is_empty_then_it_gets_the_base_url(server):
    server.route("/api", Reply(200, body="root"))

    assert run_action(http_action(server), "request", {}, policy=LOOPBACK_OK)["body"] == "root"
    assert server.calls("/api")[0].method == "GET"


def test_given_a_crm_action_when_creating_a_task_then_the_crm_records_it(server, monkeypatch):
    monkeypatch.setenv("JOURNEYS_SECRET_CRM_API_KEY", "crm-k3y")
    server.route("/crm/tasks", lambda req: Reply(201, json={"id": "T-1", "subject": req.json()["subject"]}))

    result = run_action(crm_action(server, api_key={"secret": "crm/api-key"}), "create_task",
                        {"subject": "Call Ann", "contact_email": "ann@example.com", "due_in_days": 2},
                        policy=LOOPBACK_OK)

    assert result["status"] == 201 and result["body"] == {"id": "T-1", "subject": "Call Ann"}
    [call] = server.calls("/crm/tasks")
    assert call.method == "POST"
    assert call.json() == {"subject": "Call Ann", "contact_email": "ann@example.com", "due_in_days": 2}
    assert call.headers["authorization"] == "Bearer crm-k3y"
    assert call.headers["idempotency-key"]


def test_given_a_crm_task_post_that_fails_once_when_retried_then_the_idempotency_key_is_the_same(server, sleeps):
    server.route("/crm/tasks", Reply(502), Reply(201, json={"id": "T-2"}))

    result = run_action(crm_action(server), "create_task", {"subject": "s", "contact_email": "a@b.co"},
                        policy=LOOPBACK_OK, sleep=sleeps)

    first, second = server.calls("/crm/tasks")
    assert result["body"] == {"id": "T-2"}
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]


def test_given_a_step_reference_when_a_crm_post_is_retried_by_the_step_then_the_key_is_the_same(server):
    server.route("/crm/tasks", Reply(201, json={"id": "T-3"}))
    task = {"subject": "s", "contact_email": "a@b.co"}

    # the same step attempted twice (a Lambda or Step Functions retry), then a loop's next pass
    for ref in ("exec-1|crm-task|3", "exec-1|crm-task|3", "exec-1|crm-task|7"):
        run_action(crm_action(server), "create_task", task, policy=LOOPBACK_OK, call_ref=ref)

    first, retry, next_pass = (call.headers["idempotency-key"] for call in server.calls("/crm/tasks"))
    assert first == retry and next_pass != first


def test_given_an_http_post_then_it_carries_an_idempotency_key_unless_the_input_sets_one(server):
    server.route("/api/orders", Reply(201))
    server.route("/api/orders/list", Reply(200))

    run_action(http_action(server), "request", {"method": "POST", "path": "/orders"}, policy=LOOPBACK_OK, call_ref="r")
    run_action(http_action(server), "request", {"method": "POST", "path": "/orders"}, policy=LOOPBACK_OK, call_ref="r")
    run_action(http_action(server), "request", {"method": "POST", "path": "/orders", "headers": {"Idempotency-Key": "own"}},
               policy=LOOPBACK_OK, call_ref="r")
    run_action(http_action(server), "request", {"method": "GET", "path": "/orders/list"}, policy=LOOPBACK_OK, call_ref="r")

    keys = [call.headers["idempotency-key"] for call in server.calls("/api/orders")]
    assert keys[0] == keys[1] and keys[2] == "own"
    assert "idempotency-key" not in server.calls("/api/orders/list")[0].headers  # only POSTs


@pytest.mark.parametrize("path", ["/../admin", "/companies/../../admin", "/x/%2e%2E/admin", "..%2fadmin", "/a\\..\\admin"])
def test_given_an_http_path_with_a_dot_dot_segment_then_the_call_is_refused(server, path):
    server.route("/admin", Reply(200))
    server.route("/api/admin", Reply(200))

    with pytest.raises(ActionError) as caught:
        run_action(http_action(server), "request", {"path": path}, policy=LOOPBACK_OK)

    assert "'..' segment" in str(caught.value) and path in str(caught.value)
    assert server.requests == []


def test_given_an_http_path_with_dots_inside_a_segment_then_it_is_allowed(server):
    server.route("/api/files/v1..2/a.b", Reply(200, json={"ok": True}))

    assert run_action(http_action(server), "request", {"path": "/files/v1..2/a.b"}, policy=LOOPBACK_OK)["status"] == 200


def test_given_a_crm_action_when_upserting_a_contact_then_it_puts_to_the_escaped_email(server):
    server.route("/crm/contacts/ann%2Fx@example.com", lambda req: Reply(200, json=req.json()))

    result = run_action(crm_action(server), "upsert_contact",
                        {"email": "ann/x@example.com", "fields": {"plan": "pro"}}, policy=LOOPBACK_OK)

    assert result["status"] == 200
    assert result["body"] == {"email": "ann/x@example.com", "fields": {"plan": "pro"}}
    assert server.calls("/crm/contacts/ann%2Fx@example.com")[0].method == "PUT"


def test_given_a_crm_action_when_creating_a_deal_then_it_posts_the_deal(server):
    server.route("/crm/deals", lambda req: Reply(201, json=req.json()))

    result = run_action(crm_action(server), "create_deal",
                        {"name": "Acme expansion", "contact_email": "ann@acme.com", "amount": 1200.5},
                        policy=LOOPBACK_OK)

    assert result["body"] == {"name": "Acme expansion", "contact_email": "ann@acme.com", "amount": 1200.5}


@pytest.mark.parametrize("auth, expected", [
    ({"type": "bearer", "secret": "enrich"}, ("authorization", "Bearer tok-123")),
    ({"type": "basic", "secret": "enrich"}, ("authorization", "Basic " + base64.b64encode(b"tok-123").decode())),
    ({"type": "header", "secret": "enrich", "header": "X-Api-Key"}, ("x-api-key", "tok-123")),
])
def test_given_http_auth_from_a_secret_when_calling_then_the_header_is_sent(server, auth, expected):
    server.route("/api", Reply(200))

    run_action(http_action(server, auth=auth), "request", {"headers": {"Authorization": "spoof"}},
               policy=LOOPBACK_OK, secrets=EnvSecrets({"JOURNEYS_SECRET_ENRICH": "tok-123"}))

    name, value = expected
    assert server.calls("/api")[0].headers[name] == value


def test_given_a_missing_required_input_when_running_then_the_error_names_the_field(server):
    with pytest.raises(ActionInputError) as caught:
        run_action(crm_action(server), "create_task", {"subject": "Call"}, policy=LOOPBACK_OK)

    assert "input 'contact_email'" in str(caught.value) and "Field required" in str(caught.value)
    assert "action 'crm' function 'create_task'" in str(caught.value)
    assert server.requests == []


@pytest.mark.parametrize("function, input, field", [
    ("request", {"method": "TRACE"}, "method"),
    ("request", {"verb": "GET"}, "verb"),
    ("request", {"query": "a=1"}, "query"),
    ("request", {"query": {"nested": {"a": 1}}}, "query': Value error, value of 'nested"),
])
def test_given_bad_http_input_when_running_then_the_error_names_the_field(server, function, input, field):
    with pytest.raises(ActionInputError, match=f"input '{field}'"):
        run_action(http_action(server), function, input, policy=LOOPBACK_OK)


def test_given_a_bad_crm_due_in_days_when_running_then_the_error_names_it(server):
    with pytest.raises(ActionInputError, match="input 'due_in_days'"):
        run_action(crm_action(server), "create_task", {"subject": "s", "contact_email": "a@b.co", "due_in_days": -1},
                   policy=LOOPBACK_OK)


def test_given_an_unknown_function_when_running_then_valid_functions_are_listed(server):
    with pytest.raises(ActionError, match="no function 'delete_everything'; valid: create_deal, create_task, upsert_contact"):
        run_action(crm_action(server), "delete_everything", {}, policy=LOOPBACK_OK)


def test_given_an_unknown_type_when_looking_it_up_then_valid_types_are_listed():
    with pytest.raises(UnknownModule, match="unknown action type 'sms'; valid types: .*crm.*http"):
        get_module("sms")


def test_given_the_default_policy_when_running_an_action_on_loopback_then_it_is_blocked(server):
    with pytest.raises(OutboundBlocked, match="127.0.0.1"):
        run_action(http_action(server), "request", {}, policy=OutboundPolicy())
    assert server.requests == []


def test_given_a_reachable_endpoint_when_testing_the_action_then_it_is_ok(server):
    server.route("/api", Reply(200, json={"status": "up"}))

    assert test_action(http_action(server), LOOPBACK_OK) == {"ok": True, "status": 200, "detail": "reachable (200)"}


def test_given_rejected_credentials_when_testing_the_crm_action_then_it_is_not_ok(server):
    server.route("/crm", Reply(401))

    result = test_action(crm_action(server, api_key={"secret": "k"}), LOOPBACK_OK, EnvSecrets({"JOURNEYS_SECRET_K": "bad"}))

    assert result["ok"] is False and result["status"] == 401 and "credentials" in result["detail"]
    assert server.calls("/crm")[0].headers["authorization"] == "Bearer bad"


def test_given_a_blocked_or_broken_action_when_testing_then_the_detail_says_why(server):
    blocked = test_action(http_action(server), OutboundPolicy())
    missing_secret = test_action(crm_action(server, api_key={"secret": "nope"}), LOOPBACK_OK, EnvSecrets({}))
    bad_config = test_action(ActionSpec(id="x", type="http", config={}), LOOPBACK_OK)

    assert blocked["ok"] is False and "127.0.0.1" in blocked["detail"] and "loopback" in blocked["detail"]
    assert missing_secret["ok"] is False and "JOURNEYS_SECRET_NOPE" in missing_secret["detail"]
    assert bad_config["ok"] is False and "config.base_url" in bad_config["detail"]


def test_given_the_registry_when_listing_the_catalog_then_http_and_crm_have_schemas():
    catalog = {entry["type"]: entry for entry in module_catalog()}

    assert {"http", "crm"} <= set(catalog)
    assert catalog["http"]["config_schema"]["required"] == ["base_url"]
    http_functions = {f["name"]: f for f in catalog["http"]["functions"]}
    assert set(http_functions["request"]["input_schema"]["properties"]) == {"method", "path", "query", "headers", "body"}
    crm_functions = {f["name"]: f for f in catalog["crm"]["functions"]}
    assert set(crm_functions) == {"create_task", "upsert_contact", "create_deal"}
    assert set(crm_functions["create_task"]["input_schema"]["required"]) == {"subject", "contact_email"}
    assert "api_key" in catalog["crm"]["config_schema"]["properties"]
    json.dumps(catalog)  # the catalog is served as JSON


def test_given_a_new_module_file_when_the_package_is_imported_then_it_is_registered(tmp_path):
    # A copy of the package plus one new file: nothing else changes, yet the module is usable.
    package = Path(actions.__file__).parent
    root = tmp_path / "journeys"
    shutil.copytree(package, root / "actions", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "__init__.py").write_text("")
    (root / "language").mkdir()
    (root / "language" / "__init__.py").write_text("")
    shutil.copy(package.parent / "language" / "secret_refs.py", root / "language")  # the one module outside the package it uses
    (root / "actions" / "echo.py").write_text(textwrap.dedent('''
        from pydantic import BaseModel
        from .registry import Module, register

        class EchoConfig(BaseModel):
            prefix: str = ""

        class SayInput(BaseModel):
            text: str

        echo = register(Module("echo", EchoConfig, "Says things back"))

        @echo.function("say", SayInput)
        def say(ctx, config, input):
            return {"status": 200, "headers": {}, "body": config.prefix + input.text}
    '''))
    script = textwrap.dedent('''
        from journeys.actions import ActionSpec, OutboundPolicy, module_catalog, run_action
        assert "echo" in [m["type"] for m in module_catalog()], module_catalog()
        spec = ActionSpec(id="e", type="echo", config={"prefix": "> "})
        print(run_action(spec, "say", {"text": "hi"}, policy=OutboundPolicy())["body"])
    ''')

    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(tmp_path)})

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "> hi"
