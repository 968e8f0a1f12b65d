"""Every patch of moto's internals lives here (moto is pinned; tests/test_moto_bridge.py fails
loudly when one of these names moves).

1. Lambda "simple" backend `invoke` -> our handlers, in-process (moto would echo the payload), on a
   few long-lived threads (warm containers: their boto3 clients are made once, not per execution).
2. Wait states, Timestamp waits, Retry back-offs and history timestamps -> the virtual clock, so
   a journey with `wait: 3d` runs in milliseconds and its trace shows the virtual times.
3. Lambda invokes reuse one boto3 client instead of building one per call.
4. `.waitForTaskToken` callbacks wait on the virtual clock too: SendTaskSuccess wakes them, and
   their TimeoutSeconds is virtual time (-> States.Timeout, the journey's on_timeout).
5. StartExecution on an alias ARN (`arn:...:stateMachine:NAME:live`, what the deployed functions
   use) runs the version the alias routes to (its heaviest route), as on AWS: moto answers
   StateMachineDoesNotExist for an alias qualifier. With no such alias (`journeys run` publishes no
   version) the machine itself is what `live` points at. The execution ARN is
   `arn:...:execution:NAME:<execution name>`, as on AWS.
6. Versions (a deploy publishes one and moves `live`; the ops world and `journeys test --publish`
   do so): moto 5.2.5 refuses StartExecution on a version ARN (its StateMachineVersion has no
   executions). Here a version ARN runs that version's definition and its executions are the
   machine's too (ListExecutions on the machine lists them all; DescribeExecution,
   GetExecutionHistory and StopExecution find them, as on AWS); ListExecutions on a version ARN
   lists that version's only; the version an execution runs is remembered (VirtualWaits.versions),
   as AWS's DescribeExecution reports `stateMachineVersionArn`. ListStateMachineVersions and
   PublishStateMachineVersion, which moto's responses lack, answer as AWS does.
7. StopExecution and SendTaskSuccess/Failure wake the sleepers at once, so a sleeping execution
   waits on a condition instead of polling: thousands can sleep in one world (`journeys test`).
   StopExecution answers once the execution has ended (ABORTED), as on AWS.
8. Each execution's ASL is parsed once per definition, not once per execution: moto's ANTLR parse
   costs ~60 ms of CPU and megabytes held for the execution's life, and the parsed program is
   stateless (every execution's state lives in its Environment), so executions of one definition
   share it (a rehearsal runs thousands).
9. DynamoDB single-item writes are atomic, as on AWS: moto checks a ConditionExpression and then
   writes, and two threads can interleave between the two (both "win" a conditional claim). One
   lock around moto's item writes makes each write one step, so "only once" tests mean something.
10. ListMapRuns / DescribeMapRun while some execution's interpreter has not started yet: moto
   raises AttributeError (that environment is None); here such an execution has no Map Run yet,
   as on AWS.
11. `moto.batch` is registered without running its __init__ (which loads all of EC2): start-up.
12. Metering (journeys.local.metering) sees every mocked request at moto's BotocoreStubber
   (`observed_requests`, at the end of this module).
13. The answers our handlers and the driver ask for most (DynamoDB item reads/writes, a history,
   a described execution) are written as JSON directly: moto's shape-driven serializer walks every
   attribute of every item through name-guessing pickers (~2 ms for an item of 20 attributes, most
   of a GetItem). Same body: plain values as they are, bytes base64, datetimes in epoch seconds
   truncated to milliseconds (a history's ISO 8601 event times too), no None, only the answer's own
   top-level members; anything else (or an error) goes through moto's serializer.
14. A Query on a table's own key reads that key's partition, as DynamoDB does: moto collects and
   sorts every item of the table for each query, which makes a rehearsal quadratic in its contacts.
15. moto lists a response class's methods (inspect.getmembers) on every request to find the action:
   listed once per class while the bridge is installed (our own additions to those classes come first).
16. Requests to moto's DynamoDB, Step Functions, Lambda and SES are not signed: moto checks no
   signature there (it reads the region from the URL, and the default account when no Authorization
   header is there), and SigV4 was ~0.6 ms of a ~1.5 ms GetItem. S3 (where moto answers an unsigned
   request as an anonymous one) and presigned URLs are signed as before.
17. A state machine without TimeoutSeconds (every journey's) runs on its execution's own thread:
   moto starts a second thread per execution only to join it with that timeout, so a rehearsal of
   a thousand waiting contacts held two thousand threads (their stacks are most of its memory).
18. moto's `extract_json` (Choice comparisons, the context object's paths) parses its JSONPath with
   jsonpath_ng's PLY parser on every evaluation (~0.4 ms each): parsed once per path. A parsed path
   is not changed by `find`, so executions share it.

How virtual time moves (VirtualWaits): a Wait state or a callback registers a sleeper (its
execution, its deadline). The clock stands still while any running execution is busy; when every
running execution sleeps, the driver (LocalStack.wait) moves the clock to the earliest deadline,
or to the next scheduled outside event (`journeys run --event-at`), whichever comes first. Several
executions (a contact in two journeys, start_journey, exit_journey) thus share one consistent
timeline, and the order of events is the order they would have on AWS.
"""

