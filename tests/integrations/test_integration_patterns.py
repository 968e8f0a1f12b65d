"""The four Lunogram patterns (Action→Gate, Action→Update, Action→Send, Gate→Action, Delay→Action) and
how integration steps behave against a real HTTP server on 127.0.0.1: retries, timeouts, bodies
that are not JSON, redirects to private addresses, non-2xx answers, large bodies, absent data keys."""

from __future__ import annotations

import json

import pytest

from integrations_support import (  # noqa: F401 - fixtures
    START, Reply, actions_file, details, outcomes, quick_http, run_trace, server, write_actions,
)

ENRICH = """\
  - id: lookup
    type: action
    data_key: company
    settings:
      action: enrich
      function: request
      input: {method: GET, path: "/companies/{{ contact.email | split: '@' | last }}"}
"""


def journey(write_journey, steps: str, name: str = "pattern"):
    return write_journey(f"journey: {name}\nentry: {{trigger: webhook}}\nsteps:\n{steps}")


def company(server, employees=250, name="Analytical Engines"):
    server.route("/companies/analytical.example", Reply(200, json={"name": name, "employees": employees, "domain": "analytical.example"}))


def test_given_action_then_gate_when_the_answer_matches_then_the_gate_takes_next(write_journey, server, actions_file, ada):
    company(server, employees=250)
    path = journey(write_journey, ENRICH + """\
  - id: big
    type: gate
    settings: {when: {field: journey.company.body.employees, op: gte, value: 100}, else: small}
  - {id: tag-big, type: add_tag, settings: {tags: [big]}, next: end}
  - {id: small, type: add_tag, settings: {tags: [small]}}
  - {id: end, type: exit}
""")
    trace = run_trace(path, ada, actions_file=actions_file)

    assert trace["status"] == "SUCCEEDED"
    assert outcomes(trace) == {"lookup": "done", "big": "branch:next", "tag-big": "done", "end": "done"}
    assert trace["contact"]["tags"] == ["big"]
    assert trace["journey_data"]["company"]["status"] == 200
    assert trace["journey_data"]["company"]["body"]["employees"] == 250
    assert server.calls("/companies/analytical.example")[0].method == "GET"


def test_given_action_then_gate_when_the_answer_does_not_match_then_the_gate_takes_else(write_journey, server, actions_file, ada):
    company(server, employees=12)
    path = journey(write_journey, ENRICH + """\
  - id: big
    type: gate
    settings: {when: {field: journey.company.body.employees, op: gte, value: 100}, else: small}
  - {id: tag-big, type: add_tag, settings: {tags: [big]}, next: end}
  - {id: small, type: add_tag, settings: {tags: [small]}}
  - {id: end, type: exit}
""")
    trace = run_trace(path, ada, actions_file=actions_file)

    assert outcomes(trace)["big"] == "branch:else"
    assert trace["contact"]["tags"] == ["small"]


def test_given_action_then_update_then_the_profile_keeps_values_with_their_types(write_journey, server, actions_file, ada):
    company(server, employees=250)
    path = journey(write_journey, ENRICH + """\
  - id: save
    type: update_profile
    settings: {set: {company: "{{ journey.company.body.name }}", company_size: "{{ journey.company.body.employees }}"}}
""")
    trace = run_trace(path, ada, actions_file=actions_file)

    assert trace["contact"]["company"] == "Analytical Engines"
    assert trace["contact"]["company_size"] == 250  # a lone output keeps its type


def test_given_action_then_send_then_the_email_uses_the_response(write_journey, server, actions_file, ada):
    company(server, name="Analytical Engines")
    path = journey(write_journey, ENRICH + """\
  - id: pitch
    type: send_email
    settings: {subject: "Built for {{ journey.company.body.name }}", text: "{{ journey.company.body.employees }} people"}
""")
    trace = run_trace(path, ada, actions_file=actions_file)

    assert [m["subject"] for m in trace["messages"]] == ["Built for Analytical Engines"]
    outbox = trace["_run"].outbox
    assert "250 people" in outbox[0]["raw"]


