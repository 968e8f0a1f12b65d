"""Safe outbound HTTP (journeys.actions.net) against a real server on 127.0.0.1."""

from __future__ import annotations

import socket
import ssl

import pytest

from actions_testserver import Reply, TestServer, other_server, self_signed, server, sleeps  # noqa: F401 - fixtures
from journeys.actions import net
from journeys.actions.net import (
    MAX_BODY_BYTES, ActionError, ActionTimeout, OutboundBlocked, OutboundPolicy, call_webhook, check_destination,
    request,
)

LOOPBACK_OK = OutboundPolicy(allow_loopback=True)


def fake_dns(monkeypatch, answers: dict[str, list[str]]):
    """Simulate a DNS answer (a name resolving to several addresses) without a network."""
    def getaddrinfo(host, port, *args, **kwargs):
        family = lambda a: socket.AF_INET6 if ":" in a else socket.AF_INET  # noqa: E731
        return [(family(a), socket.SOCK_STREAM, 6, "", (a, port)) for a in answers[host]]
    monkeypatch.setattr(net, "_getaddrinfo", getaddrinfo)


def test_given_a_json_endpoint_when_posting_json_then_server_gets_it_and_reply_is_parsed(server):
    server.route("/echo", lambda req: Reply(201, json={"got": req.json(), "ct": req.headers["content-type"]}))

    result = request("POST", server.url("/echo"), headers={"X-Trace": "t1"}, params={"q": "a b"},
                     json={"email": "ann@example.com", "n": 3}, policy=LOOPBACK_OK)

    assert result.status == 201
    assert result.body == {"got": {"email": "ann@example.com", "n": 3}, "ct": "application/json"}
    [call] = server.calls("/echo")
    assert call.method == "POST" and call.query == "q=a+b" and call.headers["x-trace"] == "t1"
    assert result.to_dict().keys() == {"status", "headers", "body"}


def test_given_500_then_200_when_requesting_then_it_is_retried_and_succeeds(server, sleeps):
    server.route("/flaky", Reply(500, body="oops"), Reply(200, json={"ok": True}))

    result = request("GET", server.url("/flaky"), policy=LOOPBACK_OK, sleep=sleeps)

    assert result.status == 200 and result.body == {"ok": True}
    assert len(server.calls("/flaky")) == 2
    assert result.attempts == 2
    assert len(sleeps) == 1 and 0 <= sleeps[0] <= 0.2  # full jitter on base 0.2 s


def test_given_a_429_with_small_retry_after_when_requesting_then_that_delay_is_honoured(server, sleeps):
    server.route("/limited", Reply(429, headers={"Retry-After": "1"}), Reply(200, body="fine"))

    result = request("GET", server.url("/limited"), policy=LOOPBACK_OK, sleep=sleeps)

    assert result.status == 200 and sleeps == [1.0]


def test_given_a_429_with_long_retry_after_when_requesting_then_it_is_returned_without_waiting(server, sleeps):
    server.route("/limited", Reply(429, headers={"Retry-After": "3600"}), Reply(200))

    result = request("GET", server.url("/limited"), policy=LOOPBACK_OK, sleep=sleeps)

    assert result.status == 429 and sleeps == [] and len(server.calls("/limited")) == 1


def test_given_an_endpoint_always_failing_when_retries_run_out_then_last_response_is_returned(server, sleeps):
    server.route("/down", Reply(503, json={"error": "down"}))

    result = request("GET", server.url("/down"), retries=2, policy=LOOPBACK_OK, sleep=sleeps)

    assert result.status == 503 and result.body == {"error": "down"}
    assert len(server.calls("/down")) == 3
    assert len(sleeps) == 2 and all(0 <= s <= 2.0 for s in sleeps)


def test_given_a_4xx_when_requesting_then_it_is_not_retried(server, sleeps):
    server.route("/missing", Reply(404, json={"error": "nope"}))

    result = request("GET", server.url("/missing"), policy=LOOPBACK_OK, sleep=sleeps)

    assert result.status == 404 and len(server.calls("/missing")) == 1 and sleeps == []


def test_given_an_endpoint_that_hangs_when_requesting_then_action_timeout_is_raised_fast(server, sleeps):
    server.route("/hang", Reply(hang=True))

    with pytest.raises(ActionTimeout) as caught:
        request("GET", server.url("/hang"), timeout=0.3, retries=1, policy=LOOPBACK_OK, sleep=sleeps)

    assert len(server.calls("/hang")) == 2
    assert "timed out after 2 attempt(s)" in str(caught.value) and "/hang" in str(caught.value)
    assert isinstance(caught.value, ActionError)


def test_given_a_closed_port_when_requesting_then_a_clear_error_is_raised(sleeps):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again when the block ends

    with pytest.raises(ActionError, match="cannot connect after 2 attempt"):
        request("GET", f"http://127.0.0.1:{port}/", retries=1, policy=LOOPBACK_OK, sleep=sleeps)


