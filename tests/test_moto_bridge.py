"""The moto patches of journeys/local/moto_bridge.py: every internal name they replace still exists with
the shape they expect (these fail loudly on a moto upgrade), and the behaviour they give: waits,
callbacks and their timeouts on one virtual timeline shared by every running execution."""

from __future__ import annotations

import datetime as dt
import inspect
import json
import threading
import time

import pytest

START = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.timezone.utc)
REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/test"
LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:probe"


# ---------------------------------------------------------------------------- the names we patch


def test_given_the_pinned_moto_then_it_is_the_installed_one():
    import moto

    from journeys.local.moto_bridge import PINNED_MOTO

    assert moto.__version__ == PINNED_MOTO


def _params(fn) -> list[str]:
    return list(inspect.signature(fn).parameters)


def test_given_moto_then_every_patched_name_exists_with_the_expected_signature():
    from moto.awslambda_simple.models import LambdaSimpleBackend
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
        StateTaskServiceCallback,
    )
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import timestamp
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
    from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    assert _params(LambdaSimpleBackend.invoke) == ["self", "function_name", "qualifier", "body", "headers", "response_headers"]
    assert _params(StepFunctionsParserBackend.start_execution)[:2] == ["self", "state_machine_arn"]
    assert _params(WaitFunction._wait_interval) == ["self", "env", "wait_seconds"]
    assert _params(StateTaskServiceCallback._eval_wait_for_task_token) == [
        "self", "env", "timeout_seconds", "callback_endpoint", "heartbeat_endpoint"]
    assert retrier_decl.time is __import__("time"), "the Retry back-off sleeps through the module's `time`"
    assert timestamp.datetime is dt, "Timestamp waits read now() through the module's `datetime`"
    assert isinstance(EventManager.__dict__["_get_current_timestamp"], staticmethod)


def test_given_moto_then_the_dynamodb_writes_made_atomic_are_still_backend_methods():
    from moto.dynamodb.models import DynamoDBBackend

    from journeys.local.moto_bridge import DYNAMODB_WRITES

    for name in DYNAMODB_WRITES:
        assert callable(getattr(DynamoDBBackend, name, None)), f"moto's DynamoDBBackend.{name} moved"
    assert _params(DynamoDBBackend.put_item)[:3] == ["self", "table_name", "item_attrs"]


def test_given_moto_then_what_the_virtual_waits_read_is_still_there():
    from moto.stepfunctions.parser.api import ExecutionStatus
    from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackEndpoint, CallbackOutcomeTimedOut
    from moto.stepfunctions.parser.backend.execution import Execution
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    assert ExecutionStatus.RUNNING
    assert isinstance(StepFunctionsParserBackend("us-east-1", "123456789012").state_machines, list)
    assert "exec_arn" in inspect.getsource(Execution.__init__)
    assert "self.exec_status = None" in inspect.getsource(Execution.__init__)
    assert callable(CallbackEndpoint.get_outcome)
    assert _params(CallbackOutcomeTimedOut.__init__) == ["self", "callback_id"]


def test_given_a_run_then_patches_are_installed_and_restored_afterwards():
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
        StateTaskServiceCallback,
    )
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

    from journeys.clock import VirtualClock
    from journeys.local.moto_bridge import bridged

    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    before = (WaitFunction._wait_interval, StateTaskServiceCallback._eval_wait_for_task_token, StepFunctionsParserBackend.start_execution)
    with bridged(VirtualClock(START), lambda name, payload: payload):
        assert WaitFunction._wait_interval is not before[0]
        assert StateTaskServiceCallback._eval_wait_for_task_token is not before[1]
        assert StepFunctionsParserBackend.start_execution is not before[2]
    assert (WaitFunction._wait_interval, StateTaskServiceCallback._eval_wait_for_task_token,
            StepFunctionsParserBackend.start_execution) == before


# ---------------------------------------------------------------------------- behaviour


