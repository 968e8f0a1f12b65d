"""Compile + validate generated journeys of 1,000 and 10,000 steps.

Targets (issue 2): 1,000 steps < 0.5 s; 10,000 steps no worse than linear (ratio printed).
Run: .venv/bin/python bench/bench_compile.py
"""

from __future__ import annotations

import cProfile
import json
import pstats
import resource
import subprocess
import sys
import time

import yaml

from journeys.compiler import compile_journey
from journeys.language.loader import parse_journey


def generated_journey(steps: int) -> str:
    """A realistic mix: sends, waits, gates with else-branches, updates, splits, tags."""
    items = []
    for i in range(steps):
        kind = i % 6
        if kind == 0:
            items.append({"id": f"s{i}", "name": f"Email {i}", "type": "send_email",
                          "apply_to": {"field": "contact.score", "op": "gte", "value": i % 50},
                          "settings": {"subject": "Hi {{ contact.first_name | default: 'there' }}", "text": "Step " + str(i)}})
        elif kind == 1:
            items.append({"id": f"s{i}", "type": "wait", "settings": {"duration": "1d"}})
        elif kind == 2:
            items.append({"id": f"s{i}", "type": "gate", "settings": {
                "when": {"field": "contact.tags", "op": "contains", "value": f"t{i}"}, "else": f"s{i + 2}" if i + 2 < steps else "exit"}})
        elif kind == 3:
            items.append({"id": f"s{i}", "type": "update_profile", "settings": {"set": {f"a{i}": "{{ now }}"}, "increment": {"n": 1}}})
        elif kind == 4:
            items.append({"id": f"s{i}", "type": "split", "settings": {
                "branches": [{"name": "Big", "when": {"field": "contact.size", "op": "gte", "value": 100}, "next": f"s{i + 1}"}],
                "default": f"s{i + 1}"}})
        else:
            items.append({"id": f"s{i}", "type": "add_tag", "settings": {"tags": [f"t{i}"]}})
    return yaml.safe_dump({"journey": "generated", "entry": {"trigger": "webhook"}, "steps": items}, sort_keys=False)


PHASES = ("parse", "compile", "json")


def seconds(result: dict[str, float]) -> float:
    return sum(result[phase] for phase in PHASES)


def measure(steps: int, repeat: int) -> dict[str, float]:
    """Best-of-`repeat` seconds per phase for one size (the caller runs each size in its own process)."""
    text = generated_journey(steps)
    best = {"parse": float("inf"), "compile": float("inf"), "json": float("inf")}
    for _ in range(repeat):
        t0 = time.perf_counter()
        journey, _ = parse_journey(text, "generated.journey.yaml")
        t1 = time.perf_counter()
        compiled = compile_journey(journey)
        t2 = time.perf_counter()
        compiled.to_json()
        t3 = time.perf_counter()
        for phase, seconds in (("parse", t1 - t0), ("compile", t2 - t1), ("json", t3 - t2)):
            best[phase] = min(best[phase], seconds)
        del journey, compiled
    best["calls"] = python_calls(text)
    best["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return best


def python_calls(text: str) -> int:
    """Python function calls for one validate + compile + to_json: a count, not a time, so it
    shows whether the work per step grows with the journey (it should not: linear algorithms)."""
    profiler = cProfile.Profile()
    profiler.enable()
    journey, _ = parse_journey(text, "generated.journey.yaml")
    compile_journey(journey).to_json()
    profiler.disable()
    return pstats.Stats(profiler).total_calls


def measure_in_fresh_process(steps: int) -> dict[str, float]:
    """A fresh interpreter per size: a 10,000-step run must not inherit (or leave) a heap the
    1,000-step run is measured in."""
    out = subprocess.run([sys.executable, __file__, "--measure", str(steps)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--measure":
        steps = int(sys.argv[2])
        print(json.dumps(measure(steps, repeat=5 if steps <= 2000 else 3)))
        return
    sizes = (1000, 2000, 5000, 10000)
    results = {n: measure_in_fresh_process(n) for n in sizes}
    print(f"{'steps':>6} {'total s':>8} {'parse us/step':>14} {'compile us/step':>16} {'json us/step':>13} {'calls/step':>11} {'peak MB':>8}")
    for n, r in results.items():
        per = {k: r[k] / n * 1e6 for k in PHASES}
        print(f"{n:>6} {seconds(r):8.3f} {per['parse']:14.1f} {per['compile']:16.1f} {per['json']:13.1f} {r['calls'] / n:11.1f} {r['peak_mb']:8.0f}")
    small, large = seconds(results[1000]), seconds(results[10000])
    print(f"compile+validate 1,000 steps : {small:.3f} s  (target < 0.5 s: {'ok' if small < 0.5 else 'MISSED'})")
    ratio = large / small
    print(f"ratio 10k/1k                 : {ratio:.1f}x  (linear = 10x; target <= ~10x: {'ok' if ratio <= 11 else 'MISSED'})")
    print(f"  python calls 10k/1k: {results[10000]['calls'] / results[1000]['calls']:.2f}x (the work per step is constant; wall time adds the cost of a larger heap, see peak MB)")
    for phase in PHASES:
        print(f"  {phase:<8} 10k/1k: {results[10000][phase] / results[1000][phase]:5.1f}x")


if __name__ == "__main__":
    main()
