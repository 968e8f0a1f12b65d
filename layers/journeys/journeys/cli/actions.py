"""`journeys actions list | test | call`: tests for users of their Actions, before a journey uses them.

- `list`: the module catalog: each module type, its config fields and its functions' input fields.
- `test ID --actions FILE`: the module test: one cheap request proving the Action's config reaches
  its endpoint (and its credentials are accepted).
- `call ID FUNCTION --input JSON --actions FILE`: the function test: the real call, its response.
- `deploy --actions FILE --table NAME`: puts the file's Actions where the deployed actions Lambda
  reads them (the stack's JourneyTable, output JourneyTableName), as the local runner does.

These run on your machine, like `journeys run`: loopback is allowed (--no-loopback refuses it, as a
deployed Lambda does); every other private, link-local and multicast address is refused unless in
JOURNEYS_OUTBOUND_ALLOWLIST. Secrets come from JOURNEYS_SECRET_<NAME> variables and are never printed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

# journeys.actions (httpx and the modules) is imported by the commands that use it: every other
# command of the CLI (validate, run, ...) starts without it.


def _fail(message: str, code: int = 1) -> None:
    click.echo(click.style("error: ", fg="red", bold=True) + message, err=True)
    sys.exit(code)


def _policy(no_loopback: bool) -> OutboundPolicy:
    from journeys.actions import OutboundPolicy

    env = OutboundPolicy.from_env()
    return OutboundPolicy(allow_loopback=not no_loopback, allowlist=env.allowlist)


def _spec(action_id: str, actions_file: str):
    from journeys.actions import ActionError, load_actions_file

    try:
        specs = load_actions_file(actions_file)
    except ActionError as error:
        _fail(str(error))
    if action_id not in specs:
        _fail(f"{actions_file}: no action '{action_id}' (defined: {', '.join(sorted(specs)) or 'none'})")
    return specs[action_id]


actions_file_option = click.option("--actions", "actions_file", default="actions.yaml", show_default=True,
                                   type=click.Path(dir_okay=False), help="Actions file.")
no_loopback_option = click.option("--no-loopback", is_flag=True, help="Refuse 127.0.0.1/::1 too, as deployed Lambdas do.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def actions() -> None:
    """Actions: list the modules, test an Action's configuration, call one of its functions."""


@actions.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="The full catalog with JSON Schemas.")
def list_(as_json: bool) -> None:
    """The module catalog: types, config fields, functions and their input fields."""
    from journeys.actions import module_catalog

    catalog = module_catalog()
    if as_json:
        click.echo(json.dumps(catalog, indent=2))
        return
    for module in catalog:
        click.echo(click.style(module["type"], bold=True) + (f"  {module['description']}" if module["description"] else ""))
        click.echo("  config: " + _fields(module["config_schema"]))
        for function in module["functions"]:
            click.echo(f"  {function['name']}({_fields(function['input_schema'])})" + (f"  {function['description']}" if function["description"] else ""))


def _fields(schema: dict) -> str:
    required = set(schema.get("required") or [])
    names = [name + ("" if name in required else "?") for name in (schema.get("properties") or {})]
    return ", ".join(names) or "-"


@actions.command(name="test")
@click.argument("action_id")
@actions_file_option
@no_loopback_option
def test(action_id: str, actions_file: str, no_loopback: bool) -> None:
    """Module test: check the Action's configuration against its endpoint."""
    from journeys.actions import test_action

    spec = _spec(action_id, actions_file)
    result = test_action(spec, _policy(no_loopback))
    mark = click.style("ok", fg="green", bold=True) if result["ok"] else click.style("failed", fg="red", bold=True)
    click.echo(f"{spec.id} ({spec.type}): {mark} - {result['detail']}")
    if not result["ok"]:
        sys.exit(2)


@actions.command(name="call")
@click.argument("action_id")
@click.argument("function")
@click.option("--input", "input_text", default="{}", help="The function's input, a JSON object (or @file.json).")
@actions_file_option
@no_loopback_option
@click.option("--timeout", default=10.0, show_default=True, help="Seconds per attempt.")
def call(action_id: str, function: str, input_text: str, actions_file: str, no_loopback: bool, timeout: float) -> None:
    """Function test: run the real call and print the response {status, headers, body}."""
    from journeys.actions import ActionError, run_action

    spec = _spec(action_id, actions_file)
    try:
        text = Path(input_text[1:]).read_text(encoding="utf-8") if input_text.startswith("@") else input_text
        data = json.loads(text)
    except (OSError, ValueError) as error:
        _fail(f"--input: not a JSON object: {error}")
    if not isinstance(data, dict):
        _fail("--input: not a JSON object")
    try:
        result = run_action(spec, function, data, policy=_policy(no_loopback), timeout=timeout)
    except ActionError as error:
        _fail(str(error), code=2)
    click.echo(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    if not (200 <= int(result.get("status") or 0) < 300):
        sys.exit(3)


@actions.command(name="deploy")
@actions_file_option
@click.option("--table", required=True, help="The stack's JourneyTable (output JourneyTableName).")
@click.option("--region", default=None, help="AWS region (default: your AWS configuration's).")
@click.option("--prune", is_flag=True, help="Also delete Actions in the table that the file no longer defines.")
def deploy(actions_file: str, table: str, region: str | None, prune: bool) -> None:
    """Put the file's Actions into the deployed journey table (configs hold secret references only)."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from journeys.actions import ActionError, load_actions_file
    from journeys.runtime.integrations import ActionStore, stored_actions

    try:
        specs = load_actions_file(actions_file)
    except ActionError as error:
        _fail(str(error))
    try:
        dynamo = boto3.resource("dynamodb", region_name=region).Table(table)
        store = ActionStore(dynamo)
        for spec in specs.values():
            store.put(spec)
        stale = sorted({item["id"] for item in stored_actions(dynamo)} - set(specs))
        if prune:
            for action_id in stale:
                store.delete(action_id)
    except (BotoCoreError, ClientError) as error:
        _fail(f"table {table}: {error}", code=2)
    click.echo(f"{table}: {len(specs)} action(s) put: {', '.join(sorted(specs)) or 'none'}")
    if stale:
        click.echo(f"{'deleted' if prune else 'left in the table (not in the file; --prune deletes them)'}: {', '.join(stale)}")
