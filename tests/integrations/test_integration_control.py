"""start_journey and exit_journey: the entry rules of the target apply; exit stops every execution of that
journey the contact may still be in, and is skipped (with a reason) when there is none; a journey the
deployment does not know fails either step. A chain of start_journey hops that passes no real wait is
refused after ten starts within an hour; a loop through a wait goes on."""

from __future__ import annotations


from integrations_support import START, details, outcomes, quick_http  # noqa: F401 - fixtures
from journeys.edges.entry import RUNNING_SET_LIMIT


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
    from journeys.language.loader import load_journey
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


def until_all_sleep(stack, wall_seconds: float = 30) -> None:
    import time

    deadline = time.monotonic() + wall_seconds
    while stack.waits.idle_until() is None:
        assert time.monotonic() < deadline, f"executions still busy after {wall_seconds} s"
        time.sleep(0.005)


def test_given_exit_journey_of_its_own_journey_under_apply_to_then_only_this_execution_ends(write_journey, ada):
    from journeys.compiler import compile_journey
    from journeys.language.loader import load_journey
    from journeys.local.runner import LocalStack

    path = write(write_journey, """\
journey: trial
entry: {trigger: webhook, re_entry: always}
steps:
  - {id: bye, type: exit_journey, apply_to: {field: contact.plan, op: equals, value: paid}}
  - {id: later, type: wait, settings: {duration: 1d}}
  - {id: never, type: add_tag, settings: {tags: [never]}}
""", "trial")
    journey = load_journey(path)[0]
    with LocalStack(START) as stack:
        stack.deploy(compile_journey(journey))
        waiting = stack.enter(journey, {**ada, "plan": "trial"}, {"id": "first"}).execution_arn
        until_all_sleep(stack)  # past its exit_journey step (a trial contact), in the 1d wait
        paid = stack.enter(journey, {**ada, "plan": "paid"}, {"id": "second"}).execution_arn
        statuses = stack.wait(paid)["status"], stack.sfn.describe_execution(executionArn=waiting)["status"]

    assert statuses == ("SUCCEEDED", "RUNNING")  # ends like `exit` (issue 8 item 12), the other one waits on


def test_given_exit_journey_of_a_journey_the_deployment_does_not_know_then_the_step_fails_naming_it(write_journey, ada):
    from integrations_support import run_trace

    source = write(write_journey, """\
journey: stopper
entry: {trigger: webhook}
steps:
  - {id: stop, type: exit_journey, settings: {journey: nosuch}}
  - {id: after, type: add_tag, settings: {tags: [went-on]}}
""", "stopper")
    trace = run_trace(source, ada)

    assert outcomes(trace) == {"stop": "failed", "after": "done"}
    assert "exit_journey: unknown journey 'nosuch'" in details(trace)["stop"]


def test_given_exit_journey_when_the_contact_never_entered_that_journey_then_it_is_skipped(write_journey, ada):
    from integrations_support import run_trace

    write(write_journey, TARGET, "onboarding")
    source = write(write_journey, """\
journey: stopper
entry: {trigger: webhook}
steps:
  - {id: stop, type: exit_journey, settings: {journey: onboarding}}
""", "stopper")
    trace = run_trace(source, ada)

    assert outcomes(trace) == {"stop": "skipped"}
    assert details(trace)["stop"] == "not in journey onboarding"


NURTURE = """\
journey: nurture
entry: {trigger: webhook, re_entry: {after: 1d}}
steps:
  - {id: long, type: wait, settings: {duration: 5d}}
  - {id: nurtured, type: add_tag, settings: {tags: [nurtured]}}
"""


