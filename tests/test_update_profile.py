"""update_profile is one atomic update: an increment of a non-number fails the step, clearly, and applies nothing."""

from __future__ import annotations

from conftest import outcomes

JOURNEY = """\
journey: counting
entry: {trigger: webhook}
steps:
  - {id: count, type: update_profile, settings: {set: {plan: pro}, increment: {visits: 1}}}
  - {id: tag, type: add_tag, settings: {tags: [after]}}
"""


def test_given_a_string_attribute_when_it_is_incremented_then_the_step_fails_with_the_reason_and_nothing_is_applied(write_journey, run, ada):
    # Given a contact whose `visits` holds a string
    path = write_journey(JOURNEY)

    # When the journey increments it and sets plan in the same step
    trace = run(path, {**ada, "visits": "many"})

    # Then the step fails saying why, neither set nor increment is applied, and the contact goes on
    count = next(step for step in trace["steps"] if step["id"] == "count")
    assert (count["outcome"], count["detail"]) == (
        "failed", "increment: attribute 'visits' holds a string, not a number; nothing was applied (the step is one update)")
    assert (trace["contact"]["visits"], trace["contact"]["plan"]) == ("many", ada["plan"])
    assert outcomes(trace)["tag"] == "done" and trace["contact"]["tags"] == ["after"]


def test_given_a_number_or_no_attribute_when_it_is_incremented_then_set_and_increment_both_apply(write_journey, run, ada):
    path = write_journey(JOURNEY)

    counted = run(path, {**ada, "visits": 2})
    first_time = run(path, ada)

    assert (counted["contact"]["visits"], counted["contact"]["plan"]) == (3, "pro")
    assert (first_time["contact"]["visits"], first_time["contact"]["plan"]) == (1, "pro")
    assert outcomes(counted)["count"] == "done"
