"""Fixtures (imported by the tests: a conftest.py here would shadow tests/conftest.py for `from conftest import`):
a moto world with every example journey deployed, and the entry Lambda as API Gateway calls it."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MONDAY_8AM = __import__("datetime").datetime(2026, 1, 5, 8, 0, tzinfo=__import__("datetime").timezone.utc)
SECRET_NAME = "journeys/webhook-signing"


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


samples = _load(REPO / "events" / "generate.py", "journeys_sample_events")


# The shape template.yaml gives it (journeys.runtime.catalog): every journey entered through its `live` alias;
# deployed names carry a `<stack>_` prefix, which local worlds leave out. Local
# state machines are named by journey id alone; moto_bridge runs NAME for `NAME:live`.
DEPLOYED_ARN_PATTERN = "arn:aws:states:us-east-1:123456789012:stateMachine:{journey}:live"


@pytest.fixture
def world(monkeypatch):
    """LocalStack (moto, virtual clock) + the example journeys deployed + the webhook secret; the
    functions find the state machines as on AWS (alias ARNs from JOURNEY_STATE_MACHINE_ARN)."""
    import boto3

    from journeys.edges import webhook
    from journeys.compiler import compile_journey
    from journeys.language.loader import load_journey
    from journeys.local.runner import REGION, LocalContext, LocalStack

    monkeypatch.delenv("JOURNEYS_UNSUBSCRIBE_SECRET_NAME", raising=False)
    with LocalStack(MONDAY_8AM) as stack:
        for path in sorted((REPO / "statemachines").glob("*.journey.yaml")):
            journey, _ = load_journey(path)
            stack.deploy(compile_journey(journey))
        boto3.client("secretsmanager", region_name=REGION).create_secret(Name=SECRET_NAME, SecretString=samples.LOCAL_WEBHOOK_SECRET)
        stack.setenv("JOURNEY_STATE_MACHINES", "{}")  # the local map would win over the deployed pattern
        stack.setenv("JOURNEY_STATE_MACHINE_ARN", DEPLOYED_ARN_PATTERN)
        monkeypatch.setenv("JOURNEYS_WEBHOOK_SECRET", SECRET_NAME)
        webhook.reset()
        entry = _load(REPO / "functions" / "entry" / "app.py", "journeys_function_entry")

        def call(event: dict) -> dict:
            response = entry.lambda_handler(event, LocalContext("entry", f"arn:aws:lambda:{REGION}:123456789012:function:entry"))
            if response.get("headers", {}).get("Content-Type", "").startswith("application/json"):
                response["json"] = json.loads(response["body"])
            return response

        stack.call = call
        try:
            yield stack
        finally:
            webhook.reset()


@pytest.fixture
def http_event():
    """samples.http_event, signed at the world's (virtual) now unless a timestamp is given."""
    from journeys import clock

    def event(*args, **kwargs):
        kwargs.setdefault("timestamp", int(clock.now().timestamp()))
        return samples.http_event(*args, **kwargs)
    return event


@pytest.fixture
def sample():
    def read(rel: str) -> dict:
        return json.loads((REPO / "events" / rel).read_text())
    return read


def entries(http_event, journey: str, body: dict | str, **kwargs) -> dict:
    """POST /journeys/<journey>/entries as API Gateway delivers it (a str body is sent as is)."""
    return http_event("POST", f"/journeys/{journey}/entries", body, route="/journeys/{journey}/entries",
                      path_parameters={"journey": journey}, **kwargs)


def executions(world, journey: str) -> list[dict]:
    return world.sfn.list_executions(stateMachineArn=world.state_machines[journey])["executions"]


def containers(world, count: int) -> list:
    """`count` independent copies of the entry function's module (own router, clients, caches): as
    concurrent Lambda containers would be, for tests that send requests from several threads."""
    from journeys.local.runner import REGION, LocalContext

    copies = []
    for number in range(count):
        spec = importlib.util.spec_from_file_location(
            f"journeys_entry_container_{number}", REPO / "layers" / "journeys" / "journeys" / "edges" / "webhook.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # its dataclasses look their module up
        spec.loader.exec_module(module)
        context = LocalContext("entry", f"arn:aws:lambda:{REGION}:123456789012:function:entry")
        _own_request(module.app)
        copies.append(lambda event, module=module, context=context: module.lambda_handler(event, context))
    return copies


def _own_request(app) -> None:
    """Powertools keeps the request being handled on the BaseRouter class (a Lambda process handles
    one at a time), so routers in threads would read each other's. Each copy keeps its own on the
    instance, where attribute lookup finds it first, as a separate process would."""
    resolve = app.resolve

    def own(event, context):
        app.current_event, app.lambda_context = app._to_proxy_event(event), context
        return resolve(event, context)

    app.resolve = own
