"""The entry webhook end to end: API Gateway HTTP API events -> functions/entry/app.py -> moto.

Real HMAC signatures, real pydantic validation, the real entry rules, and the execution run by
moto's Step Functions interpreter with our step Lambdas in-process."""

from __future__ import annotations

import json

import boto3
import pytest
from webhook_world import entries, executions, http_event, sample, world  # noqa: F401 (fixtures)

ADA = {"id": "c-ada", "email": "ada@analytical.example", "first_name": "Ada", "company_size": 120}


def started_with(world) -> list[str]:
    """The stateMachineArn of every StartExecution the entry function sends (observed, not altered)."""
    from journeys.edges import webhook

    arns: list[str] = []
    webhook.services().sfn.meta.events.register(
        "provide-client-params.states.StartExecution", lambda params, **_: arns.append(params["stateMachineArn"]))
    return arns


LIVE = "arn:aws:states:us-east-1:123456789012:stateMachine:{}:live"


def test_given_a_signed_entry_when_posted_then_the_execution_runs_to_completion_with_contact_and_steps_in_dynamodb(world, sample):
    starts = started_with(world)

    response = world.call(sample("entry/post-entries-lead-nurturing.json"))

    assert response["statusCode"] == 202, response["body"]
    assert starts == [LIVE.format("lead-nurturing")]  # through the live alias, as deployed (less the stack prefix)
    body = response["json"]
    assert body["status"] == "STARTED" and body["journey"] == "lead-nurturing" and body["contact_id"] == "c-ada"
    assert body["execution_arn"].startswith("arn:aws:states:us-east-1:123456789012:execution:lead-nurturing:c-ada-")
    finished = world.wait(body["execution_arn"])
    assert finished["status"] == "SUCCEEDED"
    contact = world.contacts.get("c-ada")
    assert contact["email"] == "ada@analytical.example" and "lead" in contact["tags"]
    assert contact["lead_status"] == "cold"  # never clicked: the gate's else branch ran
    steps = {r["step"]: r["outcome"] for r in world.journeys.step_results(body["execution_arn"])}
    assert steps == {"tag-lead": "done", "welcome": "done", "case-study": "done", "nurture-end": "done"}
    assert world.journeys.membership("c-ada", "lead-nurturing")["execution"] == body["execution_arn"]


def test_given_no_signature_when_posted_then_401_and_nothing_is_stored(world, http_event):
    response = world.call(entries(http_event, "lead-nurturing", {"contact": ADA}, signed=False))

    assert response["statusCode"] == 401
    assert response["json"] == {"error": "missing X-Journeys-Signature header"}
    assert world.contacts.get("c-ada") is None and executions(world, "lead-nurturing") == []


def test_given_a_signature_with_another_key_when_posted_then_401(world, http_event):
    response = world.call(entries(http_event, "lead-nurturing", {"contact": ADA}, signed="not-the-secret"))

    assert response["statusCode"] == 401
    assert response["json"]["error"] == "signature does not match the request (timestamp, method, path and body)"
    assert executions(world, "lead-nurturing") == []


def test_given_a_body_changed_after_signing_when_posted_then_401(world, http_event):
    event = entries(http_event, "lead-nurturing", {"contact": ADA})
    event["body"] = event["body"].replace("c-ada", "c-eve")

    assert world.call(event)["statusCode"] == 401
    assert world.contacts.get("c-eve") is None


def test_given_invalid_fields_when_posted_then_400_lists_each_field_error_without_a_traceback(world, http_event):
    response = world.call(entries(http_event, "lead-nurturing",
                                  {"contact": {"email": "not-an-email", "timezone": "Mars/Olympus"}, "extra": 1}))

    assert response["statusCode"] == 400
    body = response["json"]
    assert body["error"] == "invalid request body"
    fields = {e["field"]: e for e in body["errors"]}
    assert set(fields) == {"contact.id", "contact.email", "contact.timezone", "extra"}
    assert fields["contact.id"]["type"] == "missing"
    assert "not an email address" in fields["contact.email"]["message"]
    assert "Traceback" not in response["body"]
    assert executions(world, "lead-nurturing") == []


def test_given_a_body_that_is_not_json_when_posted_then_400(world, http_event):
    response = world.call(entries(http_event, "lead-nurturing", "{not json"))

    assert response["statusCode"] == 400
    assert response["json"]["error"] == "body is not valid JSON"


