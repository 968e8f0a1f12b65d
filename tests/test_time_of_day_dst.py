"""Time-of-day waits on the days clocks change: real instants, never a wake-up in the past."""

from __future__ import annotations

import datetime as dt

from journeys.language.timezones import next_time_of_day, zone

from conftest import outcomes

BERLIN = zone("Europe/Berlin")
UTC = dt.timezone.utc


def test_given_fall_back_and_the_second_0240_then_0245_is_the_second_0245_not_one_in_the_past():
    # Given Berlin at 02:40 CET on 2026-10-25: the second 02:40 (clocks went back from 03:00 CEST)
    now = dt.datetime(2026, 10, 25, 1, 40, tzinfo=UTC)

    # When the wait is until 02:45
    wake = next_time_of_day(now, "02:45", BERLIN)

    # Then it wakes five minutes later, at 02:45 CET (the 02:45 CEST came an hour ago)
    assert wake == dt.datetime(2026, 10, 25, 1, 45, tzinfo=UTC)


def test_given_fall_back_and_the_first_0210_then_0245_is_its_first_occurrence():
    now = dt.datetime(2026, 10, 25, 0, 10, tzinfo=UTC)  # 02:10 CEST, the first time round

    assert next_time_of_day(now, "02:45", BERLIN) == dt.datetime(2026, 10, 25, 0, 45, tzinfo=UTC)  # 02:45 CEST


def test_given_spring_forward_then_a_time_in_the_gap_wakes_when_the_clocks_jump():
    # Given Saturday noon before 2026-03-29, when Berlin's clocks jump from 02:00 to 03:00
    now = dt.datetime(2026, 3, 28, 12, 0, tzinfo=UTC)

    # When the wait is until 02:30, which does not exist that night
    wake = next_time_of_day(now, "02:30", BERLIN)

    # Then it wakes at the first valid instant after it: 03:00 CEST, not a day later and not at 03:30
    assert wake == dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert wake.astimezone(BERLIN).strftime("%H:%M %Z") == "03:00 CEST"


def test_given_spring_forward_just_passed_then_the_gap_time_is_tomorrows():
    now = dt.datetime(2026, 3, 29, 1, 0, 1, tzinfo=UTC)  # 03:00:01 CEST

    assert next_time_of_day(now, "02:30", BERLIN) == dt.datetime(2026, 3, 30, 0, 30, tzinfo=UTC)  # 02:30 CEST on Monday


def test_given_a_journey_that_waits_until_0245_on_the_fall_back_night_then_the_next_step_runs_at_0245_cet(write_journey, run, ada):
    # Given a Berlin contact entering at 02:40 CET, the second 02:40 of the night
    path = write_journey("""\
journey: night
entry: {trigger: webhook}
steps:
  - {id: until, type: wait, settings: {until_time: "02:45"}}
  - {id: tag, type: add_tag, settings: {tags: [woke]}}
""")

    # When it runs on the virtual clock
    trace = run(path, {**ada, "timezone": "Europe/Berlin"}, start=dt.datetime(2026, 10, 25, 1, 40, tzinfo=UTC))

    # Then the wait ends five minutes later, not at once (its wake-up is not in the past)
    assert outcomes(trace) == {"until": "done", "tag": "done"}
    assert [step["at"] for step in trace["steps"] if step["id"] == "tag"] == ["2026-10-25T01:45:00Z"]
