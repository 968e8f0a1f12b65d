"""`journeys cost FILE [--segment S] [--contacts N] [--json]`: what N contacts cost on AWS
(us-east-1), from what a local rehearsal counted, against a naive one-Task-per-step design."""

from __future__ import annotations

import json
import sys

import click

DEFAULT_CONTACTS = 1_000_000


def _fail(message: str, code: int = 2) -> None:
    click.echo(click.style("error: ", fg="red", bold=True) + message, err=True)
    sys.exit(code)


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--segment", default=None, metavar="S", help="Segment file whose contacts to rehearse (default: the shared example contacts).")
@click.option("--contacts", "count", type=click.IntRange(min=1), default=DEFAULT_CONTACTS, show_default=True,
              help="How many contacts to price.")
@click.option("--event", "event_file", type=click.Path(dir_okay=False), help="Entry event JSON, for every contact (as journeys run).")
@click.option("--actions", "actions_file", type=click.Path(dir_okay=False), help="Actions file (actions.yaml), as journeys run.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (the contract's shape).")
def cost(file: str, segment: str | None, count: int, event_file: str | None, actions_file: str | None, as_json: bool) -> None:
    """Estimate what COUNT contacts through a journey cost on AWS, per item, and in a naive design."""
    from journeys.cli.main import _load_or_report, _read_json
    from journeys.cost.estimate import estimate, functions
    from journeys.cost.measure import default_contacts, has_modes
    from journeys.local.runner import REPO

    journey = _load_or_report(file, False)
    if journey is None:
        sys.exit(1)
    event = _read_json(event_file, "event")
    if actions_file:
        from journeys.actions import ActionError, load_actions_file

        try:
            load_actions_file(actions_file)
        except ActionError as error:
            _fail(str(error), 1)
    contacts: list[dict] = []
    if segment is None:
        try:
            contacts = default_contacts()
        except FileNotFoundError as error:
            _fail(str(error))
    modes = ["steps", "cost"] if has_modes() else [None]
    settings = functions(REPO / "template.yaml")
    measured = _rehearse(file, contacts, segment, modes, event, actions_file)
    estimates = [estimate(m, count, settings) for m in measured]
    for other in estimates[1:]:  # one naive design: the paths redrawn with the steps mode's per-step work
        other.naive_items, other.naive_per_contact = estimates[0].naive_items, estimates[0].naive_per_contact
    own = next((e for e in estimates if e.mode == getattr(journey, "optimize", None)), estimates[0])
    if as_json:
        document = own.to_json()
        if len(estimates) > 1:
            document["modes"] = {e.mode: {**{k: v for k, v in e.to_json().items() if k in ("per_contact", "usd", "naive_usd")},
                                          "workflow": e.workflow} for e in estimates}
        click.echo(json.dumps(document, indent=2))
        return
    from journeys.cost.render import print_estimates

    print_estimates(estimates, measured[0].contacts, "segment contacts" if segment else "example contacts")


def _rehearse(file: str, contacts: list[dict], segment: str | None, modes: list[str | None], event: dict,
              actions_file: str | None):
    """Each mode's rehearsal (the segment's contacts, else `contacts`), a progress bar on stderr."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from journeys.cost.measure import measure, measure_segment

    results = []
    with Progress(TextColumn("[dim]rehearsing {task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(file, total=None)
        for mode in modes:
            def advance(done: int, mode_index: int = len(results)) -> None:
                size = results[0].contacts if results else (len(contacts) or done)
                progress.update(task, total=size * len(modes), completed=mode_index * size + done)

            if segment is None:
                results.append(measure(file, contacts, mode=mode, event=event, actions_file=actions_file, progress=advance))
                continue
            try:
                results.append(measure_segment(file, segment, mode=mode, actions_file=actions_file, progress=advance))
            except ValueError as error:  # a segment that cannot be read (SegmentError): nothing ran
                _fail(f"--segment {segment}: {error}")
    return results
