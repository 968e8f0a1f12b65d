"""`optimize: cost` against one Task per step: per contact, state transitions (what Step Functions
bills) and DynamoDB reads/writes (entry included), for every shared example x contact, both modes
measured in the same run on moto (the demo API serves the integration examples).

Run: .venv/bin/python bench/bench_costmode.py
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import sys
import tempfile
from pathlib import Path

import botocore.client

from journeys.local.demo_api import _Handler, serve
from journeys.local.runner import run_journey
from journeys.local.trace import build_trace

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "journeys"
START = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.timezone.utc)
READS = {"GetItem", "Query", "BatchGetItem"}
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"}

calls: collections.Counter = collections.Counter()
_real = botocore.client.BaseClient._make_api_call


def _counting(self, operation, params):
    calls[(self.meta.service_model.service_name, operation)] += 1
    return _real(self, operation, params)


def measure(path: Path, contact: dict, actions: Path, base: str) -> dict:
    _Handler.tasks.clear()
    calls.clear()
    run = run_journey(path, contact, {"crm_hook": f"{base}/hooks/crm"}, start=START, actions_file=actions)
    trace = build_trace(run)
    dynamo = {op: n for (service, op), n in calls.items() if service == "dynamodb"}
    return {"status": trace["status"], "transitions": trace.get("transitions", 0),
            "reads": sum(n for op, n in dynamo.items() if op in READS), "writes": sum(n for op, n in dynamo.items() if op in WRITES)}


def main() -> None:
    botocore.client.BaseClient._make_api_call = _counting
    server = serve(port=0, background=True)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    work = Path(tempfile.mkdtemp(prefix="bench-costmode-"))
    actions = work / "actions.yaml"
    actions.write_text((SHARED / "actions.yaml").read_text().replace("http://127.0.0.1:8765", base))
    folders = {}
    for mode in ("steps", "cost"):
        folders[mode] = work / mode
        folders[mode].mkdir()
        for source in SHARED.glob("*.journey.yaml"):
            (folders[mode] / source.name).write_text(f"optimize: {mode}\n" + source.read_text())
    rows = []
    for source in sorted(SHARED.glob("*.journey.yaml")):
        for who in ("ada", "bob"):
            contact = json.loads((SHARED / "contacts" / f"{who}.json").read_text())
            result = {mode: measure(folders[mode] / source.name, contact, actions, base) for mode in folders}
            rows.append((source.name.split(".")[0], who, result))
    server.shutdown()
    print(f"{'journey':18} {'contact':7} {'status':12} {'transitions steps -> cost':>26} {'ratio':>6}   "
          f"DynamoDB reads/writes per entry, steps -> cost (entry included)")
    for journey, who, r in rows:
        s, c = r["steps"], r["cost"]
        ratio = f"{c['transitions'] / s['transitions']:.2f}" if s["transitions"] else "-"
        print(f"{journey:18} {who:7} {c['status']:12} {s['transitions']:>18} -> {c['transitions']:<5} {ratio:>6}   "
              f"{s['reads']}/{s['writes']} -> {c['reads']}/{c['writes']}")
    per_step()
    sys.stdout.flush()


def per_step() -> None:
    """DynamoDB calls of one action step's Task (run_task with its exactly-once record), by step type."""
    from journeys.local.runner import LocalStack
    from journeys.runtime import control, integrations, messaging, updates
    from journeys.runtime.idempotency import once_per_step
    from journeys.runtime.task import run_task

    work = {**messaging.WORK, **updates.WORK, **integrations.WORK, **control.WORK}
    steps = {
        "add_tag": {"id": "t", "type": "add_tag", "settings": {"tags": ["lead"]}},
        "update_profile": {"id": "u", "type": "update_profile", "settings": {"set": {"plan": "pro"}}},
        "send_email": {"id": "e", "type": "send_email", "settings": {"subject": "Hi", "text": "hello"}},
        "skipped (apply_to)": {"id": "s", "type": "send_email", "settings": {"subject": "x", "text": "y"},
                               "apply_to": {"field": "contact.plan", "op": "equals", "value": "enterprise"}},
    }
    print("\nDynamoDB reads/writes of one action step's Task (the step's own change of the contact included)")
    with LocalStack(START) as stack:
        stack.contacts.upsert({"id": "c1", "email": "c1@example.com", "tags": []})
        idempotent = once_per_step()
        for kind, step in steps.items():
            payload = {"journey": {"id": "j"}, "step": step, "execution": f"arn:aws:states:us-east-1:1:execution:j:{step['id']}",
                       "state": {"contact": {"id": "c1"}, "event": {}, "data": {}, "seq": 0}}
            calls.clear()
            run_task(payload, work, stack.contacts, stack.journeys, idempotent=idempotent)
            dynamo = {op: n for (service, op), n in calls.items() if service == "dynamodb"}
            print(f"  {kind:20} {sum(n for op, n in dynamo.items() if op in READS)} read(s), "
                  f"{sum(n for op, n in dynamo.items() if op in WRITES)} write(s)")


if __name__ == "__main__":
    main()
