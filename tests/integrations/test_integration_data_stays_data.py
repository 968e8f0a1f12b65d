"""Contact data and API answers rendered into a webhook or Action call are data: a value shaped like
`{"secret": NAME}` never resolves a secret, and a value rendered into a URL's path or query cannot move
the call to another path or add query parameters. Against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import pytest

from integrations_support import (  # noqa: F401 - fixtures
    Reply, outcomes, quick_http, run_trace, server, write_actions,
)

SECRET_VALUE = "crm-s3cr3t-value"


def journey(write_journey, steps: str):
    return write_journey(f"journey: data-stays-data\nentry: {{trigger: webhook}}\nsteps:\n{steps}")


@pytest.fixture
def crm_secret(monkeypatch):
    monkeypatch.setenv("JOURNEYS_SECRET_CRM_API_KEY", SECRET_VALUE)


def test_given_a_contact_holding_a_secret_reference_when_rendered_into_a_webhook_header_then_the_secret_is_not_sent(
        write_journey, server, ada, crm_secret):
    server.route("/hook", Reply(200, json={"ok": True}))
    path = journey(write_journey, """\
  - id: hook
    type: webhook
    settings:
      url: "{{ event.url }}"
      headers: {X-Ref: "{{ contact.ext_ref }}", Authorization: {secret: crm-api-key}}
""")

    trace = run_trace(path, {**ada, "ext_ref": {"secret": "crm-api-key"}}, {"url": server.url("/hook")})

    assert outcomes(trace) == {"hook": "done"}
    sent = server.calls("/hook")[0].headers
    assert sent["authorization"] == SECRET_VALUE  # the literal reference in the journey still resolves
    assert SECRET_VALUE not in sent["x-ref"] and "crm-api-key" in sent["x-ref"]  # the contact's value is data


def test_given_an_api_answer_holding_a_secret_reference_when_rendered_into_a_webhook_header_then_the_secret_is_not_sent(
        write_journey, server, ada, crm_secret):
    server.route("/lookup", Reply(200, json={"ref": {"secret": "crm-api-key"}}))
    server.route("/hook", Reply(200, json={"ok": True}))
    path = journey(write_journey, """\
  - {id: lookup, type: webhook, data_key: lookup, settings: {url: "{{ event.lookup }}", method: GET}}
  - id: hook
    type: webhook
    settings: {url: "{{ event.hook }}", headers: {X-Ref: "{{ journey.lookup.body.ref }}"}}
""")

    trace = run_trace(path, ada, {"lookup": server.url("/lookup"), "hook": server.url("/hook")})

    assert outcomes(trace) == {"lookup": "done", "hook": "done"}
    assert SECRET_VALUE not in str(server.calls("/hook")[0].headers)


def test_given_a_secret_reference_in_data_when_revealed_as_a_header_then_it_is_text():
    from journeys.actions.secrets import EnvSecrets, SecretRef, reveal_headers

    secrets = EnvSecrets({"JOURNEYS_SECRET_CRM_API_KEY": SECRET_VALUE})
    headers, sensitive = reveal_headers({"X-Ref": {"secret": "crm-api-key"}, "Authorization": SecretRef(secret="crm-api-key")}, secrets)

    assert headers["Authorization"] == SECRET_VALUE and sensitive == ["Authorization"]
    assert SECRET_VALUE not in headers["X-Ref"]


# ---------------------------------------------------------------------------- URLs

CLIMBER = "../../admin/delete-all?x="


def test_given_a_contact_id_that_climbs_when_rendered_into_a_webhook_url_path_then_it_stays_one_segment(write_journey, server, ada):
    server.route("/v1/users/..%2F..%2Fadmin%2Fdelete-all%3Fx%3D/profile", Reply(200, json={"ok": True}))
    path = journey(write_journey, """\
  - {id: hook, type: webhook, settings: {url: "{{ event.base }}/v1/users/{{ contact.id }}/profile", method: GET}}
""")

    trace = run_trace(path, {**ada, "id": CLIMBER}, {"base": server.url()})

    assert outcomes(trace) == {"hook": "done"}
    assert [(r.method, r.path, r.query) for r in server.requests] == [
        ("GET", "/v1/users/..%2F..%2Fadmin%2Fdelete-all%3Fx%3D/profile", "")]


def test_given_a_value_with_query_syntax_when_rendered_into_a_webhook_query_then_it_adds_no_parameter(write_journey, server, ada):
    server.route("/hook", Reply(200, json={"ok": True}))
    path = journey(write_journey, """\
  - {id: hook, type: webhook, settings: {url: "{{ event.url }}?user={{ contact.plan }}", method: GET}}
""")

    trace = run_trace(path, {**ada, "plan": "u1&role=admin#x"}, {"url": server.url("/hook")})

    assert outcomes(trace) == {"hook": "done"}
    assert [(r.path, r.query) for r in server.requests] == [("/hook", "user=u1%26role%3Dadmin%23x")]


def test_given_a_contact_value_with_slashes_when_rendered_into_an_http_action_path_then_it_stays_one_segment(
        write_journey, server, write_actions, ada):
    server.route("/v1/users/u1%3Frole%3Dadmin%26x%3D/profile", Reply(200, json={"ok": True}))
    actions = write_actions([{"id": "api", "type": "http", "config": {"base_url": server.url()}}])
    path = journey(write_journey, """\
  - id: lookup
    type: action
    settings: {action: api, function: request, input: {method: GET, path: "/v1/users/{{ contact.id }}/profile"}}
""")

    trace = run_trace(path, {**ada, "id": "u1?role=admin&x="}, actions_file=actions)

    assert outcomes(trace) == {"lookup": "done"}
    assert [(r.path, r.query) for r in server.requests] == [("/v1/users/u1%3Frole%3Dadmin%26x%3D/profile", "")]


def test_given_a_url_template_then_outputs_before_the_path_are_kept_and_those_in_it_are_encoded():
    from journeys.language.templates import render_url

    scope = {"event": {"url": "https://api.example/v1"}, "contact": {"id": "a/b c"}}
    assert render_url("{{ event.url }}/users/{{ contact.id }}", scope) == "https://api.example/v1/users/a%2Fb%20c"
    assert render_url("https://api.example/{{ contact.id }}", scope) == "https://api.example/a%2Fb%20c"
    assert render_url("{{ event.url }}", scope) == "https://api.example/v1"
