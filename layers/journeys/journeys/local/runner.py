"""`journeys run`: one contact through the compiled state machine on moto, on a virtual clock.

The same code paths as on AWS: the entry rules of journeys/entry.py, the compiled ASL run by
moto's interpreter (LocalStack's), and our Lambda handlers from functions/*/app.py called
in-process with the payloads Step Functions builds.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import logging
import os
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from journeys import clock
from journeys.compiler import Compiled, compile_journey
from journeys.language.loader import load_journey
from journeys.language.model import Journey

REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/journeys-local"
LOCAL_SENDER_DOMAIN = "journeys.example"
RUN_TIMEOUT_SECONDS = 300  # wall clock; virtual waits cost nothing
MAX_CHILD_DEPTH = 10  # start_journey chains deeper than this are not followed (control refuses loops anyway)
RUN_TIMEOUT_ENV = "JOURNEYS_RUN_TIMEOUT"  # seconds; overrides RUN_TIMEOUT_SECONDS
STOP_GRACE_SECONDS = 5  # waiting for an overdue execution to sleep, then to end once stopped
REPO = Path(__file__).resolve().parents[4]

LOCAL_ENV = {
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "ERROR",
    "POWERTOOLS_SERVICE_NAME": "journeys",
    "POWERTOOLS_METRICS_NAMESPACE": "Journeys",
}
# Set for the duration of a LocalStack (and restored after): local runs may call 127.0.0.1, read
# secrets from JOURNEYS_SECRET_* variables, and find every deployed journey (start_journey).
# On AWS none of these is set: outbound calls refuse loopback, secrets come from AWS.
RUN_ENV = {"JOURNEYS_ALLOW_LOOPBACK": "true", "JOURNEYS_SECRETS": "env"}
JOURNEY_SUFFIXES = (".journey.yaml", ".journey.yml", ".journey.json")


def run_timeout() -> float:
    """The wall-clock limit of a local run: $JOURNEYS_RUN_TIMEOUT seconds, else 300."""
    text = os.environ.get(RUN_TIMEOUT_ENV, "").strip()
    if not text:
        return RUN_TIMEOUT_SECONDS
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0
    if not seconds > 0:
        raise ValueError(f"{RUN_TIMEOUT_ENV}={text!r}: expected a number of seconds > 0")
    return seconds


def local_environment() -> None:
    """Fake credentials and quiet Powertools: set before boto3 clients or handlers exist."""
    for key, value in LOCAL_ENV.items():
        os.environ.setdefault(key, value)
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        os.environ.pop(key, None)


class _CurrentStderr:
    """A stream that is whatever sys.stderr is when a record is written (pytest and click swap it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def handler_logs_to_stderr() -> None:
    """Locally, our handlers' Powertools logs go to stderr: stdout is the CLI's (the trace, `--json`).
    On AWS nothing calls this and Powertools writes to stdout, which Lambda sends to CloudWatch Logs.
    Powertools gives a service's stdlib logger one handler (`powertools_handler`), shared by every
    Logger of that service and created when a handler module is first imported."""
    for logger in list(logging.Logger.manager.loggerDict.values()):
        handler = getattr(logger, "powertools_handler", None)
        if isinstance(handler, logging.StreamHandler) and not isinstance(handler.stream, _CurrentStderr):
            handler.setStream(_CurrentStderr())


def function_arn(placeholder: str) -> str:
    """`MessagingFunctionArn` -> the local ARN of functions/messaging."""
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function_folder(placeholder)}"


def function_folder(placeholder: str) -> str:
    return placeholder.removesuffix("FunctionArn").lower()


def substitute(asl_json: str, substitutions: dict[str, str]) -> str:
    """SAM's DefinitionSubstitutions, for local runs."""
    for key, value in substitutions.items():
        asl_json = asl_json.replace("${" + key + "}", value)
    return asl_json