from __future__ import annotations

import base64
import contextvars
import datetime as dt
import functools
import json
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import moto


def _batch_without_ec2() -> None:
    """11. moto's Step Functions interpreter imports `moto.batch.utils` (JobStatus, for batch Tasks we
    never run); `moto.batch`'s __init__ loads its models, which load all of moto's EC2 (about 1 s of
    every `journeys run`'s start-up). The package is registered without that __init__: its submodules
    import as usual, and a name of the package itself (batch_backends) loads the models on first use."""
    import importlib
    import importlib.util
    import sys
    import types

    if "moto.batch" in sys.modules:
        return
    spec = importlib.util.find_spec("moto.batch")
    package = types.ModuleType("moto.batch")
    package.__spec__, package.__path__, package.__file__ = spec, list(spec.submodule_search_locations), spec.origin
    package.__package__ = "moto.batch"

    def load_on_use(name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(importlib.import_module("moto.batch.models"), name)

    package.__getattr__ = load_on_use
    sys.modules["moto.batch"] = package


_batch_without_ec2()

from moto.awslambda_simple.models import LambdaSimpleBackend  # noqa: E402
from moto.dynamodb.models import DynamoDBBackend  # noqa: E402
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl  # noqa: E402
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils  # noqa: E402
from moto.stepfunctions.parser.api import ExecutionStatus  # noqa: E402
from moto.stepfunctions.parser.api import ResourceNotFound as MapRunNotFound  # noqa: E402
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
    StateTaskServiceCallback,
)
from moto.stepfunctions.parser.asl.component.state.wait.wait_function import timestamp as timestamp_wait  # noqa: E402
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction  # noqa: E402
from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackOutcomeTimedOut  # noqa: E402
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager  # noqa: E402
from moto.stepfunctions.parser.models import StepFunctionsParserBackend, stepfunctions_parser_backends  # noqa: E402
from moto.stepfunctions.parser.utils import TMP_THREADS  # noqa: E402
from moto.stepfunctions.models import StateMachine, StateMachineVersion, StepFunctionBackend  # noqa: E402
from moto.stepfunctions.responses import StepFunctionResponse  # noqa: E402
from botocore.signers import RequestSigner  # noqa: E402
from moto.core import responses as moto_responses  # noqa: E402
from moto.core.responses import ActionResult  # noqa: E402
from moto.core.serialize import TimestampSerializer  # noqa: E402
from moto.dynamodb.models.table import Table as DynamoDBTable  # noqa: E402
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker  # noqa: E402
from moto.stepfunctions.parser.asl.component.program.program import Program  # noqa: E402
from moto.stepfunctions.parser.asl.utils import json_path as moto_json_path  # noqa: E402

from journeys.clock import VirtualClock  # noqa: E402

PINNED_MOTO = "5.2.5"
MOCK_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}

Dispatch = Callable[[str, dict[str, Any]], Any]
STOP_SETTLE_SECONDS = 5.0  # wall clock: how long a StopExecution waits for moto's worker to end the execution
HANDLER_THREADS = 4  # warm "containers" running our handlers (patch 1); CPU is the limit, not threads
_ACTIVE_WAITS: list["VirtualWaits"] = []  # the bridge's waits while installed (end_all_executions wakes them)
DYNAMODB_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")
UNSIGNED_SERVICES = {"dynamodb", "states", "lambda", "ses"}  # patch 16, by signing name
PLAIN_JSON_ANSWERS = {  # patch 13: (service, operation) answered as plain JSON
    "dynamodb": {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem",
                 "TransactGetItems", "TransactWriteItems", "BatchWriteItem"},
    "stepfunctions": {"GetExecutionHistory", "DescribeExecution", "StartExecution"},
}