def test_given_gate_then_action_then_only_matching_contacts_call_the_crm(write_journey, server, actions_file, ada, bob):
    server.route("/crm/tasks", Reply(201, json={"id": "T-7"}))
    path = journey(write_journey, """\
  - id: hot
    type: gate
    settings: {when: {field: contact.lead_score, op: gte, value: 80}, else: exit}
  - id: task
    type: crm_action
    data_key: task
    settings: {action: crm, function: create_task, input: {subject: "Call {{ contact.first_name }}", contact_email: "{{ contact.email }}"}}
""")
    hot = run_trace(path, ada, actions_file=actions_file)
    cold = run_trace(path, bob, actions_file=actions_file)

    assert outcomes(hot) == {"hot": "branch:next", "task": "done"}
    assert hot["journey_data"]["task"]["body"] == {"id": "T-7"}
    assert outcomes(cold) == {"hot": "branch:else"}
    calls = server.calls("/crm/tasks")
    assert len(calls) == 1 and calls[0].json() == {"subject": "Call Ada", "contact_email": "ada@analytical.example"}


def test_given_delay_then_webhook_then_the_call_happens_after_the_wait(write_journey, server, ada):
    server.route("/hook", Reply(200, json={"ok": True}))
    path = journey(write_journey, """\
  - {id: later, type: wait, settings: {duration: 2h}}
  - id: hook
    type: webhook
    data_key: ack
    settings:
      url: "{{ event.hook }}"
      headers: {X-Source: journeys}
      body: {email: "{{ contact.email }}", score: "{{ contact.lead_score }}", at: "{{ now }}"}
""")
    trace = run_trace(path, ada, {"hook": server.url("/hook")})

    hook = next(s for s in trace["steps"] if s["id"] == "hook")
    assert hook["outcome"] == "done" and hook["at"] == "2026-01-05T10:00:00Z"
    call = server.calls("/hook")[0]
    assert call.method == "POST" and call.headers["x-source"] == "journeys"
    assert call.json() == {"email": "ada@analytical.example", "score": 91, "at": "2026-01-05T10:00:00Z"}
    assert trace["journey_data"]["ack"] == {"status": 200, "headers": trace["journey_data"]["ack"]["headers"], "body": {"ok": True}}


# ---------------------------------------------------------------------------- HTTP behaviour

HOOK_THEN_SEND = """\
  - id: hook
    type: webhook
    data_key: hook
    settings: {url: "{{ event.url }}", method: GET}
  - id: after
    type: send_email
    settings: {subject: "Got {{ journey.hook.status }} {{ journey.hook.body.name }}", text: "{{ journey.hook.body }}"}
"""


def test_given_an_endpoint_that_fails_once_then_the_retry_gets_the_answer(write_journey, server, ada):
    server.route("/flaky", Reply(500, json={"error": "busy"}), Reply(200, json={"name": "Second try"}))
    path = journey(write_journey, HOOK_THEN_SEND)

    trace = run_trace(path, ada, {"url": server.url("/flaky")})

    assert outcomes(trace) == {"hook": "done", "after": "done"}
    assert len(server.calls("/flaky")) == 2
    assert trace["messages"][0]["subject"] == "Got 200 Second try"


def test_given_an_endpoint_that_keeps_failing_then_the_status_is_stored_and_a_gate_can_branch_on_it(write_journey, server, ada):
    server.route("/down", Reply(503, json={"error": "down"}))
    path = journey(write_journey, """\
  - id: hook
    type: webhook
    data_key: hook
    settings: {url: "{{ event.url }}"}
  - id: ok
    type: gate
    settings: {when: {field: journey.hook.status, op: lt, value: 300}, else: alert}
  - {id: fine, type: add_tag, settings: {tags: [synced]}, next: end}
  - {id: alert, type: add_tag, settings: {tags: [sync-failed]}}
  - {id: end, type: exit}
""")
    trace = run_trace(path, ada, {"url": server.url("/down")})

    assert outcomes(trace)["hook"] == "done"  # an HTTP answer is `done`; its status is data
    assert details(trace)["hook"] == "HTTP 503"
    assert len(server.calls("/down")) == 3  # the first attempt and 2 retries (JOURNEYS_HTTP_RETRIES)
    assert outcomes(trace)["ok"] == "branch:else"
    assert trace["contact"]["tags"] == ["sync-failed"]
    assert trace["journey_data"]["hook"]["status"] == 503


