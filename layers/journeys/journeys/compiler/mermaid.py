"""A journey as a Mermaid flowchart: one node per step (labelled with its name), edges labelled
with what takes them (a split's branch names and `default`, a gate's `next`/`else`, a wait for an
event's `event`/`timeout`). Flow steps get shapes: splits and gates are diamonds, waits are
stadiums, exit and the journey's end are circles."""

from __future__ import annotations

import re

from journeys.compiler.graph import END, EXIT, Graph, ends_journey, exits_itself
from journeys.language.model import Journey, Step

START_NODE = "start"
END_NODE = "finish"
EDGE_START, EDGE_END = "(start)", "(end)"  # the ends in edge_counts keys (no step id has parentheses)


def _escape(text: str) -> str:
    return text.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;").replace("|", "#124;")


def _node_ids(journey: Journey) -> dict[str, str]:
    ids: dict[str, str] = {}
    used = {START_NODE, END_NODE}
    for step in journey.steps:
        base = "s_" + re.sub(r"[^A-Za-z0-9]", "_", step.id)
        candidate, n = base, 2
        while candidate in used:
            candidate, n = f"{base}_{n}", n + 1
        used.add(candidate)
        ids[step.id] = candidate
    return ids


def _shape(step: Step, node: str, count: int | None = None) -> str:
    label = _escape(step.label if count is None else f"{step.label} ({count})")
    if step.type in ("split", "gate"):
        return f'{node}{{"{label}"}}'
    if step.type == "wait":
        return f'{node}(["{label}"])'
    if step.type in ("exit", "join"):
        return f'{node}(("{label}"))'
    return f'{node}["{label}"]'


def _edges(graph: Graph, step: Step) -> list[tuple[str, str | None]]:
    """(target step id or END, label) for every way out of the step."""
    s = step.settings
    if step.type == "exit" or ends_journey(step, graph.journey_id):
        return [(END, None)]
    if step.type == "gate":
        return [(graph.default_next(step), "next"), (s["else"], "else")]
    if step.type == "split":
        edges = [(b["next"], b["name"]) for b in s["branches"]]
        return edges + ([(s["default"], "default")] if s.get("default") else [])
    if exits_itself(step, graph.journey_id):
        return [(graph.default_next(step), "skipped"), (END, "exited")]
    if step.type == "wait" and s.get("for_event"):
        event, timeout = graph.successors(step)
        return [(event, "event"), (timeout, "timeout")]
    return [(target, None) for target in graph.successors(step)]


def mermaid(journey: Journey, counts: dict[str, int] | None = None,
            edge_counts: dict[tuple[str, str], int] | None = None) -> str:
    """The flowchart; with `counts` (step id -> contacts) and `edge_counts` ((from, to) step ids, with
    EDGE_START/EDGE_END for the ends -> contacts), every step and edge also shows its count
    (`journeys test`)."""
    graph = Graph(journey.steps, journey.id)  # exit_journey of itself ends the journey too
    ids = _node_ids(journey)
    counted = counts is not None or edge_counts is not None
    counts, edge_counts = counts or {}, edge_counts or {}
    lines = ["flowchart TD", f'  %% journey {journey.id}: {_escape(journey.name)}',
             f'  {START_NODE}(["{_escape(_entry_label(journey))}"])']
    for step in journey.steps:
        lines.append("  " + _shape(step, ids[step.id], counts.get(step.id, 0) if counted else None))
    lines.append(f"  {END_NODE}((End))")
    first = journey.steps[0].id
    lines.append(f"  {START_NODE}{_arrow(None, edge_counts.get((EDGE_START, first), 0) if counted else None)}{ids[first]}")
    for step in journey.steps:
        for target, label in _edges(graph, step):
            ends = target in (END, EXIT, None) or target not in ids
            to = END_NODE if ends else ids[target]
            count = edge_counts.get((step.id, EDGE_END if ends else target), 0) if counted else None
            lines.append(f"  {ids[step.id]}{_arrow(label, count)}{to}")
    return "\n".join(lines) + "\n"


def _arrow(label: str | None, count: int | None) -> str:
    text = label if count is None else (f"{label}: {count}" if label else str(count))
    return f" -->|{_escape(text)}| " if text else " --> "


def _entry_label(journey: Journey) -> str:
    entry = journey.entry
    return f"event: {entry.event}" if entry.trigger == "event" else "webhook"
