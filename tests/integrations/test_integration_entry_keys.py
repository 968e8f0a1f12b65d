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