class World:
    """moto + the bridge, with a probe Lambda that records what it was invoked with."""

    def __init__(self, monkeypatch):
        for key, value in {"AWS_DEFAULT_REGION": REGION, "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}.items():
            monkeypatch.setenv(key, value)
        self.invocations: list[dict] = []

    def __enter__(self):
        import boto3
        from moto import mock_aws

        from journeys import clock
        from journeys.local.moto_bridge import MOCK_CONFIG, bridged

        self.clock = clock.VirtualClock(START)
        self.mock = mock_aws(config=MOCK_CONFIG)
        self.mock.start()
        self.bridge = bridged(self.clock, self._dispatch)
        self.waits = self.bridge.__enter__()
        self.sfn = boto3.client("stepfunctions", region_name=REGION)
        return self

    def __exit__(self, *exc):
        try:
            for arn in list(self.waits.running()):
                self.sfn.stop_execution(executionArn=arn)
        finally:  # whatever happened, the next test gets moto unpatched
            self.bridge.__exit__(*exc)
            self.mock.stop()

    def _dispatch(self, name, payload):
        self.invocations.append(payload)
        return payload

    def start(self, name: str, states: dict, start_at: str) -> str:
        arn = self.sfn.create_state_machine(name=name, roleArn=ROLE, definition=json.dumps({"StartAt": start_at, "States": states}))["stateMachineArn"]
        return self.sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]

    def drive(self, arns: list[str], seconds: float = 20) -> dict[str, dict]:
        """What LocalStack.wait does: move the clock whenever every running execution waits."""
        deadline = time.monotonic() + seconds
        while True:
            described = {arn: self.sfn.describe_execution(executionArn=arn) for arn in arns}
            if all(d["status"] != "RUNNING" for d in described.values()):
                return described
            assert time.monotonic() < deadline, "executions did not finish"
            until = self.waits.idle_until()
            if until is None:
                time.sleep(0.002)
            else:
                self.waits.advance_to(until)

    def exited_at(self, arn: str, state: str) -> dt.datetime:
        for event in self.sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]:
            if event["type"].endswith("StateExited") and event["stateExitedEventDetails"]["name"] == state:
                return event["timestamp"].astimezone(dt.timezone.utc)
        raise AssertionError(f"{state} never exited")


@pytest.fixture
def world(monkeypatch):
    with World(monkeypatch) as w:
        yield w


def _wait(seconds: int, then: str | None = None) -> dict:
    return {"Type": "Wait", "Seconds": seconds, **({"Next": then} if then else {"End": True})}


def test_given_a_3_day_wait_then_it_passes_in_virtual_time(world):
    arn = world.start("three-days", {"W": _wait(3 * 86400)}, "W")

    assert world.drive([arn])[arn]["status"] == "SUCCEEDED"  # drive() gives up after 20 s of wall time

    assert world.exited_at(arn, "W") == START + dt.timedelta(days=3)


def test_given_two_executions_waiting_then_they_share_one_timeline(world):
    one = world.start("one-hour", {"W": _wait(3600)}, "W")
    two = world.start("two-hours", {"W": _wait(7200)}, "W")

    world.drive([one, two])

    assert world.exited_at(one, "W") == START + dt.timedelta(hours=1)
    assert world.exited_at(two, "W") == START + dt.timedelta(hours=2)


def test_given_an_execution_still_being_started_when_running_is_read_then_it_is_left_out_without_error(world):
    # moto adds an Execution to its machine before giving it a status; a start_journey step starting one
    # from a handler thread while LocalStack.wait reads running() met it there (AttributeError).
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    arn = world.start("starting", {"W": _wait(3600)}, "W")
    backend = stepfunctions_parser_backends["123456789012"][REGION]
    execution = next(e for sm in backend.state_machines for e in sm.executions if e.exec_arn == arn)
    execution.exec_status = None  # the moment between Execution() and its start

    try:
        assert arn not in world.waits.running()
    finally:
        from moto.stepfunctions.parser.api import ExecutionStatus

        execution.exec_status = ExecutionStatus.RUNNING


def test_given_a_sleeping_execution_when_it_is_stopped_then_its_wait_ends(world):
    arn = world.start("stopped", {"W": _wait(30 * 86400)}, "W")
    deadline = time.monotonic() + 5
    while world.waits.idle_until() is None:
        assert time.monotonic() < deadline
        time.sleep(0.002)

    world.sfn.stop_execution(executionArn=arn, error="JourneyExited", cause="test")

    assert world.drive([arn])[arn]["status"] == "ABORTED"
    assert world.waits.running() == {}


def test_given_moto_alone_then_an_alias_arn_is_still_unknown_to_it(world):
    """What the alias shim is for (moto's start_execution looks the ARN up with describe_state_machine):
    should moto learn aliases one day, this fails and the shim can go."""
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    from journeys.local.moto_bridge import unaliased

    arn = world.sfn.create_state_machine(name="plain", roleArn=ROLE, definition=json.dumps(
        {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}))["stateMachineArn"]
    backend = stepfunctions_parser_backends["123456789012"][REGION]

    with pytest.raises(Exception, match="State Machine Does Not Exist"):
        backend.describe_state_machine(arn + ":live")
    assert unaliased(arn + ":live") == arn and unaliased(arn + ":3") == arn + ":3" and unaliased(arn) == arn