def function_name(arn_or_name: str) -> str:
    """`arn:aws:lambda:r:a:function:NAME[:qualifier]` or NAME -> NAME."""
    parts = arn_or_name.split(":")
    return parts[6] if len(parts) >= 7 and parts[5] == "function" else arn_or_name


def unaliased(state_machine_arn: str) -> str:
    """`arn:...:stateMachine:NAME:ALIAS` -> `arn:...:stateMachine:NAME`; other ARNs unchanged
    (unqualified ones, and version ARNs, whose qualifier is a number)."""
    parts = state_machine_arn.split(":")
    if len(parts) == 8 and parts[5] == "stateMachine" and not parts[7].isdigit():
        return ":".join(parts[:7])
    return state_machine_arn


def version_parts(state_machine_arn: str) -> tuple[str, str] | None:
    """`arn:...:stateMachine:NAME:QUALIFIER` -> (machine ARN, qualifier); None when unqualified."""
    parts = state_machine_arn.split(":")
    if len(parts) == 8 and parts[5] == "stateMachine":
        return ":".join(parts[:7]), parts[7]
    return None


def routed_version(backend, state_machine_arn: str) -> StateMachineVersion | None:
    """The published version an alias or version ARN runs; None for the machine itself (also an
    alias that was never created: locally `live` then means the machine, see 5.)."""
    qualified = version_parts(state_machine_arn)
    if qualified is None:
        return None
    machine_arn, qualifier = qualified
    machine = next((m for m in backend.state_machines if m.arn == machine_arn), None)
    if machine is None:
        return None
    if qualifier.isdigit():
        return machine.versions.get(int(qualifier))
    alias = machine.aliases.get(qualifier)
    if alias is None:
        return None
    routes = sorted(alias.routing_configuration, key=lambda route: -int(route.get("weight", 0)))
    return backend.describe_state_machine(routes[0]["stateMachineVersionArn"]) if routes else None


def runnable_version(machine: StateMachine, version: StateMachineVersion) -> StateMachineVersion:
    """Give a version what moto's start_execution needs of a machine; its executions are the
    machine's own list (names are unique per machine, across versions, as on AWS)."""
    version.executions = machine.executions
    version.backend = machine.backend
    version._handle_name_input_idempotency = StateMachine._handle_name_input_idempotency.__get__(version)
    return version


def execution_of(env) -> str:
    """The execution ARN an interpreter environment (or one of its frames) belongs to."""
    return env.states.context_object.context_object_data["Execution"]["Id"]


class _Sleeper:
    __slots__ = ("execution", "deadline", "woken")

    def __init__(self, execution: str, deadline: dt.datetime, woken: Callable[[], bool]):
        self.execution, self.deadline, self.woken = execution, deadline, woken


