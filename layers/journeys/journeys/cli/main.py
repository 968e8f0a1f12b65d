"""journeys validate | compile | run | schema (and more, added by add_command at the bottom)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click

from journeys.language.errors import JourneyFileError


def _error(message: str) -> None:
    click.echo(click.style("error: ", fg="red", bold=True) + message, err=True)


def _fail(message: str) -> None:
    _error(message)
    sys.exit(1)


def _warn(warnings: list[str]) -> None:
    for warning in warnings:
        click.echo(click.style("warning: ", fg="yellow") + warning, err=True)


def _load(path: str, allow_incomplete: bool):
    """The journey at `path`, its warnings printed; exits 1 after printing its errors."""
    journey = _load_or_report(path, allow_incomplete)
    if journey is None:
        sys.exit(1)
    return journey


def _load_or_report(path: str, allow_incomplete: bool):
    """The journey at `path` with its warnings printed, or None after printing its errors."""
    from journeys.language.loader import load_journey

    try:
        journey, warnings = load_journey(path, allow_incomplete=allow_incomplete)
    except JourneyFileError as error:
        _error(str(error) if len(error.problems) == 1 else f"{len(error.problems)} problems\n{error}")
        return None
    _warn(warnings)
    return journey


def _read_json(path: str | None, what: str) -> dict:
    if path is None:
        return {}
    try:
        value = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        _fail(f"{path}: cannot read {what}: {error.strerror}")
    except json.JSONDecodeError as error:
        _fail(f"{path}: {what} is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})")
    if not isinstance(value, dict):
        _fail(f"{path}: {what} must be a JSON object")
    return value


def _cross_check(journeys: list, actions_file: str | None) -> set[str | None] | None:
    """Action steps against the actions file; start/exit targets against the other journeys when
    several were given (journeys.language.crossrefs). Prints each file's problems and returns the
    files that have some; None when the actions file itself is bad (its errors printed)."""
    from journeys.language.crossrefs import DEFAULT_ACTIONS_FILE, check_journeys, load_actions

    actions, path = None, actions_file or DEFAULT_ACTIONS_FILE
    if Path(path).is_file():  # the Action modules (httpx, ...) load only when there is a file to check
        from journeys.actions import ActionError

        try:
            actions = load_actions(path)
        except ActionError as error:
            _error(str(error))
            return None
    known = [journey.id for journey in journeys] if len(journeys) > 1 else None
    errors = check_journeys(journeys, actions, known_journeys=known)
    for error in errors:
        _error(str(error) if len(error.problems) == 1 else f"{len(error.problems)} problems\n{error}")
    return {error.file for error in errors}


ACTIONS_OPTION = click.option(
    "--actions", "actions_file", type=click.Path(dir_okay=False, exists=True),
    help="Actions file to check action steps against (default: statemachines/actions.yaml when it exists).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Customer journeys as AWS Step Functions state machines."""


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--allow-incomplete", is_flag=True, help="Compile steps with missing settings as skips.")
@ACTIONS_OPTION
def validate(files: tuple[str, ...], allow_incomplete: bool, actions_file: str | None) -> None:
    """Check journey files; errors name the file, the step and the key."""
    loaded = {file: _load_or_report(file, allow_incomplete) for file in files}  # every file: one run shows every error
    crossed = _cross_check([journey for journey in loaded.values() if journey is not None], actions_file)
    failed = crossed is None
    for file, journey in loaded.items():
        if journey is None or (crossed is not None and journey.source in crossed):
            failed = True
        else:
            click.echo(f"{file}: ok ({len(journey.steps)} steps)")
    if failed:
        sys.exit(1)


@main.command(name="compile")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-o", "--out", default=None, type=click.Path(file_okay=False), help="Output folder (default: beside each file).")
@click.option("--allow-incomplete", is_flag=True, help="Compile steps with missing settings as skips.")
@click.option("--check", is_flag=True, help="Fail if a compiled file is missing or stale instead of writing it.")
@ACTIONS_OPTION
def compile_(files: tuple[str, ...], out: str | None, allow_incomplete: bool, check: bool, actions_file: str | None) -> None:
    """Compile journeys to <id>.asl.json (deterministic: same input, same bytes)."""
    from journeys.compiler import compile_journey

    journeys = {file: _load(file, allow_incomplete) for file in files}
    if _cross_check(list(journeys.values()), actions_file) != set():
        sys.exit(1)
    stale = []
    for file, journey in journeys.items():
        try:
            text = compile_journey(journey).to_json()
        except JourneyFileError as error:  # the definition is over the Step Functions size limit
            _fail(str(error))
        target = Path(out or Path(file).parent) / f"{journey.id}.asl.json"
        if check:
            if not target.is_file() or target.read_text(encoding="utf-8") != text:
                stale.append(str(target))
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        click.echo(f"{file} -> {target}")
    if stale:
        _fail("stale or missing (run `journeys compile`): " + ", ".join(stale))
    if check:
        click.echo(f"up to date: {len(files)} file{'s' if len(files) != 1 else ''}")


