"""`journeys run`: one contact through the compiled state machine on moto, on a virtual clock.

The same code paths as on AWS: the entry rules of journeys/entry.py, the compiled ASL run by
moto's interpreter (LocalStack's), and our Lambda handlers from functions/*/app.py called
in-process with the payloads Step Functions builds.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import clock
from ..compiler import Compiled, compile_journey
from ..loader import load_journey
from ..model import Journey

REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/journeys-local"
LOCAL_SENDER_DOMAIN = "journeys.example"
RUN_TIMEOUT_SECONDS = 300  # wall clock; virtual waits cost nothing
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


def local_environment() -> None:
    """Fake credentials and quiet Powertools: set before boto3 clients or handlers exist."""
    for key, value in LOCAL_ENV.items():
        os.environ.setdefault(key, value)
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        os.environ.pop(key, None)


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

    def _load(self, name: str) -> Callable:
        path = self.functions_dir / name / "app.py"
        if not path.is_file():
            raise LookupError(f"no Lambda handler at {path}")
        spec = importlib.util.spec_from_file_location(f"journeys_function_{name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
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


class LocalStack:
    """One moto world: tables, SES identity, state machines, bridge. Use as a context manager."""

    def __init__(self, start: dt.datetime | None = None, functions_dir: Path | None = None):
        local_environment()
        self.clock = clock.VirtualClock(start or clock.now())
        self.handlers = Handlers(functions_dir or REPO / "functions")
        self.state_machines: dict[str, str] = {}
        self.compiled: dict[str, Compiled] = {}

    def __enter__(self) -> "LocalStack":
        import boto3
        from moto import mock_aws

        from .. import store
        from .moto_bridge import MOCK_CONFIG, bridged

        clock.install(self.clock)
        self._mock = mock_aws(config=MOCK_CONFIG)
        self._mock.start()
        self._bridge = bridged(self.clock, self.handlers)
        self._bridge.__enter__()
        store.create_tables(boto3.client("dynamodb", region_name=REGION))
        boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity=LOCAL_SENDER_DOMAIN)
        self.sfn = boto3.client("stepfunctions", region_name=REGION)
        self.contacts = store.ContactStore(boto3.resource("dynamodb", region_name=REGION))
        self.journeys = store.JourneyStore(boto3.resource("dynamodb", region_name=REGION))
        return self

    def __exit__(self, *exc) -> None:
        self._bridge.__exit__(*exc)
        self._mock.stop()
        clock.install(None)

    def deploy(self, compiled: Compiled) -> str:
        """Create the journey's state machine from its compiled ASL, as SAM would."""
        placeholders = {name: function_arn(name) for name in _placeholders(compiled.to_json())}
        definition = substitute(compiled.to_json(), placeholders)
        arn = self.sfn.create_state_machine(
            name=compiled.journey.id, definition=definition, roleArn=ROLE_ARN, type="STANDARD",
        )["stateMachineArn"]
        self.state_machines[compiled.journey.id] = arn
        self.compiled[compiled.journey.id] = compiled
        return arn

    def enter(self, journey: Journey, contact: dict, event: dict | None = None, event_name: str | None = None):
        """The entry rules, then StartExecution: journeys.entry.enter_contact, as on AWS."""
        from .. import entry

        event = event or {}
        if event_name is None and journey.entry.trigger == "event":
            event_name = event.get("name") or journey.entry.event
        return entry.enter_contact(
            journey.id, journey.entry, contact, event, state_machine_arn=self.state_machines[journey.id],
            sfn=self.sfn, contacts=self.contacts, journeys=self.journeys, event_name=event_name,
        )

    def wait(self, execution_arn: str, timeout: float = RUN_TIMEOUT_SECONDS) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            described = self.sfn.describe_execution(executionArn=execution_arn)
            if described["status"] != "RUNNING":
                return described
            if time.monotonic() > deadline:
                self.sfn.stop_execution(executionArn=execution_arn, error="Local.Timeout", cause=f"still running after {timeout}s")
                return self.sfn.describe_execution(executionArn=execution_arn)
            time.sleep(0.002)

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


def run_journey(path: str | Path, contact: dict, event: dict | None = None, start: dt.datetime | None = None,
                allow_incomplete: bool = False, stack: LocalStack | None = None) -> Run:
    """Compile the journey at `path` and run `contact` through it; returns the finished Run."""
    journey, _ = load_journey(path, allow_incomplete=allow_incomplete)
    compiled = compile_journey(journey)
    own = stack is None
    stack = stack or LocalStack(start)
    if own:
        stack.__enter__()
    try:
        stack.deploy(compiled)
        started = stack.clock.now()
        entered = stack.enter(journey, contact, event)
        arn = entered.execution_arn
        if entered.status == "NOT_ENTERED":
            return Run(journey, compiled, "NOT_ENTERED", reason=entered.reason, contact=stack.contacts.get(contact["id"]),
                       outbox=stack.outbox(), started_at=started)
        described = stack.wait(arn)
        return Run(
            journey, compiled, described["status"], execution_arn=arn, history=stack.history(arn),
            output=json.loads(described["output"]) if described.get("output") else None,
            contact=stack.contacts.get(contact["id"]), step_results=stack.journeys.step_results(arn),
            outbox=stack.outbox(), started_at=started,
            reason=described.get("cause") or described.get("error"),
        )
    finally:
        if own:
            stack.__exit__(None, None, None)
