"""`journeys run` speed and what a contact costs, with Powertools as deployed.

1. Wall time per execution of lead-nurturing and where it goes, over N executions in one moto world
   (imports and table creation excluded, the first execution discarded as warm-up):
     interpreter  moto's ASL interpreter + Step Functions API + polling (total - handlers)
     aws sdk      boto3/botocore + moto DynamoDB/SES called from inside our handlers
     ours         our handlers minus their AWS calls (journeys core, Powertools, pydantic, Liquid)
   Powertools runs as template.yaml deploys it: metrics on (EMF records written), logs at INFO,
   tracing on. Powertools turns tracing off by itself outside Lambda (no LAMBDA_TASK_ROOT), so the
   bench sets what Lambda sets (LAMBDA_TASK_ROOT, _X_AMZN_TRACE_ID) and points the X-Ray SDK at a UDP
   socket of its own on 127.0.0.1, standing in for the daemon: segments are sent and counted. The
   handlers' stdout (EMF) and logs are written to a counting sink, as Lambda hands them to CloudWatch.
   Target (issue 2): ours <= 30 % of the total.
2. What a contact costs (journeys.cost: the meter and the prices of `journeys cost`): state
   transitions per contact and $ per million contacts for each shared example and both shared
   contacts, in each optimize mode the model has, against the naive one-Task-per-step design.
Run: .venv/bin/python bench/bench_run.py [N]
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import botocore.client

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "journeys"
START = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.timezone.utc)
EXAMPLES = ("lead-nurturing", "trial-onboarding", "enrichment", "sales-handoff")


class XRaySink:
    """A UDP socket on 127.0.0.1 where the X-Ray SDK sends what it would send the daemon; counts datagrams."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.datagrams = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._receive, daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        return "127.0.0.1:%d" % self.sock.getsockname()[1]

    def _receive(self) -> None:
        while not self._stop.is_set():
            try:
                self.sock.recv(65536)
                self.datagrams += 1
            except OSError:
                continue

    def close(self) -> None:
        self._stop.set()
        self._thread.join(1)
        self.sock.close()


def deployed_powertools(sink: XRaySink) -> None:
    """Powertools as template.yaml configures it (metrics, INFO logs, tracing), set before any handler
    is imported; Lambda's own variables so Powertools and the X-Ray SDK trace as in Lambda."""
    os.environ.update({
        "POWERTOOLS_TRACE_DISABLED": "false", "POWERTOOLS_METRICS_DISABLED": "false", "POWERTOOLS_LOG_LEVEL": "INFO",
        "LAMBDA_TASK_ROOT": str(REPO / "functions"), "AWS_XRAY_DAEMON_ADDRESS": sink.address,
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
    })


class CountingSink(io.TextIOBase):
    """Where the handlers' stdout and logs go during timing: counted lines, nothing kept."""

    def __init__(self):
        self.lines = 0
        self.emf = 0

    def write(self, text: str) -> int:
        self.lines += text.count("\n")
        self.emf += text.count('"_aws"')
        return len(text)


class SdkTimer:
    """Time spent in AWS API calls made while a handler runs (thread-local flag)."""

    def __init__(self):
        self.seconds = 0.0
        self.local = threading.local()
        self._original = botocore.client.BaseClient._make_api_call

    def __enter__(self):
        timer = self

        def timed(client, operation, params):
            if not getattr(timer.local, "in_handler", False):
                return timer._original(client, operation, params)
            started = time.perf_counter()
            try:
                return timer._original(client, operation, params)
            finally:
                timer.seconds += time.perf_counter() - started

        botocore.client.BaseClient._make_api_call = timed
        return self

    def __exit__(self, *exc):
        botocore.client.BaseClient._make_api_call = self._original


def time_lead_nurturing(executions: int) -> dict:
    from journeys.local.runner import LocalStack, run_journey

    contact = json.loads((SHARED / "contacts" / "ada.json").read_text())
    path = SHARED / "lead-nurturing.journey.yaml"
    out, err = CountingSink(), CountingSink()
    with LocalStack(START) as stack, SdkTimer() as sdk:
        handlers = stack.handlers
        original_call = type(handlers).__call__

        def flagged(self, name, payload):
            sdk.local.in_handler = True
            try:
                return original_call(self, name, payload)
            finally:
                sdk.local.in_handler = False

        type(handlers).__call__ = flagged
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                run_journey(path, {**contact, "id": "warm-up"}, {}, stack=stack)  # imports, first deploy
                handlers.seconds, sdk.seconds, out.lines, out.emf, err.lines = 0.0, 0.0, 0, 0, 0
                started = time.perf_counter()
                for i in range(executions):
                    result = run_journey(path, {**contact, "id": f"c-{i}"}, {}, stack=stack)
                    assert result.status == "SUCCEEDED", result.status
                total = time.perf_counter() - started
        finally:
            type(handlers).__call__ = original_call
    ours = handlers.seconds - sdk.seconds
    return {"per_execution": total / executions, "total": total, "interpreter": total - handlers.seconds,
            "sdk": sdk.seconds, "ours": ours, "emf": out.emf / executions, "log_lines": err.lines / executions}


