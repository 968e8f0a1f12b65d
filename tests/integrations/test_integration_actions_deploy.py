"""`journeys actions deploy`: the Actions file reaches the table the deployed actions Lambda reads."""

from __future__ import annotations

import boto3
import pytest
from click.testing import CliRunner
from integrations_support import write_actions  # noqa: F401 - fixture
from moto import mock_aws

from journeys.actions import ActionError
from journeys.cli.actions import actions
from journeys.local.runner import local_environment
from journeys.runtime.integrations import ActionStore, stored_actions
from journeys.runtime.store import create_tables, table_name

REGION = "us-east-1"


@pytest.fixture
def journey_table():
    local_environment()  # fake credentials, as every local world has them
    with mock_aws():
        create_tables(boto3.client("dynamodb", region_name=REGION))  # as template.yaml declares them
        yield boto3.resource("dynamodb", region_name=REGION).Table(table_name("JourneyTable"))


def deploy(*args: str):
    return CliRunner().invoke(actions, ["deploy", "--region", REGION, *args])


def test_given_an_actions_file_when_deployed_then_the_actions_lambda_reads_each_action(journey_table, write_actions):
    path = write_actions([
        {"id": "crm", "name": "CRM", "type": "crm", "config": {"base_url": "https://crm.example/v1", "api_key": {"secret": "crm-key"}}},
        {"id": "api", "type": "http", "config": {"base_url": "https://api.example"}},
    ])

    done = deploy("--actions", str(path), "--table", journey_table.name)

    assert done.exit_code == 0, done.output
    assert f"{journey_table.name}: 2 action(s) put: api, crm" in done.output
    crm = ActionStore(journey_table).get("crm")
    assert crm.type == "crm" and crm.config["api_key"] == {"secret": "crm-key"}  # a reference, never a value
    assert ActionStore(journey_table).get("api").config["base_url"] == "https://api.example"


def test_given_an_action_removed_from_the_file_then_it_is_kept_unless_pruned(journey_table, write_actions):
    both = write_actions([{"id": "old", "type": "http", "config": {"base_url": "https://old.example"}},
                          {"id": "api", "type": "http", "config": {"base_url": "https://api.example"}}])
    deploy("--actions", str(both), "--table", journey_table.name)
    only_api = write_actions([{"id": "api", "type": "http", "config": {"base_url": "https://api.example"}}])

    kept = deploy("--actions", str(only_api), "--table", journey_table.name)
    assert "left in the table (not in the file; --prune deletes them): old" in kept.output
    assert {item["id"] for item in stored_actions(journey_table)} == {"api", "old"}

    pruned = deploy("--actions", str(only_api), "--table", journey_table.name, "--prune")
    assert pruned.exit_code == 0 and "deleted: old" in pruned.output
    assert {item["id"] for item in stored_actions(journey_table)} == {"api"}
    with pytest.raises(ActionError, match="unknown action 'old'"):
        ActionStore(journey_table).get("old")


def test_given_an_invalid_actions_file_then_nothing_is_put_and_the_error_names_it(journey_table, write_actions):
    path = write_actions([{"id": "bad", "type": "no-such-module", "config": {}}])

    done = deploy("--actions", str(path), "--table", journey_table.name)

    assert done.exit_code == 1
    assert "no-such-module" in done.output and "Traceback" not in done.output
    assert stored_actions(journey_table) == []


def test_given_a_table_that_does_not_exist_then_one_clear_error(journey_table, write_actions):
    path = write_actions([{"id": "api", "type": "http", "config": {"base_url": "https://api.example"}}])

    done = deploy("--actions", str(path), "--table", "no-such-table")

    assert done.exit_code == 2
    assert "table no-such-table:" in done.output and "ResourceNotFoundException" in done.output
