"""The deployed definition's size (issue 11.5): over the 1 MB Step Functions limit is a compile error
naming the size and the largest states; a split's branches share one recovery state."""

from __future__ import annotations

import subprocess
import sys

import pytest

from journeys.compiler import compile_journey
from journeys.compiler.size import DEFINITION_LIMIT, LONGEST_FUNCTION_ARN, check_size, compact_json, deployed_size
from journeys.language.errors import JourneyFileError
from journeys.language.loader import load_journey

HEAD = "journey: big\nentry: {trigger: webhook}\nsteps:\n"


def sends(count: int, text_bytes: int) -> str:
    body = "x" * text_bytes
    return HEAD + "".join(f"  - {{id: s{i}, name: Email {i}, type: send_email, settings: {{subject: Hi, text: {body}}}}}\n"
                          for i in range(count))


def test_given_a_journey_over_the_definition_limit_when_compiled_then_the_error_names_the_size_and_largest_states(write_journey):
    path = write_journey(sends(300, 4000))  # ~300 x 4.4 KB Task states
    journey, _ = load_journey(path)
    compiled = compile_journey(journey)

    with pytest.raises(JourneyFileError) as raised:
        compiled.to_json()

    message = str(raised.value)
    size = deployed_size(compact_json(compiled.asl))
    assert size > DEFINITION_LIMIT
    assert message.startswith(f"{path}: the deployed state machine definition would be {size:,} bytes, over the Step Functions limit of 1,048,576 bytes")
    assert "largest: 'Email " in message and "start_journey" in message


def test_given_the_cli_and_a_journey_over_the_limit_then_it_exits_1_without_a_traceback(write_journey, tmp_path):
    path = write_journey(sends(300, 4000))

    done = subprocess.run([sys.executable, "-m", "journeys.cli", "compile", str(path), "-o", str(tmp_path / "out")],
                          capture_output=True, text=True)

    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "over the Step Functions limit of 1,048,576 bytes" in done.stderr
    assert not (tmp_path / "out").exists()


def test_given_a_journey_just_under_the_limit_then_it_compiles_and_each_placeholder_counts_as_a_deployed_arn(write_journey):
    journey, _ = load_journey(write_journey(sends(20, 100)))
    asl = compile_journey(journey).asl
    text = compact_json(asl)
    placeholders = text.count('"${MessagingFunctionArn}"')

    assert placeholders == 20
    assert deployed_size(text) == len(text.encode()) + placeholders * (LONGEST_FUNCTION_ARN + 2 - len('"${MessagingFunctionArn}"'))
    assert check_size(asl, limit=deployed_size(text)) == deployed_size(text)
    with pytest.raises(JourneyFileError):
        check_size(asl, limit=deployed_size(text) - 1)


def test_given_a_split_whose_branches_meet_again_then_their_tasks_share_one_recovery_state(write_journey):
    steps = HEAD + """\
  - id: pick
    type: split
    settings:
      branches:
        - {name: A, when: {field: contact.score, op: gte, value: 90}, next: a}
        - {name: B, when: {field: contact.score, op: gte, value: 50}, next: b}
      default: c
  - {id: a, name: Send A, type: send_email, settings: {subject: A, text: A}, next: meet}
  - {id: b, name: Send B, type: send_email, settings: {subject: B, text: B}, next: meet}
  - {id: c, name: Send C, type: send_email, settings: {subject: C, text: C}, next: meet}
  - {id: meet, type: join}
  - {id: again, name: Again?, type: gate, settings: {when: {field: contact.score, op: gt, value: 10}, else: exit}}
  - {id: last, name: Last, type: add_tag, settings: {tags: [x]}}
"""
    journey, _ = load_journey(write_journey(steps))
    states = compile_journey(journey).asl["States"]

    recoveries = sorted(name for name in states if name.startswith("Recover"))
    catches = {name: states[name]["Catch"][-1]["Next"] for name in ("Send A", "Send B", "Send C")}
    assert recoveries == ["Recover before Again?"]
    assert set(catches.values()) == {"Recover before Again?"}
    assert states["Recover before Again?"]["Next"] == "Again?"
    assert states["Recover before Again?"]["Parameters"]["lookahead"] == states["Send A"]["Parameters"]["lookahead"]

