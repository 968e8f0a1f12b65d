"""`journeys test` speed: contacts per second rehearsing lead-nurturing for segments of growing size,
where the time goes, how it grows, and the process's peak memory after each size.

Each size runs in a fresh world (rehearse() builds one), all contacts arriving at the start, after
one warm-up rehearsal (imports). Split of the wall time, as in bench_run.py:
  interpreter  moto's ASL interpreter + Step Functions API + the driver (total - handlers)
  aws sdk      boto3/botocore + moto DynamoDB/SES called from inside our handlers
  ours         our handlers minus their AWS calls (journeys core, Powertools, pydantic, Liquid)
Target (issue 9): >= 20 contacts/s on the 2-core machine, time linear in N, memory flat in N.
Run: .venv/bin/python bench/bench_rehearsal.py [N ...]   (default: 10 100 1000)
"""

from __future__ import annotations

import datetime as dt
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

from bench_run import SdkTimer  # the same split as journeys run's bench

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


def timed(n: int, folder: Path) -> dict:
    segment = segment_of(n, folder)
    original_call = Handlers.__call__
    with SdkTimer() as sdk:
        handler_seconds = [0.0]

        def flagged(self, name, payload):
            sdk.local.in_handler = True
            started = time.perf_counter()
            try:
                return original_call(self, name, payload)
            finally:
                handler_seconds[0] += time.perf_counter() - started
                sdk.local.in_handler = False

        Handlers.__call__ = flagged
        try:
            started = time.perf_counter()
            result = rehearse(JOURNEY, segment, start=START)
            total = time.perf_counter() - started
        finally:
            Handlers.__call__ = original_call
    assert result.status_counts() == {"SUCCEEDED": n}, result.status_counts()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"n": n, "total": total, "handlers": handler_seconds[0], "sdk": sdk.seconds, "peak_mb": peak_mb}


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [10, 100, 1000]
    with tempfile.TemporaryDirectory() as folder:
        timed(2, Path(folder))  # warm-up: imports, first world
        rows = [timed(n, Path(folder)) for n in sizes]
    print("journeys test, lead-nurturing, one world per segment, every contact arriving at the start:")
    for row in rows:
        ours = row["handlers"] - row["sdk"]
        print(f"  {row['n']:5d} contacts: {row['total']:7.1f} s  {row['n'] / row['total']:6.2f} contacts/s  "
              f"(interpreter {100 * (row['total'] - row['handlers']) / row['total']:4.1f} %, "
              f"aws sdk {100 * row['sdk'] / row['total']:4.1f} %, ours {100 * ours / row['total']:4.1f} %)  "
              f"peak RSS {row['peak_mb']:.0f} MB")
    first, last = rows[0], rows[-1]
    growth = (last["total"] / last["n"]) / (first["total"] / first["n"])
    print(f"  time per contact at {last['n']} vs {first['n']} contacts: x{growth:.2f} (1.00 = linear)")
    best = max(r["n"] / r["total"] for r in rows)
    print(f"  >= 20 contacts/s target: {'ok' if best >= 20 else 'MISSED'}")


if __name__ == "__main__":
    main()
