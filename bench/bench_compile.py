"""Compile + validate generated journeys of 1,000 and 10,000 steps.

Targets (issue 2): 1,000 steps < 0.5 s; 10,000 steps no worse than linear (ratio printed).
Run: .venv/bin/python bench/bench_compile.py
"""

from __future__ import annotations

import time

import yaml

from journeys.compiler import compile_journey
from journeys.loader import parse_journey


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


def measure(steps: int, repeat: int = 3) -> float:
    text = generated_journey(steps)
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        journey, _ = parse_journey(text, "generated.journey.yaml")
        compile_journey(journey).to_json()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    small, large = measure(1000), measure(10000, repeat=2)
    print(f"compile+validate 1,000 steps : {small:.3f} s  (target < 0.5 s: {'ok' if small < 0.5 else 'MISSED'})")
    print(f"compile+validate 10,000 steps: {large:.3f} s")
    print(f"ratio 10k/1k                 : {large / small:.1f}x  (linear = 10x; target <= ~10x: {'ok' if large / small <= 12 else 'MISSED'})")


if __name__ == "__main__":
    main()
