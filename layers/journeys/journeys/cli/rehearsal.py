"""`journeys test`: rehearse a journey on a segment of contacts (journeys/local/rehearsal.py)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click

EXIT_BAD_INPUT = 2  # nothing ran
EXIT_BAD_LINES = 1  # ran, without the bad lines


def _stop_with(message: str) -> None:
    click.echo(click.style("error: ", fg="red", bold=True) + message, err=True)
    sys.exit(EXIT_BAD_INPUT)


@click.command(name="test")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--segment", "segment_file", required=True, type=click.Path(dir_okay=False),
              help="Contacts: .jsonl (a contact, or {contact, event, at} a line) or .csv (header row).")
@click.option("--actions", "actions_file", type=click.Path(dir_okay=False), help="Actions file (actions.yaml).")
@click.option("--policies", "policies_file", type=click.Path(dir_okay=False),
              help="Delivery policies (policies.yaml): frequency cap, quiet hours, send rate.")
@click.option("--start", default=None, help="Virtual start time, ISO 8601 (default: now).")
@click.option("--publish", multiple=True, metavar="NEW@+3d",
              help="Make journey file NEW the next version at a virtual time (+duration from --start, or ISO 8601). Repeatable.")
@click.option("--stop", default=None, metavar="soft@+2d|hard@+2d",
              help="Stop entries at that time (soft); hard also ends every running execution (ABORTED).")
@click.option("--preview", "preview_dir", type=click.Path(file_okay=False), help="Write each rendered message here.")
@click.option("--graph", "graph_file", type=click.Path(dir_okay=False), help="Write the Mermaid graph with counts here.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (the rehearsal contract).")
@click.option("--allow-incomplete", is_flag=True, help="Compile steps with missing settings as skips.")
def test(file, segment_file, actions_file, policies_file, start, publish, stop, preview_dir, graph_file, as_json, allow_incomplete) -> None:
    """Run every contact of a segment through a journey locally, on one virtual clock."""
    from journeys import clock
    from journeys.cli.main import _load_or_report
    from journeys.local.rehearsal import RehearsalError, load_publishes, parse_publish, parse_stop, rehearse
    from journeys.local.segments import SegmentError, read_segment

    journey = _load_or_report(file, allow_incomplete)
    if journey is None:
        sys.exit(EXIT_BAD_INPUT)
    started = clock.parse_timestamp(start) if start else dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    if started is None:
        _stop_with(f"--start {start!r} is not an ISO 8601 timestamp (e.g. 2026-01-05T08:00:00Z)")
    try:
        segment = read_segment(segment_file, started)
        publishes = [parse_publish(item, started) for item in publish]
        stop_at = parse_stop(stop, started) if stop else None
        for path, _ in publishes:
            if _load_or_report(path, allow_incomplete) is None:
                sys.exit(EXIT_BAD_INPUT)
        load_publishes(journey.id, publishes, allow_incomplete)
    except (SegmentError, RehearsalError, ValueError) as error:
        _stop_with(str(error))
    if actions_file:
        from journeys.actions import ActionError, load_actions_file

        try:
            load_actions_file(actions_file)
        except ActionError as error:
            _stop_with(str(error))
    if policies_file:
        from journeys.language.errors import JourneyFileError
        from journeys.language.policies import load_policies

        try:
            load_policies(policies_file)
        except JourneyFileError as error:
            _stop_with(str(error))
    for line, error in segment.bad_lines:
        click.echo(click.style("error: ", fg="red", bold=True) + f"{segment_file}: line {line}: {error} (left out)", err=True)
    if not segment.entries:
        _stop_with(f"{segment_file}: no valid contact to run")

    with _progress_bar(len(segment.entries)) as progress:
        result = rehearse(file, segment, actions=actions_file, policies=policies_file, start=started, publish=publishes, stop=stop_at,
                          preview_dir=preview_dir, progress=progress, allow_incomplete=allow_incomplete)
    graph = _graph(result)
    if graph_file:
        Path(graph_file).write_text(graph, encoding="utf-8")
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    else:
        from journeys.local.render import print_rehearsal

        print_rehearsal(result, graph)
    if preview_dir:
        click.echo(f"{len(result.previews)} message previews in {preview_dir}", err=True)
    if segment.bad_lines:
        sys.exit(EXIT_BAD_LINES)


def _graph(result) -> str:
    from journeys.compiler.mermaid import mermaid

    return mermaid(result.compiled.journey, result.reached_counts(), result.edge_counts())


class _progress_bar:
    """A rich progress bar on stderr (stdout stays the result's); yields progress(done, total)."""

    def __init__(self, total: int):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(TextColumn("rehearsing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                            console=Console(stderr=True), transient=True)
        self.task = self.bar.add_task("contacts", total=total)

    def __enter__(self):
        self.bar.start()
        return lambda done, total: self.bar.update(self.task, completed=done, total=total)

    def __exit__(self, *exc):
        self.bar.stop()