class VirtualWaits:
    """Sleeping executions on the virtual clock; see the module docstring."""

    # A safety net only: whatever ends a sleep (the clock, StopExecution, a task token's outcome)
    # notifies the condition (patch 7); a sleeper that misses a wake-up looks again this often.
    POLL_SECONDS = 1.0

    def __init__(self, clock: VirtualClock, running: Callable[[], dict[str, Any]]):
        self.clock = clock
        self._running = running  # execution ARN -> moto Execution, for every RUNNING execution
        self._sleepers: dict[int, _Sleeper] = {}
        self._lock = threading.Condition()
        self._executions: dict[str, Any] = {}  # execution ARN -> moto Execution (is_running)
        self.versions: dict[str, int] = {}  # execution ARN -> the state machine version it runs (patch 6)

    def notify(self) -> None:
        """Something a sleeper waits for may have happened: let every sleeper look."""
        with self._lock:
            self._lock.notify_all()

    def running(self) -> dict[str, Any]:
        return self._running()

    def is_running(self, execution: str) -> bool:
        # Each sleeper asks this on every wake-up: look at its own Execution object, not at the list
        # of every execution the backend holds (O(N) per sleeper would be O(N^2) per clock move).
        known = self._executions.get(execution)
        if known is None:
            running = self._running()
            if execution not in running:
                return False
            known = self._executions[execution] = running[execution]
        return known.exec_status == ExecutionStatus.RUNNING

    def sleep(self, execution: str, seconds: float, woken: Callable[[], bool]) -> bool:
        """Block until `seconds` of virtual time have passed (True) or woken() holds (False)."""
        sleeper = _Sleeper(execution, self.clock.now() + dt.timedelta(seconds=max(seconds, 0)), woken)
        key = id(sleeper)
        with self._lock:
            self._sleepers[key] = sleeper
        try:
            while True:
                with self._lock:
                    if woken():
                        return False
                    if self.clock.now() >= sleeper.deadline:
                        return True
                    self._lock.wait(self.POLL_SECONDS)
        finally:
            with self._lock:
                self._sleepers.pop(key, None)

    def idle_until(self) -> dt.datetime | None:
        """When every running execution sleeps: the earliest deadline among them. None while any
        is busy (or about to wake), or when nothing runs."""
        running = self._running()
        if not running:
            return None
        with self._lock:
            now = self.clock.now()
            sleeping: dict[str, dt.datetime] = {}
            for sleeper in list(self._sleepers.values()):
                if sleeper.execution not in running:
                    continue  # stopped meanwhile; it notices on its next poll
                if sleeper.deadline <= now or sleeper.woken():
                    return None
                previous = sleeping.get(sleeper.execution)
                sleeping[sleeper.execution] = sleeper.deadline if previous is None else min(previous, sleeper.deadline)
            if set(running) - set(sleeping):
                return None
            return min(sleeping.values())

    def advance_to(self, moment: dt.datetime) -> None:
        with self._lock:
            if moment > self.clock.now():  # otherwise no sleeper's deadline can have come
                self.clock.advance_to(moment)
                self._lock.notify_all()

    def advance_and_do(self, moment: dt.datetime, action: Callable[[], Any]) -> None:
        """Move the clock to `moment` and do `action` there before any sleeper due then wakes: a hard
        stop at T ends the executions whose wait ends at T before they send anything."""
        with self._lock:  # a sleeper looks at the clock under this (reentrant) lock
            moved = moment > self.clock.now()
            self.clock.advance_to(moment)
            action()  # a StopExecution in it notifies by itself (patch 7)
            if moved:  # a thousand arrivals at one moment must not wake every sleeper a thousand times
                self._lock.notify_all()

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.clock.advance(seconds)
            self._lock.notify_all()


def end_all_executions(timeout: float = 5.0, cause: str = "the local run ended") -> list:
    """Stop every execution whose moto thread still runs and wait for the threads to end; returns
    the threads still alive after `timeout` (none, normally).

    A world that ends while executions wait must not let them go on (and send email) in the next
    world. Stopping goes through each thread's worker environment, not the StopExecution API nor
    the backend's list: when a name is started twice, moto keeps only the second Execution object,
    and a thread that has just started has no environment yet (so we look again until it ends).
    """
    deadline = time.monotonic() + timeout
    while True:
        alive = [thread for thread in TMP_THREADS if thread.is_alive()]
        for thread in alive:
            worker = getattr(getattr(thread, "_target", None), "__self__", None)
            env = getattr(worker, "env", None)
            if env is not None and env.is_running():
                env.set_stop(stop_date=dt.datetime.now(dt.timezone.utc), cause=cause, error="Local.RunEnded")
        for waits in list(_ACTIVE_WAITS):
            waits.notify()
        if not alive or time.monotonic() > deadline:
            TMP_THREADS[:] = alive
            return alive
        alive[0].join(0.01)


def running_executions(account: str, region: str) -> Callable[[], dict[str, Any]]:
    def running() -> dict[str, Any]:
        # Not backend._get_executions(RUNNING): moto lists an Execution before it has a status (None), and
        # reading `.status` then raises - a start_journey step starts one while this is being read.
        backend = stepfunctions_parser_backends[account][region]
        return {e.exec_arn: e for sm in list(backend.state_machines) for e in list(sm.executions)
                if e.exec_status == ExecutionStatus.RUNNING}

    return running


class _NotPlain(Exception):
    """A value moto's serializer must handle (a model object, a shape-specific type)."""


def plain_json(value: Any) -> Any:
    """Patch 13: a result as moto's JSON serializer writes it, for plain values; _NotPlain otherwise."""
    if isinstance(value, dict):
        return {key: plain_json(item) for key, item in value.items() if item is not None}
    if isinstance(value, (list, tuple)):
        return [plain_json(item) for item in value]
    if isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dt.datetime):
        return TimestampSerializer._timestamp_unixtimestamp(value)
    raise _NotPlain(type(value).__name__)


def _epoch_seconds(timestamp: Any) -> float:
    """A history event's time as the wire carries it: moto keeps ISO 8601 text, which its serializer
    parses with dateutil (most of a history's cost in a rehearsal); the same value, parsed at once."""
    if isinstance(timestamp, str):
        try:
            timestamp = dt.datetime.fromisoformat(timestamp)
        except ValueError:
            raise _NotPlain("timestamp") from None
    if not isinstance(timestamp, dt.datetime):
        raise _NotPlain("timestamp")
    return plain_json(timestamp)