def test_given_a_text_body_when_requesting_then_it_is_returned_as_text(server):
    server.route("/html", Reply(200, body="<html>hi</html>", headers={"Content-Type": "text/html"}))
    server.route("/liar", Reply(200, body="not json {", headers={"Content-Type": "application/json"}))
    server.route("/empty", Reply(204))

    assert request("GET", server.url("/html"), policy=LOOPBACK_OK).body == "<html>hi</html>"
    assert request("GET", server.url("/liar"), policy=LOOPBACK_OK).body == "not json {"
    assert request("GET", server.url("/empty"), policy=LOOPBACK_OK).body is None


def test_given_a_huge_body_when_requesting_then_only_one_mib_is_kept(server):
    server.route("/big", Reply(200, body=b"x" * (MAX_BODY_BYTES + 500_000), headers={"Content-Type": "text/plain"}))

    result = request("GET", server.url("/big"), policy=LOOPBACK_OK)

    assert result.truncated and len(result.body) == MAX_BODY_BYTES


@pytest.mark.parametrize("target, reason", [
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://10.0.0.1/admin", "private"),
])
def test_given_loopback_allowed_when_redirected_to_an_internal_host_then_it_is_refused(server, target, reason):
    server.route("/go", Reply(302, headers={"Location": target}))

    with pytest.raises(OutboundBlocked) as caught:
        request("GET", server.url("/go"), policy=LOOPBACK_OK)

    message = str(caught.value)
    assert target.split("/")[2] in message and reason in message
    assert len(server.calls("/go")) == 1


def test_given_a_redirect_on_the_same_server_when_requesting_then_it_is_followed(server):
    server.route("/old", Reply(301, headers={"Location": "/new?x=1"}))
    server.route("/new", Reply(200, json={"here": True}))

    result = request("GET", server.url("/old"), policy=LOOPBACK_OK)

    assert result.status == 200 and result.body == {"here": True}
    assert result.url.endswith("/new?x=1") and server.calls("/new")[0].query == "x=1"


def test_given_a_303_after_a_post_when_following_then_the_next_hop_is_a_get_without_body(server):
    server.route("/form", Reply(303, headers={"Location": "/done"}))
    server.route("/done", Reply(200, body="done"))

    result = request("POST", server.url("/form"), json={"a": 1}, policy=LOOPBACK_OK)

    assert result.body == "done"
    [done] = server.calls("/done")
    assert done.method == "GET" and done.body == b""


def test_given_a_redirect_loop_when_requesting_then_it_stops_after_five_hops(server):
    server.route("/loop", Reply(302, headers={"Location": "/loop"}))

    with pytest.raises(ActionError, match="too many redirects"):
        request("GET", server.url("/loop"), policy=LOOPBACK_OK)

    assert len(server.calls("/loop")) == 6  # the request and 5 redirects


def test_given_a_redirect_to_another_origin_when_following_then_credentials_are_dropped(server, other_server):
    server.route("/hop", Reply(307, headers={"Location": other_server.url("/land")}))
    other_server.route("/land", Reply(200, body="ok"))

    request("GET", server.url("/hop"), headers={"Authorization": "Bearer t0k", "X-Api-Key": "k3y", "X-Keep": "1"},
            policy=LOOPBACK_OK, sensitive_headers=("X-Api-Key",))

    assert server.calls("/hop")[0].headers["authorization"] == "Bearer t0k"
    landed = other_server.calls("/land")[0].headers
    assert "authorization" not in landed and "x-api-key" not in landed and landed["x-keep"] == "1"


def test_given_the_default_policy_when_calling_loopback_then_it_is_refused(server):
    server.route("/", Reply(200))

    with pytest.raises(OutboundBlocked, match=r"127\.0\.0\.1.*loopback"):
        request("GET", server.url("/"), policy=OutboundPolicy())
    with pytest.raises(OutboundBlocked, match=r"localhost.*loopback"):
        request("GET", f"http://localhost:{server.port}/", policy=OutboundPolicy())

    assert server.requests == []


@pytest.mark.parametrize("entry", ["127.0.0.1", "127.0.0.0/8", "localhost"])
def test_given_an_allowlist_entry_when_calling_loopback_then_it_is_permitted(server, entry):
    server.route("/", Reply(200, json={"ok": 1}))
    host = "localhost" if entry == "localhost" else "127.0.0.1"

    result = request("GET", f"http://{host}:{server.port}/", policy=OutboundPolicy(allowlist=(entry,)))

    assert result.status == 200 and result.body == {"ok": 1}


