"""Actions files (errors name file, action and key) and secrets (values never printed)."""

from __future__ import annotations

import textwrap

import pytest
from pydantic import SecretStr

from actions_testserver import Reply, server  # noqa: F401 - fixture
from conftest import SHARED
from journeys.actions import (
    ActionError, ActionsFileError, ActionSpec, AwsSecrets, EnvSecrets, OutboundBlocked, OutboundPolicy,
    SecretNotFound, load_actions_file, parse_actions, run_action,
)
from journeys.actions.crm import CrmConfig

SHARED_ACTIONS = SHARED / "actions.yaml"  # ../shared beside the clone, wherever it is
SECRET = "sup3r-s3cr3t-value"
LOOPBACK_OK = OutboundPolicy(allow_loopback=True)


def write(tmp_path, text: str):
    path = tmp_path / "actions.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def problems_of(path) -> str:
    with pytest.raises(ActionsFileError) as caught:
        load_actions_file(path)
    message = str(caught.value)
    assert "Traceback" not in message
    return message


def test_given_the_shared_actions_file_when_loading_then_both_actions_are_read():
    specs = load_actions_file(SHARED_ACTIONS)

    assert set(specs) == {"enrich", "crm"}
    assert specs["crm"].type == "crm" and specs["crm"].config["base_url"].endswith("/crm")
    assert specs["enrich"].name == "Company enrichment API"


def test_given_a_config_missing_a_required_key_when_loading_then_file_action_and_key_are_named(tmp_path):
    path = write(tmp_path, """
        - id: crm
          type: crm
          config: {api_key: {secret: crm}}
    """)

    assert problems_of(path) == f"{path}: action 'crm': config.base_url: Field required"


def test_given_several_mistakes_when_loading_then_each_is_reported_with_its_action_and_key(tmp_path):
    path = write(tmp_path, """
        - id: enrich
          type: http
          config: {base_url: "ftp://x", colour: blue}
        - id: sms
          type: sms
        - name: no id
          type: http
        - id: enrich
          type: http
          config: {base_url: "http://a"}
        - id: auth
          type: http
          config: {base_url: "http://a", auth: {type: header, secret: k}}
        - just a string
    """)

    message = problems_of(path)

    assert f"{path}: action 'enrich': config.base_url: Value error, must be an absolute http:// or https:// URL" in message
    assert f"{path}: action 'enrich': config.colour: Extra inputs are not permitted" in message
    assert f"{path}: action 'sms': type: unknown action type 'sms'; valid types: crm, http" in message
    assert f"{path}: action #3: id: Field required" in message
    assert f"{path}: action 'enrich': id: duplicate action id" in message
    assert f"{path}: action 'auth': config.auth: Value error, auth type 'header' needs 'header'" in message
    assert f"{path}: action #6: expected a mapping" in message


def test_given_broken_yaml_when_loading_then_the_file_and_line_are_named(tmp_path):
    path = write(tmp_path, """
        - id: crm
          type: crm
          config: {base_url: "http://a"
    """)

    message = problems_of(path)

    assert message.startswith(f"{path}: line ") and "invalid YAML" in message


def test_given_a_mapping_instead_of_a_list_or_a_missing_file_when_loading_then_it_says_so(tmp_path):
    assert problems_of(write(tmp_path, "crm: {type: crm}\n")).endswith("expected a list of actions")
    missing = tmp_path / "nope.yaml"
    assert problems_of(missing).startswith(f"{missing}: cannot read")


def test_given_an_empty_file_when_loading_then_there_are_no_actions(tmp_path):
    assert load_actions_file(write(tmp_path, "# nothing yet\n")) == {}


def test_given_a_secret_in_the_wrong_place_when_loading_then_the_error_does_not_echo_it():
    items = [{"id": "crm", "type": "crm", "config": {"base_url": "http://a", "api_key": ["Bearer", SECRET]}},
             {"id": "web", "type": "http", "config": {"base_url": "http://a", "auth": f"Bearer {SECRET}"}}]

    with pytest.raises(ActionsFileError) as caught:
        parse_actions(items, "dynamodb:actions")

    assert "dynamodb:actions: action 'crm': config.api_key" in str(caught.value)
    assert "dynamodb:actions: action 'web': config.auth" in str(caught.value)
    assert SECRET not in str(caught.value) and SECRET not in repr(caught.value)


def test_given_a_literal_api_key_when_printing_the_config_then_it_is_masked():
    config = CrmConfig.model_validate({"base_url": "http://a", "api_key": SECRET})

    assert isinstance(config.api_key, SecretStr)
    assert SECRET not in repr(config) and SECRET not in str(config) and SECRET not in config.model_dump_json()


def test_given_env_secrets_when_resolving_then_the_name_maps_to_a_variable_and_the_value_is_masked():
    secrets = EnvSecrets({"JOURNEYS_SECRET_CRM_API_KEY": SECRET})

    value = secrets.resolve("crm/api-key")

    assert value.get_secret_value() == SECRET and SECRET not in repr(value) and SECRET not in str(value)
    with pytest.raises(SecretNotFound, match="secret 'other' is not set: define environment variable JOURNEYS_SECRET_OTHER"):
        secrets.resolve("other")


def test_given_a_bearer_secret_when_a_redirect_is_refused_then_the_error_does_not_contain_it(server):
    server.route("/crm/tasks", Reply(307, headers={"Location": "http://169.254.169.254/steal"}))
    spec = ActionSpec(id="crm", type="crm", config={"base_url": server.url("/crm"), "api_key": {"secret": "crm"}})

    with pytest.raises(OutboundBlocked) as caught:
        run_action(spec, "create_task", {"subject": "s", "contact_email": "a@b.co"}, policy=LOOPBACK_OK,
                   secrets=EnvSecrets({"JOURNEYS_SECRET_CRM": SECRET}))

    assert SECRET not in str(caught.value) and SECRET not in repr(caught.value)
    assert server.calls("/crm/tasks")[0].headers["authorization"] == f"Bearer {SECRET}"


def test_given_a_secret_with_a_line_break_when_calling_then_the_error_names_the_header_not_the_value(server):
    spec = ActionSpec(id="web", type="http",
                      config={"base_url": server.url("/"), "auth": {"type": "header", "secret": "k", "header": "X-Key"}})

    with pytest.raises(ActionError) as caught:
        run_action(spec, "request", {}, policy=LOOPBACK_OK, secrets=EnvSecrets({"JOURNEYS_SECRET_K": SECRET + "\r\nX: y"}))

    assert "header 'X-Key'" in str(caught.value) and SECRET not in str(caught.value)
    assert server.requests == []


def test_given_secrets_in_aws_when_resolving_then_secrets_manager_and_ssm_are_used(monkeypatch):
    moto = pytest.importorskip("moto")
    import boto3

    for name, value in {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
                        "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    with moto.mock_aws():
        boto3.client("secretsmanager").create_secret(Name="crm/api-key", SecretString=SECRET)
        boto3.client("ssm").put_parameter(Name="/crm/token", Value="ssm-" + SECRET, Type="SecureString")
        secrets = AwsSecrets(max_age=0)

        assert secrets.resolve("crm/api-key").get_secret_value() == SECRET
        assert secrets.resolve("ssm:/crm/token").get_secret_value() == "ssm-" + SECRET
        with pytest.raises(SecretNotFound, match="secret 'missing' could not be read from Secrets Manager"):
            secrets.resolve("missing")