def plain_json_answer(original):
    def execute_result(self, context):
        operations = PLAIN_JSON_ANSWERS.get(context.service_model.service_name, ())
        if context.operation_model.name in operations and not isinstance(self.result, Exception):
            try:
                result = plain_json(self.result)
                members = getattr(context.operation_model.output_shape, "members", None)
                if isinstance(result, dict) and members is not None:  # moto adds keys its serializer leaves out
                    result = {key: value for key, value in result.items() if key in members}
                if context.operation_model.name == "GetExecutionHistory":
                    for event in result.get("events", ()):
                        event["timestamp"] = _epoch_seconds(event["timestamp"])
                body = json.dumps(result)
            except _NotPlain:
                return original(self, context)
            json_version = context.service_model.metadata.get("jsonVersion", "1.0")
            return 200, {"Content-Type": f"application/x-amz-json-{json_version}"}, body
        return original(self, context)
    execute_result.original = original  # what a test compares the answers with
    return execute_result


def program_on_its_thread(original_eval):
    """Patch 17: Program.eval without a second thread when there is no timeout to enforce."""
    def eval(self, env):
        if self.timeout_seconds is not None:
            return original_eval(self, env)
        env.next_state_name = self.start_at.start_at_name
        return super(Program, self).eval(env)
    return eval


def unsigned_for_moto(original_sign):
    """Patch 16: standard requests to UNSIGNED_SERVICES go unsigned."""
    def sign(self, operation_name, request, region_name=None, signing_type="standard", *args, **kwargs):
        if signing_type == "standard" and getattr(self, "_signing_name", None) in UNSIGNED_SERVICES:
            return None
        return original_sign(self, operation_name, request, region_name, signing_type, *args, **kwargs)
    return sign


_QUERIED_PARTITION: contextvars.ContextVar = contextvars.ContextVar("queried_partition", default=None)


def partition_query(original_query, original_all_items):
    """Patch 14: while a Query on the table's own key runs, `all_items` is that key's partition."""
    def query(self, hash_key, *args, **kwargs):
        index_name = kwargs.get("index_name") if len(args) < 7 else args[6]
        if index_name or hash_key is None:
            return original_query(self, hash_key, *args, **kwargs)
        token = _QUERIED_PARTITION.set((self, hash_key))
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            _QUERIED_PARTITION.reset(token)

    def all_items(self):
        queried = _QUERIED_PARTITION.get()
        if queried is None or queried[0] is not self:
            return original_all_items(self)
        partition = self.items.get(queried[1])
        if partition is None:
            return []
        return list(partition.values()) if self.range_key_attr else [partition]
    return query, all_items


