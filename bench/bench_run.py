"""`journeys run` cost: wall time per execution of lead-nurturing and where it goes, plus state
transitions per visited step for the shared examples.

Where the time goes, measured in one moto world over N executions (imports and table creation
excluded, the first execution discarded as warm-up):
  interpreter  moto's ASL interpreter + Step Functions API + polling (total - handlers)
  aws sdk      boto3/botocore + moto DynamoDB/SES called from inside our handlers
  ours         our handlers minus their AWS calls (journeys core, Powertools, pydantic, Liquid)
Target (issue 2): ours <= 30 % of the total; transitions per visited step <= 1.25.
Run: .venv/bin/python bench/bench_run.py [N]
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import threading
import time
from pathlib import Path

import botocore.client

from journeys.local.runner import LocalStack, run_journey
from journeys.local.trace import build_trace

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "journeys"
START = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.timezone.utc)


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
    contact = json.loads((SHARED / "contacts" / "ada.json").read_text())
    path = SHARED / "lead-nurturing.journey.yaml"
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
            run_journey(path, {**contact, "id": "warm-up"}, {}, stack=stack)  # imports, first deploy
            handlers.seconds, sdk.seconds = 0.0, 0.0
            started = time.perf_counter()
            for i in range(executions):
                result = run_journey(path, {**contact, "id": f"c-{i}"}, {}, stack=stack)
                assert result.status == "SUCCEEDED", result.status
            total = time.perf_counter() - started
        finally:
            type(handlers).__call__ = original_call
    ours = handlers.seconds - sdk.seconds
    return {"per_execution": total / executions, "total": total, "interpreter": total - handlers.seconds,
            "sdk": sdk.seconds, "ours": ours}


def transitions_per_step() -> list[tuple[str, str, int, int, int]]:
    """Every shared example for both shared contacts; the integration examples call the demo API."""
    import tempfile

    from journeys.local.demo_api import serve

    server = serve(port=0, background=True)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    actions = (SHARED / "actions.yaml").read_text().replace("http://127.0.0.1:8765", base)
    events = {"trial-onboarding": {"name": "trial_started"}, "enrichment": {"crm_hook": f"{base}/hooks/crm"}}
    rows = []
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as actions_file:
        actions_file.write(actions)
        actions_file.flush()
        for journey in ("lead-nurturing", "trial-onboarding", "enrichment", "sales-handoff"):
            for who in ("ada", "bob"):
                contact = json.loads((SHARED / "contacts" / f"{who}.json").read_text())
                trace = build_trace(run_journey(SHARED / f"{journey}.journey.yaml", contact, events.get(journey, {}),
                                                start=START, actions_file=actions_file.name))
                if trace["status"] == "NOT_ENTERED":
                    rows.append((journey, who, 0, 0, 0))
                    continue
                visited = len(trace["steps"])
                joins = sum(1 for s in trace["steps"] if s["type"] in ("join", "goto"))
                rows.append((journey, who, trace["transitions"], visited, joins))
    server.shutdown()
    return rows


def main() -> None:
    executions = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    t = time_lead_nurturing(executions)
    print(f"lead-nurturing, {executions} executions in one moto world: {t['per_execution'] * 1000:.1f} ms per execution")
    for key, label in (("interpreter", "moto ASL interpreter + SFN API"), ("sdk", "boto3 + moto DynamoDB/SES (from handlers)"), ("ours", "our handlers' own code")):
        print(f"  {label:44s} {t[key] / t['total'] * 100:5.1f} %")
    print(f"  ours <= 30 % target: {'ok' if t['ours'] / t['total'] <= 0.30 else 'MISSED'}")
    print("transitions per visited step (target <= 1.25; joins/gotos cost no state):")
    total_transitions = total_visited = 0
    for journey, who, transitions, visited, joins in transitions_per_step():
        if not visited:
            print(f"  {journey:18s} {who:4s} not entered (entry criteria)")
            continue
        total_transitions, total_visited = total_transitions + transitions, total_visited + visited
        print(f"  {journey:18s} {who:4s} {transitions:3d} / {visited:2d} = {transitions / visited:.2f}"
              + (f"   (without the {joins} join: {transitions / (visited - joins):.2f})" if joins else ""))
    print(f"  all runs: {total_transitions} / {total_visited} = {total_transitions / total_visited:.2f}")


if __name__ == "__main__":
    main()