def test_given_a_name_resolving_to_one_private_address_among_public_ones_then_it_is_refused(monkeypatch):
    fake_dns(monkeypatch, {"api.example.com": ["93.184.216.34", "192.168.1.20"]})

    with pytest.raises(OutboundBlocked, match=r"api\.example\.com \(192\.168\.1\.20\)': private"):
        check_destination("https://api.example.com/x", OutboundPolicy(allow_loopback=True))


def test_given_a_public_name_when_checking_then_all_its_addresses_are_returned_for_pinning(monkeypatch):
    fake_dns(monkeypatch, {"api.example.com": ["93.184.216.34", "2606:2800:220:1::1", "93.184.216.34"]})

    assert check_destination("https://api.example.com/x", OutboundPolicy()) == ["93.184.216.34", "2606:2800:220:1::1"]


def test_given_a_name_with_an_unreachable_first_address_when_requesting_then_the_next_is_tried(server, monkeypatch):
    fake_dns(monkeypatch, {"dual.test": ["::1", "127.0.0.1"]})  # the server listens on IPv4 only
    server.route("/", lambda req: Reply(200, json={"host": req.headers["host"]}))

    result = request("GET", server.url("/", host="dual.test"), retries=0, policy=LOOPBACK_OK)

    assert result.body == {"host": f"dual.test:{server.port}"}  # connected by address, Host kept on the name


@pytest.fixture
def tls_server(tmp_path):
    pem = self_signed(tmp_path, "localhost")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pem)
    srv = TestServer(ssl_context=context)
    srv.pem = pem
    yield srv
    srv.stop()


def test_given_https_to_a_name_when_pinned_to_its_address_then_tls_is_verified_for_the_name(tls_server):
    tls_server.route("/secure", Reply(200, json={"tls": True}))
    trust = ssl.create_default_context(cafile=tls_server.pem)

    result = request("GET", tls_server.url("/secure", host="localhost", scheme="https"),
                     policy=OutboundPolicy(allowlist=("localhost",)), verify=trust)

    assert result.status == 200 and result.body == {"tls": True}


def test_given_a_certificate_for_a_name_when_called_by_ip_then_hostname_verification_fails(tls_server, sleeps):
    tls_server.route("/secure", Reply(200))
    trust = ssl.create_default_context(cafile=tls_server.pem)

    with pytest.raises(ActionError, match="cannot connect"):
        request("GET", tls_server.url("/secure", scheme="https"), retries=0, verify=trust,
                policy=OutboundPolicy(allowlist=("127.0.0.1",)), sleep=sleeps)
    assert tls_server.requests == []


@pytest.mark.parametrize("address, reason", [
    ("169.254.169.254", "link-local"), ("fe80::1", "link-local"), ("10.1.2.3", "private"),
    ("172.16.0.1", "private"), ("192.168.0.1", "private"), ("fc00::1", "private"),
    ("100.64.0.1", "carrier-grade NAT"), ("224.0.0.1", "multicast"), ("0.0.0.0", "unspecified"),
    ("::", "unspecified"), ("240.0.0.1", "reserved"), ("::1", "loopback"), ("127.0.0.2", "loopback"),
    ("::ffff:10.0.0.1", "private"), ("64:ff9b::a9fe:a9fe", "link-local"),
])
def test_given_an_internal_address_when_checking_then_the_reason_is_named(monkeypatch, address, reason):
    fake_dns(monkeypatch, {"h.test": [address]})

    with pytest.raises(OutboundBlocked) as caught:
        check_destination("http://h.test/", OutboundPolicy())

    assert "h.test" in str(caught.value) and reason in str(caught.value)


@pytest.mark.parametrize("url", ["ftp://example.com/x", "file:///etc/passwd", "gopher://127.0.0.1/"])
def test_given_a_non_http_scheme_when_requesting_then_it_is_refused(url):
    with pytest.raises(OutboundBlocked, match="scheme"):
        request("GET", url, policy=LOOPBACK_OK)


def test_given_policy_env_vars_when_building_the_policy_then_they_apply():
    policy = OutboundPolicy.from_env({"JOURNEYS_ALLOW_LOOPBACK": "1", "JOURNEYS_OUTBOUND_ALLOWLIST": "crm.internal, 10.1.0.0/16"})

    assert policy == OutboundPolicy(allow_loopback=True, allowlist=("crm.internal", "10.1.0.0/16"))
    assert OutboundPolicy.from_env({}) == OutboundPolicy()


def test_given_a_dict_body_when_calling_a_webhook_then_it_is_sent_as_json(server):
    server.route("/hook", lambda req: Reply(200, json={"received": req.json()}))

    result = call_webhook(server.url("/hook"), body={"email": "ann@example.com"}, policy=LOOPBACK_OK)

    assert result == {"status": 200, "headers": result["headers"], "body": {"received": {"email": "ann@example.com"}}}
    assert server.calls("/hook")[0].headers["content-type"] == "application/json"


