"""Transient AWS errors inside a step (throttling, 5xx, lost connections) leave the handler as the one
error StepRetryable, which the compiled Retry retries with back-off and jitter (bounded) before the Catch
records the step as failed. Throttles are injected into the real boto3 SES client (a botocore before-call
hook answers as SES does); moto's Retry waits run on the virtual clock."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from conftest import outcomes

SEND = """\
journey: throttled
entry: {trigger: webhook}
steps:
  - {id: welcome, type: send_email, settings: {subject: "Hi {{ contact.first_name }}", text: "Hello"}}
  - {id: after, type: add_tag, settings: {tags: [went-on]}}
"""


@pytest.fixture
def ses_throttles(monkeypatch):
    """Make SES answer TooManyRequestsException to the next `count` SendEmail calls; returns the counter."""
    from journeys import aws

    state = {"left": 0, "answered": 0}
    original = aws.client

    def throttle(**_):
        if state["left"] <= 0:
            return None  # a real call to (moto's) SES
        state["left"] -= 1
        state["answered"] += 1
        return SimpleNamespace(status_code=429, headers={}, content=b""), {
            "Error": {"Code": "TooManyRequestsException", "Message": "Maximum sending rate exceeded."},
            "ResponseMetadata": {"HTTPStatusCode": 429}}

    def client(service):
        made = original(service)
        if service == "sesv2":
            made.meta.events.register("before-call.sesv2.SendEmail", throttle, unique_id="test-throttle")
        return made

    monkeypatch.setattr(aws, "client", client)

    def arm(count: int) -> dict:
        state["left"] = count
        return state

    return arm


def test_given_ses_throttles_three_times_when_a_send_runs_then_it_is_retried_and_sent_once(
        write_journey, run, ada, ses_throttles):
    throttled = ses_throttles(3)

    trace = run(write_journey(SEND), ada)

    assert throttled["answered"] == 3
    assert trace["status"] == "SUCCEEDED" and outcomes(trace) == {"welcome": "done", "after": "done"}
    assert len(trace["_run"].outbox) == 1
    assert [r["outcome"] for r in trace["_run"].step_results if r["step"] == "welcome"] == ["done"]


def test_given_ses_throttles_every_attempt_when_a_send_runs_then_the_step_fails_recorded_and_the_journey_goes_on(
        write_journey, run, ada, ses_throttles):
    throttled = ses_throttles(10_000)

    trace = run(write_journey(SEND), ada)

    assert throttled["answered"] == 13  # the first attempt and the 12 retries of the compiled Retry
    assert outcomes(trace) == {"welcome": "failed", "after": "done"}
    assert "StepRetryable" in trace["steps"][0]["detail"] and "TooManyRequestsException" in trace["steps"][0]["detail"]
    assert trace["_run"].outbox == []
    recorded = [r for r in trace["_run"].step_results if r["step"] == "welcome"]
    assert [r["outcome"] for r in recorded] == ["failed"] and "TooManyRequestsException" in recorded[0]["reason"]


@pytest.mark.parametrize("code, status, transient", [
    ("TooManyRequestsException", 429, True),
    ("ProvisionedThroughputExceededException", 400, True),
    ("ThrottlingException", 400, True),
    ("RequestLimitExceeded", 400, True),
    ("InternalServerError", 500, True),
    ("SomethingNew", 503, True),
    ("MessageRejected", 400, False),
    ("ValidationException", 400, False),
    ("ConditionalCheckFailedException", 400, False),
])
def test_given_an_aws_error_then_only_throttling_and_server_errors_are_transient(code, status, transient):
    from botocore.exceptions import ClientError

    from journeys.runtime.task import is_transient

    error = ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")
    assert is_transient(error) is transient


def test_given_a_lost_connection_then_it_is_transient_and_a_plain_error_is_not():
    from botocore.exceptions import EndpointConnectionError, ReadTimeoutError

    from journeys.runtime.task import is_transient

    assert is_transient(EndpointConnectionError(endpoint_url="https://email.us-east-1.amazonaws.com"))
    assert is_transient(ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com"))
    assert not is_transient(ValueError("bad"))


def test_given_the_compiled_retry_then_step_retryable_is_retried_with_full_jitter_for_about_an_hour_at_most():
    from journeys.compiler.asl import RETRY

    (rule,) = [r for r in RETRY if r["ErrorEquals"] == ["StepRetryable"]]
    delays = [min(rule["IntervalSeconds"] * rule["BackoffRate"] ** n, rule["MaxDelaySeconds"]) for n in range(rule["MaxAttempts"])]
    assert rule["JitterStrategy"] == "FULL"
    assert 45 * 60 <= sum(delays) <= 65 * 60