@main.command()
def schema() -> None:
    """Print the JSON Schema of journey files (for editor completion)."""
    from journeys.language.model import journey_json_schema

    click.echo(json.dumps(journey_json_schema(), indent=2))


def _valid_contact(contact_file: str, contact: dict) -> dict:
    """The contact file as the entry webhook takes it (journeys.language.contact_model): every mistake named
    by its field, values as the webhook would store them (`subscribed: "no"` is false, "yes" an error),
    at most CONTACT_MAX_BYTES."""
    from pydantic import ValidationError

    from journeys.language.contact_model import ContactIn, ContactTooLarge, check_contact_size

    try:
        valid = ContactIn.model_validate(contact).as_contact()
        check_contact_size(valid)
        return valid
    except ContactTooLarge as error:
        _fail(f"{contact_file}: {error}")
    except ValidationError as error:
        from journeys.actions.errors import describe_validation_error  # (the package loads httpx: only on error)

        _fail(f"{contact_file}: " + "; ".join(f"{key}: {message}" for key, message in describe_validation_error(error)))


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--contact", "contact_file", required=True, type=click.Path(dir_okay=False), help="Contact JSON ({id, email, ...}).")
@click.option("--event", "event_file", type=click.Path(dir_okay=False), help="Entry event JSON.")
@click.option("--actions", "actions_file", type=click.Path(dir_okay=False), help="Actions file (actions.yaml).")
@click.option("--policies", "policies_file", type=click.Path(dir_okay=False),
              help="Delivery policies (policies.yaml): frequency cap, quiet hours, send rate.")
@click.option("--start", default=None, help="Virtual start time, ISO 8601 (default: now).")
@click.option("--event-at", "event_at", multiple=True, metavar="NAME@+2h",
              help="Deliver event NAME for the contact at a virtual time (+duration from --start, or ISO 8601). Repeatable.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (the trace contract).")
@click.option("--allow-incomplete", is_flag=True, help="Compile steps with missing settings as skips.")
@click.option("--timeout", type=float, default=None,
              help="Wall-clock seconds before the run is stopped (default: $JOURNEYS_RUN_TIMEOUT, else 300).")
def run(file, contact_file, event_file, actions_file, policies_file, start, event_at, as_json, allow_incomplete, timeout) -> None:
    """Run one contact through a journey locally (moto, virtual clock)."""
    from journeys import clock
    from journeys.local.runner import run_journey, run_timeout
    from journeys.local.trace import build_trace

    _load(file, allow_incomplete)  # report file errors before starting anything
    contact = _valid_contact(contact_file, _read_json(contact_file, "contact"))
    event = _read_json(event_file, "event")
    started = clock.parse_timestamp(start) if start else dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    if started is None:
        _fail(f"--start {start!r} is not an ISO 8601 timestamp (e.g. 2026-01-05T08:00:00Z)")
    options = {}
    if actions_file:
        from journeys.actions import ActionError, load_actions_file

        try:
            load_actions_file(actions_file)
        except ActionError as error:
            _fail(str(error))
        options["actions_file"] = actions_file
    if policies_file:
        from journeys.language.policies import load_policies

        try:
            load_policies(policies_file)
        except JourneyFileError as error:
            _fail(str(error))
        options["policies_file"] = policies_file
    if event_at:
        from journeys.local.runner import parse_event_at

        try:
            for item in event_at:
                parse_event_at(item, started)
        except ValueError as error:
            _fail(str(error))
        options["event_at"] = list(event_at)
    if timeout is not None and not timeout > 0:
        _fail(f"--timeout {timeout}: expected a number of seconds > 0")
    try:
        limit = timeout or run_timeout()
    except ValueError as error:  # $JOURNEYS_RUN_TIMEOUT that is not a number of seconds
        _fail(str(error))
    result = run_journey(file, contact, event, start=started, allow_incomplete=allow_incomplete, timeout=limit, **options)
    trace = build_trace(result)
    if as_json:
        click.echo(json.dumps(trace, indent=2, ensure_ascii=False))
    else:
        from journeys.local.render import print_trace

        print_trace(trace)
    if trace["status"] not in ("SUCCEEDED", "NOT_ENTERED"):
        sys.exit(2)


@main.command(name="demo-api")
@click.option("--port", default=8765, show_default=True, help="Port on 127.0.0.1 (actions.yaml uses 8765).")
def demo_api(port: int) -> None:
    """Serve a local demo API (company enrichment, CRM, webhooks) for the integration examples."""
    from journeys.local.demo_api import serve

    server = serve(port)
    click.echo(f"demo API on http://127.0.0.1:{port} (GET /companies/<domain>, POST /crm/tasks, POST /hooks/<name>); Ctrl-C stops it")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.server_close()


from journeys.cli.actions import actions  # noqa: E402
from journeys.cli.cost import cost  # noqa: E402
from journeys.cli.deploy import build, graph  # noqa: E402
from journeys.cli.ops import COMMANDS as OPS_COMMANDS  # noqa: E402
from journeys.cli.rehearsal import test  # noqa: E402

for command in (actions, build, graph, test, cost, *OPS_COMMANDS):
    main.add_command(command)
