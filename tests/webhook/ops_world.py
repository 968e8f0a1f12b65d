"""The ops world: the webhook world (every example deployed, the entry function) as a deployed
stack is: each journey's state machine has a published version and a `live` alias (as
AutoPublishAlias leaves it), and a CloudFormation stack whose Outputs carry what template.yaml
outputs, so `--stack NAME` finds everything as it would on AWS."""

from __future__ import annotations

import json

import pytest
from webhook_world import REPO, entries, samples, world  # noqa: F401 (fixtures)

STACK = "journeys-ops"
LIVE = "live"


def publish(world, journey: str, definition: str | None = None) -> str:
    """What `sam deploy` does for a changed journey: a new definition (or the same), a new version,
    `live` moved to it. Returns the version ARN."""
    sfn, machine = world.sfn, world.state_machines[journey]
    definition = definition or sfn.describe_state_machine(stateMachineArn=machine)["definition"]
    version = sfn.update_state_machine(stateMachineArn=machine, definition=definition, publish=True)["stateMachineVersionArn"]
    routing = [{"stateMachineVersionArn": version, "weight": 100}]
    aliases = [a["stateMachineAliasArn"] for a in sfn.list_state_machine_aliases(stateMachineArn=machine)["stateMachineAliases"]]
    if f"{machine}:{LIVE}" in aliases:
        sfn.update_state_machine_alias(stateMachineAliasArn=f"{machine}:{LIVE}", routingConfiguration=routing)
    else:
        sfn.create_state_machine_alias(name=LIVE, routingConfiguration=routing)
    return version


def stack_outputs(world, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The outputs template.yaml declares, with this world's names."""
    from journeys.runtime.store import table_name

    outputs = {"JourneyTableName": table_name("JourneyTable")}
    for journey, arn in world.state_machines.items():
        outputs["".join(part.title() for part in journey.split("-")) + "StateMachineArn"] = arn
    return {**outputs, **(extra or {})}


def create_stack(name: str, outputs: dict[str, str]) -> None:
    """A moto CloudFormation stack whose Outputs are `outputs` (one placeholder resource)."""
    import boto3

    template = {"Resources": {"Placeholder": {"Type": "AWS::Logs::LogGroup"}},
                "Outputs": {key: {"Value": value} for key, value in outputs.items()}}
    boto3.client("cloudformation", region_name="us-east-1").create_stack(StackName=name, TemplateBody=json.dumps(template))


@pytest.fixture
def ops(world):
    for journey in world.state_machines:
        publish(world, journey)
    create_stack(STACK, stack_outputs(world))
    world.stack_name = STACK
    return world


def cli(*args: str):
    """`journeys ARGS` in-process (the moto world is this process's)."""
    from click.testing import CliRunner

    from journeys.cli.main import main

    return CliRunner().invoke(main, list(args), catch_exceptions=False)


SEGMENT_BUCKET = "journeys-ops-segments"
SEGMENT_JOURNEY = """\
journey: segment-welcome
name: Segment welcome
entry:
  trigger: webhook
  criteria: {field: contact.email, op: exists}
steps:
  - id: done
    type: exit
"""


def without_item_batcher(definition: dict) -> dict:
    """moto 5.2.5's ASL parser refuses ItemBatcher (test_ops_segment pins it). Locally each line is
    its own batch of one: an ItemSelector builds the payload ItemBatcher would, {Items, BatchInput}."""
    mapped = json.loads(json.dumps(definition))
    state = mapped["States"]["Enter segment"]
    batcher = state.pop("ItemBatcher")
    state["ItemSelector"] = {"Items.$": "States.Array($$.Map.Item.Value)", "BatchInput": batcher["BatchInput"]}
    return mapped


@pytest.fixture
def segment_ops(world, tmp_path):
    """The ops world with the segment-entry machine, its bucket and one small journey to enter
    (an exit at once: 2,000 executions end as soon as they start)."""
    import boto3

    from journeys.compiler import compile_journey
    from journeys.edges import webhook
    from journeys.language.loader import load_journey
    from journeys.local.runner import ROLE_ARN, function_arn, substitute

    path = tmp_path / "segment-welcome.journey.yaml"
    path.write_text(SEGMENT_JOURNEY)
    world.deploy(compile_journey(load_journey(path)[0]))
    world.setenv("JOURNEY_STATE_MACHINES", "{}")  # deploy() wrote the local map; the functions use `live`
    webhook.reset()
    for journey in world.state_machines:
        publish(world, journey)
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=SEGMENT_BUCKET)
    definition = substitute(json.dumps(without_item_batcher(json.loads((REPO / "statemachines" / "segment-entry.asl.json").read_text()))),
                            {"SegmentFunctionArn": function_arn("SegmentFunctionArn")})
    machine = world.sfn.create_state_machine(name="segment-entry", definition=definition, roleArn=ROLE_ARN)["stateMachineArn"]
    create_stack(STACK, stack_outputs(world, {"SegmentBucketName": SEGMENT_BUCKET, "SegmentEntryStateMachineArn": machine}))
    world.setenv("JOURNEYS_SEGMENT_START_RATE", "0")  # no pacing against moto
    return world
