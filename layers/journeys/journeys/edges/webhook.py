"""The entry webhook (functions/entry on AWS): Powertools Event Handler routes on the HTTP API.

POST /journeys/{journey}/entries  {"contact": {...}, "event": {...}}   -> enter_contact
POST /events                      {"name": ..., "contact": {...}, "payload": {...}} -> deliver_event
GET  /contacts/{id}/inbox              the contact's site notifications (signed), newest first
POST /contacts/{id}/inbox/read         {"ids": [...]} or {"all": true}: mark them read (signed)
POST /unsubscribe?contact=..&token=..   RFC 8058 one-click (mail clients POST it; no signature)
GET  /unsubscribe?contact=..&token=..   a page with a button that POSTs (GET never unsubscribes:
                                         link scanners follow GETs)

Signed routes carry `X-Journeys-Timestamp: <unix seconds>` and `X-Journeys-Signature: sha256=<hex>`,
the HMAC-SHA256 of `<timestamp>.<METHOD>.<path>.<raw body>` (JOURNEYS.md, Webhook signature; at most
300 s from the server's clock) under the webhook secret (Secrets Manager, or SSM with `ssm:/name`, read through Powertools
Parameters and cached for 5 minutes). The secret may hold several keys separated by commas: any
one verifies, so a key can be rotated without downtime.

Status codes: 202 started (with the execution ARN), 200 duplicate / not entered / unsubscribed,
400 invalid body (JSON with the field errors), 401 missing or wrong signature, 403 bad unsubscribe
token, 404 unknown journey, 409 a journey entered by an event (use POST /events), 503 when Step
Functions still throttles after the client's retries (the sender should retry: the execution name
is deterministic, so a retry never starts a contact twice). Never a traceback.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import math
import os
import re
import urllib.parse
from dataclasses import dataclass
from typing import Annotated, Any

import boto3
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parser import parse
from botocore.config import Config
from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from journeys import clock
from journeys.edges import entry
from journeys.runtime import observability, unsubscribe
from journeys.runtime.catalog import Catalog
from journeys.runtime.store import ContactStore, JourneyStore
from journeys.language.contact_model import ContactIn, ContactTooLarge

SIGNATURE_HEADER = "x-journeys-signature"
TIMESTAMP_HEADER = "x-journeys-timestamp"
SIGNATURE_TOLERANCE_SECONDS = 300  # a captured request is worth nothing after 5 minutes
TIMESTAMP = re.compile(r"[0-9]{1,12}")
SECRET_ENV = "JOURNEYS_WEBHOOK_SECRET"
SECRET_MAX_AGE = 300
# The contact and event become the execution's first state: Step Functions allows 256 KiB, and the
# steps' own results need room (steps/runtime.py keeps the state within 160 KiB).
MAX_BODY_BYTES = 64 * 1024
# Bursts above the StartExecution quota: botocore's standard retry mode (exponential backoff with
# full jitter, also on ThrottlingException), bounded so the answer comes before the HTTP API gives up
# (30 s; the function's timeout is 29 s). Worst case: 4 attempts x (2 s connect + 3 s read) + backoff
# of at most 1 + 2 + 4 s = 27 s; throttling alone answers within ~7 s. What still fails is a 503 with
# Retry-After that the sender retries (the execution name is deterministic: never a second start).
SFN_ATTEMPTS = 4
SFN_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": SFN_ATTEMPTS}, connect_timeout=2, read_timeout=3)
THROTTLED = {"ThrottlingException", "TooManyRequestsException", "Throttling", "RequestLimitExceeded"}
# DynamoDB stores documents nested at most 32 levels; a body deeper than that is refused at the door.
MAX_NESTING = 32
STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"')
BRACKETS = re.compile(rb"[\[\]{}]")
# DynamoDB numbers: magnitude from 1E-130 to below 1E+126, 38 significant digits; else a write fails.
NUMBER_MIN, NUMBER_MAX, NUMBER_DIGITS = 1e-130, 1e126, 38

logger = observability.logger()
tracer = observability.tracer()
app = APIGatewayHttpResolver()


# ------------------------------------------------------------------ request bodies


class EntryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    contact: ContactIn
    event: dict[str, Any] = Field(default_factory=dict)


class EventRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=128)
    contact: ContactIn
    payload: dict[str, Any] = Field(default_factory=dict)


class InboxReadRequest(BaseModel):
    """Mark notifications read: the `ids` GET /contacts/{id}/inbox listed, or `all`."""

    model_config = ConfigDict(extra="forbid")
    ids: list[Annotated[str, Field(min_length=1, max_length=1024)]] | None = Field(None, min_length=1, max_length=100)
    all: bool = False

    @model_validator(mode="after")
    def _one_of(self):
        if bool(self.ids) == self.all:
            raise PydanticCustomError("ids_or_all", "give either ids (a non-empty list) or all: true")
        return self


# ------------------------------------------------------------------ what the handler talks to


@dataclass
class Services:
    sfn: Any
    contacts: ContactStore
    journeys: JourneyStore
    catalog: Catalog


_services: Services | None = None
_secrets: dict[str, Any] = {}


def sfn_client():
    return boto3.client("stepfunctions", config=SFN_RETRIES)


def services() -> Services:
    """Created once per Lambda container (clients and the catalog are reused across invocations)."""
    global _services
    if _services is None:
        resource = boto3.resource("dynamodb")
        _services = Services(sfn_client(), ContactStore(resource), JourneyStore(resource), Catalog.packaged())
    return _services


def reset() -> None:
    """Forget clients, catalog and cached secrets (tests; a new moto world)."""
    global _services
    _services = None
    _secrets.clear()


def webhook_keys() -> list[bytes]:
    name = os.environ.get(SECRET_ENV, "")
    if not name:
        raise ConfigurationError(f"{SECRET_ENV} is not set: the webhook cannot verify signatures")
    if "provider" not in _secrets:
        _secrets["provider"] = parameters.SSMProvider() if name.startswith("ssm:") else parameters.SecretsProvider()
    provider = _secrets["provider"]
    if name.startswith("ssm:"):
        value = provider.get(name[4:], decrypt=True, max_age=SECRET_MAX_AGE)
    else:
        value = provider.get(name, max_age=SECRET_MAX_AGE)
    if isinstance(value, bytes):
        value = value.decode()
    keys = [k.strip().encode() for k in str(value or "").split(",") if k.strip()]
    if not keys:
        raise ConfigurationError("the webhook secret is empty")
    return keys


def sign(body: bytes, key: bytes | str, *, timestamp: int | str, method: str, path: str) -> str:
    """The `X-Journeys-Signature` a sender computes (JOURNEYS.md, Webhook signature): `sha256=` + hex
    HMAC-SHA256 of `<timestamp>.<METHOD>.<path>.<body>`, so a body signed for one route, method or
    moment is worth nothing for another."""
    key = key.encode() if isinstance(key, str) else key
    signed = f"{timestamp}.{method}.{path}.".encode() + body
    return "sha256=" + hmac.new(key, signed, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, keys: list[bytes]) -> None:
    """401 unless the request carries a fresh timestamp and a signature of it, the method, the path
    and the body under one of the keys."""
    given, stamp = _header(SIGNATURE_HEADER), _header(TIMESTAMP_HEADER)
    if not given:
        raise HttpError(401, "missing X-Journeys-Signature header")
    if not stamp:
        raise HttpError(401, "missing X-Journeys-Timestamp header")
    if not TIMESTAMP.fullmatch(stamp):  # ASCII digits only: int() would also read other scripts' digits
        raise HttpError(401, "X-Journeys-Timestamp must be unix seconds")
    if abs(clock.now().timestamp() - int(stamp)) > SIGNATURE_TOLERANCE_SECONDS:
        raise HttpError(401, f"X-Journeys-Timestamp is more than {SIGNATURE_TOLERANCE_SECONDS} s from the server's clock")
    event = app.current_event
    parts = {"timestamp": stamp, "method": event.http_method, "path": event.path}
    if not signature_valid(body, given, keys, **parts):
        raise HttpError(401, "signature does not match the request (timestamp, method, path and body)")


def signature_valid(body: bytes, header: str | None, keys: list[bytes], **parts) -> bool:
    header = (header or "").strip()
    if not header.isascii() or not header.lower().startswith("sha256="):
        return False  # compare_digest refuses non-ASCII text: nothing a key produced anyway
    given = header[7:].lower()
    return any(hmac.compare_digest(sign(body, key, **parts)[7:], given) for key in keys)


# ------------------------------------------------------------------ errors -> JSON


class HttpError(Exception):
    def __init__(self, status: int, message: str, **extra: Any):
        super().__init__(message)
        self.status, self.message, self.extra = status, message, extra


class ConfigurationError(Exception):
    pass


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON,
                    body=json.dumps(body, default=str), headers=headers)


@app.exception_handler(HttpError)
def _http_error(error: HttpError) -> Response:
    return _json(error.status, {"error": error.message, **error.extra},
                 headers={"Retry-After": "1"} if error.status == 503 else None)


@app.exception_handler(ContactTooLarge)
@app.exception_handler(entry.EntryTooLarge)
def _too_large(error: ValueError) -> Response:
    return _json(413, {"error": str(error)})


@app.exception_handler(ValidationError)
def _invalid(error: ValidationError) -> Response:
    errors = [{"field": ".".join(str(p) for p in e["loc"]) or "(body)", "message": e["msg"], "type": e["type"]}
              for e in error.errors(include_url=False, include_input=False)]
    return _json(400, {"error": "invalid request body", "errors": errors})


@app.exception_handler(ConfigurationError)
def _misconfigured(error: ConfigurationError) -> Response:
    logger.error("webhook misconfigured", extra={"reason": str(error)})
    return _json(500, {"error": "the webhook is not configured", "request_id": _request_id()})


@app.exception_handler(Exception)
def _unexpected(error: Exception) -> Response:
    logger.exception("unexpected error")
    return _json(500, {"error": "internal error", "request_id": _request_id()})


@app.not_found
def _no_route(_error) -> Response:
    event = app.current_event
    return _json(404, {"error": f"no route {event.http_method} {event.path}"})


def _request_id() -> str | None:
    with_context = getattr(app, "lambda_context", None)
    return getattr(with_context, "aws_request_id", None)


# ------------------------------------------------------------------ request helpers


def raw_body() -> bytes:
    event = app.current_event
    body = event.body or ""
    data = base64.b64decode(body) if event.is_base64_encoded else body.encode("utf-8")
    if len(data) > MAX_BODY_BYTES:
        raise HttpError(413, f"body larger than {MAX_BODY_BYTES} bytes")
    return data


def _header(name: str) -> str | None:
    for key, value in (app.current_event.headers or {}).items():
        if key.lower() == name:
            return value
    return None


def signed_json() -> dict[str, Any]:
    """The verified body as a JSON object: 401 before anything else is looked at."""
    body = raw_body()
    verify_signature(body, webhook_keys())
    if nesting_depth(body) > MAX_NESTING:
        raise HttpError(400, f"body nests deeper than {MAX_NESTING} levels (DynamoDB stores at most {MAX_NESTING})",
                        errors=[{"field": "(body)", "message": f"at most {MAX_NESTING} levels of lists and objects",
                                 "type": "too_deep"}])
    try:
        value = parse_json(body)
    except UnstorableNumber as error:
        raise HttpError(400, "body has a number that cannot be stored",
                        errors=[{"field": "(body)", "message": str(error), "type": "number_out_of_range"}]) from None
    except ValueError as error:
        raise HttpError(400, "body is not valid JSON", errors=[{"field": "(body)", "message": str(error), "type": "json_invalid"}]) from None
    if not valid_unicode(value):
        raise HttpError(400, "body has text that is not valid Unicode (a lone surrogate escape such as \\udfff)",
                        errors=[{"field": "(body)", "message": "lone surrogate", "type": "unicode_invalid"}])
    if not isinstance(value, dict):
        raise HttpError(400, "body must be a JSON object", errors=[{"field": "(body)", "message": "expected an object", "type": "dict_type"}])
    return value


def nesting_depth(body: bytes) -> int:
    """How deep lists and objects nest, read from the raw bytes (strings skipped) before parsing: a
    parser (json, pydantic, boto3) would recurse until RecursionError on a body nested 20,000 deep."""
    depth = deepest = 0
    for bracket in BRACKETS.finditer(STRINGS.sub(b'""', body)):
        depth += 1 if bracket.group() in b"[{" else -1
        deepest = max(deepest, depth)
    return deepest


def valid_unicode(value: Any) -> bool:
    """No lone surrogate (JSON allows the escape `\\udfff`; UTF-8, DynamoDB and Step Functions do not)."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class UnstorableNumber(ValueError):
    pass


