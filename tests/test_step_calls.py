"""DynamoDB calls per step, counted on the real code path (run_task / run_batch with Powertools
idempotency, on moto): any regression shows here as a changed number."""

from __future__ import annotations

import collections

import botocore.client
import pytest

from conftest import MONDAY_8AM

READS = {"GetItem", "Query", "BatchGetItem"}
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"}


@pytest.fixture
def world():
    from journeys.local.runner import LocalStack

    with LocalStack(MONDAY_8AM) as stack:
        stack.contacts.upsert({"id": "c1", "email": "c1@example.com", "first_name": "Ada", "tags": ["old"]})
        yield stack


@pytest.fixture
def counted(monkeypatch):
    """DynamoDB operations made by any boto3 client, by name (a counting wrapper around botocore)."""
    calls: collections.Counter = collections.Counter()
    real = botocore.client.BaseClient._make_api_call

    def counting(self, operation, params):
        if self.meta.service_model.service_name == "dynamodb":
            calls[operation] = calls[operation] + 1
        return real(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counting)
    return calls


def step_payload(step: dict, seq: int = 0) -> dict:
    return {"journey": {"id": "j", "timezone": None}, "step": step, "execution": "arn:aws:states:us-east-1:1:execution:j:x",
            "state": {"contact": {"id": "c1"}, "event": {}, "data": {}, "seq": seq}}


STEPS = {
    "add_tag": {"id": "t", "type": "add_tag", "settings": {"tags": ["lead"]}},
    "update_profile": {"id": "u", "type": "update_profile", "settings": {"set": {"plan": "pro"}}},
    "send_email": {"id": "e", "type": "send_email", "settings": {"subject": "Hi {{ contact.first_name }}", "text": "hello"}},
    "skipped (apply_to)": {"id": "s", "type": "send_email", "settings": {"subject": "x", "text": "y"},
                           "apply_to": {"field": "contact.plan", "op": "equals", "value": "enterprise"}},
}
# (reads, writes) per step: the contact read at the Task's start; the exactly-once record, which
# is the step record (a claim when the step starts, completed when it ends); and the step's own
# write of the contact. A skipped step writes only its record.
EXPECTED = {
    "add_tag": (1, 3),
    "update_profile": (1, 3),
    "send_email": (1, 2),
    "skipped (apply_to)": (1, 1),
}


def work():
    from journeys.runtime import control, integrations, messaging, updates

    return {**messaging.WORK, **updates.WORK, **integrations.WORK, **control.WORK}


@pytest.mark.parametrize("kind", list(STEPS))
def test_given_one_step_when_its_task_runs_then_dynamodb_calls_stay_within_the_budget(world, counted, kind):
    from journeys.runtime.idempotency import once_per_step
    from journeys.runtime.task import run_task

    idempotent = once_per_step()
    counted.clear()
    state = run_task(step_payload(STEPS[kind]), work(), world.contacts, world.journeys, idempotent=idempotent)

    reads = sum(n for op, n in counted.items() if op in READS)
    writes = sum(n for op, n in counted.items() if op in WRITES)
    assert (reads, writes) == EXPECTED[kind], dict(counted)
    assert state["contact"] == world.contacts.get("c1")  # the contact the write returned is the stored one


def test_given_a_contact_in_hand_when_someone_tags_it_meanwhile_then_the_tag_change_keeps_both(world, counted):
    stale = world.contacts.get("c1")
    world.contacts.update("c1", add={"tags": ["vip"]})  # someone else tagged the contact after we read it
    counted.clear()

    contact = world.contacts.update("c1", add={"tags": ["lead"]}, current=stale)

    assert contact["tags"] == ["old", "vip", "lead"]  # the conditional write failed on the stale list, read, retried
    assert (counted["UpdateItem"], counted["GetItem"]) == (2, 1)


def test_given_a_folded_run_when_it_runs_then_each_action_step_costs_what_a_one_step_task_costs(world, counted):
    from journeys.runtime.batch import run_batch
    from journeys.runtime.idempotency import once_per_step

    ops = {
        "t": {"id": "t", "kind": "task", "step": STEPS["add_tag"], "next": [{"to": "e"}]},
        "e": {"id": "e", "kind": "task", "step": STEPS["send_email"], "next": [{"out": None}]},
    }
    payload = {"journey": {"id": "j", "timezone": None}, "batch": {"start": {"to": "t"}, "ops": ops},
               "execution": "arn:aws:states:us-east-1:1:execution:j:y", "state": {"contact": {"id": "c1"}, "seq": 0}}
    idempotent = once_per_step()
    counted.clear()
    state = run_batch(payload, work(), world.contacts, world.journeys, idempotent=idempotent)

    assert [r["outcome"] for r in state["ran"]] == ["done", "done"]
    reads = sum(n for op, n in counted.items() if op in READS)
    writes = sum(n for op, n in counted.items() if op in WRITES)
    # one contact read for the whole run; per step what EXPECTED says, less the read
    assert (reads, writes) == (1, EXPECTED["add_tag"][1] + EXPECTED["send_email"][1]), dict(counted)


def test_given_threads_running_one_send_step_at_once_then_one_email_goes_out_and_each_attempt_agrees(world):
    import threading

    from journeys.runtime.idempotency import once_per_step
    from journeys.runtime.store import ContactStore, JourneyStore
    from journeys.runtime.task import StepInProgress, run_task

    idempotent = once_per_step()
    answers, start = [], threading.Barrier(8)

    def attempt():
        start.wait()
        try:
            answers.append(run_task(step_payload(STEPS["send_email"]), work(), ContactStore(), JourneyStore(), idempotent=idempotent)["last"])
        except StepInProgress:
            answers.append("in progress")  # the compiled Retry asks again later

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    after = run_task(step_payload(STEPS["send_email"]), work(), world.contacts, world.journeys, idempotent=idempotent)["last"]

    assert len(world.outbox()) == 1
    assert after == {"step": "e", "outcome": "done"}
    assert set(map(str, answers)) <= {str(after), "in progress"} and len(answers) == 8
    assert [r["outcome"] for r in world.journeys.step_results("arn:aws:states:us-east-1:1:execution:j:x")] == ["done"]


def test_given_a_step_whose_work_fails_then_its_claim_goes_and_a_retry_does_the_work(world, monkeypatch):
    from journeys.runtime import messaging
    from journeys.runtime.idempotency import once_per_step
    from journeys.runtime.task import run_task

    idempotent = once_per_step()
    failing = {**work(), "send_email": lambda ctx: (_ for _ in ()).throw(ConnectionError("SES unreachable"))}
    with pytest.raises(ConnectionError):
        run_task(step_payload(STEPS["send_email"]), failing, world.contacts, world.journeys, idempotent=idempotent)
    assert world.journeys.step_results("arn:aws:states:us-east-1:1:execution:j:x") == []

    state = run_task(step_payload(STEPS["send_email"]), {**work(), "send_email": messaging.WORK["send_email"]},
                     world.contacts, world.journeys, idempotent=idempotent)
    assert state["last"]["outcome"] == "done" and len(world.outbox()) == 1
