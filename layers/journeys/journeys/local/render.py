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