def test_given_the_live_alias_arn_when_started_then_the_machine_runs_and_the_execution_arn_names_it(world):
    arn = world.sfn.create_state_machine(name="aliased", roleArn=ROLE, definition=json.dumps(
        {"StartAt": "W", "States": {"W": _wait(3600)}}))["stateMachineArn"]

    started = world.sfn.start_execution(stateMachineArn=arn + ":live", name="c-ada-1", input="{}")

    assert started["executionArn"] == "arn:aws:states:us-east-1:123456789012:execution:aliased:c-ada-1"
    assert world.drive([started["executionArn"]])[started["executionArn"]]["status"] == "SUCCEEDED"
    assert [e["name"] for e in world.sfn.list_executions(stateMachineArn=arn)["executions"]] == ["c-ada-1"]


def test_given_the_same_name_started_again_through_the_alias_with_other_input_then_moto_says_it_exists(world):
    arn = world.sfn.create_state_machine(name="aliased-twice", roleArn=ROLE, definition=json.dumps(
        {"StartAt": "W", "States": {"W": _wait(3600)}}))["stateMachineArn"]
    world.sfn.start_execution(stateMachineArn=arn + ":live", name="c-ada-1", input='{"n": 1}')

    with pytest.raises(world.sfn.exceptions.ExecutionAlreadyExists):
        world.sfn.start_execution(stateMachineArn=arn + ":live", name="c-ada-1", input='{"n": 2}')


