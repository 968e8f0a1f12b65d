"""Regenerate the sample events in this folder: `python events/generate.py`.

* entry/*.json — API Gateway HTTP API (payload v2.0) events for the entry webhook, signed with
  LOCAL_WEBHOOK_SECRET (set JOURNEYS_WEBHOOK_SECRET to a secret holding it to replay them);
* <function>/*.json — the Step Functions task payloads the compiled ASL really builds, captured
  by running the example journeys locally (moto) and recording what each Task sent its Lambda.

Tests (tests/webhook, tests/infra/test_sample_events.py) drive the handlers with these files.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import hmac
import json
import sys
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
LOCAL_WEBHOOK_SECRET = "local-webhook-secret"
API_ID = "a1b2c3d4e5"
START = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.timezone.utc)


START_EPOCH = int(START.timestamp())  # the samples' X-Journeys-Timestamp (a world on START accepts them)


def sign(body: str, secret: str = LOCAL_WEBHOOK_SECRET, *, timestamp: int = START_EPOCH, method: str = "POST",
         path: str = "/") -> str:
    """`X-Journeys-Signature` (JOURNEYS.md, Webhook signature): HMAC-SHA256 of `<ts>.<METHOD>.<path>.<body>`."""
    signed = f"{timestamp}.{method}.{path}.{body}".encode()
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def http_event(method: str, path: str, body: dict | str | None = None, *, route: str | None = None,
               query: dict[str, str] | None = None, headers: dict[str, str] | None = None,
               path_parameters: dict[str, str] | None = None, signed: bool | str = True,
               timestamp: int = START_EPOCH) -> dict:
    """An HTTP API (v2.0) Lambda proxy event, as API Gateway sends it.

    signed: True signs timestamp, method, path and body with LOCAL_WEBHOOK_SECRET, a string signs
    with that secret, False leaves the signature headers out."""
    text = body if isinstance(body, str) or body is None else json.dumps(body, separators=(",", ":"))
    all_headers = {
        "accept": "*/*", "content-type": "application/json", "host": f"{API_ID}.execute-api.us-east-1.amazonaws.com",
        "user-agent": "curl/8.5.0", "x-forwarded-for": "203.0.113.7", "x-forwarded-port": "443", "x-forwarded-proto": "https",
    }
    if text is not None:
        all_headers["content-length"] = str(len(text.encode()))
    if signed:
        secret = signed if isinstance(signed, str) else LOCAL_WEBHOOK_SECRET
        all_headers["x-journeys-timestamp"] = str(timestamp)
        all_headers["x-journeys-signature"] = sign(text or "", secret, timestamp=timestamp, method=method, path=path)
    all_headers.update(headers or {})
    route_key = f"{method} {route or path}"
    event = {
        "version": "2.0", "routeKey": route_key, "rawPath": path,
        "rawQueryString": urllib.parse.urlencode(query or {}), "headers": all_headers,
        "requestContext": {
            "accountId": "123456789012", "apiId": API_ID, "domainName": all_headers["host"], "domainPrefix": API_ID,
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7", "userAgent": "curl/8.5.0"},
            "requestId": "JKJaXmPLvHcESHA=", "routeKey": route_key, "stage": "$default",
            "time": "05/Jan/2026:08:00:00 +0000", "timeEpoch": 1767600000000,
        },
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = dict(query)
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if text is not None:
        event["body"] = text
    return event


ADA = {"id": "c-ada", "email": "ada@analytical.example", "first_name": "Ada", "last_name": "Lovelace",
       "company": "Analytical", "company_size": 120, "timezone": "Europe/London"}


def entry_events() -> dict[str, dict]:
    sys.path.insert(0, str(REPO / "layers" / "journeys"))
    from journeys.runtime import unsubscribe

    entries = {"contact": ADA, "event": {"id": "form-2026-0001", "topic": "pricing", "source": "website"}}
    token = unsubscribe.token("c-ada")  # with the local unsubscribe secret (JOURNEYS_UNSUBSCRIBE_SECRET_NAME unset)
    return {
        "entry/post-entries-lead-nurturing.json": http_event(
            "POST", "/journeys/lead-nurturing/entries", entries, route="/journeys/{journey}/entries",
            path_parameters={"journey": "lead-nurturing"}),
        "entry/post-events-trial-started.json": http_event(
            "POST", "/events", {"name": "trial_started", "contact": {**ADA, "plan": "trial"}, "payload": {"id": "evt-1", "source": "app"}}),
        "entry/post-unsubscribe-one-click.json": http_event(
            "POST", "/unsubscribe", "List-Unsubscribe=One-Click", query={"contact": "c-ada", "token": token},
            headers={"content-type": "application/x-www-form-urlencoded"}, signed=False),
        "entry/get-contact-inbox.json": http_event(
            "GET", "/contacts/c-ada/inbox", None, route="/contacts/{contact_id}/inbox",
            path_parameters={"contact_id": "c-ada"}),
        "entry/post-contact-inbox-read.json": http_event(
            "POST", "/contacts/c-ada/inbox/read", {"all": True}, route="/contacts/{contact_id}/inbox/read",
            path_parameters={"contact_id": "c-ada"}),
        "entry/get-unsubscribe-page.json": http_event(
            "GET", "/unsubscribe", None, query={"contact": "c-ada", "token": token}, signed=False),
    }


def task_events() -> dict[str, dict]:
    """Run the example journeys locally and keep the first payload of each step type per function."""
    sys.path.insert(0, str(REPO / "layers" / "journeys"))
    from journeys.local.runner import LocalStack, run_journey

    wanted: dict[str, dict] = {}
    for name, contact, event in (
        ("lead-nurturing", {**ADA, "email_clicks": 1}, {"id": "form-2026-0001", "topic": "pricing"}),
        ("trial-onboarding", {**ADA, "plan": "trial"}, {}),
        ("sales-handoff", {**ADA, "lead_score": 90}, {}),
        ("enrichment", ADA, {"crm_hook": "https://crm.example/hooks/journeys"}),
    ):
        stack = LocalStack(START)
        inner = stack.handlers

        def recording(function: str, payload: dict, inner=inner):
            kind = (payload.get("step") or {}).get("type")
            key = f"{function}/{kind}.json"
            if kind and key not in wanted:
                wanted[key] = copy.deepcopy(payload)
            return inner(function, payload)

        stack.handlers = recording
        with stack:
            run_journey(REPO / "statemachines" / f"{name}.journey.yaml", contact, event, start=START, stack=stack)
    return wanted


def main() -> None:
    for rel, event in {**entry_events(), **task_events()}.items():
        path = HERE / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(event, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote events/{rel}")


if __name__ == "__main__":
    main()
