"""journeys.local.metering: what a world did, in AWS's billing units, checked against facts a reader
can count by hand (the history's states, the handlers called, the emails in the trace, item sizes)."""

from __future__ import annotations

import boto3
import pytest

from conftest import MONDAY_8AM, shared_contact

TWO_STEPS = """
journey: two-steps
entry: {trigger: webhook}
steps:
  - id: tag
    type: add_tag
    settings: {tags: [lead]}
  - id: hello
    type: send_email
    settings: {subject: "Hello {{ contact.first_name }}", text: "Hi."}
"""


@pytest.fixture
def metered_two_steps(write_journey):
    """Ada and Bob through a 2-step journey in one world, metered; (meter, runs)."""
    from journeys.local.metering import Meter
    from journeys.local.runner import LocalStack, run_journey

    path = write_journey(TWO_STEPS, "two-steps.journey.yaml")
    meter, runs = Meter(), []
    with LocalStack(MONDAY_8AM) as stack:
        with meter.attached(stack):
            for who in ("ada", "bob"):
                runs.append(run_journey(path, shared_contact(who), {}, stack=stack))
        yield meter, runs


def test_given_a_two_step_journey_then_transitions_and_invocations_are_the_historys(metered_two_steps):
    meter, runs = metered_two_steps
    ada = runs[0]
    entered = [e for e in ada.history if e["type"].endswith("StateEntered")]
    scheduled = [e for e in ada.history if e["type"] == "LambdaFunctionScheduled"]

    counts = meter.counts([ada.execution_arn])

    assert counts.executions == 1
    assert counts.transitions == len(entered) == 2  # Tag (Task), hello (Task, then the end)
    assert counts.retries == 0
    assert dict(counts.lambda_requests) == {"updates": 1, "messaging": 1} and counts.lambda_total == len(scheduled)
    assert all(ms >= 1 for ms in counts.lambda_ms.values())


def test_given_two_contacts_then_emails_are_the_messages_sent_and_counts_add_up(metered_two_steps):
    from journeys.local.trace import build_trace

    meter, runs = metered_two_steps
    traces = [build_trace(run) for run in runs]
    sent = [m for trace in traces for m in trace["messages"]]

    total = meter.counts()
    each = [meter.counts([run.execution_arn]) for run in runs]

    assert total.executions == 2 and sorted(meter.executions()) == sorted(run.execution_arn for run in runs)
    assert total.emails == len(sent) == 1  # Ada's hello; Bob is unsubscribed
    assert [c.emails for c in each] == [1, 0]
    assert total.transitions == sum(c.transitions for c in each) == 4
    # the entry path (outside any Lambda) belongs to no execution, but to the whole world's count
    assert total.dynamodb_write_units > sum(c.dynamodb_write_units for c in each) > 0


def test_given_small_items_read_consistently_then_each_read_call_is_one_unit(metered_two_steps):
    meter, runs = metered_two_steps
    counts = meter.counts([runs[0].execution_arn])
    reads = counts.dynamodb_calls["GetItem"] + counts.dynamodb_calls["Query"]

    assert reads > 0
    assert counts.dynamodb_read_units == reads  # every read of ours is strongly consistent and under 4 KB


# ---------------------------------------------------------------------------- request units from item sizes


@pytest.fixture
def table():
    """A bare moto table with a meter attached (no journeys world needed for DynamoDB's rules)."""
    from moto import mock_aws

    from journeys.local.metering import Meter
    from journeys.local.runner import local_environment

    local_environment()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                                  {"AttributeName": "sk", "AttributeType": "S"}])
        meter = Meter()
        with meter.attached(None):
            yield client, meter


def _item(sk: str, kilobytes: float) -> dict:
    """An item of about `kilobytes` KB: key names and values (2+2+4+len) plus a 'v' attribute."""
    overhead = len("pk") + len("p") + len("sk") + len(sk) + len("v")
    return {"pk": {"S": "p"}, "sk": {"S": sk}, "v": {"S": "x" * (int(kilobytes * 1024) - overhead)}}


def _units(meter) -> tuple[float, float]:
    counts = meter.counts()
    return counts.dynamodb_read_units, counts.dynamodb_write_units


