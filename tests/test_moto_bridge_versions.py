"""moto 5.2.5 and state machine versions: what moto lacks (pinned here, so a moto that gains it
is noticed) and what journeys.local.moto_bridge adds (7. in its docstring)."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from journeys.local.moto_bridge import MOCK_CONFIG

WAIT = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "Next": "E"}, "E": {"Type": "Succeed"}}}
ROLE = "arn:aws:iam::123456789012:role/x"


def machine_with_version(sfn) -> tuple[str, str]:
    made = sfn.create_state_machine(name="m", definition=json.dumps(WAIT), roleArn=ROLE, publish=True)
    return made["stateMachineArn"], made["stateMachineVersionArn"]


def test_given_plain_moto_when_starting_a_version_or_listing_versions_then_it_fails():
    with mock_aws(config=MOCK_CONFIG):
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        machine, version = machine_with_version(sfn)
        with pytest.raises(Exception):  # moto: 'StateMachineVersion' object has no attribute ...
            sfn.start_execution(stateMachineArn=version, name="a")
        with pytest.raises(NotImplementedError):
            sfn.list_state_machine_versions(stateMachineArn=machine)


def test_given_the_bridge_when_live_moves_to_version_2_then_each_execution_runs_and_lists_under_its_version():
    import datetime as dt

    from journeys.local.runner import LocalStack

    with LocalStack(dt.datetime(2026, 1, 5, 8, tzinfo=dt.timezone.utc)) as stack:
        sfn = stack.sfn
        machine, v1 = machine_with_version(sfn)
        live = sfn.create_state_machine_alias(name="live", routingConfiguration=[{"stateMachineVersionArn": v1, "weight": 100}])
        first = sfn.start_execution(stateMachineArn=live["stateMachineAliasArn"], name="first")["executionArn"]
        other = {**WAIT, "StartAt": "W2", "States": {"W2": WAIT["States"]["W"], "E": WAIT["States"]["E"]}}
        v2 = sfn.update_state_machine(stateMachineArn=machine, definition=json.dumps(other), publish=True)["stateMachineVersionArn"]
        sfn.update_state_machine_alias(stateMachineAliasArn=live["stateMachineAliasArn"],
                                       routingConfiguration=[{"stateMachineVersionArn": v2, "weight": 100}])
        second = sfn.start_execution(stateMachineArn=live["stateMachineAliasArn"], name="second")["executionArn"]

        def names(arn):
            return sorted(e["name"] for e in sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"])

        assert (names(v1), names(v2), names(machine)) == (["first"], ["second"], ["first", "second"])
        assert [v["stateMachineVersionArn"] for v in sfn.list_state_machine_versions(stateMachineArn=machine)["stateMachineVersions"]] == [v2, v1]
        assert first == "arn:aws:states:us-east-1:123456789012:execution:m:first"
        assert sfn.describe_execution(executionArn=second)["status"] == "RUNNING"
