"""Compile speed and definition size: whole runs, each in a fresh process.

Every run is one parse + validate + compile + to_json (which includes the size check) of a
generated journey, timed in a process of its own; the bench prints the min and the median over
the runs of each shape and size, and the deployed definition's size against the 1 MB limit.

Shapes:
  chain   a realistic mix in sequence: sends, waits, gates with else-branches, updates, 1-branch splits, tags
  splits  10-way conditional splits (9 branches + default), each way one send step, meeting at a join

Targets (issue 11.5): 1,000 steps in any shape < 0.5 s; 10,000 steps no worse than linear.
Run: .venv/bin/python bench/bench_compile.py [--runs N]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

import yaml

from journeys.compiler import compile_journey
from journeys.compiler.size import DEFINITION_LIMIT, deployed_size, compact_json
from journeys.language.errors import JourneyFileError
from journeys.language.loader import parse_journey

WIDTH = 10  # branches per split in the `splits` shape


def chain_journey(steps: int) -> str:
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
    return _yaml(items)


def splits_journey(steps: int) -> str:
    """Blocks of a 10-way split, 10 send steps and a join (12 steps), until `steps` is reached. Every
    way has a send: a default straight to the join would chain every later split into one lookahead."""
    items, block = [], 0
    while len(items) + WIDTH + 2 <= steps:
        b = f"b{block}"
        items.append({"id": f"{b}-split", "name": f"Segment {block}", "type": "split", "settings": {
            "branches": [{"name": f"Tier {k}", "when": {"field": "contact.score", "op": "gte", "value": 90 - 10 * k},
                          "next": f"{b}-send{k}"} for k in range(WIDTH - 1)],
            "default": f"{b}-send{WIDTH - 1}"}})
        for k in range(WIDTH):
            items.append({"id": f"{b}-send{k}", "name": f"Offer {block}.{k}", "type": "send_email", "next": f"{b}-join",
                          "settings": {"subject": f"Tier {k} offer for {{{{ contact.first_name }}}}", "text": f"Offer {k} of block {block}."}})
        items.append({"id": f"{b}-join", "type": "join"})
        block += 1
    while len(items) < steps:
        items.append({"id": f"tail{len(items)}", "type": "add_tag", "settings": {"tags": ["tail"]}})
    return _yaml(items)


def _yaml(items: list[dict]) -> str:
    return yaml.safe_dump({"journey": "generated", "entry": {"trigger": "webhook"}, "steps": items}, sort_keys=False)


SHAPES = {"chain": chain_journey, "splits": splits_journey}
CASES = (("chain", 1000), ("splits", 1000), ("chain", 10000), ("splits", 10000))


def one_run(shape: str, steps: int) -> dict:
    """One whole compile in this (fresh) process: seconds, states and the deployed size."""
    text = SHAPES[shape](steps)
    started, cpu_started = time.perf_counter(), time.process_time()
    journey, _ = parse_journey(text, "generated.journey.yaml")
    compiled = compile_journey(journey)
    try:
        compiled.to_json()
        over = None
    except JourneyFileError as error:  # over the size limit: still a whole run, reported as such
        over = str(error)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return {"seconds": seconds, "cpu": cpu, "states": len(compiled.asl["States"]), "size": deployed_size(compact_json(compiled.asl)), "over": over}


def runs_in_fresh_processes(shape: str, steps: int, runs: int) -> list[dict]:
    out = []
    for _ in range(runs):
        done = subprocess.run([sys.executable, __file__, "--one", shape, str(steps)], check=True, capture_output=True, text=True)
        out.append(json.loads(done.stdout))
    return out


def steps_that_fit(shape: str) -> int:
    """The most steps of `shape` whose deployed definition is within the limit (sizes are linear: bisect)."""
    def size(n: int) -> int:
        journey, _ = parse_journey(SHAPES[shape](n), "generated.journey.yaml")
        return deployed_size(compact_json(compile_journey(journey).asl))

    low, high = 12, 2004
    while high - low > 12:
        middle = (low + high) // 24 * 12  # whole blocks: a chain of 6k steps ends on a plain step
        low, high = (middle, high) if size(middle) <= DEFINITION_LIMIT else (low, middle)
    return low


def breakdown(shape: str, steps: int = 1000) -> dict[str, float]:
    """Share of the deployed definition taken by each repeated part of the Task states."""
    journey, _ = parse_journey(SHAPES[shape](steps), "generated.journey.yaml")
    asl = compile_journey(journey).asl
    total = deployed_size(compact_json(asl))
    parts = {"Retry": 0, "lookahead": 0, "Catch": 0, "step settings": 0}
    for state in asl["States"].values():
        parameters = state.get("Parameters", {})
        payload = parameters.get("Payload", parameters)
        step = payload.get("step") or {}
        parts["step settings"] += sum(len(compact_json(step[k]).encode()) for k in ("settings", "apply_to") if k in step)
        parts["lookahead"] += len(compact_json(payload["lookahead"]).encode()) if "lookahead" in payload else 0
        parts["Retry"] += len(compact_json(state["Retry"]).encode()) if "Retry" in state else 0
        parts["Catch"] += len(compact_json(state["Catch"]).encode()) if "Catch" in state else 0
    return {name: size / total for name, size in parts.items()}


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--one":
        print(json.dumps(one_run(sys.argv[2], int(sys.argv[3]))))
        return
    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 5
    print(f"whole runs (parse + compile + to_json with size check), {runs} fresh processes each;"
          f" load average at start {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print("wall s = elapsed time; CPU s = the process's own CPU time (what a shared, loaded machine distorts least)")
    print(f"{'shape':>7} {'steps':>6} {'states':>7} {'min s':>7} {'median s':>9} {'min CPU s':>10} {'median CPU s':>13} {'deployed KB':>12}  limit 1,024 KB")
    results = {}
    for shape, steps in CASES:
        measured = runs_in_fresh_processes(shape, steps, runs if steps <= 1000 else max(2, runs // 2))
        seconds, cpu = [m["seconds"] for m in measured], [m["cpu"] for m in measured]
        results[shape, steps] = (statistics.median(seconds), statistics.median(cpu))
        m = measured[0]
        print(f"{shape:>7} {steps:>6} {m['states']:>7} {min(seconds):7.3f} {statistics.median(seconds):9.3f} {min(cpu):10.3f}"
              f" {statistics.median(cpu):13.3f} {m['size'] / 1024:12.0f}  {'OVER: compile error' if m['over'] else 'fits'}")
    for shape in SHAPES:
        (small, small_cpu), (large, large_cpu) = results[shape, 1000], results[shape, 10000]
        print(f"{shape:>7}: 1,000 steps median {small:.3f} s wall, {small_cpu:.3f} s CPU (target < 0.5 s: wall "
              f"{'ok' if small < 0.5 else 'MISSED'}, CPU {'ok' if small_cpu < 0.5 else 'MISSED'}); "
              f"10k/1k {large / small:.1f}x wall, {large_cpu / small_cpu:.1f}x CPU (linear = 10x)")
    for shape in SHAPES:
        print(f"{shape:>7}: at most ~{steps_that_fit(shape):,} steps fit in the 1 MB definition limit; of 1,000 steps' definition: "
              + ", ".join(f"{name} {share:.0%}" for name, share in breakdown(shape).items()))
    print(f"load average at end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