def test_given_writes_then_units_are_kilobytes_of_the_larger_item_before_or_after(table):
    client, meter = table
    client.put_item(TableName="t", Item=_item("a", 3))  # 3 KB: 3 WRU
    assert _units(meter) == (0, 3)
    client.put_item(TableName="t", Item=_item("a", 1.5))  # replaces a 3 KB item: the larger, 3
    assert _units(meter) == (0, 6)
    client.update_item(TableName="t", Key={"pk": {"S": "p"}, "sk": {"S": "a"}}, UpdateExpression="SET w = :w",
                       ExpressionAttributeValues={":w": {"S": "y" * 4096}})  # 1.5 KB -> 5.5 KB: 6
    assert _units(meter) == (0, 12)
    client.delete_item(TableName="t", Key={"pk": {"S": "p"}, "sk": {"S": "a"}})  # the deleted 5.5 KB: 6
    assert _units(meter) == (0, 18)


def test_given_a_failed_condition_then_the_existing_item_is_still_charged(table):
    client, meter = table
    client.put_item(TableName="t", Item=_item("a", 2))
    with pytest.raises(client.exceptions.ConditionalCheckFailedException):
        client.put_item(TableName="t", Item=_item("a", 1), ConditionExpression="attribute_not_exists(pk)")
    assert _units(meter) == (0, 4)


def test_given_reads_then_strong_is_one_unit_per_4_kb_and_eventual_half(table):
    client, meter = table
    client.put_item(TableName="t", Item=_item("a", 5))
    client.put_item(TableName="t", Item=_item("b", 3))
    key = {"pk": {"S": "p"}, "sk": {"S": "a"}}
    client.get_item(TableName="t", Key=key, ConsistentRead=True)  # 5 KB: 2
    client.get_item(TableName="t", Key=key)  # eventually consistent: 1
    client.get_item(TableName="t", Key={"pk": {"S": "p"}, "sk": {"S": "none"}}, ConsistentRead=True)  # nothing: still 1
    client.query(TableName="t", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}},
                 ConsistentRead=True)  # 5 + 3 = 8 KB, rounded once: 2
    assert _units(meter) == (6, 8)


def test_given_a_history_with_a_retried_task_then_the_retry_is_a_transition():
    from journeys.local.metering import history_transitions

    at = MONDAY_8AM
    history = [{"type": t, "timestamp": at} for t in (
        "ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled", "LambdaFunctionFailed",
        "LambdaFunctionScheduled", "LambdaFunctionSucceeded", "TaskStateExited", "SucceedStateEntered", "ExecutionSucceeded")]

    assert history_transitions(history) == (3, 1, 0)


def test_given_the_shared_lead_nurturing_then_ada_costs_what_the_calls_per_step_say(ada):
    """Ada's path (issue 11 measured 9 transitions, 5 Lambda invocations, 10 reads, 13 writes, 3 SES
    sends before the calls per step were cut): 9 transitions, 5 invocations, 3 emails; one contact
    read per Task (5); per action step an exactly-once claim and its completion (4 steps: 8 writes),
    add_tag's own change (1), and the position record of the 3 Tasks beside a wait (3): 12 writes."""
    from journeys.local.metering import Meter
    from journeys.local.runner import LocalStack, run_journey
    from conftest import SHARED

    meter = Meter()
    with LocalStack(MONDAY_8AM) as stack, meter.attached(stack):
        run = run_journey(SHARED / "lead-nurturing.journey.yaml", ada, {}, stack=stack)
        counts = meter.counts([run.execution_arn])
    assert (counts.transitions, counts.lambda_total, counts.emails) == (9, 5, 3)
    assert (counts.dynamodb_read_units, counts.dynamodb_write_units) == (5, 12)
    assert dict(counts.dynamodb_calls) == {"GetItem": 5, "PutItem": 7, "UpdateItem": 5}


def test_given_the_world_ended_then_counts_still_have_each_executions_transitions(write_journey):
    """A rehearsal attaches the meter inside its world and reads the counts after the world ended."""
    from journeys.local.metering import Meter
    from journeys.local.runner import LocalStack, run_journey

    path = write_journey(TWO_STEPS, "two-steps.journey.yaml")
    meter = Meter()
    with LocalStack(MONDAY_8AM) as stack, meter.attached(stack):
        run = run_journey(path, shared_contact("ada"), {}, stack=stack)
    counts = meter.counts()  # moto is gone now
    assert (counts.executions, counts.transitions, counts.lambda_total, counts.emails) == (1, 2, 2, 1)
    assert meter.counts([run.execution_arn]).transitions == 2