def test_given_an_endpoint_that_hangs_then_the_step_fails_and_the_journey_goes_on(write_journey, server, ada):
    server.route("/slow", Reply(hang=True))
    path = journey(write_journey, HOOK_THEN_SEND)

    trace = run_trace(path, ada, {"url": server.url("/slow")})

    assert trace["status"] == "SUCCEEDED"
    assert outcomes(trace) == {"hook": "failed", "after": "done"}
    assert "timed out" in details(trace)["hook"]
    assert "hook" not in trace["journey_data"]
    assert trace["messages"][0]["subject"] == "Got  "  # the absent data key renders empty
    failed = [r for r in trace["_run"].step_results if r["step"] == "hook"]
    assert failed and failed[0]["outcome"] == "failed" and "timed out" in failed[0]["reason"]


def test_given_a_body_that_is_not_json_then_it_is_kept_as_text(write_journey, server, ada):
    server.route("/text", Reply(200, body="<html>hello</html>", headers={"Content-Type": "text/html"}))
    path = journey(write_journey, HOOK_THEN_SEND)

    trace = run_trace(path, ada, {"url": server.url("/text")})

    assert outcomes(trace) == {"hook": "done", "after": "done"}
    assert trace["journey_data"]["hook"]["body"] == "<html>hello</html>"
    assert trace["journey_data"]["hook"]["headers"]["content-type"] == "text/html"
    assert "<html>hello</html>" in trace["_run"].outbox[0]["raw"]


def test_given_a_body_that_claims_json_but_is_not_then_the_text_is_kept(write_journey, server, ada):
    server.route("/liar", Reply(200, body="{not json", headers={"Content-Type": "application/json"}))
    path = journey(write_journey, HOOK_THEN_SEND)

    trace = run_trace(path, ada, {"url": server.url("/liar")})

    assert trace["journey_data"]["hook"]["body"] == "{not json"


def test_given_a_redirect_to_a_private_address_then_the_step_fails_without_following_it(write_journey, server, ada):
    server.route("/go", Reply(302, headers={"Location": "http://10.0.0.7/internal"}))
    path = journey(write_journey, HOOK_THEN_SEND)

    trace = run_trace(path, ada, {"url": server.url("/go")})

    assert outcomes(trace) == {"hook": "failed", "after": "done"}
    assert "10.0.0.7" in details(trace)["hook"] and "private address" in details(trace)["hook"]


def test_given_a_redirect_to_cloud_metadata_then_the_step_fails(write_journey, server, ada):
    server.route("/go", Reply(307, headers={"Location": "http://169.254.169.254/latest/meta-data/"}))
    path = journey(write_journey, HOOK_THEN_SEND)

    trace = run_trace(path, ada, {"url": server.url("/go")})

    assert outcomes(trace)["hook"] == "failed"
    assert "link-local" in details(trace)["hook"]


def test_given_a_redirect_on_the_same_server_then_it_is_followed(write_journey, server, ada):
    server.route("/old", Reply(301, headers={"Location": "/new"}))
    server.route("/new", Reply(200, json={"name": "Moved"}))
    path = journey(write_journey, HOOK_THEN_SEND)

    trace = run_trace(path, ada, {"url": server.url("/old")})

    assert trace["messages"][0]["subject"] == "Got 200 Moved"


def test_given_a_data_key_that_is_absent_then_templates_render_empty_and_conditions_do_not_match(write_journey, ada):
    path = journey(write_journey, """\
  - id: known
    type: gate
    settings: {when: {field: journey.nothing.body.name, op: exists}, else: hello}
  - {id: never, type: add_tag, settings: {tags: [never]}}
  - id: hello
    type: send_email
    settings: {subject: "Hi {{ journey.nothing.body.name }}!", text: "{{ journey.nothing.body.name | default: 'friend' }}"}
""")
    trace = run_trace(path, ada)

    assert outcomes(trace) == {"known": "branch:else", "hello": "done"}
    assert trace["messages"][0]["subject"] == "Hi !"
    assert "friend" in trace["_run"].outbox[0]["raw"]