@dataclass
class LocalContext:
    """The Lambda context attributes Powertools reads."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


class Handlers:
    """functions/<name>/app.py:lambda_handler, imported on first use."""

    def __init__(self, functions_dir: Path = REPO / "functions"):
        self.functions_dir = functions_dir
        self._loaded: dict[str, Callable] = {}
        self.calls: dict[str, int] = {}
        self.seconds = 0.0  # wall time spent inside our handlers (bench/)

    def __call__(self, name: str, payload: dict[str, Any]) -> Any:
        handler = self._loaded.get(name) or self._load(name)
        self.calls[name] = self.calls.get(name, 0) + 1
        started = time.perf_counter()
        try:
            return handler(payload, LocalContext(name, f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"))
        finally:
            self.seconds += time.perf_counter() - started

    def warm(self) -> list[str]:
        """Import every handler now (a warm container), so a first call's imports time nothing."""
        names = sorted(p.parent.name for p in self.functions_dir.glob("*/app.py"))
        for name in names:
            self._loaded.get(name) or self._load(name)
        return names

    def _load(self, name: str) -> Callable:
        path = self.functions_dir / name / "app.py"
        if not path.is_file():
            raise LookupError(f"no Lambda handler at {path}")
        spec = importlib.util.spec_from_file_location(f"journeys_function_{name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        handler_logs_to_stderr()  # importing the handler created its Powertools Logger
        self._loaded[name] = module.lambda_handler
        return module.lambda_handler


@dataclass
class Run:
    """Everything a finished local run leaves behind (the trace is built from it)."""

    journey: Journey
    compiled: Compiled
    status: str
    execution_arn: str | None = None
    reason: str | None = None
    history: list[dict] = field(default_factory=list)
    output: dict | None = None
    contact: dict | None = None
    step_results: list[dict] = field(default_factory=list)
    outbox: list[dict] = field(default_factory=list)
    started_at: dt.datetime | None = None
    events: list[dict] = field(default_factory=list)  # outside events delivered (--event-at)
    notes: list[dict] = field(default_factory=list)  # notes add_note left on the contact, oldest first
    children: list[Run] = field(default_factory=list)  # executions its start_journey steps started


@dataclass
class Scheduled:
    """Something that happens when the virtual clock reaches `at`: an outside event delivered
    (journeys run --event-at), or an `action` (a rehearsal's arrivals, publish, stop)."""

    at: dt.datetime
    name: str
    contact: dict
    payload: dict = field(default_factory=dict)
    action: Callable[[], Any] | None = None


class LocalStack:
    """One moto world: tables, SES identity, state machines, bridge. Use as a context manager."""

    def __init__(self, start: dt.datetime | None = None, functions_dir: Path | None = None):
        local_environment()
        self.clock = clock.VirtualClock(start or clock.now())
        self.handlers = Handlers(functions_dir or REPO / "functions")
        self.state_machines: dict[str, str] = {}
        self.compiled: dict[str, Compiled] = {}
        self.scheduled: list[Scheduled] = []
        self.aliases: dict[str, str] = {}  # journey id -> its `live` alias ARN, once a version is published
        self.versions: dict[str, int] = {}  # journey id -> the version `live` points at
        self.delivered: list[dict] = []
        self._saved_env: dict[str, str | None] = {}

    def setenv(self, key: str, value: str) -> None:
        """Set an environment variable for this stack's lifetime (restored on exit)."""
        self._saved_env.setdefault(key, os.environ.get(key))
        os.environ[key] = value

    def __enter__(self) -> "LocalStack":
        import boto3
        from moto import mock_aws

        from journeys.runtime import store
        from journeys.local.moto_bridge import MOCK_CONFIG, bridged

        clock.install(self.clock)
        handler_logs_to_stderr()  # a Logger created before this stack (webhook.py, an earlier stack) too
        self._mock = mock_aws(config=MOCK_CONFIG)
        self._mock.start()
        self._bridge = bridged(self.clock, self.handlers, region=REGION)
        self.waits = self._bridge.__enter__()
        for key, value in RUN_ENV.items():
            self.setenv(key, value)
        import tempfile

        self._catalog_dir = tempfile.TemporaryDirectory(prefix="journeys-catalog-")
        self.setenv("JOURNEYS_CATALOG", str(Path(self._catalog_dir.name) / "catalog.json"))
        self._write_catalog()
        self._write_policies({})  # none unless asked (use_policies): not the packaged ones of this repo
        store.create_tables(boto3.client("dynamodb", region_name=REGION))
        boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity=LOCAL_SENDER_DOMAIN)
        self.sfn = boto3.client("stepfunctions", region_name=REGION)
        self.contacts = store.ContactStore(boto3.resource("dynamodb", region_name=REGION))
        self.journeys = store.JourneyStore(boto3.resource("dynamodb", region_name=REGION))
        return self

    def __exit__(self, *exc) -> None:
        from journeys.local.moto_bridge import end_all_executions

        try:
            # Executions still waiting end here, threads and all: none may go on in the next world.
            end_all_executions()
        finally:
            self._bridge.__exit__(*exc)
            self._mock.stop()
            clock.install(None)
            for key, value in self._saved_env.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            self._saved_env.clear()
            self._catalog_dir.cleanup()

    # ------------------------------------------------------------------ journeys, catalog, actions
    def catalog(self):
        """The journeys deployed here, as the control Lambda and deliver_event see them."""
        from journeys.runtime.catalog import Catalog

        return Catalog.from_journeys([c.journey for c in self.compiled.values()], self.state_machines)

    def _write_catalog(self) -> None:
        """JOURNEYS_CATALOG (entry rules) + JOURNEY_STATE_MACHINES (ARNs): what the layer's packaged
        catalog.json and the Lambda environment are on AWS."""
        catalog = self.catalog()
        Path(os.environ["JOURNEYS_CATALOG"]).write_text(catalog.to_json(), encoding="utf-8")
        self.setenv("JOURNEY_STATE_MACHINES", json.dumps(catalog.state_machines, sort_keys=True))

    def use_policies(self, path: str | Path) -> None:
        """Deliver under the delivery policies of `path` (a policies.yaml), as the layer's packaged
        policies.json does on AWS. Raises JourneyFileError naming the file and key when it is bad."""
        from journeys.language.policies import load_policies

        self._write_policies(load_policies(path).as_json())

    def _write_policies(self, policies: dict) -> None:
        target = Path(self._catalog_dir.name) / "policies.json"
        target.write_text(json.dumps(policies), encoding="utf-8")
        self.setenv("JOURNEYS_POLICIES", str(target))

    def load_actions(self, path: str | Path) -> list[str]:
        """Put the Actions of an actions file into JourneyTable, where the actions Lambda reads them
        (on AWS too): one code path. Returns their ids."""
        from journeys.actions import load_actions_file
        from journeys.runtime.integrations import ActionStore

        specs = load_actions_file(path)
        store = ActionStore(self.journeys.table)
        for spec in specs.values():
            store.put(spec)
        return sorted(specs)

    def deploy_beside(self, path: str | Path, allow_incomplete: bool = False) -> list[str]:
        """Deploy every other journey in the folder of `path` (start_journey / exit_journey targets)."""
        deployed, folder, me = [], Path(path).resolve().parent, Path(path).resolve()
        for candidate in sorted(folder.iterdir()):
            if candidate.resolve() == me or not candidate.name.endswith(JOURNEY_SUFFIXES):
                continue
            try:
                journey, _ = load_journey(candidate, allow_incomplete=allow_incomplete)
            except Exception:  # noqa: BLE001 - a broken neighbour is not this run's problem
                continue
            if journey.id not in self.state_machines:
                self.deploy(compile_journey(journey))
                deployed.append(journey.id)
        return deployed

    def deploy(self, compiled: Compiled, publish: bool = False) -> str:
        """Create the journey's state machine from its compiled ASL, as SAM would. With `publish`, also
        publish it as the next version and point the `live` alias at it (AutoPublishAlias): entries
        then start the version (`enter`), and executions already running stay on theirs."""
        placeholders = {name: function_arn(name) for name in _placeholders(compiled.to_json())}
        definition = substitute(compiled.to_json(), placeholders)
        arn = self.state_machines.get(compiled.journey.id)
        if arn:  # deployed before in this stack: a new definition, as `sam deploy` would
            self.sfn.update_state_machine(stateMachineArn=arn, definition=definition)
        else:
            arn = self.sfn.create_state_machine(
                name=compiled.journey.id, definition=definition, roleArn=ROLE_ARN, type="STANDARD",
            )["stateMachineArn"]
        self.state_machines[compiled.journey.id] = arn
        self.compiled[compiled.journey.id] = compiled
        if publish:
            self._publish(compiled.journey.id, arn)
        self._write_catalog()
        self.verify_senders(compiled.journey)
        return arn

    def verify_senders(self, journey: Journey) -> None:
        """Locally SES accepts the senders the journey names (it is a rehearsal): their domains are verified
        here, as `journeys build` asks the deployer to do in SES (docs/DEPLOY.md)."""
        import boto3

        from journeys.language.senders import identity_of, sender_addresses

        ses = boto3.client("sesv2", region_name=REGION)
        for identity in sorted({identity_of(address) for address in sender_addresses(journey)} - {LOCAL_SENDER_DOMAIN}):
            try:
                ses.create_email_identity(EmailIdentity=identity)
            except ses.exceptions.AlreadyExistsException:
                pass

    def _publish(self, journey_id: str, arn: str) -> None:
        from journeys.compiler.build import ALIAS

        version_arn = self.sfn.publish_state_machine_version(stateMachineArn=arn)["stateMachineVersionArn"]
        routing = [{"stateMachineVersionArn": version_arn, "weight": 100}]
        if journey_id in self.aliases:
            self.sfn.update_state_machine_alias(stateMachineAliasArn=self.aliases[journey_id], routingConfiguration=routing)
        else:
            self.aliases[journey_id] = self.sfn.create_state_machine_alias(
                name=ALIAS, routingConfiguration=routing)["stateMachineAliasArn"]
        self.versions[journey_id] = int(version_arn.rsplit(":", 1)[1])

    def execution_version(self, execution_arn: str) -> int | None:
        """The version an execution runs (None: started on the unversioned machine)."""
        return self.waits.versions.get(execution_arn)

    def enter(self, journey: Journey, contact: dict, event: dict | None = None, event_name: str | None = None):
        """The entry rules, then StartExecution: journeys.edges.entry.enter_contact, as on AWS."""
        from journeys.edges import entry

        event = event or {}
        if event_name is None and journey.entry.trigger == "event":
            event_name = event.get("name") or journey.entry.event
        return entry.enter_contact(
            journey.id, journey.entry, contact, event,
            state_machine_arn=self.aliases.get(journey.id) or self.state_machines[journey.id],
            sfn=self.sfn, contacts=self.contacts, journeys=self.journeys, event_name=event_name,
        )

    # ------------------------------------------------------------------ outside events
    def schedule_event(self, at: dt.datetime, name: str, contact: dict, payload: dict | None = None) -> None:
        """Deliver event `name` for `contact` when the virtual clock reaches `at`."""
        self.scheduled.append(Scheduled(at, name, contact, payload or {}))
        self.scheduled.sort(key=lambda s: s.at)  # stable: at the same time, in the order scheduled

    def schedule(self, at: dt.datetime, name: str, action: Callable[[], Any]) -> None:
        """Call `action` when the virtual clock reaches `at` (every execution then waits or has ended)."""
        self.scheduled.append(Scheduled(at, name, {}, action=action))
        self.scheduled.sort(key=lambda s: s.at)

    def deliver(self, name: str, contact: dict, payload: dict | None = None) -> dict:
        """journeys.edges.events.deliver_event, as POST /events does on AWS."""
        from journeys.edges.events import deliver_event

        result = deliver_event(name, contact, payload or {}, catalog=self.catalog(), sfn=self.sfn,
                               contacts=self.contacts, journeys=self.journeys)
        self.delivered.append({"name": name, "at": clock.iso(self.clock.now()), "contact": contact.get("id"), **result})
        return result

    # ------------------------------------------------------------------ the driver of virtual time
    def tick(self) -> bool:
        """Move virtual time if every running execution waits: to the next outside event (delivered
        then) or the earliest wake-up. False when something is still busy."""
        until = self.waits.idle_until()
        if until is None:
            if not self.scheduled or self.waits.running():
                return False  # busy, or nothing left to do
            until = self.scheduled[0].at  # nothing runs: on to what comes next
        if self.scheduled and self.scheduled[0].at <= until:
            due = self.scheduled.pop(0)
            if due.action is not None:
                self.waits.advance_and_do(due.at, due.action)
            else:
                self.waits.advance_to(due.at)
                self.deliver(due.name, due.contact, due.payload)
        else:
            self.waits.advance_to(until)
        return True

    def wait(self, execution_arn: str, timeout: float | None = None) -> dict:
        """Drive the virtual clock until the execution ends, or stop it after `timeout` wall-clock
        seconds (default: run_timeout()) and return it ABORTED (error Local.Timeout)."""
        timeout = run_timeout() if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while True:
            # The backend's list of running executions is a cheap look; DescribeExecution through
            # botocore in a tight loop would take the GIL from the interpreter thread doing the work.
            if execution_arn not in self.waits.running():
                described = self.sfn.describe_execution(executionArn=execution_arn)
                if described["status"] != "RUNNING":
                    return described
            if time.monotonic() > deadline:
                if self._stoppable(deadline):
                    return self._stop(execution_arn, timeout)
                time.sleep(0.002)  # the clock stands still now: it is on its way to its next wait
                continue
            if not self.tick():
                time.sleep(0.002)

    def _stoppable(self, deadline: float) -> bool:
        """Stop while every execution sleeps: stopped in the middle of a Task, moto may fail the
        execution instead of aborting it. One that never sleeps is stopped after a grace period."""
        return self.waits.idle_until() is not None or time.monotonic() > deadline + STOP_GRACE_SECONDS

    def _stop(self, execution_arn: str, timeout: float) -> dict:
        """Stop an execution that outlived the run's limit (a loop through waits goes on in virtual
        time until stopped) and wait until it has ended: its status is then final (ABORTED)."""
        cause = f"stopped after {timeout:g} s of wall-clock time, the local run's limit ({RUN_TIMEOUT_ENV} sets it)"
        self.sfn.stop_execution(executionArn=execution_arn, error="Local.Timeout", cause=cause)
        grace = time.monotonic() + STOP_GRACE_SECONDS
        while execution_arn in self.waits.running() and time.monotonic() < grace:
            time.sleep(0.01)
        described = self.sfn.describe_execution(executionArn=execution_arn)
        if described["status"] == "ABORTED":  # AWS reports the error and cause StopExecution gave; moto does not
            described.update(error="Local.Timeout", cause=cause)
        return described

    def children_of(self, execution_arn: str) -> list[str]:
        """The executions that start_journey steps of `execution_arn` started, in start order: their
        entry event's idempotency key names the execution and step that started them."""
        prefix = f"start_journey|{execution_arn}|"
        found = []
        for machine in self.state_machines.values():
            for listed in self.sfn.list_executions(stateMachineArn=machine, maxResults=1000)["executions"]:
                described = self.sfn.describe_execution(executionArn=listed["executionArn"])
                event = json.loads(described.get("input") or "{}").get("event") or {}
                if str(event.get("idempotency_key", "")).startswith(prefix):
                    found.append((described["startDate"], listed["executionArn"]))
        return [arn for _, arn in sorted(found)]

    def finished(self, compiled: Compiled, execution_arn: str, contact_id: str, started: dt.datetime,
                 timeout: float | None = None, depth: int = 0) -> Run:
        """The Run of an execution once it ends, with the runs of the executions it started (each
        waited for in turn, on the virtual clock)."""
        described = self.wait(execution_arn, timeout)
        children = []
        if depth < MAX_CHILD_DEPTH:
            for child in self.children_of(execution_arn):
                machine = child.split(":")[-2]  # ...:execution:<state machine name>:<execution name>
                if machine in self.compiled:
                    children.append(self.finished(self.compiled[machine], child, contact_id, started, timeout, depth + 1))
        # outside events and the contact's notes belong to the run's own trace, not to its children's
        return finished_run(self, compiled, contact_id, described, started, list(self.delivered) if depth == 0 else [],
                            children=children, notes=depth == 0)

    def history(self, execution_arn: str) -> list[dict]:
        events, kwargs = [], {"executionArn": execution_arn, "maxResults": 1000}
        while True:
            page = self.sfn.get_execution_history(**kwargs)
            events += page["events"]
            if not page.get("nextToken"):
                return events
            kwargs["nextToken"] = page["nextToken"]

    def outbox(self) -> list[dict]:
        """Messages moto's SES accepted (raw MIME, parsed)."""
        import email

        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.ses.models import ses_backends

        sent = []
        for message in ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages:
            raw = getattr(message, "raw_data", None)
            if raw is None:
                continue
            parsed = email.message_from_string(raw)
            sent.append({"to": parsed["To"], "subject": parsed["Subject"], "headers": dict(parsed.items()), "raw": raw})
        return sent


