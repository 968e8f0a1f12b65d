"""`exit_journey` of the journey itself reads like `exit` even under apply_to (SUCCEEDED, the step in the
trace), and `next: exit` ends the journey as `else: exit` does."""

from __future__ import annotations

from conftest import outcomes

SELF_EXIT = """\
journey: self-exit
entry: {trigger: webhook}
steps:
  - {id: tag, type: add_tag, settings: {tags: [seen]}}
  - {id: leave, type: exit_journey, apply_to: {field: contact.plan, op: equals, value: pro}}
  - {id: after, type: add_tag, settings: {tags: [stayed]}}
"""


def test_given_an_exit_journey_of_itself_under_apply_to_when_it_holds_then_the_journey_succeeds_with_the_step_shown(
        write_journey, run, ada):
    trace = run(write_journey(SELF_EXIT), {**ada, "plan": "pro"})

    assert trace["status"] == "SUCCEEDED"
    assert outcomes(trace) == {"tag": "done", "leave": "done"}
    assert "stayed" not in trace["contact"]["tags"]


def test_given_an_exit_journey_of_itself_under_apply_to_when_it_does_not_hold_then_the_journey_goes_on(
        write_journey, run, ada):
    trace = run(write_journey(SELF_EXIT), {**ada, "plan": "free"})

    assert trace["status"] == "SUCCEEDED"
    assert outcomes(trace) == {"tag": "done", "leave": "skipped", "after": "done"}


def test_given_an_exit_journey_of_itself_under_apply_to_then_the_graph_shows_both_ways_out(write_journey):
    from journeys.compiler.mermaid import mermaid
    from journeys.language.loader import load_journey

    text = mermaid(load_journey(write_journey(SELF_EXIT))[0])

    assert "s_leave -->|skipped| s_after" in text and "s_leave -->|exited| finish" in text


NEXT_EXIT = """\
journey: next-exit
entry: {trigger: webhook}
steps:
  - {id: tag, type: add_tag, settings: {tags: [seen]}, next: exit}
  - {id: never, type: add_tag, settings: {tags: [never]}}
"""


def test_given_next_exit_then_it_validates_compiles_and_ends_the_journey(write_journey, run, ada):
    from journeys.compiler import compile_journey
    from journeys.compiler.mermaid import mermaid
    from journeys.language.loader import load_journey

    path = write_journey(NEXT_EXIT)
    journey, _ = load_journey(path)

    assert compile_journey(journey).asl["States"]["tag"]["End"] is True
    assert "s_tag --> finish" in mermaid(journey)
    trace = run(path, ada)
    assert trace["status"] == "SUCCEEDED" and outcomes(trace) == {"tag": "done"}