def test_given_a_large_body_then_the_state_carries_a_reference_and_later_steps_read_it_in_full(write_journey, server, ada):
    rows = [{"n": i, "filler": "x" * 90} for i in range(600)]  # ~60 KB of JSON
    server.route("/big", Reply(200, json={"name": "Big Co", "rows": rows, "last": 599}))
    path = journey(write_journey, """\
  - id: hook
    type: webhook
    data_key: big
    settings: {url: "{{ event.url }}", method: GET}
  - id: many
    type: gate
    settings: {when: {field: journey.big.body.last, op: gte, value: 500}, else: exit}
  - id: save
    type: update_profile
    settings: {set: {company: "{{ journey.big.body.name }}", rows: "{{ journey.big.body.rows | size }}"}}
""")
    trace = run_trace(path, ada, {"url": server.url("/big")})

    assert outcomes(trace) == {"hook": "done", "many": "branch:next", "save": "done"}
    assert trace["contact"]["company"] == "Big Co" and trace["contact"]["rows"] == 600
    carried = trace["journey_data"]["big"]
    assert carried["status"] == 200 and carried["body"] is None and carried["stored"]["bytes"] > 32 * 1024
    assert len(json.dumps(trace["_run"].output)) < 16 * 1024


def test_given_an_unknown_action_then_the_step_fails_naming_it(write_journey, server, actions_file, ada):
    path = journey(write_journey, """\
  - id: call
    type: action
    data_key: x
    settings: {action: nope, function: request}
  - {id: after, type: add_tag, settings: {tags: [went-on]}}
""")
    trace = run_trace(path, ada, actions_file=actions_file)

    assert outcomes(trace) == {"call": "failed", "after": "done"}
    assert "unknown action 'nope'" in details(trace)["call"]


def test_given_invalid_action_input_then_the_step_fails_naming_the_field(write_journey, server, actions_file, ada):
    path = journey(write_journey, """\
  - id: task
    type: crm_action
    data_key: task
    settings: {action: crm, function: create_task, input: {subject: "Call", contact_email: "{{ contact.missing }}"}}
""")
    trace = run_trace(path, ada, actions_file=actions_file)

    assert outcomes(trace) == {"task": "failed"}
    assert "contact_email" in details(trace)["task"]
    assert server.calls("/crm/tasks") == []


def test_given_an_action_with_a_secret_then_it_is_sent_but_never_stored(write_journey, server, write_actions, ada, monkeypatch):
    monkeypatch.setenv("JOURNEYS_SECRET_ENRICH_TOKEN", "s3cr3t-value")
    server.route("/companies/analytical.example", Reply(200, json={"name": "A"}))
    actions = write_actions([{"id": "enrich", "type": "http", "config": {"base_url": server.url(), "auth": {"type": "bearer", "secret": "enrich-token"}}}])
    path = journey(write_journey, ENRICH)

    trace = run_trace(path, ada, actions_file=actions)

    assert outcomes(trace) == {"lookup": "done"}
    assert server.calls("/companies/analytical.example")[0].headers["authorization"] == "Bearer s3cr3t-value"
    assert "s3cr3t-value" not in json.dumps({k: v for k, v in trace.items() if k != "_run"}, default=str)
    assert "s3cr3t-value" not in json.dumps(trace["_run"].step_results, default=str)
    assert "s3cr3t-value" not in json.dumps(trace["_run"].history, default=str)


# ---------------------------------------------------------------------------- secrets in webhook headers

SECRET_HOOK = """\
  - id: hook
    type: webhook
    data_key: ack
    settings:
      url: "{{ event.url }}"
      headers: {Authorization: {secret: hook-token}, X-Contact: "{{ contact.id }}"}
      body: {email: "{{ contact.email }}"}
"""