def _placeholders(asl_json: str) -> list[str]:
    import re

    return sorted(set(re.findall(r"\$\{([A-Za-z0-9]+FunctionArn)\}", asl_json)))


def parse_event_at(text: str, start: dt.datetime) -> tuple[str, dt.datetime]:
    """`NAME@+2h` (relative to the run's start) or `NAME@2026-01-05T10:00:00Z` -> (name, when)."""
    from journeys.language.durations import DurationError, parse_duration

    name, sep, when = text.rpartition("@")
    if not sep or not name or not when:
        raise ValueError(f"--event-at {text!r}: expected NAME@+DURATION (e.g. demo_booked@+2h) or NAME@TIMESTAMP")
    if when.startswith("+"):
        try:
            return name, start + dt.timedelta(seconds=parse_duration(when[1:]))
        except DurationError as error:
            raise ValueError(f"--event-at {text!r}: {error}") from None
    moment = clock.parse_timestamp(when)
    if moment is None:
        raise ValueError(f"--event-at {text!r}: {when!r} is neither +DURATION nor an ISO 8601 timestamp")
    return name, moment


def _entry_event(journey: Journey, scheduled: list[tuple[str, dt.datetime]]) -> tuple[str, dt.datetime] | None:
    """The first scheduled event that enters this journey (trigger: event), if any."""
    if journey.entry.trigger != "event":
        return None
    return min((item for item in scheduled if item[0] == journey.entry.event), key=lambda item: item[1], default=None)


