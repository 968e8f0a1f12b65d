"""The `journeys cost` table: every line is per-contact count x unit price x contacts = dollars."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from journeys.cost import prices as P
from journeys.cost.estimate import Estimate, Item, dollars


def unit_price(price: P.Price) -> str:
    """Per million units, as exact as the price is ($0.125, $13.3334), at least to the cent."""
    text = f"{price.usd * 1_000_000:,.4f}".rstrip("0")
    text += "0" * max(0, 2 - len(text.split(".")[1]))
    return f"${text} / 1M {price.unit}s"


def _table(title: str, items: list[Item], contacts: int) -> Table:
    table = Table(title=title, title_justify="left")
    for header, justify in (("item", "left"), ("per contact", "right"), ("unit price", "right"),
                            ("× contacts", "right"), ("USD", "right")):
        table.add_column(header, justify=justify)
    for item in items:
        table.add_row(item.what, f"{item.per_contact:,.4f}", unit_price(item.price), f"{contacts:,}", f"{item.usd(contacts):,.2f}")
    usd = dollars(items, contacts)
    parts = " + ".join(f"{group} {usd[group]:,.2f}" for group in ("step_functions", "lambda", "dynamodb", "ses"))
    table.add_section()
    table.add_row("[bold]total[/]", "", "", "", f"[bold]{usd['total']:,.2f}[/]")
    table.caption = parts
    return table


def print_estimates(estimates: list[Estimate], rehearsed: int, kind: str = "example contacts",
                    console: Console | None = None) -> None:
    console = console or Console()
    first = estimates[0]
    console.print(f"[bold]{first.journey}[/]: {first.contacts:,} contacts in us-east-1, from {rehearsed} "
                  f"{kind} rehearsed (averaged per contact)")
    for estimate in estimates:
        mode = f"optimize: {estimate.mode} · " if estimate.mode else ""
        console.print(_table(f"{mode}{estimate.workflow.title()} workflow", estimate.items, estimate.contacts))
    console.print(_table("naive design: one Lambda Task state per step (same paths)", first.naive_items, first.contacts))
    naive = first.usd(naive=True)["total"]
    for estimate in estimates:
        ours = estimate.usd()
        label = f"optimize: {estimate.mode}" if estimate.mode else "this design"
        without = ours["total"] - ours["ses"]
        naive_without = naive - first.usd(naive=True)["ses"]
        ratio = f"{without / naive_without:.2f}×" if naive_without else "n/a"
        console.print(f"{label}: ${ours['total']:,.2f} (naive ${naive:,.2f}); without SES "
                      f"${without:,.2f} = {ratio} the naive design; {estimate.per_contact['transitions']:.2f} transitions per contact")
    console.print("[dim]Counted in a local rehearsal (moto): transitions from each execution's history, Lambda "
                  "invocations and their duration as measured here, DynamoDB request units from item sizes, SES "
                  "recipients. Lambda memory and architecture from template.yaml. Free tiers not deducted. Prices "
                  f"taken {P.TAKEN} from the AWS pricing pages (journeys/cost/prices.py).[/]")