def test_given_a_body_over_64_kib_when_posted_then_413_json_and_nothing_is_stored(world, http_event):
    # The contact and event become the execution's first state, which must leave room for the steps.
    big = {**ADA, "notes": "x" * (64 * 1024)}

    response = world.call(entries(http_event, "lead-nurturing", {"contact": big}))

    assert response["statusCode"] == 413
    assert response["json"]["error"] == "body larger than 65536 bytes"
    assert executions(world, "lead-nurturing") == []


def test_given_an_unknown_journey_when_posted_then_404_json_names_the_known_ones(world, http_event):
    response = world.call(entries(http_event, "no-such-journey", {"contact": ADA}))

    assert response["statusCode"] == 404
    assert response["json"]["error"] == "unknown journey 'no-such-journey'"
    assert "lead-nurturing" in response["json"]["journeys"]


def test_given_an_unknown_route_when_called_then_404_json(world, http_event):
    response = world.call(http_event("POST", "/nowhere", {"x": 1}))

    assert response["statusCode"] == 404 and response["json"] == {"error": "no route POST /nowhere"}


def test_given_the_same_event_delivered_twice_then_one_execution_and_the_second_is_reported_duplicate(world, http_event):
    body = {"contact": ADA, "event": {"id": "form-42", "topic": "pricing"}}

    first = world.call(entries(http_event, "lead-nurturing", body))
    second = world.call(entries(http_event, "lead-nurturing", body))

    assert first["statusCode"] == 202 and first["json"]["status"] == "STARTED"
    assert second["statusCode"] == 200 and second["json"]["status"] == "DUPLICATE"
    assert second["json"]["execution_arn"] == first["json"]["execution_arn"]
    assert len(executions(world, "lead-nurturing")) == 1


class _FailRecordingTheEntryOnce:
    """The first UpdateItem that records an entry (JourneyTable) fails with a DynamoDB error and
    writes nothing, as a crash between StartExecution and recording the membership leaves things.
    A `before-call` answer is what botocore's Stubber gives: the request is never sent (moto's
    `before-send` hook would still write it)."""

    def __init__(self):
        self.failed = False

    def __call__(self, params, **kwargs):
        from botocore.awsrequest import AWSResponse

        body = json.loads(params.get("body") or b"{}")  # the serialized request (JSON protocol)
        if self.failed or "ADD running" not in body.get("UpdateExpression", ""):  # record_entry, not the claim
            return None
        self.failed = True
        error = {"Error": {"Code": "ValidationException", "Message": "simulated"}, "ResponseMetadata": {"HTTPStatusCode": 400}}
        return AWSResponse("https://dynamodb.us-east-1.amazonaws.com/", 400, {}, _Raw(b"{}")), error


def test_given_an_entry_started_but_not_recorded_when_redelivered_then_duplicate_names_the_execution_not_the_alias(world, http_event):
    from journeys.edges import webhook

    starts = started_with(world)
    hook = _FailRecordingTheEntryOnce()
    webhook.services().journeys.table.meta.client.meta.events.register_first("before-call.dynamodb.UpdateItem", hook)
    event = {"id": "form-77", "topic": "pricing"}

    crashed = world.call(entries(http_event, "lead-nurturing", {"contact": ADA, "event": event}))
    # The sender retries the same event (the profile changed meanwhile). The entry's claim, written
    # before StartExecution, names that execution: the retry is its duplicate and starts nothing.
    again = world.call(entries(http_event, "lead-nurturing", {"contact": {**ADA, "company_size": 121}, "event": event}))

    assert hook.failed and crashed["statusCode"] == 500
    started = executions(world, "lead-nurturing")
    assert len(started) == 1 and starts == [LIVE.format("lead-nurturing")]
    assert again["statusCode"] == 200 and again["json"]["status"] == "DUPLICATE"
    assert again["json"]["execution_arn"] == started[0]["executionArn"]
    assert again["json"]["execution_arn"].startswith("arn:aws:states:us-east-1:123456789012:execution:lead-nurturing:c-ada-")


