"""What a local world actually did, in the units AWS bills: counted from the requests our code and
moto's interpreter made and from each execution's history, never from the journey's shape.

    meter = Meter()
    with LocalStack(start) as stack, meter.attached(stack):
        ...run contacts...
        counts = meter.counts()          # or meter.counts([execution_arn, ...])

What is counted (us-east-1 billing rules, see journeys.cost.prices for the prices):
* Step Functions state transitions: every state entered in an execution's history
  (`*StateEntered`), plus one per retry of a Task (a second `LambdaFunctionScheduled` in the same
  state): "Step Functions counts a state transition each time a step of your workflow is executed
  ... including retries" (aws.amazon.com/step-functions/pricing). Express workflows are billed per
  request and duration instead, so each execution's duration is kept too (history first to last).
* Lambda: every Invoke, per function, and its duration as measured here (the in-process handler,
  its SDK calls against moto included), rounded up to 1 ms as Lambda rounds.
* DynamoDB on-demand request units, per call, from item sizes: a strongly consistent read is 1 RRU
  per 4 KB (eventually consistent 0.5, transactional 2); a write is 1 WRU per 1 KB (transactional 2)
  of the larger of the item before and after (PutItem, UpdateItem), the deleted item (DeleteItem);
  a conditional write whose condition fails still costs the existing item's size (at least 1); a
  Query or Scan is priced on the total size of the items it returns, rounded up once, at least 1
  unit; a BatchGet/BatchWrite prices each item on its own.
* SES: each recipient of each accepted send.

Calls outside any Lambda (the entry path: the webhook's enter_contact, event delivery) count in
`counts()` and belong to no execution in `counts([arns])`. A world's setup (tables, identities,
Actions loaded before the meter is attached) is not counted.
"""

from __future__ import annotations

import json
import math
import contextvars
import threading
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import unquote

READ_UNIT_BYTES = 4096
WRITE_UNIT_BYTES = 1024
OUTSIDE = None  # the execution a call outside any Lambda belongs to
DATA_OPERATIONS = frozenset({"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem",
                             "BatchWriteItem", "TransactGetItems", "TransactWriteItems"})


@dataclass
class Counts:
    """What a world did, summed over the executions asked for."""

    executions: int = 0
    transitions: int = 0
    retries: int = 0  # included in transitions
    lambda_requests: Counter = field(default_factory=Counter)  # function -> invocations
    lambda_ms: Counter = field(default_factory=Counter)  # function -> billed milliseconds
    dynamodb_read_units: float = 0.0
    dynamodb_write_units: float = 0.0
    dynamodb_calls: Counter = field(default_factory=Counter)  # operation -> calls
    emails: int = 0
    execution_ms: list[int] = field(default_factory=list)  # each execution, first to last event

    @property
    def lambda_total(self) -> int:
        return sum(self.lambda_requests.values())


@dataclass
class _Usage:
    lambda_requests: Counter = field(default_factory=Counter)
    lambda_ms: Counter = field(default_factory=Counter)
    read_units: float = 0.0
    write_units: float = 0.0
    calls: Counter = field(default_factory=Counter)
    emails: int = 0


