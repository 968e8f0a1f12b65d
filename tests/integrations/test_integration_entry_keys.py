"""Entries whose event has no id of its own: the same delivery twice is one entry, a new payload (other
contact attributes or event content) is a new entry that the journey's re_entry rule decides."""

from __future__ import annotations

import pytest

from integrations_support import START

QUICK = """\
journey: welcome
entry: {{trigger: webhook, re_entry: {re_entry}}}
steps:
  - {{id: hello, type: add_tag, settings: {{tags: [welcomed]}}}}
"""


@pytest.fixture
def welcome(write_journey):
    """A LocalStack with the `welcome` journey deployed under the given re_entry rule -> (stack, enter)."""
    from journeys.compiler import compile_journey
    from journeys.language.loader import load_journey
    from journeys.local.runner import LocalStack

    stacks = []

    def deploy(re_entry: str):
        journey = load_journey(write_journey(QUICK.format(re_entry=re_entry), name="welcome.journey.yaml"))[0]
        stack = LocalStack(START).__enter__()
        stacks.append(stack)
        stack.deploy(compile_journey(journey))

        def enter(contact: dict, event: dict | None = None):
            entered = stack.enter(journey, contact, event or {})
            if entered.execution_arn:
                stack.wait(entered.execution_arn)
            return entered

        return stack, enter

    yield deploy
    for stack in stacks:
        stack.__exit__(None, None, None)


def executions(stack) -> list[dict]:
    return stack.sfn.list_executions(stateMachineArn=stack.state_machines["welcome"])["executions"]


def test_given_the_same_entry_without_an_event_id_twice_then_one_execution_starts(welcome, ada):
    stack, enter = welcome("always")

    first = enter(ada, {"source": "signup-form"})
    again = enter(dict(ada), {"source": "signup-form"})

    assert (first.status, again.status) == ("STARTED", "DUPLICATE")
    assert again.execution_arn == first.execution_arn
    assert len(executions(stack)) == 1


def test_given_re_entry_always_when_the_contact_comes_again_with_new_attributes_then_it_enters_again(welcome, ada):
    stack, enter = welcome("always")

    first = enter(ada)
    again = enter({**ada, "plan": "pro"})

    assert (first.status, again.status) == ("STARTED", "STARTED")
    assert again.execution_arn != first.execution_arn
    assert len(executions(stack)) == 2
    assert stack.journeys.membership(ada["id"], "welcome")["entries"] == 2


def test_given_re_entry_never_when_the_contact_comes_again_with_new_attributes_then_the_rule_keeps_it_out(welcome, ada):
    stack, enter = welcome("never")

    first = enter(ada)
    again = enter({**ada, "plan": "pro"})

    assert (first.status, again.status) == ("STARTED", "NOT_ENTERED")
    assert again.reason == "already entered this journey (re_entry: never)"
    assert len(executions(stack)) == 1
    assert stack.contacts.get(ada["id"])["plan"] == "pro"  # the new attributes are stored all the same


def test_given_an_event_with_an_id_then_the_id_alone_names_the_entry(welcome, ada):
    stack, enter = welcome("always")

    first = enter(ada, {"id": "evt-1", "source": "form"})
    again = enter({**ada, "plan": "pro"}, {"id": "evt-1", "source": "retry"})

    assert (first.status, again.status) == ("STARTED", "DUPLICATE")
    assert len(executions(stack)) == 1


# ------------------------------------------------------------------ concurrent entries: one claim wins