def test_given_two_running_executions_of_a_journey_when_exit_journey_then_both_end_aborted(write_journey, ada):
    from journeys.local.runner import LocalStack, run_journey
    from journeys.local.trace import build_trace

    write(write_journey, NURTURE, "nurture")
    source = write(write_journey, """\
journey: campaign
entry: {trigger: webhook}
steps:
  - {id: first, type: start_journey, settings: {journey: nurture}}
  - {id: two-days, type: wait, settings: {duration: 2d}}
  - {id: second, type: start_journey, settings: {journey: nurture}}
  - {id: an-hour, type: wait, settings: {duration: 1h}}
  - {id: stop, type: exit_journey, settings: {journey: nurture}}
""", "campaign")
    with LocalStack(START) as stack:
        trace = build_trace(run_journey(source, ada, {}, stack=stack))
        nurture = stack.sfn.list_executions(stateMachineArn=stack.state_machines["nurture"])["executions"]
        statuses = [stack.wait(execution["executionArn"])["status"] for execution in nurture]
        membership = stack.journeys.membership(ada["id"], "nurture")
        contact = stack.contacts.get(ada["id"])

    assert outcomes(trace) == {"first": "done", "two-days": "done", "second": "done", "an-hour": "done", "stop": "done"}
    assert details(trace)["stop"] == "stopped 2 executions of nurture"
    assert statuses == ["ABORTED", "ABORTED"]
    assert "nurtured" not in contact["tags"]
    assert membership["entries"] == 2 and not membership.get("running")  # nothing left that may run


def test_given_an_execution_step_functions_no_longer_knows_when_exit_journey_then_the_running_one_still_ends(write_journey, ada):
    """Closed executions are purged after ~90 days: DescribeExecution then says it does not exist."""
    from journeys.local.runner import LocalStack, run_journey
    from journeys.local.trace import build_trace

    write(write_journey, NURTURE, "nurture")
    source = write(write_journey, """\
journey: campaign
entry: {trigger: webhook}
steps:
  - {id: first, type: start_journey, settings: {journey: nurture}}
  - {id: an-hour, type: wait, settings: {duration: 1h}}
  - {id: stop, type: exit_journey, settings: {journey: nurture}}
""", "campaign")
    purged = "arn:aws:states:us-east-1:123456789012:execution:nurture:c-ada-entered-months-ago"
    with LocalStack(START) as stack:
        stack.journeys.record_entry(ada["id"], "nurture", purged, "2025-09-01T08:00:00Z")  # never ended in this world
        trace = build_trace(run_journey(source, ada, {}, stack=stack))
        nurture = stack.sfn.list_executions(stateMachineArn=stack.state_machines["nurture"])["executions"]
        statuses = [stack.wait(execution["executionArn"])["status"] for execution in nurture]
        membership = stack.journeys.membership(ada["id"], "nurture")

    assert outcomes(trace) == {"first": "done", "an-hour": "done", "stop": "done"}
    assert statuses == ["ABORTED"]
    assert not membership.get("running")  # the purged one is forgotten with the stopped one


def test_given_many_entries_that_ended_when_entering_again_then_the_record_forgets_the_ended_ones(write_journey, ada):
    from journeys.compiler import compile_journey
    from journeys.language.loader import load_journey
    from journeys.local.runner import LocalStack
    from journeys.runtime.store import may_be_running

    quick = write(write_journey, """\
journey: quick
entry: {trigger: webhook, re_entry: always}
steps:
  - {id: t, type: add_tag, settings: {tags: [q]}}
""", "quick")
    journey = load_journey(quick)[0]
    with LocalStack(START) as stack:
        stack.deploy(compile_journey(journey))
        sizes = []
        for n in range(RUNNING_SET_LIMIT + 2):
            entered = stack.enter(journey, ada, {"id": f"visit-{n}"})
            assert stack.wait(entered.execution_arn)["status"] == "SUCCEEDED"
            sizes.append(len(may_be_running(stack.journeys.membership(ada["id"], "quick"))))

    limit = RUNNING_SET_LIMIT
    assert sizes[:limit] == list(range(1, limit + 1))  # up to the limit, every entry is remembered
    assert sizes[limit] == 1 and sizes[limit + 1] == 2  # past it, entering forgot the executions that had ended