def test_given_a_new_event_within_the_re_entry_window_then_not_entered_with_the_reason(world, http_event):
    world.call(entries(http_event, "lead-nurturing", {"contact": ADA, "event": {"id": "form-1"}}))
    again = world.call(entries(http_event, "lead-nurturing", {"contact": ADA, "event": {"id": "form-2"}}))

    assert again["statusCode"] == 200 and again["json"]["status"] == "NOT_ENTERED"
    assert "re_entry after 30d" in again["json"]["reason"]
    assert len(executions(world, "lead-nurturing")) == 1


def test_given_a_contact_below_the_criteria_then_not_entered_but_upserted(world, http_event):
    response = world.call(entries(http_event, "sales-handoff", {"contact": {**ADA, "lead_score": 10}}))

    assert response["statusCode"] == 200
    assert response["json"]["status"] == "NOT_ENTERED" and response["json"]["reason"] == "entry criteria do not match"
    assert response["json"]["execution_arn"] is None
    assert executions(world, "sales-handoff") == []
    assert world.contacts.get("c-ada")["lead_score"] == 10


def test_given_subscribed_true_from_a_webhook_then_an_unsubscribed_contact_stays_unsubscribed(world, http_event):
    world.contacts.upsert({"id": "c-ada", "subscribed": False})

    world.call(entries(http_event, "sales-handoff", {"contact": {**ADA, "subscribed": True, "lead_score": 1}}))

    assert world.contacts.get("c-ada")["subscribed"] is False


def test_given_an_event_triggered_journey_when_posted_to_entries_then_409_points_to_events(world, http_event):
    response = world.call(entries(http_event, "trial-onboarding", {"contact": ADA}))

    assert response["statusCode"] == 409
    assert "POST /events" in response["json"]["error"]


def test_given_a_signed_event_when_posted_then_the_journeys_it_triggers_start(world, sample):
    response = world.call(sample("entry/post-events-trial-started.json"))

    assert response["statusCode"] == 202, response["body"]
    body = response["json"]
    assert body["event"] == "trial_started" and len(body["entered"]) == 1
    assert ":execution:trial-onboarding:" in body["entered"][0]
    assert world.wait(body["entered"][0])["status"] == "SUCCEEDED"
    assert world.contacts.get("c-ada")["lifecycle"] == "trial"


def test_given_an_unsigned_event_then_401(world, http_event):
    response = world.call(http_event("POST", "/events", {"name": "trial_started", "contact": ADA}, signed=False))

    assert response["statusCode"] == 401


def test_given_a_one_click_unsubscribe_then_the_contact_is_unsubscribed_and_a_repeat_is_still_200(world, sample):
    world.contacts.upsert(ADA)
    event = sample("entry/post-unsubscribe-one-click.json")

    first, second = world.call(event), world.call(event)

    assert first["statusCode"] == 200 and first["json"] == {"contact_id": "c-ada", "subscribed": False}
    assert second["statusCode"] == 200
    stored = world.contacts.get("c-ada")
    assert stored["subscribed"] is False and stored["unsubscribe_reason"] == "one-click"


def test_given_a_bad_unsubscribe_token_then_403_and_the_contact_stays_subscribed(world, http_event):
    world.contacts.upsert(ADA)

    response = world.call(http_event("POST", "/unsubscribe", "List-Unsubscribe=One-Click", signed=False,
                                     query={"contact": "c-ada", "token": "0" * 32}))

    assert response["statusCode"] == 403
    assert world.contacts.get("c-ada")["subscribed"] is True


def test_given_an_unsubscribe_link_without_token_then_400_names_the_field(world, http_event):
    response = world.call(http_event("POST", "/unsubscribe", "", signed=False, query={"contact": "c-ada"}))

    assert response["statusCode"] == 400
    assert response["json"]["errors"] == [{"field": "token", "message": "Field required", "type": "missing"}]


def test_given_a_get_of_the_unsubscribe_link_then_a_confirmation_page_and_no_unsubscribe(world, sample):
    world.contacts.upsert(ADA)

    response = world.call(sample("entry/get-unsubscribe-page.json"))

    assert response["statusCode"] == 200 and '<form method="post"' in response["body"]
    assert world.contacts.get("c-ada")["subscribed"] is True


def test_given_the_webhook_secret_is_not_configured_then_500_json_not_a_traceback(world, http_event, monkeypatch):
    monkeypatch.delenv("JOURNEYS_WEBHOOK_SECRET")

    response = world.call(entries(http_event, "lead-nurturing", {"contact": ADA}))

    assert response["statusCode"] == 500
    assert response["json"]["error"] == "the webhook is not configured"