def enter_at_once(stack, journey_id: str, contact: dict, events: list[dict]) -> list:
    """enter_contact from one thread per event, all released together; each thread has its own
    stores and clients (as separate Lambda containers would)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import boto3

    from journeys.edges import entry
    from journeys.runtime.store import ContactStore, JourneyStore

    journey = stack.compiled[journey_id].journey
    gate = threading.Barrier(len(events))

    def one(event: dict):
        resource, sfn = boto3.resource("dynamodb"), boto3.client("stepfunctions")
        contacts, journeys = ContactStore(resource), JourneyStore(resource)
        gate.wait()
        return entry.enter_contact(journey_id, journey.entry, dict(contact), event, state_machine_arn=stack.state_machines[journey_id],
                                   sfn=sfn, contacts=contacts, journeys=journeys)

    with ThreadPoolExecutor(len(events)) as pool:
        return list(pool.map(one, events))


@pytest.mark.parametrize("re_entry", ["never", "{after: 1d}"])
def test_given_concurrent_entries_of_a_new_contact_with_different_events_then_exactly_one_starts(welcome, ada, re_entry):
    stack, _ = welcome(re_entry)

    results = enter_at_once(stack, "welcome", ada, [{"id": f"evt-{n}"} for n in range(8)])

    statuses = [r.status for r in results]
    assert statuses.count("STARTED") == 1 and set(statuses) <= {"STARTED", "NOT_ENTERED"}, statuses
    assert len(executions(stack)) == 1
    membership = stack.journeys.membership(ada["id"], "welcome")
    assert membership["entries"] == 1 and "claimed" not in membership


def test_given_concurrent_deliveries_of_the_same_event_then_one_starts_and_the_others_are_duplicates(welcome, ada):
    stack, _ = welcome("never")

    results = enter_at_once(stack, "welcome", ada, [{"id": "evt-same"}] * 6)

    statuses = sorted(r.status for r in results)
    assert statuses == ["DUPLICATE"] * 5 + ["STARTED"]
    assert {r.execution_arn for r in results} == {executions(stack)[0]["executionArn"]}


def test_given_re_entry_after_when_the_window_has_passed_then_a_burst_re_enters_once(welcome, ada):
    import datetime as dt

    stack, enter = welcome("{after: 1d}")
    enter(ada, {"id": "evt-first"})
    stack.waits.advance_to(START + dt.timedelta(days=2))

    results = enter_at_once(stack, "welcome", ada, [{"id": f"evt-{n}"} for n in range(6)])

    assert [r.status for r in results].count("STARTED") == 1
    assert len(executions(stack)) == 2 and stack.journeys.membership(ada["id"], "welcome")["entries"] == 2


def test_given_a_start_that_fails_then_the_claim_is_given_back_and_a_retry_enters(welcome, ada):
    from botocore.exceptions import ClientError

    stack, enter = welcome("never")

    def refuse(**_):
        raise ClientError({"Error": {"Code": "InternalFailure", "Message": "simulated"}}, "StartExecution")

    stack.sfn.meta.events.register("before-call.sfn.StartExecution", refuse)
    with pytest.raises(ClientError):
        enter(ada, {"id": "evt-1"})
    stack.sfn.meta.events.unregister("before-call.sfn.StartExecution", refuse)
    assert stack.journeys.membership(ada["id"], "welcome") is None

    assert enter(ada, {"id": "evt-2"}).status == "STARTED"


def test_given_an_entry_whose_first_state_would_pass_256_kib_then_it_is_refused_naming_the_limit_and_nothing_starts(welcome, ada):
    from journeys.edges.entry import EntryTooLarge

    stack, enter = welcome("never")

    with pytest.raises(EntryTooLarge, match="262,144"):
        enter(ada, {"id": "evt-big", "blob": "x" * 270_000})

    assert executions(stack) == [] and stack.journeys.membership(ada["id"], "welcome") is None
    assert enter(ada, {"id": "evt-small"}).status == "STARTED"  # nothing was claimed by the refused one


def test_given_a_contact_that_would_pass_32_kib_when_entered_then_it_is_refused_and_not_stored(welcome, ada):
    from journeys.language.contact_model import ContactTooLarge

    stack, enter = welcome("never")

    with pytest.raises(ContactTooLarge, match="32,768"):
        enter({**ada, "bio": "x" * 33_000})

    assert stack.contacts.get(ada["id"]) is None and executions(stack) == []


def test_given_a_claim_left_by_a_crash_before_its_start_when_the_event_is_retried_then_it_starts(welcome, ada):
    from journeys.edges.entry import execution_name

    stack, enter = welcome("never")
    # What a Lambda that died between the claim and StartExecution leaves behind.
    stack.journeys.claim_entry(ada["id"], "welcome", execution_name("welcome", ada["id"], "evt-1"), "2026-01-05T08:00:00Z", None)
    # While fresh, the claim is as if its own delivery were still starting it: a duplicate.
    while_fresh = stack.enter(stack.compiled["welcome"].journey, dict(ada), {"id": "evt-1"})
    stack.waits.advance(61)

    retried = enter(ada, {"id": "evt-1"})
    other = enter(ada, {"id": "evt-2"})

    assert while_fresh.status == "DUPLICATE"
    assert retried.status == "STARTED" and len(executions(stack)) == 1
    assert other.status == "NOT_ENTERED"
    assert stack.journeys.membership(ada["id"], "welcome")["entries"] == 1
