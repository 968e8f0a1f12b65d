"""start_journey and exit_journey: the entry rules of the target apply; exit stops the contact's running
execution of that journey, and is skipped (with a reason) when there is none."""

from __future__ import annotations


from integrations_support import START, details, outcomes, quick_http  # noqa: F401 - fixtures


def write(write_journey, text: str, name: str):
    return write_journey(text, name=f"{name}.journey.yaml")


TARGET = """\
journey: onboarding
entry: {trigger: webhook, criteria: {field: contact.plan, op: equals, value: trial}}
steps:
  - {id: welcome, type: add_tag, settings: {tags: [onboarding]}}
  - {id: later, type: wait, settings: {duration: 3d}}
  - {id: done, type: add_tag, settings: {tags: [onboarded]}}
"""


def wait_for(stack, arn: str) -> dict:
    return stack.wait(arn)


def test_given_start_journey_then_the_contact_enters_the_other_journey_with_its_rules(write_journey, ada):
    from journeys.local.runner import LocalStack, run_journey
    from journeys.local.trace import build_trace

    write(write_journey, TARGET, "onboarding")
    source = write(write_journey, """\
journey: signup
entry: {trigger: webhook}
steps:
  - {id: go, type: start_journey, settings: {journey: onboarding}}
  - {id: again, type: start_journey, settings: {journey: onboarding}}
""", "signup")
    with LocalStack(START) as stack:
        trace = build_trace(run_journey(source, ada, {}, stack=stack))
        membership = stack.journeys.membership(ada["id"], "onboarding")
        target = wait_for(stack, membership["execution"])
        contact = stack.contacts.get(ada["id"])

    assert outcomes(trace) == {"go": "done", "again": "skipped"}
    assert "re_entry: never" in details(trace)["again"]
    assert target["status"] == "SUCCEEDED"
    assert contact["tags"] == ["onboarding", "onboarded"]


def test_given_start_journey_when_the_criteria_do_not_match_then_it_is_skipped(write_journey, bob):
    write(write_journey, TARGET, "onboarding")
    source = write(write_journey, """\
journey: signup
entry: {trigger: webhook}
steps:
  - {id: unplan, type: update_profile, settings: {set: {plan: paid}}}
  - {id: go, type: start_journey, settings: {journey: onboarding}}
""", "signup")
    from integrations_support import run_trace

    trace = run_trace(source, bob)

    assert outcomes(trace) == {"unplan": "done", "go": "skipped"}
    assert details(trace)["go"] == "not entered into onboarding: entry criteria do not match"


def test_given_start_journey_to_an_unknown_journey_then_the_step_fails_and_the_journey_goes_on(write_journey, ada):
    from integrations_support import run_trace

    source = write(write_journey, """\
journey: signup
entry: {trigger: webhook}
steps:
  - {id: go, type: start_journey, settings: {journey: nowhere}}
  - {id: after, type: add_tag, settings: {tags: [went-on]}}
""", "signup")
    trace = run_trace(source, ada)

    assert outcomes(trace) == {"go": "failed", "after": "done"}
    assert "unknown journey 'nowhere'" in details(trace)["go"]


def test_given_exit_journey_when_the_other_journey_already_finished_then_it_is_skipped(write_journey, ada):
    from journeys.loader import load_journey
    from journeys.local.runner import LocalStack, run_journey
    from journeys.local.trace import build_trace

    quick = write(write_journey, "journey: quick\nentry: {trigger: webhook}\nsteps:\n  - {id: t, type: add_tag, settings: {tags: [q]}}\n", "quick")
    source = write(write_journey, """\
journey: stopper
entry: {trigger: webhook}
steps:
  - {id: stop, type: exit_journey, settings: {journey: quick}}
""", "stopper")
    with LocalStack(START) as stack:
        stack.deploy_beside(source)
        first = stack.enter(load_journey(quick)[0], ada, {})
        assert stack.wait(first.execution_arn)["status"] == "SUCCEEDED"
        trace = build_trace(run_journey(source, ada, {}, stack=stack))

    assert outcomes(trace) == {"stop": "skipped"}
    assert details(trace)["stop"] == "journey quick already finished (SUCCEEDED)"


def test_given_exit_journey_without_a_journey_then_this_journey_ends_for_the_contact(write_journey, ada):
    from integrations_support import run_trace

    source = write(write_journey, """\
journey: self-exit
entry: {trigger: webhook}
steps:
  - {id: bye, type: exit_journey}
  - {id: never, type: add_tag, settings: {tags: [never]}}
""", "self-exit")
    trace = run_trace(source, ada)

    # Exiting this very journey is its end: a Succeed state, no Lambda, no abort.
    assert trace["status"] == "SUCCEEDED"
    assert outcomes(trace) == {"bye": "done"}
    assert "never" not in trace["contact"]["tags"]