def settle(stack, until=None, wall_seconds: float = 120) -> None:
    """Drive the virtual clock until nothing runs any more (or the clock reaches `until`)."""
    import time

    deadline = time.monotonic() + wall_seconds
    while stack.waits.running() and (until is None or stack.clock.now() < until):
        assert time.monotonic() < deadline, f"executions still running after {wall_seconds} s"
        if not stack.tick():
            time.sleep(0.005)


def executions_of(stack, journey_id: str) -> list[dict]:
    arn = stack.state_machines[journey_id]
    return stack.sfn.list_executions(stateMachineArn=arn, maxResults=1000)["executions"]


def start_results(stack, journey_id: str, step_id: str) -> list[dict]:
    results = []
    for execution in executions_of(stack, journey_id):
        results += [r for r in stack.journeys.step_results(execution["executionArn"]) if r["step"] == step_id]
    return results


def test_given_a_journey_that_starts_itself_without_a_wait_then_the_loop_is_refused_after_ten_starts(write_journey, ada):
    from journeys.local.runner import LocalStack, run_journey

    echo = write(write_journey, """\
journey: echo
entry: {trigger: webhook, re_entry: always}
steps:
  - {id: again, type: start_journey, settings: {journey: echo}}
""", "echo")
    with LocalStack(START) as stack:
        run_journey(echo, ada, {}, stack=stack)
        settle(stack)
        executions = executions_of(stack, "echo")
        starts = start_results(stack, "echo", "again")

    assert len(executions) == 11 and {e["status"] for e in executions} == {"SUCCEEDED"}  # the first + 10 starts
    refused = [r for r in starts if r["outcome"] == "failed"]
    assert len(refused) == 1 and [r["outcome"] for r in starts].count("done") == 10
    assert refused[0]["reason"] == "start_journey loop: " + " → ".join(["echo"] * 12) + " (10 starts within 1h)"


def test_given_two_journeys_that_start_each_other_then_the_refusal_names_the_chain(write_journey, ada):
    from journeys.local.runner import LocalStack, run_journey

    ping = write(write_journey, """\
journey: ping
entry: {trigger: webhook, re_entry: always}
steps:
  - {id: serve, type: start_journey, settings: {journey: pong}}
""", "ping")
    write(write_journey, """\
journey: pong
entry: {trigger: webhook, re_entry: always}
steps:
  - {id: serve, type: start_journey, settings: {journey: ping}}
""", "pong")
    with LocalStack(START) as stack:
        run_journey(ping, ada, {}, stack=stack)
        settle(stack)
        total = len(executions_of(stack, "ping")) + len(executions_of(stack, "pong"))
        refused = [r for j in ("ping", "pong") for r in start_results(stack, j, "serve") if r["outcome"] == "failed"]

    assert total == 11
    assert len(refused) == 1 and refused[0]["reason"].startswith("start_journey loop: ping → pong → ping → pong → ")


def test_given_a_journey_that_starts_itself_after_a_day_then_it_keeps_going_past_the_cap(write_journey, ada):
    import datetime as dt

    from journeys.local.runner import LocalStack, run_journey

    daily = write(write_journey, """\
journey: daily
entry: {trigger: webhook, re_entry: always}
steps:
  - {id: pause, type: wait, settings: {duration: 1d}}
  - {id: again, type: start_journey, settings: {journey: daily}}
""", "daily")
    with LocalStack(START) as stack:
        run_journey(daily, ada, {}, stack=stack)  # the first execution, which starts the second on day 1
        settle(stack, until=START + dt.timedelta(days=12, hours=12))
        executions = executions_of(stack, "daily")
        starts = start_results(stack, "daily", "again")

    assert len(executions) == 13  # entered on day 0, then one start a day for 12 days
    assert [r["outcome"] for r in starts] == ["done"] * 12
