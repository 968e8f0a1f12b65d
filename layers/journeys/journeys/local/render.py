"""The human reading of a run: a step table, the messages, the contact at the end."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.padding import Padding
from rich.table import Table

STYLE = {"done": "green", "skipped": "yellow", "failed": "bold red", "event": "cyan", "timeout": "magenta"}


CHILD_INDENT = 4  # a started journey's trace is indented under the one that started it


def print_trace(trace: dict[str, Any], console: Console | None = None, indent: int = 0) -> None:
    # Piped output (CI logs, files) is not squeezed into 80 columns; a terminal keeps its width.
    console = console or Console(width=None if Console().is_terminal else 120)

    def show(renderable: Any) -> None:
        console.print(Padding(renderable, (0, 0, 0, indent)) if indent else renderable)

    status = trace["status"]
    colour = "green" if status == "SUCCEEDED" else "yellow" if status == "NOT_ENTERED" else "red"
    show(("↳ started " if indent else "") + f"[bold]{trace['journey']}[/]  [{colour}]{status}[/]" + (f"  ({trace['reason']})" if trace.get("reason") else ""))
    if trace.get("steps"):
        table = Table(show_edge=False, header_style="bold")
        for column in ("at (virtual)", "step", "type", "outcome", "detail"):
            table.add_column(column)
        for step in trace["steps"]:
            outcome = step["outcome"]
            style = STYLE.get(outcome, "blue")
            label = step["id"] + (f" [dim]{step['name']}[/]" if step.get("name") else "")
            table.add_row(step["at"].replace("T", " ").rstrip("Z"), label, step["type"], f"[{style}]{outcome}[/]", step.get("detail", ""))
        show(table)
    if trace.get("messages"):
        messages = Table(title="messages", show_edge=False, header_style="bold")
        for column in ("at", "step", "kind", "to", "subject"):
            messages.add_column(column)
        for message in trace["messages"]:
            messages.add_row(message["at"].replace("T", " ").rstrip("Z"), message["step"], message["kind"], message["to"], message["subject"])
        show(messages)
    contact = trace.get("contact") or {}
    if contact and not indent:  # a started journey shares the contact: shown once, at the top
        show("[bold]contact[/] " + ", ".join(f"{k}={v}" for k, v in contact.items()))
    if trace.get("journey_data"):
        show("[bold]journey data[/] " + ", ".join(sorted(trace["journey_data"])))
    if "transitions" in trace:
        show(f"[dim]{trace['transitions']} state transitions · {trace.get('execution', '')}[/]")
    for child in trace.get("children", []):  # executions its start_journey steps started
        print_trace(child, console, indent + CHILD_INDENT)



def print_rehearsal(rehearsal, graph: str, console: Console | None = None) -> None:
    """`journeys test` for people: statuses, a funnel table (each step: reached, done, skipped with
    reasons, failed, branches, waiting at the end), versions, messages, and the graph with counts."""
    from rich.markup import escape

    console = console or Console(width=None if Console().is_terminal else 120)
    summary = rehearsal.to_json()
    statuses = ", ".join(f"{status} {n}" for status, n in sorted(summary["status"].items()))
    console.print(f"[bold]{summary['journey']}[/]  {summary['contacts']} contacts  ({statuses})"
                  + (f"  [red]{len(summary['bad_lines'])} bad lines left out[/]" if summary["bad_lines"] else ""))
    table = Table(show_edge=False, header_style="bold")
    for column in ("step", "reached", "done", "deferred", "skipped", "failed", "branches", "waiting at end"):
        table.add_column(column, justify="left" if column in ("step", "deferred", "skipped", "branches") else "right")
    reached, reasons, waiting = rehearsal.reached_counts(), rehearsal.skip_reasons(), rehearsal.waiting_counts()
    deferred = rehearsal.deferred_counts()  # sends that waited for quiet hours or the send rate (also done)
    counts = summary["steps"]
    for step in rehearsal.compiled.journey.steps:
        outcomes = counts.get(step.id, {})
        skipped = outcomes.get("skipped", 0)
        why = ", ".join(f"{escape(str(r))} {n}" for r, n in reasons.get(step.id, {}).items() if r != "failed" and skipped)
        branches = ", ".join(f"{k.removeprefix('branch:')} {n}" for k, n in outcomes.items() if k.startswith("branch:"))
        branches += ", ".join(f"{k} {n}" for k, n in outcomes.items() if k in ("event", "timeout"))
        label = step.id + (f" [dim]{escape(step.name)}[/]" if step.name else "")
        held = ", ".join(f"{escape(r)} {n}" for r, n in deferred.get(step.id, {}).items())
        table.add_row(label, str(reached.get(step.id, 0)), _n(outcomes.get("done")), held or _n(None),
                      f"{skipped} ({why})" if why else _n(skipped), _n(outcomes.get("failed"), "bold red"),
                      escape(branches), _n(waiting.get(step.id)))
    console.print(table)
    if len(summary["versions"]) > 1 or any(v != "1" for v in summary["versions"]):
        console.print("[bold]versions[/] " + ", ".join(f"v{v}: {c['entered']} entered" for v, c in summary["versions"].items()))
    console.print("[bold]messages[/] " + ", ".join(f"{kind} {n}" for kind, n in summary["messages"].items())
                  + f"  [dim]· {summary['transitions']} state transitions[/]")
    console.print(graph, markup=False, highlight=False)


def _n(value, style: str = "") -> str:
    if not value:
        return "[dim]·[/]"
    return f"[{style}]{value}[/]" if style else str(value)