def costs(contacts_n: int = 1_000_000) -> list[dict]:
    """Each shared example for the shared contacts, in each mode: per-contact transitions and dollars."""
    from journeys.cost.estimate import estimate, functions
    from journeys.cost.measure import default_contacts, has_modes, measure
    from journeys.local.demo_api import serve

    server = serve(port=0, background=True)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    events = {"trial-onboarding": {"name": "trial_started"}, "enrichment": {"crm_hook": f"{base}/hooks/crm"}}
    settings, contacts = functions(REPO / "template.yaml"), default_contacts()
    rows = []
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as actions_file:
        actions_file.write((SHARED / "actions.yaml").read_text().replace("http://127.0.0.1:8765", base))
        actions_file.flush()
        for journey in EXAMPLES:
            first = None  # one naive design per journey: the steps mode's paths and per-step work
            for mode in (["steps", "cost"] if has_modes() else [None]):
                with contextlib.redirect_stdout(CountingSink()), contextlib.redirect_stderr(CountingSink()):
                    measured = measure(SHARED / f"{journey}.journey.yaml", contacts, mode=mode,
                                       event=events.get(journey), actions_file=actions_file.name)
                result = estimate(measured, contacts_n, settings)
                first = first or result
                ours, naive = result.usd(), first.usd(naive=True)
                rows.append({"journey": journey, "mode": mode or "-", "workflow": result.workflow,
                             "entered": sum(1 for t in measured.traces if t["status"] != "NOT_ENTERED"),
                             "transitions": result.per_contact["transitions"],
                             "naive_transitions": first.naive_per_contact["transitions"],
                             "usd": ours["total"], "usd_without_ses": round(ours["total"] - ours["ses"], 2),
                             "naive_usd_without_ses": round(naive["total"] - naive["ses"], 2)})
    server.shutdown()
    return rows


def main() -> None:
    executions = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    sink = XRaySink()
    deployed_powertools(sink)
    t = time_lead_nurturing(executions)
    print(f"lead-nurturing, {executions} executions in one moto world, Powertools as deployed "
          f"(metrics, INFO logs, tracing): {t['per_execution'] * 1000:.1f} ms per execution")
    for key, label in (("interpreter", "moto ASL interpreter + SFN API"), ("sdk", "boto3 + moto DynamoDB/SES (from handlers)"), ("ours", "our handlers' own code")):
        print(f"  {label:44s} {t[key] / t['total'] * 100:5.1f} %")
    print(f"  ours <= 30 % target: {'ok' if t['ours'] / t['total'] <= 0.30 else 'MISSED'}")
    print(f"  per execution: {t['emf']:.1f} EMF metric records, {t['log_lines']:.1f} log lines; "
          f"X-Ray datagrams sent in all: {sink.datagrams}")
    print("what a contact costs, per 1,000,000 contacts (us-east-1; journeys cost, shared contacts ada + bob):")
    print(f"  {'journey':18s} {'mode':5s} {'workflow':8s} {'transitions/contact':>19s} {'naive':>6s} "
          f"{'$ total':>9s} {'$ w/o SES':>10s} {'naive w/o SES':>14s} {'ratio':>6s}")
    for row in costs():
        ratio = row["usd_without_ses"] / row["naive_usd_without_ses"] if row["naive_usd_without_ses"] else 0
        print(f"  {row['journey']:18s} {row['mode']:5s} {row['workflow']:8s} {row['transitions']:19.2f} "
              f"{row['naive_transitions']:6.2f} {row['usd']:9.2f} {row['usd_without_ses']:10.2f} "
              f"{row['naive_usd_without_ses']:14.2f} {ratio:5.2f}x"
              + ("" if row["entered"] == 2 else f"   ({row['entered']} of 2 contacts entered)"))
    sink.close()


if __name__ == "__main__":
    main()