@contextmanager
def bridged(clock: VirtualClock, dispatch: Dispatch, account: str = "123456789012", region: str = "us-east-1"):
    """Install the patches for the duration of a run; everything is restored afterwards.
    Yields the VirtualWaits whose driver moves the clock (LocalStack.wait)."""
    if moto.__version__ != PINNED_MOTO:
        raise RuntimeError(f"journeys' moto bridge is written for moto {PINNED_MOTO}, found {moto.__version__}")

    def invoke(self, function_name_or_arn, qualifier, body, headers, response_headers):
        payload = json.loads(body) if body else {}
        try:
            # in the invoking thread's context: what it knows (the metered execution) the handler knows
            result = handler_pool.submit(contextvars.copy_context().run, dispatch, function_name(function_name_or_arn), payload).result()
        except Exception as error:  # reported as a Lambda function error, as AWS would
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({
                "errorType": type(error).__name__, "errorMessage": str(error),
                "stackTrace": traceback.format_exception(error)[-3:],
            }).encode()
        return json.dumps(result).encode()

    waits = VirtualWaits(clock, running_executions(account, region))
    # Our handlers run on a few long-lived threads, as a warm Lambda container would: each moto
    # execution has a thread of its own, and handlers run there would build their boto3 clients
    # (journeys.aws keeps them per thread) again for every execution: CPU and megabytes per contact.
    handler_pool = ThreadPoolExecutor(max_workers=HANDLER_THREADS, thread_name_prefix="journeys-lambda")
    _ACTIVE_WAITS.append(waits)

    # moto builds a new boto3 client for every Lambda invoke (~20 ms each); one per region is enough.
    original_client_for = lambda_eval_utils.boto_client_for
    lambda_clients: dict[tuple[str, str], Any] = {}
    clients_lock = threading.Lock()

    def lambda_client_for(region, service, state_credentials=None):
        with clients_lock:
            key = (region, service)
            if key not in lambda_clients:
                lambda_clients[key] = original_client_for(region=region, service=service, state_credentials=state_credentials)
            return lambda_clients[key]

    def wait_interval(self, env, wait_seconds):
        if wait_seconds > 0:
            execution = execution_of(env)  # a frame's own program state may never see a StopExecution
            waits.sleep(execution, wait_seconds, woken=lambda: not env.is_running() or not waits.is_running(execution))

    original_callback_wait = StateTaskServiceCallback._eval_wait_for_task_token

    def eval_wait_for_task_token(self, env, timeout_seconds, callback_endpoint, heartbeat_endpoint):
        if heartbeat_endpoint is not None:  # the compiler never emits HeartbeatSeconds
            return original_callback_wait(self, env, timeout_seconds, callback_endpoint, heartbeat_endpoint)
        execution = execution_of(env)  # a frame's own program state never sees a StopExecution
        waits.sleep(execution, timeout_seconds,
                    woken=lambda: callback_endpoint.get_outcome() is not None or not env.is_running()
                    or not waits.is_running(execution))
        outcome = callback_endpoint.get_outcome()
        return outcome if outcome is not None else CallbackOutcomeTimedOut(callback_id=callback_endpoint.callback_id)

    original_start_execution = StepFunctionsParserBackend.start_execution

    def start_execution(self, state_machine_arn, *args, **kwargs):
        version = routed_version(self, state_machine_arn)
        if version is None:
            return original_start_execution(self, unaliased(state_machine_arn), *args, **kwargs)
        machine = self.describe_state_machine(version.source_arn)
        execution = original_start_execution(self, runnable_version(machine, version).arn, *args, **kwargs)
        waits.versions.setdefault(execution.exec_arn, version.version)  # DescribeExecution's stateMachineVersionArn
        return execution

    original_list_executions = StepFunctionBackend.list_executions

    def list_executions(self, state_machine_arn, status_filter=None, **pages):
        version = routed_version(self, state_machine_arn) if version_parts(state_machine_arn) else None
        if version is None or not version_parts(state_machine_arn)[1].isdigit():
            return original_list_executions(self, state_machine_arn, status_filter=status_filter, **pages)
        machine = self.describe_state_machine(version.source_arn)
        mine = [e for e in machine.executions if getattr(e.state_machine, "arn", None) == version.arn
                and (not status_filter or e.status == status_filter)]
        return sorted(mine, key=lambda e: e.start_date, reverse=True), None

    def publish_state_machine_version(self):
        machine = self.stepfunction_backend.describe_state_machine(self._get_param("stateMachineArn"))
        machine.publish(self._get_param("description"))
        version = machine.latest_version
        return ActionResult({"creationDate": version.creation_date, "stateMachineVersionArn": version.arn})

    original_entrypoint = ExecutionWorker._get_evaluation_entrypoint
    programs: dict[str, Any] = {}
    programs_lock = threading.Lock()

    def evaluation_entrypoint(self):
        definition = self._evaluation_details.state_machine_details.definition
        with programs_lock:  # held while parsing: executions started together parse their definition once
            program = programs.get(definition)
            if program is None:
                program = programs[definition] = original_entrypoint(self)
        return program

    original_stop_execution = StepFunctionsParserBackend.stop_execution

    def settled(stop):
        """AWS's StopExecution answers once the execution is ABORTED; moto's worker thread ends it a
        moment later: wait for that (bounded), so a DescribeExecution right after says ABORTED. An
        execution stopped the instant it starts (moto: its worker has no environment yet, an
        AttributeError) is stopped once it has one, as AWS stops an execution at any moment."""
        def call(self, *args, **kwargs):
            deadline = time.monotonic() + STOP_SETTLE_SECONDS
            while True:
                try:
                    execution = stop(self, *args, **kwargs)
                    break
                except AttributeError:  # moto: the worker has no environment yet (it is still starting)
                    if time.monotonic() >= deadline:
                        raise
                    time.sleep(0.002)
            while getattr(execution, "exec_status", None) == ExecutionStatus.RUNNING and time.monotonic() < deadline:
                time.sleep(0.002)
            return execution

        return call
    original_task_success = StepFunctionsParserBackend.send_task_success
    original_task_failure = StepFunctionsParserBackend.send_task_failure

    def waking(original):
        def call(self, *args, **kwargs):
            try:
                return original(self, *args, **kwargs)
            finally:
                waits.notify()

        return call

    class _VirtualDatetime(dt.datetime):
        @classmethod
        def now(cls, tz=None):  # moto compares a naive UTC timestamp with naive now()
            moment = clock.now()
            return moment.astimezone(tz) if tz else moment.replace(tzinfo=None)

    class _VirtualDatetimeModule:
        datetime = _VirtualDatetime

    class _VirtualTime:
        @staticmethod
        def sleep(seconds):  # Retry back-off: rare locally, the whole timeline moves on
            waits.advance(seconds)

        @staticmethod
        def time():
            return clock.now().timestamp()

    original_list_map_runs = StepFunctionsParserBackend.list_map_runs

    def list_map_runs(self, execution_arn):
        if getattr(self.describe_execution(execution_arn=execution_arn).exec_worker, "env", None) is None:
            return {"mapRuns": []}
        return original_list_map_runs(self, execution_arn)

    original_describe_map_run = StepFunctionsParserBackend.describe_map_run

    def describe_map_run(self, map_run_arn):
        for execution in self._get_executions():
            env = getattr(execution.exec_worker, "env", None)
            record = env.map_run_record_pool_manager.get(map_run_arn) if env is not None else None
            if record is not None:
                return record.describe()
        raise MapRunNotFound()

    def list_state_machine_versions(self):
        machine = self.stepfunction_backend.describe_state_machine(self._get_param("stateMachineArn"))
        versions = sorted(machine.versions.values(), key=lambda v: -v.version)
        return ActionResult({"stateMachineVersions": [
            {"stateMachineVersionArn": v.arn, "creationDate": v.creation_date} for v in versions]})

    item_writes_lock = threading.RLock()

    def atomic(method):
        def write(self, *args, **kwargs):
            with item_writes_lock:
                return method(self, *args, **kwargs)
        return write

    saved = [(DynamoDBBackend, name, getattr(DynamoDBBackend, name)) for name in DYNAMODB_WRITES]
    for name in DYNAMODB_WRITES:
        setattr(DynamoDBBackend, name, atomic(getattr(DynamoDBBackend, name)))
    saved += [(ActionResult, "execute_result", ActionResult.execute_result),
              (DynamoDBTable, "query", DynamoDBTable.query), (DynamoDBTable, "all_items", DynamoDBTable.all_items)]
    ActionResult.execute_result = plain_json_answer(ActionResult.execute_result)
    saved += [(moto_responses, "method_names_from_class", moto_responses.method_names_from_class),
              (RequestSigner, "sign", RequestSigner.sign)]
    RequestSigner.sign = unsigned_for_moto(RequestSigner.sign)
    saved.append((Program, "eval", Program.eval))
    Program.eval = program_on_its_thread(Program.eval)
    saved.append((moto_json_path, "parse", moto_json_path.parse))
    moto_json_path.parse = functools.lru_cache(maxsize=4096)(moto_json_path.parse)
    DynamoDBTable.query, DynamoDBTable.all_items = partition_query(DynamoDBTable.query, DynamoDBTable.all_items)
    saved += [
        (LambdaSimpleBackend, "invoke", LambdaSimpleBackend.invoke),
        (WaitFunction, "_wait_interval", WaitFunction._wait_interval),
        (timestamp_wait, "datetime", timestamp_wait.datetime),
        (retrier_decl, "time", retrier_decl.time),
        (EventManager, "_get_current_timestamp", EventManager.__dict__["_get_current_timestamp"]),
        (StateTaskServiceCallback, "_eval_wait_for_task_token", original_callback_wait),
        (lambda_eval_utils, "boto_client_for", original_client_for),
        (StepFunctionsParserBackend, "start_execution", original_start_execution),
        (StepFunctionBackend, "list_executions", original_list_executions),
        (StepFunctionsParserBackend, "list_map_runs", original_list_map_runs),
        (StepFunctionsParserBackend, "describe_map_run", original_describe_map_run),
        (StepFunctionResponse, "list_state_machine_versions", getattr(StepFunctionResponse, "list_state_machine_versions", None)),
        (StepFunctionsParserBackend, "stop_execution", original_stop_execution),
        (StepFunctionResponse, "publish_state_machine_version", getattr(StepFunctionResponse, "publish_state_machine_version", None)),
        (ExecutionWorker, "_get_evaluation_entrypoint", original_entrypoint),
        (StepFunctionsParserBackend, "send_task_success", original_task_success),
        (StepFunctionsParserBackend, "send_task_failure", original_task_failure),
    ]
    LambdaSimpleBackend.invoke = invoke
    WaitFunction._wait_interval = wait_interval
    timestamp_wait.datetime = _VirtualDatetimeModule
    retrier_decl.time = _VirtualTime
    EventManager._get_current_timestamp = staticmethod(clock.now)
    StateTaskServiceCallback._eval_wait_for_task_token = eval_wait_for_task_token
    lambda_eval_utils.boto_client_for = lambda_client_for
    StepFunctionsParserBackend.start_execution = start_execution
    StepFunctionBackend.list_executions = list_executions
    StepFunctionsParserBackend.list_map_runs = list_map_runs
    StepFunctionsParserBackend.describe_map_run = describe_map_run
    StepFunctionResponse.list_state_machine_versions = list_state_machine_versions
    if not hasattr(StepFunctionResponse, "publish_state_machine_version"):  # were moto to implement it, its own would answer
        StepFunctionResponse.publish_state_machine_version = publish_state_machine_version
    StepFunctionsParserBackend.stop_execution = settled(waking(original_stop_execution))
    ExecutionWorker._get_evaluation_entrypoint = evaluation_entrypoint
    StepFunctionsParserBackend.send_task_success = waking(original_task_success)
    StepFunctionsParserBackend.send_task_failure = waking(original_task_failure)
    moto_responses.method_names_from_class = functools.lru_cache(maxsize=None)(moto_responses.method_names_from_class)
    try:
        yield waits
    finally:
        for owner, name, original in saved:
            if original is None:  # added here, not moto's
                delattr(owner, name)
            else:
                setattr(owner, name, original)
        _ACTIVE_WAITS.remove(waits)
        handler_pool.shutdown(wait=False)



