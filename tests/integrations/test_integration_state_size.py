"""The execution state stays far below Step Functions' 256 KiB limit however many integration results a
journey collects: results travel inline while the whole state fits its budget, later ones are stored in
DynamoDB and referenced, and every step still reads every result in full. (On AWS a state over the limit
is States.DataLimitExceeded, which no Catch can absorb: the execution would fail.)"""

from __future__ import annotations

import json

from integrations_support import Reply, outcomes, quick_http, run_trace, server  # noqa: F401 - fixtures

CALLS = 10
SFN_STATE_LIMIT = 256 * 1024


def answer(n: int) -> dict:
    """About 31 KB of JSON: under the 32 KiB a single result may carry inline."""
    return {"marker": f"m{n}", "rows": ["x" * 100] * 300}


def journey_of_ten_calls(write_journey) -> str:
    calls = "".join(f"""\
  - id: call-{n}
    type: webhook
    data_key: r{n}
    settings: {{url: "{{{{ event.base }}}}/answer/{n}", method: GET}}
""" for n in range(1, CALLS + 1))
    return write_journey(f"""\
journey: many-calls
entry: {{trigger: webhook}}
steps:
{calls}\
  - id: first-known
    type: gate
    settings: {{when: {{field: journey.r1.body.marker, op: equals, value: m1}}, else: exit}}
  - id: last-known
    type: gate
    settings: {{when: {{field: journey.r{CALLS}.body.marker, op: equals, value: m{CALLS}}}, else: exit}}
  - id: save
    type: update_profile
    settings:
      set: {{first: "{{{{ journey.r1.body.marker }}}}", last: "{{{{ journey.r{CALLS}.body.marker }}}}", rows: "{{{{ journey.r{CALLS}.body.rows | size }}}}"}}
""")


def state_sizes(history: list[dict]) -> list[int]:
    """Bytes of every state input and output Step Functions carried."""
    sizes = []
    for event in history:
        for details, key in (("stateEnteredEventDetails", "input"), ("stateExitedEventDetails", "output")):
            text = (event.get(details) or {}).get(key)
            if text is not None:
                sizes.append(len(text.encode()))
    return sizes


def test_given_ten_calls_of_31_kb_each_then_every_step_is_done_and_the_state_stays_within_its_budget(write_journey, server, ada):
    from journeys.runtime.task import STATE_BUDGET

    for n in range(1, CALLS + 1):
        server.route(f"/answer/{n}", Reply(200, json=answer(n)))
    path = journey_of_ten_calls(write_journey)

    trace = run_trace(path, ada, {"base": server.url()})

    run = trace["_run"]
    assert trace["status"] == "SUCCEEDED"
    assert outcomes(trace) == {**{f"call-{n}": "done" for n in range(1, CALLS + 1)},
                               "first-known": "branch:next", "last-known": "branch:next", "save": "done"}
    assert (trace["contact"]["first"], trace["contact"]["last"], trace["contact"]["rows"]) == ("m1", f"m{CALLS}", 300)
    sizes = state_sizes(run.history)
    assert max(sizes) <= STATE_BUDGET < SFN_STATE_LIMIT
    assert len(json.dumps(run.output).encode()) <= STATE_BUDGET
    carried = trace["journey_data"]
    inline = [key for key, value in carried.items() if value.get("body") is not None]
    stored = [key for key, value in carried.items() if value.get("stored")]
    assert inline and stored and sorted(inline + stored) == sorted(f"r{n}" for n in range(1, CALLS + 1))
    assert inline == [f"r{n}" for n in range(1, len(inline) + 1)]  # the early results travel inline