class Meter:
    """Counts what the worlds it is attached to do; one Meter may watch many executions."""

    def __init__(self):
        self._lock = threading.Lock()
        # The execution whose Lambda runs here: a context variable, because the bridge runs handlers on
        # pool threads with the invoking thread's context (moto_bridge.invoke copies it).
        self._current_execution: contextvars.ContextVar[str] = contextvars.ContextVar(f"metered-execution-{id(self)}", default=OUTSIDE)
        self._usage: dict[str | None, _Usage] = defaultdict(_Usage)
        self._executions: list[str] = []
        self._stack = None
        self._histories: dict[str, tuple[int, int, int]] = {}  # taken when detached

    # ------------------------------------------------------------------ attaching
    @contextmanager
    def attached(self, stack):
        """Count every request made in `stack`'s world while inside (stack: a LocalStack)."""
        from journeys.local.moto_bridge import observed_requests

        self._stack, self._histories = stack, {}
        warm = getattr(getattr(stack, "handlers", None), "warm", None)
        if warm is not None:
            warm()  # a warm container: a first call's imports are not what a contact costs
        try:
            with observed_requests(self._observe):
                yield self
        finally:
            if stack is not None:  # the world may end right after: keep what its histories say
                self._histories = {arn: history_transitions(stack.history(arn)) for arn in self.executions()}

    def _observe(self, service: str, operation: str, request, send):
        if service == "lambda" and operation == "Invoke":
            return self._invoke(request, send)
        if service == "dynamodb":
            return self._dynamodb(operation, request, send)
        response = send()
        if response is None or response.status_code >= 300:
            return response
        if service in ("sfn", "stepfunctions") and operation == "StartExecution":
            with self._lock:
                self._executions.append(json.loads(response.content)["executionArn"])
        elif service in ("sesv2", "ses") and operation.startswith("Send"):
            self._add(emails=_recipients(service, _body(request)))
        return response

    def _current(self) -> str | None:
        return self._current_execution.get()

    def _add(self, **amounts) -> None:
        """Add to the usage of the execution whose Lambda this thread runs (else OUTSIDE)."""
        with self._lock:
            usage = self._usage[self._current()]
            for name, amount in amounts.items():
                setattr(usage, name, getattr(usage, name) + amount)

    # ------------------------------------------------------------------ Lambda
    def _invoke(self, request, send):
        from journeys.local.moto_bridge import function_name

        path = unquote(request.url.split("/functions/", 1)[1])
        function = function_name(path.split("/invocations", 1)[0])
        execution = (_body(request) or {}).get("execution") or self._current()
        token = self._current_execution.set(execution)  # the handler's own AWS calls belong to its execution
        started = time.perf_counter()
        try:
            return send()
        finally:
            billed_ms = max(1, math.ceil((time.perf_counter() - started) * 1000))
            self._current_execution.reset(token)
            with self._lock:
                usage = self._usage[execution]
                usage.lambda_requests[function] += 1
                usage.lambda_ms[function] += billed_ms

    # ------------------------------------------------------------------ DynamoDB
    def _dynamodb(self, operation: str, request, send):
        from journeys.local.moto_bridge import dynamodb_item_size

        body = _body(request) or {}
        table = body.get("TableName")
        before = None
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            key = body.get("Key") or _key_of(table, body.get("Item") or {})
            before = dynamodb_item_size(table, key) if key else None
        response = send()
        if response is None:
            return response
        result = json.loads(response.content or b"{}")
        ok = response.status_code < 300
        reads = writes = 0.0
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            if ok:
                key = body.get("Key") or _key_of(table, body.get("Item") or {})
                after = dynamodb_item_size(table, key) if key and operation != "DeleteItem" else None
                writes = _write_units(max(before or 0, after or 0))
            elif "ConditionalCheckFailed" in str(result.get("__type", "")):
                writes = _write_units(before or 0)
        elif not ok:
            pass  # an error that is not a failed condition consumes nothing
        elif operation == "GetItem":
            item = result.get("Item")
            size = (dynamodb_item_size(table, body["Key"]) if item is not None else 0) or 0
            reads = _read_units(size, body.get("ConsistentRead", False))
        elif operation in ("Query", "Scan"):
            size = sum(_item_size(table, item) for item in result.get("Items", []))
            reads = _read_units(size, body.get("ConsistentRead", False))
        elif operation == "BatchGetItem":
            for name, items in result.get("Responses", {}).items():
                consistent = body.get("RequestItems", {}).get(name, {}).get("ConsistentRead", False)
                reads += sum(_read_units(_item_size(name, item), consistent) for item in items)
        elif operation == "BatchWriteItem":
            for name, requests in body.get("RequestItems", {}).items():
                for item_request in requests:
                    item = (item_request.get("PutRequest") or {}).get("Item") or (item_request.get("DeleteRequest") or {}).get("Key", {})
                    writes += _write_units(_item_size(name, item))
        elif operation == "TransactGetItems":
            for entry in body.get("TransactItems", []):
                get = entry.get("Get", {})
                reads += 2 * _read_units(dynamodb_item_size(get.get("TableName"), get.get("Key", {})) or 0, True)
        elif operation == "TransactWriteItems":
            for entry in body.get("TransactItems", []):
                spec = next(iter(entry.values()), {})
                writes += 2 * _write_units(_item_size(spec.get("TableName"), spec.get("Item") or spec.get("Key") or {}))
        if operation in DATA_OPERATIONS:  # table management (a world's setup) is not a request unit
            self._add(read_units=reads, write_units=writes, calls=Counter({operation: 1}))
        return response

    # ------------------------------------------------------------------ results
    def executions(self) -> list[str]:
        with self._lock:
            return list(self._executions)

    def counts(self, execution_arns: list[str] | None = None) -> Counts:
        """Everything counted (None), or only what belongs to these executions. Transitions are read
        from each execution's history: call after the executions ended, inside `attached` or after it
        (histories are kept when it ends, while the world still exists)."""
        wanted = self.executions() if execution_arns is None else list(execution_arns)
        counts = Counts(executions=len(wanted))
        with self._lock:
            keys = list(self._usage) if execution_arns is None else [arn for arn in wanted if arn in self._usage]
            usages = [self._usage[key] for key in keys]
        for usage in usages:
            counts.lambda_requests.update(usage.lambda_requests)
            counts.lambda_ms.update(usage.lambda_ms)
            counts.dynamodb_read_units += usage.read_units
            counts.dynamodb_write_units += usage.write_units
            counts.dynamodb_calls.update(usage.calls)
            counts.emails += usage.emails
        for arn in wanted:
            known = self._histories.get(arn)
            transitions, retries, duration_ms = known or history_transitions(self._stack.history(arn))
            counts.transitions += transitions
            counts.retries += retries
            counts.execution_ms.append(duration_ms)
        return counts