def _callback_task(timeout: int) -> dict:
    return {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken", "TimeoutSeconds": timeout,
        "Parameters": {"FunctionName": LAMBDA, "Payload": {"task_token.$": "$$.Task.Token"}},
        "ResultPath": "$.received",
        "Catch": [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.timed_out", "Next": "Timed out"}],
        "Next": "Got it",
    }


CALLBACK = {"Wait": _callback_task(86400), "Got it": {"Type": "Succeed"}, "Timed out": {"Type": "Succeed"}}


def _entered(world, arn) -> list[str]:
    events = world.sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    return [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")]


def test_given_a_callback_wait_when_nothing_arrives_then_it_times_out_in_virtual_time(world):
    arn = world.start("callback-timeout", CALLBACK, "Wait")

    described = world.drive([arn])

    assert described[arn]["status"] == "SUCCEEDED"
    assert _entered(world, arn)[-1] == "Timed out"
    assert "States.Timeout" in described[arn]["output"]
    assert world.clock.now() == START + dt.timedelta(days=1)


def test_given_a_callback_wait_when_the_task_succeeds_then_it_resumes_with_the_output(world):
    arn = world.start("callback-success", CALLBACK, "Wait")
    deadline = time.monotonic() + 5
    while not world.invocations or world.waits.idle_until() is None:
        assert time.monotonic() < deadline
        time.sleep(0.002)
    world.waits.advance_to(START + dt.timedelta(hours=2))  # what the driver does for `--event-at x@+2h`

    world.sfn.send_task_success(taskToken=world.invocations[0]["task_token"], output=json.dumps({"event": "demo"}))
    described = world.drive([arn])

    assert _entered(world, arn)[-1] == "Got it"
    assert json.loads(described[arn]["output"])["received"] == {"event": "demo"}
    assert world.exited_at(arn, "Wait") == START + dt.timedelta(hours=2)


def test_given_an_execution_waiting_for_a_callback_when_the_world_ends_then_its_thread_ends_too(world):
    from journeys.local.moto_bridge import end_all_executions

    world.start("callback-left", CALLBACK, "Wait")
    deadline = time.monotonic() + 5
    while world.waits.idle_until() is None:  # asleep in the callback wait (a day's timeout)
        assert time.monotonic() < deadline
        time.sleep(0.002)

    assert end_all_executions(timeout=3) == []  # none left to wake in a later world


def test_given_a_run_left_waiting_when_the_next_world_starts_then_nothing_of_it_leaks_in(ada):
    """A world that ends while an execution sleeps in a Wait must not let that execution go on
    (and send email) inside the next world."""
    from journeys.local.runner import LocalStack, run_journey

    from conftest import REPO

    journey = REPO / "statemachines" / "lead-nurturing.journey.yaml"
    with LocalStack(START) as first:
        from journeys.compiler import compile_journey
        from journeys.language.loader import load_journey

        compiled = compile_journey(load_journey(journey)[0])
        first.deploy(compiled)
        first.enter(compiled.journey, ada, {"topic": "left waiting"})
        deadline = time.monotonic() + 30
        while first.waits.idle_until() is None and time.monotonic() < deadline:
            time.sleep(0.01)  # until it sleeps in wait-2d; then the world ends without waiting for it
        assert first.waits.idle_until() is not None

    with LocalStack(START) as second:  # the same contact and event: the same execution name
        run = run_journey(journey, ada, {"topic": "left waiting"}, stack=second)
        subjects = [m["subject"] for m in second.outbox()]

    assert run.status == "SUCCEEDED"
    assert subjects == ["Thanks for reaching out, Ada", "How teams like Analytical use us", "Book a demo"]


def test_given_moto_then_what_metering_reads_is_still_there():
    """journeys.local.metering sees every request at moto's BotocoreStubber and sizes items in its
    DynamoDB backend: these names and shapes must not move."""
    from moto.core.botocore_stubber import BotocoreStubber
    from moto.core.models import botocore_stubber
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, bytesize

    assert _params(BotocoreStubber.__call__)[:3] == ["self", "event_name", "request"]
    assert isinstance(botocore_stubber, BotocoreStubber) and hasattr(botocore_stubber, "enabled")
    assert _params(DynamoDBBackend.get_item)[:3] == ["self", "table_name", "keys"]
    assert callable(Item.size) and DynamoType({"S": "abc"}).size() == 3 and bytesize("ab") == 2


def test_given_observed_requests_then_each_request_is_seen_once_and_the_patch_is_undone():
    import boto3
    from moto import mock_aws
    from moto.core.botocore_stubber import BotocoreStubber

    from journeys.local.moto_bridge import observed_requests
    from journeys.local.runner import local_environment

    local_environment()
    original, seen = BotocoreStubber.__call__, []

    def observe(service, operation, request, send):
        seen.append((service, operation))
        return send()

    with mock_aws(), observed_requests(observe):
        boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity="journeys.example")
    assert seen == [("sesv2", "CreateEmailIdentity")]
    assert BotocoreStubber.__call__ is original

def test_given_the_bridge_imported_then_moto_ec2_is_not_loaded_and_moto_batch_still_works_when_used():
    # Start-up (issue 8 item 18): moto.batch's __init__ would load all of EC2 for a name the
    # Step Functions interpreter imports; the bridge registers the package without it.
    import subprocess
    import sys

    probe = """
import sys
import journeys.local.moto_bridge
assert "moto.ec2" not in sys.modules, "moto.batch's __init__ ran: EC2 loaded"
import boto3
from moto import mock_aws
from moto.batch import batch_backends
with mock_aws():
    assert boto3.client("batch", region_name="us-east-1").describe_compute_environments()["computeEnvironments"] == []
print("ok", type(batch_backends).__name__)
"""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"})

    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["ok", "BackendDict"]

# ---------------------------------------------------------------------------- versions (journeys test --publish)


def test_given_moto_then_it_still_lacks_publish_state_machine_version_and_cannot_start_a_version_object():
    """What patches 6 and 8 are for: should moto answer PublishStateMachineVersion or start a version
    itself one day, this fails and the shims can go."""
    from moto.stepfunctions.models import StateMachineVersion
    from moto.stepfunctions.responses import StepFunctionResponse

    assert not hasattr(StepFunctionResponse, "publish_state_machine_version")
    assert not hasattr(StateMachineVersion, "_handle_name_input_idempotency")
    assert not hasattr(StateMachineVersion, "backend")


def test_given_moto_then_each_execution_still_parses_its_definition_in_the_worker():
    """What patch 9 (one parse per definition) replaces."""
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    source = inspect.getsource(ExecutionWorker._get_evaluation_entrypoint)
    assert "AmazonStateLanguageParser.parse(" in source and "state_machine_details.definition" in source
    assert "_get_evaluation_entrypoint()" in inspect.getsource(ExecutionWorker)


def test_given_two_executions_of_one_definition_then_its_program_is_parsed_once(world, monkeypatch):
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    parsed = []
    original = AmazonStateLanguageParser.parse
    monkeypatch.setattr(AmazonStateLanguageParser, "parse", staticmethod(lambda d: parsed.append(d) or original(d)))
    arn = world.sfn.create_state_machine(name="parsed-once", roleArn=ROLE, definition=json.dumps(
        {"StartAt": "W", "States": {"W": _wait(60)}}))["stateMachineArn"]
    parsed.clear()  # CreateStateMachine validates by parsing too

    runs = [world.sfn.start_execution(stateMachineArn=arn, name=f"run-{n}", input="{}")["executionArn"] for n in range(3)]

    assert {d["status"] for d in world.drive(runs).values()} == {"SUCCEEDED"}
    assert len(parsed) == 1


def _machine_with_versions(world, name: str) -> tuple[str, str, str]:
    """A machine published twice (v1: wait 1h then V1; v2: wait 1h then V2), the live alias on v1."""
    def definition(tag: str) -> str:
        return json.dumps({"StartAt": "W", "States": {"W": _wait(3600, tag), tag: {"Type": "Pass", "End": True}}})

    arn = world.sfn.create_state_machine(name=name, roleArn=ROLE, definition=definition("V1"))["stateMachineArn"]
    v1 = world.sfn.publish_state_machine_version(stateMachineArn=arn)["stateMachineVersionArn"]
    alias = world.sfn.create_state_machine_alias(name="live", routingConfiguration=[
        {"stateMachineVersionArn": v1, "weight": 100}])["stateMachineAliasArn"]
    world.sfn.update_state_machine(stateMachineArn=arn, definition=definition("V2"))
    v2 = world.sfn.publish_state_machine_version(stateMachineArn=arn)["stateMachineVersionArn"]
    return alias, v1, v2


def _entered(world, arn: str) -> list[str]:
    return [e["stateEnteredEventDetails"]["name"] for e in world.sfn.get_execution_history(executionArn=arn)["events"]
            if e["type"].endswith("StateEntered")]


def test_given_two_versions_when_the_alias_moves_then_a_running_execution_stays_on_its_version(world):
    alias, v1, v2 = _machine_with_versions(world, "versioned")
    assert (v1.rsplit(":", 1)[1], v2.rsplit(":", 1)[1]) == ("1", "2")

    first = world.sfn.start_execution(stateMachineArn=alias, name="first", input="{}")["executionArn"]
    world.sfn.update_state_machine_alias(stateMachineAliasArn=alias, routingConfiguration=[
        {"stateMachineVersionArn": v2, "weight": 100}])
    second = world.sfn.start_execution(stateMachineArn=alias, name="second", input="{}")["executionArn"]
    world.drive([first, second])

    assert first == "arn:aws:states:us-east-1:123456789012:execution:versioned:first"
    assert _entered(world, first) == ["W", "V1"] and _entered(world, second) == ["W", "V2"]
    assert world.waits.versions == {first: 1, second: 2}


def test_given_a_version_arn_when_started_then_describe_and_stop_find_the_execution(world):
    alias, v1, _ = _machine_with_versions(world, "by-version")

    arn = world.sfn.start_execution(stateMachineArn=v1, name="direct", input="{}")["executionArn"]

    assert world.sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
    deadline = time.monotonic() + 10  # asleep in its Wait: moto ignores a stop before the worker exists
    while world.waits.idle_until() is None:
        assert time.monotonic() < deadline
        time.sleep(0.002)
    world.sfn.stop_execution(executionArn=arn)
    assert world.drive([arn])[arn]["status"] == "ABORTED"



def test_given_an_execution_whose_worker_has_not_started_when_stopped_then_it_is_stopped_once_it_has(world):
    # moto's worker builds the execution's environment on its own thread; a StopExecution in between
    # met `None.set_stop` (AttributeError) and, in a fixture's teardown, left the bridge installed.
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    arn = world.start("stopped-early", {"W": _wait(3600)}, "W")
    backend = stepfunctions_parser_backends["123456789012"][REGION]
    worker = next(e for sm in backend.state_machines for e in sm.executions if e.exec_arn == arn).exec_worker
    env, worker.env = worker.env, None  # the moment before the worker has made it
    threading.Timer(0.05, lambda: setattr(worker, "env", env)).start()

    world.sfn.stop_execution(executionArn=arn, error="JourneyExited", cause="test")

    assert world.sfn.describe_execution(executionArn=arn)["status"] == "ABORTED"


# ---------------------------------------------------------------------------- 13/14: answers as plain JSON, partition queries

ALL_TYPES = {"pk": {"S": "p1"}, "sk": {"S": "a#1"}, "n": {"N": "12.50"}, "b": {"B": b"\x00\xffbytes"},
             "t": {"BOOL": True}, "z": {"NULL": True}, "l": {"L": [{"S": "x"}, {"N": "1"}, {"B": b"\x01"}]},
             "m": {"M": {"inner": {"S": "é ✓"}, "deep": {"M": {"n": {"N": "-3"}}}}},
             "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2.5"]}, "bs": {"BS": [b"\x02", b"\x03"]}}