def test_given_a_webhook_with_a_secret_header_then_the_server_gets_it_but_no_asl_trace_or_state_holds_it(
        write_journey, server, ada, monkeypatch):
    from journeys.compiler import compile_journey
    from journeys.language.loader import load_journey

    monkeypatch.setenv("JOURNEYS_SECRET_HOOK_TOKEN", "Bearer wh-s3cr3t")
    server.route("/hook", Reply(200, json={"ok": True}))
    path = journey(write_journey, SECRET_HOOK)

    trace = run_trace(path, ada, {"url": server.url("/hook")})

    assert outcomes(trace) == {"hook": "done"}
    call = server.calls("/hook")[0]
    assert call.headers["authorization"] == "Bearer wh-s3cr3t" and call.headers["x-contact"] == "c-ada"
    asl = compile_journey(load_journey(path)[0]).to_json()
    assert "hook-token" in asl  # the reference, resolved by the actions Lambda at call time
    for kept in (asl, json.dumps({k: v for k, v in trace.items() if k != "_run"}, default=str),
                 json.dumps(trace["_run"].history, default=str), json.dumps(trace["_run"].step_results, default=str)):
        assert "wh-s3cr3t" not in kept


def test_given_a_webhook_secret_that_is_not_set_then_the_step_fails_naming_it_and_nothing_is_sent(
        write_journey, server, ada, monkeypatch):
    monkeypatch.delenv("JOURNEYS_SECRET_HOOK_TOKEN", raising=False)
    server.route("/hook", Reply(200))
    path = journey(write_journey, SECRET_HOOK + "  - {id: after, type: add_tag, settings: {tags: [went-on]}}\n")

    trace = run_trace(path, ada, {"url": server.url("/hook")})

    assert outcomes(trace) == {"hook": "failed", "after": "done"}
    assert "secret 'hook-token' is not set" in details(trace)["hook"] and "JOURNEYS_SECRET_HOOK_TOKEN" in details(trace)["hook"]
    assert server.requests == []


def test_given_a_webhook_header_mapping_that_is_not_a_secret_reference_then_the_journey_does_not_validate(write_journey):
    from journeys.language.loader import load_journey

    path = journey(write_journey, """\
  - id: hook
    type: webhook
    settings: {url: "https://example.com/hook", headers: {Authorization: {secret: tok, value: plain}}}
""")

    with pytest.raises(Exception) as caught:
        load_journey(path)

    assert "settings.headers" in str(caught.value) and "header 'Authorization'" in str(caught.value)


# ---------------------------------------------------------------------------- update_profile after a failed lookup


def test_given_a_failed_lookup_then_update_profile_keeps_stored_attributes_and_names_them(write_journey, server, actions_file, ada):
    server.route("/companies/analytical.example", Reply(hang=True))
    path = journey(write_journey, ENRICH + """\
  - id: save
    type: update_profile
    settings:
      set: {company: "{{ journey.company.body.name }}", company_size: "{{ journey.company.body.employees }}",
            greeting: "Hello {{ journey.company.body.name }}", source: enrichment}
""")

    trace = run_trace(path, ada, actions_file=actions_file)

    assert outcomes(trace) == {"lookup": "failed", "save": "done"}
    assert details(trace)["save"] == "left unchanged (undefined): company, company_size"
    assert trace["contact"]["company"] == "Analytical" and trace["contact"]["company_size"] == 120  # as stored
    assert trace["contact"]["greeting"] == "Hello " and trace["contact"]["source"] == "enrichment"


# ---------------------------------------------------------------------------- paths, truncation, deadlines, keys


def test_given_an_action_path_that_climbs_out_of_the_base_path_then_the_step_fails_naming_it(write_journey, server, write_actions, ada):
    server.route("/admin", Reply(200, json={"secret": "stuff"}))
    actions = write_actions([{"id": "api", "type": "http", "config": {"base_url": server.url("/crm/v1")}}])
    path = journey(write_journey, """\
  - id: call
    type: action
    data_key: x
    settings: {action: api, function: request, input: {path: "/{{ contact.first_name }}/../../../admin"}}
  - {id: after, type: add_tag, settings: {tags: [went-on]}}
""")

    trace = run_trace(path, ada, actions_file=actions)

    assert outcomes(trace) == {"call": "failed", "after": "done"}
    assert "path '/Ada/../../../admin' has a '..' segment" in details(trace)["call"]
    assert server.requests == []


