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
6. An execution started on a version (`:NAME:3`, or through the alias) is kept with its state
   machine, where DescribeExecution, GetExecutionHistory and StopExecution look for it (moto files
   it under the version object and then cannot find it); the version it runs is remembered
   (VirtualWaits.versions), as AWS's DescribeExecution reports `stateMachineVersionArn`.
7. StopExecution and SendTaskSuccess/Failure wake the sleepers at once, so a sleeping execution
   waits on a condition instead of polling: thousands can sleep in one world (`journeys test`).
8. PublishStateMachineVersion, which moto's responses lack (its backend can publish: CreateStateMachine
   and UpdateStateMachine with `publish`), answers as AWS does: the new version's ARN. The rehearsal
   (`journeys test --publish`) publishes versions and moves the `live` alias as a deploy does.
9. Each execution's ASL is parsed once per definition, not once per execution: moto's ANTLR parse
   costs ~60 ms of CPU and megabytes held for the execution's life, and the parsed program is
   stateless (every execution's state lives in its Environment), so executions of one definition
   share it (a rehearsal runs thousands).
10. DynamoDB single-item writes are atomic, as on AWS: moto checks a ConditionExpression and then
   writes, and two threads can interleave between the two (both "win" a conditional claim). One
   lock around moto's item writes makes each write one step, so "only once" tests mean something.

How virtual time moves (VirtualWaits): a Wait state or a callback registers a sleeper (its
execution, its deadline). The clock stands still while any running execution is busy; when every
running execution sleeps, the driver (LocalStack.wait) moves the clock to the earliest deadline,
or to the next scheduled outside event (`journeys run --event-at`), whichever comes first. Several
executions (a contact in two journeys, start_journey, exit_journey) thus share one consistent
timeline, and the order of events is the order they would have on AWS.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import moto
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.dynamodb.models import DynamoDBBackend
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.api import ExecutionStatus
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
    StateTaskServiceCallback,
)
from moto.stepfunctions.parser.asl.component.state.wait.wait_function import timestamp as timestamp_wait
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackOutcomeTimedOut
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager
from moto.stepfunctions.parser.models import StepFunctionsParserBackend, stepfunctions_parser_backends
from moto.stepfunctions.parser.utils import TMP_THREADS
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.core.responses import ActionResult
from moto.stepfunctions.responses import StepFunctionResponse

from journeys.clock import VirtualClock

PINNED_MOTO = "5.2.5"
MOCK_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}

Dispatch = Callable[[str, dict[str, Any]], Any]
HANDLER_THREADS = 4  # warm "containers" running our handlers (patch 1); CPU is the limit, not threads
_ACTIVE_WAITS: list["VirtualWaits"] = []  # the bridge's waits while installed (end_all_executions wakes them)
DYNAMODB_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")


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


def version_number(state_machine_arn: str) -> int | None:
    """`arn:...:stateMachine:NAME:3` -> 3; None for any other ARN."""
    parts = state_machine_arn.split(":")
    return int(parts[7]) if len(parts) == 8 and parts[5] == "stateMachine" and parts[7].isdigit() else None


def unversioned(state_machine_arn: str) -> str:
    """`arn:...:stateMachine:NAME:QUALIFIER` -> `arn:...:stateMachine:NAME`."""
    return ":".join(state_machine_arn.split(":")[:7])


def routed(backend, state_machine_arn: str) -> str:
    """Where StartExecution on this ARN runs: an alias ARN -> the version ARN of its heaviest route
    (the machine itself when moto knows no such alias); any other ARN unchanged."""
    machine_arn = unaliased(state_machine_arn)
    if machine_arn == state_machine_arn:
        return state_machine_arn
    machine = next((sm for sm in backend.state_machines if sm.arn == machine_arn), None)
    alias = machine.aliases.get(state_machine_arn.split(":")[7]) if machine is not None else None
    if alias is None:
        return machine_arn
    route = max(alias.routing_configuration, key=lambda r: int(r.get("weight", 100)))
    return route["stateMachineVersionArn"]


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
        backend = stepfunctions_parser_backends[account][region]
        return {e.exec_arn: e for e in backend._get_executions(ExecutionStatus.RUNNING)}

    return running


