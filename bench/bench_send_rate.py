"""The stack's send rate on the virtual clock: N contacts enter one journey at the same instant
under `send_rate: R/s`; every one must get its email, no virtual second may hold more than R
sends, and the sends should span about N / R seconds. Also prints what a deferral costs in state
transitions (the compiled Catch -> Pass -> Wait -> the same Task again).

Run: .venv/bin/python bench/bench_send_rate.py [N=300] [RATE=10]
"""

from __future__ import annotations

import collections
import datetime as dt
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from journeys.compiler import compile_journey
from journeys.language.loader import parse_journey
from journeys.local.runner import LocalStack

START = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.timezone.utc)
JOURNEY = textwrap.dedent("""\
    journey: announce
    entry: {trigger: webhook}
    steps:
      - id: announce
        type: send_email
        settings: {subject: "News for {{ contact.first_name }}", text: "Hello"}
""")


def main(contacts: int, rate: int) -> None:
    journey, _ = parse_journey(JOURNEY)
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder, LocalStack(START) as stack:
        policies = Path(folder) / "policies.yaml"
        policies.write_text(f"send_rate: {rate}/s\n")
        stack.use_policies(policies)
        stack.deploy(compile_journey(journey))
        arns = [stack.enter(journey, {"id": f"c{i}", "email": f"c{i}@example.com", "first_name": f"C{i}"}).execution_arn
                for i in range(contacts)]
        statuses = collections.Counter(stack.wait(arn, timeout=600)["status"] for arn in arns)
        sends, transitions = [], []
        for arn in arns:
            sends += [r["message"]["at"] for r in stack.journeys.step_results(arn) if r.get("message")]
            transitions.append(sum(1 for e in stack.history(arn) if e["type"].endswith("StateEntered")))
        accepted = len(stack.outbox())
    wall = time.perf_counter() - began
    per_second = collections.Counter(sends)
    first, last = min(per_second), max(per_second)
    span = (dt.datetime.fromisoformat(last.replace("Z", "+00:00")) - dt.datetime.fromisoformat(first.replace("Z", "+00:00"))).total_seconds()
    plain = min(transitions)
    deferred = sum(1 for t in transitions if t > plain)
    print(f"{contacts} contacts entering at once, send_rate {rate}/s (virtual clock, one moto world)")
    print(f"  executions: {dict(statuses)}; emails sent {len(sends)} (SES accepted {accepted}), dropped {contacts - len(sends)}")
    print(f"  busiest virtual second: {max(per_second.values())} sends (limit {rate}); span {span:.0f} s "
          f"(ideal {contacts / rate - 1:.0f} s: first at {first}, last at {last})")
    print(f"  transitions per contact: {plain} when sent at once, {max(transitions)} when deferred "
          f"({deferred} of {contacts} deferred; +{max(transitions) - plain} each: Pass, Wait, the Task again); "
          f"mean {sum(transitions) / contacts:.2f}")
    print(f"  wall time {wall:.1f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300, int(sys.argv[2]) if len(sys.argv) > 2 else 10)