def test_given_a_body_over_one_mib_then_the_stored_result_is_marked_truncated(write_journey, server, ada):
    server.route("/huge", Reply(200, body="y" * (1024 * 1024 + 100), headers={"Content-Type": "text/plain"}))
    path = journey(write_journey, """\
  - id: hook
    type: webhook
    data_key: huge
    settings: {url: "{{ event.url }}", method: GET}
  - id: cut
    type: gate
    settings: {when: {field: journey.huge.truncated, op: equals, value: true}, else: exit}
  - {id: mark, type: add_tag, settings: {tags: [partial-data]}}
""")

    trace = run_trace(path, ada, {"url": server.url("/huge")})

    assert outcomes(trace) == {"hook": "done", "cut": "branch:next", "mark": "done"}
    stored = next(r for r in trace["_run"].step_results if r["step"] == "hook")["data"]["stored"]
    assert stored["bytes"] > 1024 * 1024  # the cut body plus the marker, kept in DynamoDB
    assert trace["journey_data"]["huge"]["truncated"] is True  # the state's reference says so too


def test_given_a_hanging_endpoint_and_a_short_deadline_then_the_step_fails_in_time_and_says_why(write_journey, server, ada, monkeypatch):

    monkeypatch.setenv("JOURNEYS_HTTP_TIMEOUT", "5")  # 4 attempts x 5 s without a deadline
    monkeypatch.setenv("JOURNEYS_HTTP_RETRIES", "3")
    monkeypatch.setenv("JOURNEYS_ACTION_DEADLINE_SECONDS", "1")
    server.route("/slow", Reply(hang=True))
    path = journey(write_journey, HOOK_THEN_SEND)

    trace = run_trace(path, ada, {"url": server.url("/slow")})

    assert outcomes(trace) == {"hook": "failed", "after": "done"}
    assert "no answer within the call's deadline of 1s" in details(trace)["hook"]
    assert len(server.calls("/slow")) == 1


EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:keys:c-ada-1"


@pytest.mark.parametrize("step_type, settings, route", [
    ("webhook", {"url": "{{ event.url }}", "body": {"email": "{{ contact.email }}"}}, "/hook"),
    ("crm_action", {"action": "crm", "function": "create_task",
                    "input": {"subject": "Call", "contact_email": "{{ contact.email }}"}}, "/crm/tasks"),
])
def test_given_a_post_step_retried_after_a_failure_then_both_attempts_carry_the_same_idempotency_key(
        server, actions_file, ada, monkeypatch, step_type, settings, route):
    from journeys.local.runner import LocalStack
    from journeys.runtime.integrations import IntegrationFailed

    monkeypatch.setenv("JOURNEYS_HTTP_RETRIES", "0")  # one attempt per invocation: the retry is the Task's
    server.route(route, Reply(hang=True), Reply(201, json={"id": "T-1"}), Reply(201, json={"id": "T-2"}))

    def invoke(stack, seq):
        payload = {"journey": {"id": "keys", "timezone": None},
                   "step": {"id": "post", "type": step_type, "settings": settings, "data_key": "post"},
                   "execution": EXECUTION,
                   "state": {"contact": ada, "event": {"url": server.url(route)}, "data": {}, "seq": seq}}
        return stack.handlers("actions", payload)

    with LocalStack(START) as stack:
        stack.contacts.upsert(ada)
        stack.load_actions(actions_file)
        with pytest.raises(IntegrationFailed):
            invoke(stack, seq=4)  # times out: Step Functions retries the Task with the same payload
        retried = invoke(stack, seq=4)
        next_pass = invoke(stack, seq=9)  # a loop's next pass through the step

    first, retry, later = (call.headers["idempotency-key"] for call in server.calls(route))
    assert retried["last"]["outcome"] == "done" and next_pass["last"]["outcome"] == "done"
    assert first == retry and later != first
