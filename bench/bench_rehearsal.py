"""`journeys test` speed: contacts per second rehearsing lead-nurturing for segments of growing size,
where the CPU goes, how it grows, and the process's peak memory after each size.

Each size runs in a fresh world (rehearse() builds one), all contacts arriving at the start, after
one warm-up rehearsal (imports). Executions run in threads that overlap, so the split is of CPU
time (process_time for the whole, thread_time inside calls), not wall time:
  aws calls    boto3/botocore + moto's DynamoDB/SES/Step Functions/Lambda answers, from any thread
               (our handlers, the interpreter's Lambda invokes, the driver's entries and result reads)
  ours         our handlers minus their AWS calls (journeys core, Powertools, pydantic, Liquid)
  interpreter  the rest: moto's ASL interpreter and its threads, the driver (clock, traces)
Target (issue 9): >= 20 contacts/s on the 2-core machine, time linear in N, memory flat in N.
Run: .venv/bin/python bench/bench_rehearsal.py [N ...]   (default: 10 100 1000)
"""

from __future__ import annotations

import datetime as dt
import json
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

import botocore.client

from journeys.local.rehearsal import rehearse
from journeys.local.runner import Handlers
from journeys.local.segments import read_segment

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "journeys"
START = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.timezone.utc)
JOURNEY = SHARED / "lead-nurturing.journey.yaml"


def segment_of(n: int, folder: Path):
    ada = json.loads((SHARED / "contacts" / "ada.json").read_text())
    path = folder / f"segment-{n}.jsonl"
    path.write_text("".join(json.dumps({**ada, "id": f"c-{i}", "email_clicks": i % 3}) + "\n" for i in range(n)))
    return read_segment(path, START)


class CpuTimer:
    """CPU seconds spent in our handlers, and in AWS calls (per thread, summed; a call inside a call,
    e.g. a handler's DynamoDB write inside the interpreter's Lambda invoke, is counted apart)."""

    def __init__(self):
        self.handlers = self.handler_calls = self.calls = 0.0
        self.local = threading.local()
        self.lock = threading.Lock()

    def __enter__(self):
        timer, original_call, original_api = self, Handlers.__call__, botocore.client.BaseClient._make_api_call
        self._saved = (original_call, original_api)

        def handler(handlers, name, payload):
            timer.local.in_handler, timer.local.call_depth, started = True, 0, time.thread_time()
            try:
                return original_call(handlers, name, payload)
            finally:
                timer.local.in_handler = False
                with timer.lock:
                    timer.handlers += time.thread_time() - started

        def api(client, operation, params):
            depth = getattr(timer.local, "call_depth", 0)
            timer.local.call_depth, started = depth + 1, time.thread_time()
            try:
                return original_api(client, operation, params)
            finally:
                timer.local.call_depth = depth
                if depth == 0:
                    spent = time.thread_time() - started
                    with timer.lock:
                        timer.calls += spent
                        if getattr(timer.local, "in_handler", False):
                            timer.handler_calls += spent

        Handlers.__call__, botocore.client.BaseClient._make_api_call = handler, api
        return self

    def __exit__(self, *exc):
        Handlers.__call__, botocore.client.BaseClient._make_api_call = self._saved


def timed(n: int, folder: Path) -> dict:
    segment = segment_of(n, folder)
    with CpuTimer() as cpu:
        started, cpu_started = time.perf_counter(), time.process_time()
        threads = [threading.active_count()]
        result = rehearse(JOURNEY, segment, start=START, progress=lambda done, total: threads.append(threading.active_count()))
        total, cpu_total = time.perf_counter() - started, time.process_time() - cpu_started
    assert result.status_counts() == {"SUCCEEDED": n}, result.status_counts()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"n": n, "total": total, "cpu": cpu_total, "ours": cpu.handlers - cpu.handler_calls, "aws": cpu.calls,
            "peak_mb": peak_mb, "threads": max(threads)}


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [10, 100, 1000]
    with tempfile.TemporaryDirectory() as folder:
        timed(2, Path(folder))  # warm-up: imports, first world
        rows = [timed(n, Path(folder)) for n in sizes]
    print("journeys test, lead-nurturing, one world per segment, every contact arriving at the start:")
    for row in rows:
        cpu = row["cpu"]
        rest = cpu - row["aws"] - row["ours"]
        print(f"  {row['n']:5d} contacts: {row['total']:7.1f} s wall, {cpu:7.1f} s CPU  {row['n'] / row['total']:6.2f} contacts/s  "
              f"{1000 * cpu / row['n']:5.0f} ms CPU per contact (aws calls {100 * row['aws'] / cpu:4.1f} %, "
              f"ours {100 * row['ours'] / cpu:4.1f} %, interpreter {100 * rest / cpu:4.1f} %)  peak RSS {row['peak_mb']:.0f} MB, {row['threads']} threads")
    first, last = rows[max(0, len(rows) - 2)], rows[-1]  # the two largest: the world's fixed cost is spread there
    growth = (last["cpu"] / last["n"]) / (first["cpu"] / first["n"])
    print(f"  CPU per contact at {last['n']} vs {first['n']} contacts: x{growth:.2f} (1.00 = linear)")
    if last["n"] > first["n"]:  # every contact waits at once here: moto runs each execution on its own thread
        per_contact = (last["peak_mb"] - first["peak_mb"]) / (last["n"] - first["n"])
        print(f"  peak RSS grows {1024 * per_contact:.0f} KB per contact in the world at once "
              f"({last['threads'] - first['threads']} more threads: moto runs each execution on its own)")
    best = max(r["n"] / r["total"] for r in rows)
    print(f"  >= 20 contacts/s target: {'ok' if best >= 20 else 'MISSED'}")


if __name__ == "__main__":
    main()