def _dynamodb_answers(client) -> dict:
    """One answer of every DynamoDB operation patch 13 writes directly, on items of every type."""
    key = {"pk": ALL_TYPES["pk"], "sk": ALL_TYPES["sk"]}
    answers = {"put": client.put_item(TableName="t", Item=ALL_TYPES, ReturnValues="ALL_OLD")}
    answers["put_again"] = client.put_item(TableName="t", Item=ALL_TYPES, ReturnValues="ALL_OLD")
    answers["get"] = client.get_item(TableName="t", Key=key)
    answers["get_missing"] = client.get_item(TableName="t", Key={"pk": {"S": "none"}, "sk": {"S": "none"}})
    answers["update"] = client.update_item(TableName="t", Key=key, UpdateExpression="SET n = n + :one, extra = :e",
                                           ExpressionAttributeValues={":one": {"N": "1"}, ":e": {"B": b"\x09"}}, ReturnValues="ALL_NEW")
    answers["query"] = client.query(TableName="t", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p1"}},
                                    ReturnConsumedCapacity="TOTAL")
    answers["scan"] = client.scan(TableName="t")
    answers["batch_get"] = client.batch_get_item(RequestItems={"t": {"Keys": [key]}})
    answers["transact_get"] = client.transact_get_items(TransactItems=[{"Get": {"TableName": "t", "Key": key}}])
    answers["transact_write"] = client.transact_write_items(TransactItems=[{"Put": {"TableName": "t", "Item": {**ALL_TYPES, "sk": {"S": "a#2"}}}}])
    answers["batch_write"] = client.batch_write_item(RequestItems={"t": [{"PutRequest": {"Item": {**ALL_TYPES, "sk": {"S": "a#3"}}}}]})
    answers["delete"] = client.delete_item(TableName="t", Key=key, ReturnValues="ALL_OLD")
    for answer in answers.values():
        answer.pop("ResponseMetadata", None)
    return answers


