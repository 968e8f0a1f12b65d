"""Outbound calls at the handler level: the actions Lambda (functions/actions/app.py) as deployed, i.e.
without JOURNEYS_ALLOW_LOOPBACK, refuses loopback, link-local (cloud metadata), private and multicast
destinations — after DNS resolution and on redirects — unless the allowlist permits them."""

from __future__ import annotations

import os
import socket

import pytest

from integrations_support import START, Reply, quick_http, server, write_actions  # noqa: F401 - fixtures

EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:sec:c-ada-1"


def payload(ada, settings: dict, step_type: str = "webhook") -> dict:
    """What Step Functions passes the actions Lambda for a webhook step (see compiler/asl.py)."""
    return {"journey": {"id": "sec", "timezone": None},
            "step": {"id": "hook", "type": step_type, "settings": settings, "data_key": "hook"},
            "execution": EXECUTION, "state": {"contact": ada, "event": {}, "data": {}, "seq": 0}}


@pytest.fixture
def deployed(ada):
    """A moto world whose environment is a deployed Lambda's: no loopback, no allowlist."""
    from journeys.local.runner import LocalStack

    with LocalStack(START) as stack:
        stack.contacts.upsert(ada)
        stack.setenv("JOURNEYS_ALLOW_LOOPBACK", "")  # both restored when the stack exits
        stack.setenv("JOURNEYS_OUTBOUND_ALLOWLIST", "")
        yield stack


def call(stack, ada, settings, step_type="webhook", seq=0):
    body = payload(ada, settings, step_type)
    body["state"]["seq"] = seq  # execution x step x seq keys exactly-once work: a new pass per call
    return stack.handlers("actions", body)


@pytest.mark.parametrize("url, reason", [
    ("http://127.0.0.1:{port}/hook", "loopback"),
    ("http://[::1]:{port}/hook", "loopback"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://10.1.2.3/hook", "private"),
    ("http://192.168.0.10/hook", "private"),
    ("http://172.16.5.5/hook", "private"),
    ("http://224.0.0.251/hook", "multicast"),
    ("http://[fd00::1]/hook", "private"),
])
def test_given_a_deployed_lambda_when_a_webhook_targets_an_internal_address_then_the_step_fails(deployed, server, ada, url, reason):
    from journeys.runtime.integrations import IntegrationFailed

    with pytest.raises(IntegrationFailed) as failed:
        call(deployed, ada, {"url": url.format(port=server.port)})

    assert reason in str(failed.value) and "refused" in str(failed.value)
    assert server.requests == []
    recorded = deployed.journeys.step_results(EXECUTION)
    assert recorded[0]["outcome"] == "failed" and reason in recorded[0]["reason"]


def test_given_a_deployed_lambda_when_a_name_resolves_to_a_private_address_then_it_is_refused(deployed, ada, monkeypatch):
    from journeys.actions import net
    from journeys.runtime.integrations import IntegrationFailed

    def resolve(host, port, *args, **kwargs):
        assert host == "crm.example.com"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.20.30.40", port))]

    monkeypatch.setattr(net, "_getaddrinfo", resolve)
    with pytest.raises(IntegrationFailed) as failed:
        call(deployed, ada, {"url": "https://crm.example.com/hook"})

    assert "crm.example.com (10.20.30.40)" in str(failed.value)


def test_given_a_deployed_lambda_when_an_action_points_at_metadata_then_it_is_refused(deployed, ada, write_actions):
    from journeys.runtime.integrations import IntegrationFailed

    deployed.load_actions(write_actions([{"id": "meta", "type": "http", "config": {"base_url": "http://169.254.169.254"}}]))
    with pytest.raises(IntegrationFailed) as failed:
        call(deployed, ada, {"action": "meta", "function": "request", "input": {"path": "/latest/meta-data/iam"}}, "action")

    assert "link-local" in str(failed.value)


def test_given_the_allowlist_when_it_names_the_address_then_the_call_goes_through(deployed, server, ada):
    server.route("/hook", Reply(200, json={"ok": True}))
    deployed.setenv("JOURNEYS_OUTBOUND_ALLOWLIST", "127.0.0.1")

    state = call(deployed, ada, {"url": server.url("/hook")})

    assert state["data"]["hook"]["body"] == {"ok": True} and state["last"] == {"step": "hook", "outcome": "done"}


def test_given_the_allowlist_when_a_redirect_leaves_it_for_a_private_address_then_it_is_refused(deployed, server, ada):
    server.route("/hook", Reply(302, headers={"Location": "http://192.168.1.1/admin"}))
    deployed.setenv("JOURNEYS_OUTBOUND_ALLOWLIST", "127.0.0.1")
    from journeys.runtime.integrations import IntegrationFailed

    with pytest.raises(IntegrationFailed) as failed:
        call(deployed, ada, {"url": server.url("/hook")})

    assert "192.168.1.1" in str(failed.value) and len(server.calls("/hook")) == 1


def test_given_a_local_run_then_loopback_is_allowed_but_private_addresses_are_not(server, ada):
    from journeys.local.runner import LocalStack
    from journeys.runtime.integrations import IntegrationFailed

    server.route("/hook", Reply(200, json={"ok": True}))
    with LocalStack(START) as stack:
        stack.contacts.upsert(ada)
        assert os.environ["JOURNEYS_ALLOW_LOOPBACK"] == "true"
        ok = call(stack, ada, {"url": server.url("/hook")})
        with pytest.raises(IntegrationFailed):
            call(stack, ada, {"url": "http://10.0.0.1/hook"}, seq=1)
    assert os.environ.get("JOURNEYS_ALLOW_LOOPBACK") != "true"  # only for the run
    assert ok["last"]["outcome"] == "done"