def test_given_a_rotated_secret_with_two_keys_then_either_key_verifies(world, http_event):
    from journeys.edges import webhook

    boto3.client("secretsmanager", region_name="us-east-1").put_secret_value(
        SecretId="journeys/webhook-signing", SecretString="new-key,local-webhook-secret")
    webhook.reset()

    old = world.call(entries(http_event, "sales-handoff", {"contact": {**ADA, "lead_score": 1}}))
    new = world.call(entries(http_event, "sales-handoff", {"contact": {**ADA, "lead_score": 1}}, signed="new-key"))

    assert old["statusCode"] == 200 and new["statusCode"] == 200


class _Throttling:
    """Answers StartExecution with ThrottlingException `times` times, then success (no moto)."""

    def __init__(self, times: int):
        self.times, self.calls = times, 0

    def __call__(self, request, **kwargs):
        from botocore.awsrequest import AWSResponse

        self.calls += 1
        if self.calls <= self.times:
            body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()
            return AWSResponse(request.url, 400, {"Content-Type": "application/x-amz-json-1.0"}, _Raw(body))
        body = json.dumps({"executionArn": "arn:aws:states:us-east-1:123456789012:execution:sm:x", "startDate": 1767600000}).encode()
        return AWSResponse(request.url, 200, {"Content-Type": "application/x-amz-json-1.0"}, _Raw(body))


class _Raw:
    def __init__(self, data: bytes):
        self.data = data

    def stream(self, **kwargs):
        yield self.data


@pytest.fixture
def no_backoff_sleep(monkeypatch):
    import botocore.endpoint

    slept: list[float] = []

    class _Time:
        sleep = staticmethod(slept.append)
        time = staticmethod(__import__("time").time)

    monkeypatch.setattr(botocore.endpoint, "time", _Time)
    return slept


def test_given_a_burst_above_the_start_execution_quota_then_throttled_starts_are_retried_with_backoff(monkeypatch, no_backoff_sleep):
    from journeys.edges import webhook

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    client = webhook.sfn_client()
    throttle = _Throttling(times=webhook.SFN_ATTEMPTS - 1)
    client.meta.events.register_first("before-send.states.StartExecution", throttle)

    started = client.start_execution(stateMachineArn="arn:aws:states:us-east-1:123456789012:stateMachine:sm", name="x", input="{}")

    assert started["executionArn"].endswith(":x")
    assert throttle.calls == webhook.SFN_ATTEMPTS and len(no_backoff_sleep) == webhook.SFN_ATTEMPTS - 1


def test_given_throttling_outlasting_the_retries_then_503_with_retry_after_not_a_dropped_entry(world, http_event, monkeypatch, no_backoff_sleep):
    from journeys.edges import webhook

    throttle = _Throttling(times=100)
    webhook.services().sfn.meta.events.register_first("before-send.states.StartExecution", throttle)

    response = world.call(entries(http_event, "lead-nurturing", {"contact": ADA}))

    assert response["statusCode"] == 503 and response["headers"]["Retry-After"] == "1"
    assert throttle.calls == webhook.SFN_ATTEMPTS and len(no_backoff_sleep) == webhook.SFN_ATTEMPTS - 1  # backoff between attempts
    assert "retry" in response["json"]["error"]


def test_given_throttling_outlasting_the_retries_then_the_503_comes_well_within_the_http_apis_29_s(world, http_event, no_backoff_sleep):
    """The whole retry budget: what botocore sleeps between attempts plus every attempt at its
    connect and read timeouts stays under the entry function's 29 s (the HTTP API gives up at 30)."""
    from journeys.edges import webhook

    webhook.services().sfn.meta.events.register_first("before-send.states.StartExecution", _Throttling(times=100))

    response = world.call(entries(http_event, "lead-nurturing", {"contact": ADA}))

    config = webhook.services().sfn.meta.config
    slowest_attempts = webhook.SFN_ATTEMPTS * (config.connect_timeout + config.read_timeout)
    assert response["statusCode"] == 503
    assert sum(no_backoff_sleep) <= 1 + 2 + 4  # botocore's standard backoff: at most 2^(n-1) s before attempt n+1
    assert sum(no_backoff_sleep) + slowest_attempts < 29