def _with_and_without_the_bridge(monkeypatch, run):
    """run(boto3 module) in a fresh moto without the bridge, then in one with it: both results."""
    import boto3
    from moto import mock_aws

    from journeys.clock import VirtualClock
    from journeys.local.moto_bridge import MOCK_CONFIG, bridged

    for key, value in {"AWS_DEFAULT_REGION": REGION, "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}.items():
        monkeypatch.setenv(key, value)
    results = []
    for bridge in (False, True):
        with mock_aws(config=MOCK_CONFIG):
            if bridge:
                with bridged(VirtualClock(START), lambda name, payload: payload):
                    results.append(run(boto3))
            else:
                results.append(run(boto3))
    return results


def _table(boto3):
    client = boto3.client("dynamodb", region_name=REGION)
    client.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}])
    return client


def test_given_moto_then_the_answer_and_query_patches_find_what_they_replace():
    from moto.core.responses import ActionResult
    from moto.core.serialize import TimestampSerializer
    from moto.dynamodb.models.table import Table

    assert _params(ActionResult.execute_result) == ["self", "context"]
    assert _params(Table.query)[:9] == ["self", "hash_key", "range_comparison", "range_objs", "limit", "exclusive_start_key",
                                        "scan_index_forward", "projection_expressions", "index_name"]
    assert _params(Table.all_items) == ["self"]
    assert TimestampSerializer._timestamp_unixtimestamp(dt.datetime(2026, 1, 5, 8, 0, 0, 123456)) == 1767600000.123


def test_given_every_item_operation_then_the_plain_json_answer_equals_motos(monkeypatch):
    from journeys.local import moto_bridge

    written = []
    original = moto_bridge.plain_json

    def counted(value):
        written.append(1)
        return original(value)

    monkeypatch.setattr(moto_bridge, "plain_json", counted)

    def answers_and_bodies(boto3):
        bodies = []

        def observe(service, operation, request, send):
            response = send()
            if operation in moto_bridge.PLAIN_JSON_ANSWERS["dynamodb"]:  # not CreateTable: it has a creation time
                bodies.append((operation, json.loads(response.content or b"{}")))
            return response

        with moto_bridge.observed_requests(observe):
            return _dynamodb_answers(_table(boto3)), bodies

    (without, bodies_without), (with_bridge, bodies_with) = _with_and_without_the_bridge(monkeypatch, answers_and_bodies)

    assert with_bridge == without
    assert bodies_with == bodies_without  # the wire too: moto's DeleteItem adds a key its serializer leaves out
    assert with_bridge["get"]["Item"]["b"] == {"B": b"\x00\xffbytes"} and with_bridge["update"]["Attributes"]["extra"] == {"B": b"\x09"}
    assert len(written) >= len(with_bridge), "the item answers went through patch 13"


