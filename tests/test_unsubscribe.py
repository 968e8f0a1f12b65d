"""One-click unsubscribe links are signed with the stack's secret, read from Secrets Manager."""

from __future__ import annotations

import boto3
from moto import mock_aws

from journeys import unsubscribe
from journeys.local.runner import local_environment


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