# ---------------------------------------------------------------------------- metering (journeys.local.metering)
# Every mocked AWS request passes moto's BotocoreStubber (the `before-send` handler every botocore
# client gets), whatever client or thread made it: the one place to see what a world did, with the
# request and response bodies as they travel on the wire.

Observer = Callable[[str, str, Any, Callable[[], Any]], Any]


@contextmanager
def observed_requests(observe: Observer):
    """While active, every mocked request goes through observe(service, operation, request, send):
    `send()` performs it and returns moto's response (an AWSResponse); observe returns that response.
    Observers nest (last in, first out)."""
    from moto.core.botocore_stubber import BotocoreStubber

    inner = BotocoreStubber.__call__

    def call(self, event_name, request, **kwargs):
        if not self.enabled:
            return inner(self, event_name, request, **kwargs)
        _, service, operation = (event_name.split(".", 2) + ["", ""])[:3]  # before-send.<service>.<Operation>
        return observe(service, operation, request, lambda: inner(self, event_name, request, **kwargs))

    BotocoreStubber.__call__ = call
    try:
        yield
    finally:
        BotocoreStubber.__call__ = inner


def dynamodb_item_size(table_name: str, key: dict[str, Any], account: str = "123456789012",
                       region: str = "us-east-1") -> int | None:
    """Bytes of the stored item with this key (wire-format key, e.g. {"id": {"S": "x"}}) as DynamoDB
    sizes it (attribute names + values), read from moto's backend without a request; None if absent."""
    from moto.dynamodb.models import dynamodb_backends

    try:
        item = dynamodb_backends[account][region].get_item(table_name, key)
    except Exception:  # noqa: BLE001 - no such table, a malformed key: the request itself says so
        return None
    return None if item is None else item.size()


def wire_item_size(attributes: dict[str, Any]) -> int:
    """Bytes of a wire-format item (as a response carries it), by the same rules as a stored one."""
    from moto.dynamodb.models.dynamo_type import DynamoType, bytesize

    return sum(bytesize(name) + DynamoType(value).size() for name, value in attributes.items())


def dynamodb_key_names(table_name: str, account: str = "123456789012", region: str = "us-east-1") -> list[str] | None:
    """The key attribute names of a table in moto's backend (hash, then range), None if no such table."""
    from moto.dynamodb.models import dynamodb_backends

    try:
        table = dynamodb_backends[account][region].get_table(table_name)
    except Exception:  # noqa: BLE001 - no such table: the request itself says so
        return None
    return [name for name in (table.hash_key_attr, table.range_key_attr) if name]