@contextmanager
def bridged(clock: VirtualClock, dispatch: Dispatch, account: str = "123456789012", region: str = "us-east-1"):
    """Install the patches for the duration of a run; everything is restored afterwards.
    Yields the VirtualWaits whose driver moves the clock (LocalStack.wait)."""
    if moto.__version__ != PINNED_MOTO:
        raise RuntimeError(f"journeys' moto bridge is written for moto {PINNED_MOTO}, found {moto.__version__}")

    def invoke(self, function_name_or_arn, qualifier, body, headers, response_headers):
        payload = json.loads(body) if body else {}
        try:
            result = handler_pool.submit(dispatch, function_name(function_name_or_arn), payload).result()
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

    start_lock = threading.Lock()

    def start_execution(self, state_machine_arn, name=None, execution_input=None, trace_header=None):
        target = routed(self, state_machine_arn)
        version = version_number(target)
        if version is None:
            return original_start_execution(self, target, name, execution_input, trace_header)
        # moto cannot start a version object (it has no backend, no name idempotency) and would file
        # the execution where no API finds it: start the machine itself, its definition being the
        # version's for the instant StartExecution snapshots it (each execution runs a deep copy).
        definition = self.describe_state_machine(target).definition
        machine = self.describe_state_machine(unversioned(target))
        with start_lock:
            current, machine.definition = machine.definition, definition
            try:
                execution = original_start_execution(self, machine.arn, name, execution_input, trace_header)
            finally:
                machine.definition = current
        waits.versions.setdefault(execution.exec_arn, version)
        return execution

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
        with programs_lock:
            program = programs.get(definition)
        if program is None:
            program = original_entrypoint(self)
            with programs_lock:
                programs.setdefault(definition, program)
        return program

    original_stop_execution = StepFunctionsParserBackend.stop_execution
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

    item_writes_lock = threading.RLock()

    def atomic(method):
        def write(self, *args, **kwargs):
            with item_writes_lock:
                return method(self, *args, **kwargs)
        return write

    saved = [(DynamoDBBackend, name, getattr(DynamoDBBackend, name)) for name in DYNAMODB_WRITES]
    for name in DYNAMODB_WRITES:
        setattr(DynamoDBBackend, name, atomic(getattr(DynamoDBBackend, name)))
    saved += [
        (LambdaSimpleBackend, "invoke", LambdaSimpleBackend.invoke),
        (WaitFunction, "_wait_interval", WaitFunction._wait_interval),
        (timestamp_wait, "datetime", timestamp_wait.datetime),
        (retrier_decl, "time", retrier_decl.time),
        (EventManager, "_get_current_timestamp", EventManager.__dict__["_get_current_timestamp"]),
        (StateTaskServiceCallback, "_eval_wait_for_task_token", original_callback_wait),
        (lambda_eval_utils, "boto_client_for", original_client_for),
        (StepFunctionsParserBackend, "start_execution", original_start_execution),
        (StepFunctionsParserBackend, "stop_execution", original_stop_execution),
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
    publish_was_missing = not hasattr(StepFunctionResponse, "publish_state_machine_version")
    if publish_was_missing:  # were moto to implement it, its own would answer (a test pins that it lacks it)
        StepFunctionResponse.publish_state_machine_version = publish_state_machine_version
    StepFunctionsParserBackend.stop_execution = waking(original_stop_execution)
    ExecutionWorker._get_evaluation_entrypoint = evaluation_entrypoint
    StepFunctionsParserBackend.send_task_success = waking(original_task_success)
    StepFunctionsParserBackend.send_task_failure = waking(original_task_failure)
    try:
        yield waits
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)
        if publish_was_missing:
            del StepFunctionResponse.publish_state_machine_version
        _ACTIVE_WAITS.remove(waits)
        handler_pool.shutdown(wait=False)
