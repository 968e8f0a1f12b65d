"""journeys enter JOURNEY --segment FILE against the ops world: the segment-entry machine's
Distributed Map (S3 ItemReader) on moto, each line through enter_contact; and what moto 5.2.5 lacks
(ItemBatcher) tested directly: batches as ItemBatcher builds them, through the same child."""

from __future__ import annotations

import csv
import io
import json

import boto3
import pytest
from ops_world import REPO, SEGMENT_BUCKET, STACK, cli, entries, samples, segment_ops, world  # noqa: F401 (fixtures)
from webhook_world import executions, http_event  # noqa: F401

JOURNEY = "segment-welcome"
BATCH = 200  # statemachines/segment-entry.asl.json MaxItemsPerBatch


def segment_file(path, lines: int, bad_every: int | None = None) -> tuple[set[int], list[str]]:
    """A CSV segment; every `bad_every`-th contact line has a broken email. (bad line numbers, ids)."""
    rows, bad, ids = ["id,email,first_name"], set(), []
    for n in range(lines):
        line = n + 2
        if bad_every and n % bad_every == bad_every - 1:
            rows.append(f"s{n},not-an-email,Bad")
            bad.add(line)
        else:
            rows.append(f"s{n},s{n}@example.com,S{n}")
            ids.append(f"s{n}")
    path.write_text("\n".join(rows) + "\n")
    return bad, ids


def already_inside(world, http_event, ids: list[str]) -> None:
    for contact_id in ids:
        answer = world.call(entries(http_event, JOURNEY, {"contact": {"id": contact_id, "email": f"{contact_id}@example.com"}}))
        assert answer["json"]["status"] == "STARTED", answer


def test_given_moto_5_2_5_when_the_segment_machine_is_created_as_written_then_moto_refuses_its_item_batcher(segment_ops):
    definition = (REPO / "statemachines" / "segment-entry.asl.json").read_text().replace("${SegmentFunctionArn}", "arn:aws:lambda:us-east-1:123456789012:function:segment")
    with pytest.raises(segment_ops.sfn.exceptions.ClientError, match="ItemBatcher"):
        segment_ops.sfn.create_state_machine(name="as-written", definition=definition, roleArn="arn:aws:iam::123456789012:role/x")


def test_given_a_segment_with_bad_lines_and_contacts_inside_when_entered_twice_through_the_distributed_map_then_exact_summaries_and_no_new_executions(segment_ops, http_event, tmp_path):
    path = tmp_path / "segment.csv"
    bad, ids = segment_file(path, 24, bad_every=8)  # lines 9, 17, 25 are bad
    already_inside(segment_ops, http_event, ids[:2])

    done = cli("enter", JOURNEY, "--stack", STACK, "--segment", str(path), "--wait", "--json")
    assert done.exit_code == 0, done.output
    first = json.loads(done.stdout)

    assert (first["status"], first["lines"], first["entered"]) == ("SUCCEEDED", 24, 19)
    assert first["not_entered"] == {"already entered this journey (re_entry: never)": 2}
    assert [b["line"] for b in first["bad_lines"]] == sorted(bad) == [9, 17, 25]
    assert first["bad_lines"][0]["error"] == "email: Value error, not an email address"
    count = len(executions(segment_ops, JOURNEY))
    assert count == 21

    again = json.loads(cli("enter", JOURNEY, "--stack", STACK, "--segment", str(path), "--wait", "--json").stdout)
    assert again["entered"] == 0 and len(again["bad_lines"]) == 3
    assert again["not_entered"] == {"already entered this journey (re_entry: never)": 2, "this event already entered the contact": 19}
    assert len(executions(segment_ops, JOURNEY)) == count


def item_batches(given: dict) -> list[dict]:
    """The Map's child inputs on AWS: the uploaded object's rows (ItemReader CSV, FIRST_ROW),
    MaxItemsPerBatch at a time, with the BatchInput the definition builds from the machine's input."""
    definition = json.loads((REPO / "statemachines" / "segment-entry.asl.json").read_text())
    batcher = definition["States"]["Enter segment"]["ItemBatcher"]
    body = boto3.client("s3", region_name="us-east-1").get_object(Bucket=given["bucket"], Key=given["key"])["Body"].read().decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    batch_input = {key.removesuffix(".$"): given[path.removeprefix("$.")] for key, path in batcher["BatchInput"].items()}
    size = batcher["MaxItemsPerBatch"]
    return [{"Items": rows[i:i + size], "BatchInput": batch_input} for i in range(0, len(rows), size)]


def all_executions(world, journey: str) -> int:
    pages = world.sfn.get_paginator("list_executions").paginate(stateMachineArn=world.state_machines[journey])
    return sum(len(page["executions"]) for page in pages)


def test_given_2000_lines_with_10_bad_and_50_contacts_inside_when_entered_in_batches_then_the_exact_summary(segment_ops, http_event, tmp_path):
    """One pass (each line is real entry work on moto); a second pass of the same file entering
    nobody is the Distributed Map test above."""
    from journeys.edges import webhook
    from journeys.edges.segment import enter_batch
    from journeys.ops import segment_entry
    from journeys.ops.stack import find_stack

    path = tmp_path / "segment.csv"
    bad, ids = segment_file(path, 2000, bad_every=200)
    already_inside(segment_ops, http_event, ids[:50])
    stack, svc = find_stack(STACK), webhook.services()

    run, given = segment_entry.upload(stack, JOURNEY, path)  # what `journeys enter` uploads, then starts
    for batch in item_batches(given):
        enter_batch(batch, catalog=svc.catalog, sfn=svc.sfn, contacts=svc.contacts, journeys=svc.journeys)
    summary = segment_entry.summary(stack, run, "SUCCEEDED")

    assert (summary["lines"], summary["entered"]) == (2000, 1940)
    assert summary["not_entered"] == {"already entered this journey (re_entry: never)": 50}
    assert [b["line"] for b in summary["bad_lines"]] == sorted(bad) and len(bad) == 10
    assert all_executions(segment_ops, JOURNEY) == 1990


def test_given_wrapped_lines_with_arrivals_when_entered_on_aws_then_they_enter_now_and_the_cli_says_so(segment_ops, tmp_path):
    path = tmp_path / "segment.jsonl"
    path.write_text('{"id": "w1", "email": "w1@example.com"}\n'
                    '{"contact": {"id": "w2", "email": "w2@example.com"}, "at": "+26h"}\n'
                    '{"contact": {"id": "w3", "email": "w3@example.com"}, "event": {"source": "fair"}}\n')

    done = cli("enter", JOURNEY, "--stack", STACK, "--segment", str(path), "--wait", "--json")

    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["entered"] == 3
    assert "note: 2 line(s) carry an arrival time or entry event" in done.stderr