def test_given_a_finished_execution_then_its_history_and_description_answer_as_motos(monkeypatch):
    def run(boto3):
        sfn = boto3.client("stepfunctions", region_name=REGION)
        machine = sfn.create_state_machine(name="m", roleArn=ROLE, definition=json.dumps(
            {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"a": [1, None, "é"]}, "End": True}}}))["stateMachineArn"]
        started = sfn.start_execution(stateMachineArn=machine, input='{"x": 1}')
        for _ in range(500):
            described = sfn.describe_execution(executionArn=started["executionArn"])
            if described["status"] != "RUNNING":
                break
            time.sleep(0.01)
        history = sfn.get_execution_history(executionArn=started["executionArn"])
        answers = {"started": started, "described": described, "history": history}
        for answer in answers.values():
            answer.pop("ResponseMetadata", None)
        # the two worlds ran at different moments: compare the shape of times, not their values
        return json.loads(json.dumps(answers, default=lambda value: type(value).__name__))

    without, with_bridge = _with_and_without_the_bridge(monkeypatch, run)

    assert with_bridge["described"]["status"] == "SUCCEEDED"
    assert with_bridge == json.loads(json.dumps(without).replace(without["started"]["executionArn"], with_bridge["started"]["executionArn"]))


def test_given_many_partitions_then_a_query_reads_only_its_own_and_answers_as_moto(monkeypatch):
    from moto.dynamodb.models.table import Table

    def run(boto3):
        client = _table(boto3)
        for p in range(30):
            for s in range(6):
                client.put_item(TableName="t", Item={"pk": {"S": f"p{p}"}, "sk": {"S": f"s{s}"}, "v": {"N": str(s % 3)}})
        scanned = []
        original = Table.all_items
        # what moto's query sorts: with the bridge, one partition; without, the whole table
        monkeypatch.setattr(Table, "all_items", lambda self: scanned.append(len(result := original(self))) or result)
        answers = [client.query(TableName="t", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p7"}}),
                   client.query(TableName="t", KeyConditionExpression="pk = :p AND begins_with(sk, :s)",
                                ExpressionAttributeValues={":p": {"S": "p7"}, ":s": {"S": "s"}}, ScanIndexForward=False, Limit=4),
                   client.query(TableName="t", KeyConditionExpression="pk = :p", FilterExpression="v = :v",
                                ExpressionAttributeValues={":p": {"S": "p3"}, ":v": {"N": "1"}}),
                   client.query(TableName="t", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "none"}})]
        monkeypatch.setattr(Table, "all_items", original)
        return [{k: v for k, v in a.items() if k != "ResponseMetadata"} for a in answers], scanned

    (without, scanned_without), (with_bridge, scanned_with) = _with_and_without_the_bridge(monkeypatch, run)

    assert with_bridge == without
    assert [len(a["Items"]) for a in with_bridge] == [6, 4, 2, 0]
    assert max(scanned_without) == 180 and max(scanned_with) <= 6


# ---------------------------------------------------------------------------- 15/16: request overhead


def test_given_moto_and_botocore_then_the_request_patches_find_what_they_replace():
    from botocore.signers import RequestSigner
    from moto.core import responses

    assert callable(responses.method_names_from_class)
    assert _params(RequestSigner.sign)[:5] == ["self", "operation_name", "request", "region_name", "signing_type"]
    assert "_signing_name" in RequestSigner.__init__.__code__.co_names


def test_given_the_bridge_then_dynamodb_goes_unsigned_while_s3_and_presigned_urls_are_signed(monkeypatch):
    from moto.core import responses

    from journeys.local.moto_bridge import observed_requests

    original_listing = responses.method_names_from_class

    def run(boto3):
        seen = {}

        def observe(service, operation, request, send):
            seen[service] = "Authorization" in request.headers
            return send()

        with observed_requests(observe):
            _table(boto3).get_item(TableName="t", Key={"pk": {"S": "a"}, "sk": {"S": "b"}})
            s3 = boto3.client("s3", region_name=REGION)
            s3.create_bucket(Bucket="bkt")
            s3.put_object(Bucket="bkt", Key="k", Body=b"x")
            assert s3.get_object(Bucket="bkt", Key="k")["Body"].read() == b"x"
        url = s3.generate_presigned_url("get_object", Params={"Bucket": "bkt", "Key": "k"})
        listing_cached = responses.method_names_from_class is not original_listing
        return seen, "Signature=" in url or "X-Amz-Signature=" in url, listing_cached

    (without, presigned_before, cached_before), (with_bridge, presigned, cached) = _with_and_without_the_bridge(monkeypatch, run)

    assert without == {"dynamodb": True, "s3": True} and presigned_before and not cached_before
    assert with_bridge == {"dynamodb": False, "s3": True} and presigned and cached
    assert responses.method_names_from_class is original_listing  # restored with the bridge