def test_given_a_string_body_when_calling_a_webhook_then_it_is_sent_as_is(server):
    server.route("/hook", lambda req: Reply(200, body=req.body))

    result = call_webhook(server.url("/hook"), method="PUT", headers={"Content-Type": "text/plain"},
                          body="plain words", policy=LOOPBACK_OK)

    assert result["body"] == "plain words" and server.calls("/hook")[0].method == "PUT"


def test_given_the_default_webhook_policy_when_calling_loopback_then_it_is_refused(server):
    with pytest.raises(OutboundBlocked):
        call_webhook(server.url("/hook"), body={"a": 1})
    assert server.requests == []


# ---------------------------------------------------------------------------- the stored result, deadlines, keys


def test_given_a_huge_body_when_stored_then_the_result_says_it_was_truncated(server):
    server.route("/big", Reply(200, body=b"x" * (MAX_BODY_BYTES + 10), headers={"Content-Type": "text/plain"}))
    server.route("/small", Reply(200, json={"ok": True}))

    cut = request("GET", server.url("/big"), policy=LOOPBACK_OK).to_dict()
    whole = request("GET", server.url("/small"), policy=LOOPBACK_OK).to_dict()

    assert cut["truncated"] is True and len(cut["body"]) == MAX_BODY_BYTES
    assert "truncated" not in whole  # only a cut body is marked


def test_given_a_hanging_endpoint_and_a_deadline_then_retries_stop_in_time_with_a_clear_reason(server):
    server.route("/slow", Reply(hang=True))

    with pytest.raises(ActionTimeout) as caught:
        # without the deadline: 4 attempts x 5 s; the one attempt and the message prove it stopped
        request("GET", server.url("/slow"), timeout=5, retries=3, total_timeout=0.6, policy=LOOPBACK_OK)

    assert "deadline of 0.6s" in str(caught.value) and "1 attempt(s)" in str(caught.value)
    assert len(server.calls("/slow")) == 1


def test_given_a_5xx_and_no_time_left_for_the_retry_then_the_answer_is_returned_as_is(server, sleeps):
    server.route("/busy", Reply(503, json={"error": "busy"}, headers={"Retry-After": "2"}), Reply(200, json={"ok": True}))

    result = request("GET", server.url("/busy"), retries=3, total_timeout=1, policy=LOOPBACK_OK, sleep=sleeps)

    assert result.status == 503 and result.attempts == 1
    assert sleeps == []  # the 2 s Retry-After would pass the 1 s deadline: not waited for


def test_given_a_webhook_with_a_secret_header_then_it_is_resolved_at_call_time_and_dropped_on_leaving_the_origin(
        server, other_server):
    from journeys.actions import EnvSecrets, SecretRef

    server.route("/hook", Reply(307, headers={"Location": other_server.url("/elsewhere")}))
    other_server.route("/elsewhere", Reply(200, json={"ok": True}))
    secrets = EnvSecrets({"JOURNEYS_SECRET_HOOK_TOKEN": "Bearer t0k3n"})

    result = call_webhook(server.url("/hook"), "POST", {"Authorization": SecretRef(secret="hook-token"), "X-Plain": "p"},
                          {"a": 1}, policy=LOOPBACK_OK, secrets=secrets)

    assert result["status"] == 200
    assert server.calls("/hook")[0].headers["authorization"] == "Bearer t0k3n"
    forwarded = other_server.calls("/elsewhere")[0].headers
    assert "authorization" not in forwarded and forwarded["x-plain"] == "p"


def test_given_a_webhook_post_with_a_key_then_every_attempt_carries_it_unless_the_journey_sets_its_own(server, sleeps):
    server.route("/hook", Reply(500), Reply(200))
    server.route("/own", Reply(200))

    call_webhook(server.url("/hook"), "POST", {}, {"a": 1}, idempotency_key="k-1", policy=LOOPBACK_OK, sleep=sleeps)
    call_webhook(server.url("/own"), "POST", {"idempotency-key": "mine"}, {"a": 1}, idempotency_key="k-1",
                 policy=LOOPBACK_OK)

    assert [c.headers["idempotency-key"] for c in server.calls("/hook")] == ["k-1", "k-1"]
    assert server.calls("/own")[0].headers["idempotency-key"] == "mine"


def test_given_a_step_reference_then_the_idempotency_key_is_stable_per_call_and_new_otherwise():
    assert net.idempotency_key("ref-1", "crm.create_task") == net.idempotency_key("ref-1", "crm.create_task")
    assert net.idempotency_key("ref-1", "crm.create_task") != net.idempotency_key("ref-2", "crm.create_task")
    assert net.idempotency_key("ref-1", "crm.create_task") != net.idempotency_key("ref-1", "crm.create_deal")
    assert net.idempotency_key(None, "webhook") != net.idempotency_key(None, "webhook")  # a one-off call