def history_transitions(history: list[dict]) -> tuple[int, int, int]:
    """(state transitions, of which retries, duration in ms first to last event) of one execution's
    history: each state entered is one transition, each extra Task attempt in that state another."""
    transitions = retries = scheduled = 0
    for event in history:
        kind = event["type"]
        if kind.endswith("StateEntered"):
            transitions += 1
            scheduled = 0
        elif kind in ("LambdaFunctionScheduled", "TaskScheduled"):
            scheduled += 1
            if scheduled > 1:
                retries += 1
    duration_ms = 0
    if history:
        duration_ms = int((history[-1]["timestamp"] - history[0]["timestamp"]).total_seconds() * 1000)
    return transitions + retries, retries, duration_ms


def _read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    return units if consistent else units / 2


def _write_units(size: int) -> float:
    return max(1, math.ceil(size / WRITE_UNIT_BYTES))


def _item_size(table: str | None, item: dict) -> int:
    """The stored item's size when the answer carries only part of it (a projection), else its own."""
    from journeys.local.moto_bridge import dynamodb_item_size, wire_item_size

    key = _key_of(table, item)
    stored = dynamodb_item_size(table, key) if key else None
    return stored if stored is not None else wire_item_size(item)


def _key_of(table: str | None, item: dict) -> dict | None:
    """The key attributes of a wire-format item, from the table's key schema in moto."""
    from journeys.local.moto_bridge import dynamodb_key_names

    names = dynamodb_key_names(table) if table else None
    if not names or any(name not in item for name in names):
        return None
    return {name: item[name] for name in names}


def _body(request) -> dict | None:
    raw = request.body
    if not raw:
        return None
    if not isinstance(raw, (str, bytes)):
        return None  # a stream: reading it here would take it from moto
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _recipients(service: str, body: dict | None) -> int:
    """SES bills each recipient as one email; a raw send without a Destination is one."""
    destination = (body or {}).get("Destination") or {}
    count = sum(len(destination.get(kind) or []) for kind in ("ToAddresses", "CcAddresses", "BccAddresses"))
    return count or 1
