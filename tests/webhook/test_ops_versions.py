"""Several versions running at once: `journeys status` (who is where, per version, from the
position records) and `journeys stop --hard --version N` against the ops world."""

from __future__ import annotations

import datetime as dt
import json
import time

from ops_world import STACK, cli, entries, ops, publish, samples, world  # noqa: F401 (fixtures)
from webhook_world import http_event  # noqa: F401

JOURNEY = "lead-nurturing"


def contact(n: int) -> dict:
    return {"id": f"c-{n}", "email": f"c{n}@example.com", "first_name": f"C{n}", "company_size": 10}


def settle(world, limit: float = 30) -> None:
    """Until every running execution sleeps in a wait (their Tasks have run)."""
    deadline = time.monotonic() + limit
    while world.waits.idle_until() is None:
        assert time.monotonic() < deadline, "executions did not reach a wait"
        time.sleep(0.01)


def enter(world, http_event, n: int) -> str:
    answer = world.call(entries(http_event, JOURNEY, {"contact": contact(n)}))["json"]
    assert answer["status"] == "STARTED", answer
    return answer["execution_arn"]


def real_position(world, execution: str) -> str:
    """Test-side truth: the state the execution last entered, from its history."""
    entered = [e["stateEnteredEventDetails"]["name"] for e in world.history(execution) if "stateEnteredEventDetails" in e]
    return entered[-1]


def two_versions(ops, http_event) -> tuple[list[str], list[str]]:
    """Three contacts on version 1 (moved on to wait-3d), then a deploy, two contacts on version 2 (at wait-2d)."""
    first = [enter(ops, http_event, n) for n in range(3)]
    settle(ops)
    ops.waits.advance_to(ops.clock.now() + dt.timedelta(days=2, minutes=1))
    settle(ops)
    publish(ops, JOURNEY)
    second = [enter(ops, http_event, n) for n in range(3, 5)]
    settle(ops)
    return first, second


def test_given_two_versions_running_when_status_then_counts_per_version_equal_the_executions_real_positions(ops, http_event):
    first, second = two_versions(ops, http_event)

    done = cli("status", JOURNEY, "--stack", STACK, "--json")
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)

    assert report["entries"] == "open" and report["live_version"] == 2 and report["running"] == 5
    by_version = {v["version"]: v for v in report["versions"]}
    assert by_version[1]["at"] == {"waiting at wait-3d": 3} and not by_version[1]["live"]
    assert by_version[2]["at"] == {"waiting at wait-2d": 2} and by_version[2]["live"]
    assert {real_position(ops, arn) for arn in first} == {"wait-3d"}
    assert {real_position(ops, arn) for arn in second} == {"wait-2d"}

    text = cli("status", JOURNEY, "--stack", STACK).output
    assert "version 2 (live): 2 running" in text and "3  waiting at wait-3d" in text


def test_given_two_versions_running_when_version_1_is_stopped_hard_then_only_its_executions_end_and_their_memberships_say_so(ops, http_event):
    first, second = two_versions(ops, http_event)

    done = cli("stop", JOURNEY, "--stack", STACK, "--hard", "--version", "1", "--reason", "bad send", "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["stopped"] == 3

    status = {arn: ops.sfn.describe_execution(executionArn=arn)["status"] for arn in first + second}
    assert [status[arn] for arn in first] == ["ABORTED"] * 3
    assert [status[arn] for arn in second] == ["RUNNING"] * 2
    for n, arn in enumerate(first):
        membership = ops.journeys.membership(f"c-{n}", JOURNEY)
        assert arn not in (membership.get("running") or [])
        assert "bad send" in membership["ended_by"] and membership["ended_at"]
    assert ops.journeys.membership("c-3", JOURNEY).get("ended_at") is None

    again = json.loads(cli("stop", JOURNEY, "--stack", STACK, "--hard", "--version", "1", "--json").stdout)
    assert again["stopped"] == 0  # safe to run again: nothing of version 1 is left running
    report = json.loads(cli("status", JOURNEY, "--stack", STACK, "--json").stdout)
    assert report["running"] == 2 and report["entries"] == "open"


def test_given_a_version_that_does_not_exist_when_stopped_then_a_clear_error(ops):
    done = cli("stop", JOURNEY, "--stack", STACK, "--hard", "--version", "7")
    assert done.exit_code == 1
    assert "version 7 does not exist (published: 1)" in done.output


def test_given_delivery_policies_when_sends_are_held_then_status_shows_the_policy_outcomes(ops, http_event, tmp_path):
    policies = tmp_path / "policies.yaml"
    policies.write_text('quiet_hours: {from: "07:00", to: "09:00"}\n')  # the world's clock reads 08:00 UTC
    ops.use_policies(policies)

    enter(ops, http_event, 7)  # tagged, then its welcome email waits for 09:00
    settle(ops)

    report = json.loads(cli("status", JOURNEY, "--stack", STACK, "--json").stdout)
    assert report["policies"] == {"deferred: quiet hours": 1}
    text = cli("status", JOURNEY, "--stack", STACK).output
    assert "delivery policies so far: deferred: quiet hours 1" in text