def test_given_one_history_then_the_plain_answer_and_motos_serializer_give_the_same_events_and_times(world, monkeypatch):
    from moto.core.responses import ActionResult

    from journeys.local.moto_bridge import observed_requests

    arn = world.start("timed", {"W": _wait(90, "P"), "P": {"Type": "Pass", "End": True}}, "W")
    world.drive([arn])
    bodies = []

    def observe(service, operation, request, send):
        response = send()
        bodies.append(json.loads(response.content))
        return response

    with observed_requests(observe):
        plain = world.sfn.get_execution_history(executionArn=arn)["events"]
    patched = ActionResult.execute_result
    monkeypatch.setattr(ActionResult, "execute_result", patched.original)
    assert ActionResult.execute_result is not patched
    motos = world.sfn.get_execution_history(executionArn=arn)["events"]
    monkeypatch.setattr(ActionResult, "execute_result", patched)

    assert plain == motos
    assert all(isinstance(event["timestamp"], (int, float)) for event in bodies[0]["events"])
    assert plain[-1]["timestamp"] - plain[0]["timestamp"] == dt.timedelta(seconds=90)


# ---------------------------------------------------------------------------- 17: one thread per execution


def test_given_moto_then_a_program_still_evaluates_on_a_thread_of_its_own_joined_with_its_timeout():
    from moto.stepfunctions.parser.asl.component.program.program import Program

    source = inspect.getsource(Program.eval)
    assert "threading.Thread(target=super().eval" in source and "join(timeout=timeout)" in source
    assert "timeout_seconds" in inspect.signature(Program.__init__).parameters


def _program_threads() -> int:
    from moto.stepfunctions.parser.asl.component.program.program import Program

    return sum(1 for thread in threading.enumerate()
               if isinstance(getattr(getattr(thread, "_target", None), "__self__", None), Program))


def test_given_a_machine_without_timeout_then_its_execution_runs_on_one_thread_and_one_with_a_timeout_keeps_motos(world):
    plain = world.start("plain", {"W": _wait(3600)}, "W")
    arn = world.sfn.create_state_machine(name="timed", roleArn=ROLE, definition=json.dumps(
        {"StartAt": "W", "TimeoutSeconds": 86400, "States": {"W": _wait(3600)}}))["stateMachineArn"]
    timed = world.sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    deadline = time.monotonic() + 10
    while world.waits.idle_until() is None:  # both asleep in their Wait
        assert time.monotonic() < deadline
        time.sleep(0.01)

    assert _program_threads() == 1  # the timed one's: moto's own path

    described = world.drive([plain, timed])
    assert {d["status"] for d in described.values()} == {"SUCCEEDED"}


# ---------------------------------------------------------------------------- 18: JSONPaths parsed once


def test_given_moto_then_extract_json_still_parses_through_its_module_parse():
    from moto.stepfunctions.parser.asl.utils import json_path

    assert "parse(path)" in inspect.getsource(json_path.extract_json)
    assert json_path.parse.__module__.startswith("jsonpath_ng")


def test_given_a_choice_evaluated_many_times_then_its_path_is_parsed_once_and_still_chooses_right(world):
    from moto.stepfunctions.parser.asl.utils import json_path

    machine = {"C": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 1, "Next": "Big"}], "Default": "Small"},
               "Big": {"Type": "Pass", "Result": {"size": "big"}, "End": True},
               "Small": {"Type": "Pass", "Result": {"size": "small"}, "End": True}}
    arn = world.sfn.create_state_machine(name="choose", roleArn=ROLE, definition=json.dumps({"StartAt": "C", "States": machine}))["stateMachineArn"]
    json_path.parse.cache_clear()
    runs = [world.sfn.start_execution(stateMachineArn=arn, name=f"n{n}", input=json.dumps({"n": n}))["executionArn"]
            for n in (0, 5, 1, 9)]

    described = world.drive(runs)

    assert [json.loads(described[r]["output"])["size"] for r in runs] == ["small", "big", "small", "big"]
    assert json_path.parse.cache_info().misses == 1 and json_path.parse.cache_info().hits == 3