def run_journey(path: str | Path, contact: dict, event: dict | None = None, start: dt.datetime | None = None,
                allow_incomplete: bool = False, stack: LocalStack | None = None, actions_file: str | Path | None = None,
                event_at: list[str] | list[tuple[str, dt.datetime]] | None = None, timeout: float | None = None,
                policies_file: str | Path | None = None, compiled: Compiled | None = None) -> Run:
    """Compile the journey at `path` and run `contact` through it; returns the finished Run.

    Every other journey beside `path` is deployed too (start_journey/exit_journey targets);
    `actions_file` loads Actions into the table; `event_at` delivers events at virtual times;
    `policies_file` applies delivery policies (frequency cap, quiet hours, send rate).
    A run still going after `timeout` wall-clock seconds (default run_timeout()) is stopped:
    status ABORTED, reason naming the limit. `compiled` runs that compilation of the file's journey
    instead (e.g. another `optimize` mode: journeys cost)."""
    journey, _ = load_journey(path, allow_incomplete=allow_incomplete)
    compiled = compiled or compile_journey(journey)
    journey = compiled.journey
    own = stack is None
    stack = stack or LocalStack(start)
    if own:
        stack.__enter__()
    try:
        stack.deploy_beside(path, allow_incomplete)
        stack.deploy(compiled)
        if actions_file:
            stack.load_actions(actions_file)
        if policies_file:
            stack.use_policies(policies_file)
        started = stack.clock.now()
        scheduled = [parse_event_at(item, started) if isinstance(item, str) else item for item in event_at or []]
        entry_event = _entry_event(journey, scheduled)
        for name, when in scheduled:
            stack.schedule_event(when, name, {"id": contact["id"]})
        if entry_event is not None:
            # An event-triggered journey enters when its event comes, not at --start.
            stack.scheduled = [s for s in stack.scheduled if (s.name, s.at) != entry_event]
            stack.waits.advance_to(max(entry_event[1], started))
        entered = stack.enter(journey, contact, event)
        if entered.status == "NOT_ENTERED":
            return not_entered_run(stack, compiled, contact["id"], entered.reason, started)
        return stack.finished(compiled, entered.execution_arn, contact["id"], started, timeout)
    finally:
        if own:
            stack.__exit__(None, None, None)


