"""`journeys status|pause|resume|stop|enter JOURNEY --stack NAME`: operate a deployed journey.

Each command finds the stack's resources from its CloudFormation outputs (journeys.ops.stack).
Progress bars go to stderr; `--json` prints one clean JSON document on stdout.
"""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager

import click

STACK = click.option("--stack", "stack_name", required=True, envvar="JOURNEYS_STACK",
                     help="The deployed stack (sam deploy --stack-name); $JOURNEYS_STACK.")
AS_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


def _fail(message: str) -> None:
    click.echo(click.style("error: ", fg="red", bold=True) + message, err=True)
    sys.exit(1)


@contextmanager
def _operating(stack_name: str):
    """The stack, or a clear error (no traceback) when it or what a command needs is missing."""
    from botocore.exceptions import BotoCoreError, ClientError

    from journeys.ops.stack import StackError, find_stack

    try:
        yield find_stack(stack_name)
    except (StackError, LookupError) as error:
        _fail(str(error).strip("'\""))
    except (ClientError, BotoCoreError) as error:
        _fail(f"stack {stack_name!r}: {error}")


def _progress():
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=Console(stderr=True), transient=False)


@click.command()
@click.argument("journey")
@STACK
@AS_JSON
def status(journey: str, stack_name: str, as_json: bool) -> None:
    """Entries open or paused, the live version, and per version who is where now."""
    from journeys.ops.status import journey_status

    with _operating(stack_name) as stack:
        report = journey_status(stack, journey)
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    changed = f" (by {report['changed_by']} at {report['changed_at']})" if report.get("changed_by") else ""
    click.echo(f"{journey} on {stack_name}: entries {report['entries']}{changed}; live version {report['live_version']}; "
               f"{report['running']} running")
    for version in report["versions"]:
        label = f"version {version['version']}" if version["version"] is not None else "unversioned"
        click.echo(f"  {label}{' (live)' if version['live'] else ''}: {version['running']} running")
        for where, count in version["at"].items():
            click.echo(f"    {count:>8}  {where}")
    if report["policies"]:
        click.echo("  delivery policies so far: " + ", ".join(f"{outcome} {n}" for outcome, n in report["policies"].items()))


def _switch(journey: str, stack_name: str, paused: bool, as_json: bool) -> None:
    from journeys.ops.pause import set_paused

    with _operating(stack_name) as stack:
        switch = set_paused(stack, journey, paused)
    if as_json:
        click.echo(json.dumps({"journey": journey, "entries": "paused" if paused else "open", "by": switch.get("by"),
                               "at": switch.get("at")}))
    elif paused:
        click.echo(f"{journey}: entries paused (entries answer NOT_ENTERED, reason 'journey paused'); "
                   "running contacts go on; `journeys resume` reopens")
    else:
        click.echo(f"{journey}: entries open")


@click.command()
@click.argument("journey")
@STACK
@AS_JSON
def pause(journey: str, stack_name: str, as_json: bool) -> None:
    """Close entries (a soft stop: contacts inside finish)."""
    _switch(journey, stack_name, True, as_json)


@click.command()
@click.argument("journey")
@STACK
@AS_JSON
def resume(journey: str, stack_name: str, as_json: bool) -> None:
    """Open entries again."""
    _switch(journey, stack_name, False, as_json)


@click.command()
@click.argument("journey")
@STACK
@click.option("--hard", is_flag=True, help="Stop running executions (without it: pause entries only).")
@click.option("--version", "version", type=int, help="Only executions of this version.")
@click.option("--reason", default="no reason given", show_default=True, help="Recorded in each execution's stop cause.")
@click.option("--rate", default=20.0, show_default=True, help="StopExecution calls per second.")
@AS_JSON
def stop(journey: str, stack_name: str, hard: bool, version: int | None, reason: str, rate: float, as_json: bool) -> None:
    """Stop a journey: pause its entries, and with --hard stop every running execution."""
    from journeys.ops.pause import set_paused, who
    from journeys.ops.stop import hard_stop

    if not hard:
        _switch(journey, stack_name, True, as_json)
        return
    with _operating(stack_name) as stack, _progress() as progress:
        if version is None:
            set_paused(stack, journey, True)  # stopping everything: no new entry may start meanwhile
        task = progress.add_task(f"stopping {journey}" + (f" version {version}" if version else ""), total=None)
        report = hard_stop(stack, journey, by=who(), why=reason, version=version, rate=rate,
                           on_listed=lambda n: progress.update(task, total=n),
                           on_stopped=lambda: progress.advance(task))
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        scope = f"version {version}" if version is not None else "all versions (entries paused)"
        click.echo(f"{journey}: stopped {report['stopped']} executions of {scope}"
                   + (f"; {report['already_gone']} had already ended" if report["already_gone"] else ""))


@click.command()
@click.argument("journey")
@STACK
@click.option("--segment", "segment", required=True, type=click.Path(dir_okay=False, exists=True),
              help="Contacts, one per line: .csv (header row with an id column) or .jsonl.")
@click.option("--wait/--no-wait", default=False, help="Follow the Map Run with a progress bar, then print the summary.")
@AS_JSON
def enter(journey: str, stack_name: str, segment: str, wait: bool, as_json: bool) -> None:
    """Enter a segment at scale (a Distributed Map over the file in the stack's bucket)."""
    from journeys.language.segments import SegmentError
    from journeys.ops import segment_entry

    with _operating(stack_name) as stack:
        try:
            run = segment_entry.start(stack, journey, segment)
        except SegmentError as error:
            _fail(str(error))
        if run.with_arrivals:
            click.echo(f"note: {run.with_arrivals} line(s) carry an arrival time or entry event (`at`, `event`): "
                       "those are for `journeys test`; here every contact enters now, with the segment's entry event",
                       err=True)
        if not wait:
            click.echo(json.dumps({"run": run.run, "lines": run.lines, "execution": run.execution_arn}) if as_json else
                       f"{journey}: entering {run.lines} lines ({run.run}); `journeys enter ... --wait` follows it")
            return
        with _progress() as progress:
            task = progress.add_task(f"entering {journey}", total=run.lines)
            status = segment_entry.wait(run, on_counts=lambda c: progress.update(
                task, completed=c.get("succeeded", 0) + c.get("failed", 0), total=c.get("total") or run.lines))
        report = segment_entry.summary(stack, run, status)
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(f"{journey}: {report['status']}: {report['lines']} lines, {report['entered']} entered")
        for reason, count in report["not_entered"].items():
            click.echo(f"  {count:>8}  not entered: {reason}")
        for bad in report["bad_lines"][:20]:
            click.echo(f"  line {bad['line']}: {bad['error']}")
        if len(report["bad_lines"]) > 20:
            click.echo(f"  ... {len(report['bad_lines']) - 20} more bad lines (--json lists them all)")
    if report["status"] != "SUCCEEDED":
        sys.exit(2)


COMMANDS = [status, pause, resume, stop, enter]
