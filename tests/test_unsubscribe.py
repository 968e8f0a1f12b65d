"""One-click unsubscribe links are signed with the stack's secret, read from Secrets Manager."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from journeys.runtime import unsubscribe
from journeys.local.runner import local_environment

from conftest import outcomes


def test_given_the_stacks_secret_then_links_are_signed_with_it_and_verify(monkeypatch):
    local_environment()
    with mock_aws():
        arn = boto3.client("secretsmanager", region_name="us-east-1").create_secret(
            Name="journeys/unsubscribe", SecretString="s3cret-from-the-stack")["ARN"]
        monkeypatch.setenv(unsubscribe.SECRET_NAME_ENV, arn)
        token = unsubscribe.token("c-ada")
        headers = unsubscribe.unsubscribe_headers("c-ada")

        assert unsubscribe.verify("c-ada", token) and not unsubscribe.verify("c-bob", token)
        assert f"token={token}" in headers["List-Unsubscribe"] and "s3cret" not in headers["List-Unsubscribe"]
    monkeypatch.delenv(unsubscribe.SECRET_NAME_ENV)
    assert unsubscribe.token("c-ada") != token  # the local key differs from the stack's


def test_given_a_forged_token_then_it_does_not_verify():
    assert not unsubscribe.verify("c-ada", "0" * 32)
    assert not unsubscribe.verify("c-ada", "")


MARKETING = """\
journey: consent
entry: {trigger: webhook}
steps:
  - {id: promo, type: send_email, settings: {subject: Offer, text: x}}
  - {id: team, type: send_notification_email, settings: {to: [team@example.com], subject: New lead, text: x}}
"""


@pytest.mark.parametrize("subscribed, detail", [
    ("no", "not subscribed (subscribed: 'no')"),
    ("false", "not subscribed (subscribed: 'false')"),
    (0, "not subscribed (subscribed: 0)"),
    (False, "unsubscribed"),
])
def test_given_subscribed_is_not_true_then_no_marketing_email_goes_but_the_team_email_does(write_journey, run, ada, subscribed, detail):
    # Given a contact whose `subscribed` is anything but true
    path = write_journey(MARKETING)

    # When a marketing email and a team notification are due
    trace = run(path, {**ada, "subscribed": subscribed})

    # Then the marketing email is skipped, saying why, and only the team email goes
    promo = next(step for step in trace["steps"] if step["id"] == "promo")
    assert (promo["outcome"], promo["detail"]) == ("skipped", detail)
    assert [message["kind"] for message in trace["messages"]] == ["notification_email"]


@pytest.mark.parametrize("contact_subscribed", [{"subscribed": True}, {}])
def test_given_subscribed_true_or_left_out_then_the_marketing_email_goes(write_journey, run, ada, contact_subscribed):
    path = write_journey(MARKETING)
    contact = {key: value for key, value in ada.items() if key != "subscribed"} | contact_subscribed

    trace = run(path, contact)

    assert outcomes(trace)["promo"] == "done"
    assert [message["kind"] for message in trace["messages"]] == ["email", "notification_email"]