def not_entered_run(stack: LocalStack, compiled: Compiled, contact_id: str, reason: str | None,
                    started: dt.datetime, outbox: list[dict] | None = None) -> Run:
    """The Run of a contact the entry rules kept out (journeys run, and each such contact of journeys test)."""
    return Run(compiled.journey, compiled, "NOT_ENTERED", reason=reason, contact=stack.contacts.get(contact_id),
               outbox=stack.outbox() if outbox is None else outbox, started_at=started)


def finished_run(stack: LocalStack, compiled: Compiled, contact_id: str, described: dict, started: dt.datetime,
                 events: list[dict], reason: str | None = None, outbox: list[dict] | None = None,
                 children: list[Run] | None = None, notes: bool = True) -> Run:
    """The Run of an execution that has ended (DescribeExecution's answer `described`), read from
    its history and the step results, as `journeys run` and each contact of `journeys test` report it
    (`children`: the runs of executions its start_journey steps started; `notes`: the contact's notes)."""
    arn = described["executionArn"]
    return Run(
        compiled.journey, compiled, described["status"], execution_arn=arn, history=stack.history(arn),
        output=json.loads(described["output"]) if described.get("output") else None,
        contact=stack.contacts.get(contact_id), step_results=stack.journeys.step_results(arn),
        outbox=stack.outbox() if outbox is None else outbox, started_at=started,
        reason=reason or described.get("cause") or described.get("error"), events=events,
        children=children or [], notes=stack.journeys.contact_items(contact_id, "NOTE") if notes else [],
    )