def _no_constants(name: str):
    # Python's json accepts NaN and Infinity; JSON does not, and neither do StartExecution or DynamoDB.
    raise ValueError(f"{name} is not a JSON number")


def _float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number) or abs(number) >= NUMBER_MAX or 0 < abs(number) < NUMBER_MIN:
        raise UnstorableNumber(f"{text} is out of range (magnitude 1E-130 to below 1E+126, or 0)")
    return number


def _int(text: str) -> int:
    if len(text.lstrip("-")) > NUMBER_DIGITS:
        raise UnstorableNumber(f"{text} has more than {NUMBER_DIGITS} digits")
    return int(text)


def parse_json(body: bytes) -> Any:
    """The body as JSON, refusing what a later step would fail on: NaN, Infinity and numbers out of
    DynamoDB's range are a 400 here, not a 500 (or a failed StartExecution) later."""
    return json.loads(body or b"null", parse_constant=_no_constants, parse_float=_float, parse_int=_int)


def _throttled(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in THROTTLED


# ------------------------------------------------------------------ routes


@app.post("/journeys/<journey>/entries")
def enter(journey: str) -> Response:
    body = signed_json()
    svc = services()
    if journey not in svc.catalog.rules:
        raise HttpError(404, f"unknown journey '{journey}'", journeys=sorted(svc.catalog.rules))
    rules = svc.catalog.entry(journey)
    if rules.trigger == "event":
        raise HttpError(409, f"journey '{journey}' is entered by event '{rules.event}': POST /events with that name")
    request = parse(event=body, model=EntryRequest)
    try:
        arn = svc.catalog.state_machine_arn(journey)
    except LookupError as error:
        raise ConfigurationError(str(error)) from None
    contact = request.contact.as_contact()
    logger.append_keys(journey=journey, contact_id=contact["id"])
    try:
        result = entry.enter_contact(journey, rules, contact, request.event, state_machine_arn=arn, sfn=svc.sfn,
                                     contacts=svc.contacts, journeys=svc.journeys)
    except ClientError as error:
        if _throttled(error):
            observability.count("JourneyThrottled", {"Journey": journey})
            raise HttpError(503, "Step Functions is throttling; retry (the same event never starts twice)") from None
        raise
    logger.info("entry", extra={"status": result.status, "reason": result.reason})
    payload = {"journey": journey, "contact_id": contact["id"], "status": result.status,
               "execution_arn": result.execution_arn, **({"reason": result.reason} if result.reason else {})}
    return _json(202 if result.status == "STARTED" else 200, payload)


@app.post("/events")
def event() -> Response:
    body = signed_json()
    request = parse(event=body, model=EventRequest)
    svc = services()
    contact = request.contact.as_contact()
    logger.append_keys(event_name=request.name, contact_id=contact["id"])
    from journeys.edges.events import deliver_event  # journeys/events.py: resume waits, enter triggered journeys

    try:
        delivered = deliver_event(request.name, contact, request.payload, catalog=svc.catalog,
                                  sfn=svc.sfn, contacts=svc.contacts, journeys=svc.journeys)
    except ClientError as error:
        if _throttled(error):
            raise HttpError(503, "Step Functions is throttling; retry (the same event never starts twice)") from None
        raise
    logger.info("event delivered", extra={k: len(v) for k, v in delivered.items() if isinstance(v, list)})
    busy = delivered.get("entered") or delivered.get("resumed")
    return _json(202 if busy else 200, {"event": request.name, "contact_id": contact["id"], **delivered})


@app.get("/contacts/<contact_id>/inbox")
def contact_inbox(contact_id: str) -> Response:
    """The contact's site notifications for the app to show, newest first, with the unread count."""
    verify_signature(raw_body(), webhook_keys())
    contact_id = urllib.parse.unquote(contact_id)
    items = services().journeys.inbox(contact_id)
    return _json(200, {"contact_id": contact_id, "unread": sum(1 for item in items if not item.get("read")), "items": items})


@app.post("/contacts/<contact_id>/inbox/read")
def contact_inbox_read(contact_id: str) -> Response:
    """Mark notifications read: `{"ids": [...]}` as listed, or `{"all": true}`."""
    request = parse(event=signed_json(), model=InboxReadRequest)
    contact_id = urllib.parse.unquote(contact_id)
    journeys = services().journeys
    items = journeys.inbox(contact_id)
    ids = request.ids or [item["id"] for item in items if not item.get("read")]
    marked = journeys.mark_inbox_read(contact_id, ids, clock.iso(clock.now()))
    payload = {"contact_id": contact_id, "marked": marked}
    if request.ids:  # ids the inbox never had (already-read ones are known, just not marked again)
        known = {item["id"] for item in items}
        payload["unknown"] = [item_id for item_id in request.ids if item_id not in known]
    return _json(200, payload)


def _unsubscribe_params() -> tuple[str, str]:
    query = app.current_event.query_string_parameters or {}
    contact_id, token = query.get("contact") or "", query.get("token") or ""
    missing = [{"field": name, "message": "Field required", "type": "missing"}
               for name, value in (("contact", contact_id), ("token", token)) if not value]
    if missing:
        raise HttpError(400, "invalid unsubscribe link", errors=missing)
    if not unsubscribe.verify(contact_id, token):
        raise HttpError(403, "this unsubscribe link is not valid")
    return contact_id, token


@app.post("/unsubscribe")
def one_click_unsubscribe() -> Response:
    """RFC 8058: the mail client POSTs `List-Unsubscribe=One-Click` to the List-Unsubscribe URL."""
    contact_id, _ = _unsubscribe_params()
    contacts = services().contacts
    stored = contacts.get(contact_id)
    already = stored is None or stored.get("subscribed") is False
    if not already:
        contacts.update(contact_id, set={"subscribed": False, "unsubscribed_at": clock.iso(clock.now()),
                                         "unsubscribe_reason": "one-click"})
        observability.count("ContactUnsubscribed", {"Source": "one-click"})
    logger.info("unsubscribe", extra={"contact_id": contact_id, "already": already})
    return _json(200, {"contact_id": contact_id, "subscribed": False})


@app.get("/unsubscribe")
def unsubscribe_page() -> Response:
    contact_id, token = _unsubscribe_params()
    action = html.escape("?" + urllib.parse.urlencode({"contact": contact_id, "token": token}))
    page = (
        "<!doctype html><html><head><meta charset=utf-8><title>Unsubscribe</title></head><body>"
        "<h1>Unsubscribe</h1><p>Stop receiving marketing email from us?</p>"
        f'<form method="post" action="{action}"><input type="hidden" name="List-Unsubscribe" value="One-Click">'
        '<button type="submit">Unsubscribe</button></form></body></html>'
    )
    return Response(status_code=200, content_type=content_types.TEXT_HTML, body=page)


# ------------------------------------------------------------------ Lambda entry point


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: Any) -> dict:
    return app.resolve(event, context)
