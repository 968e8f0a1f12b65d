"""`journeys graph FILE`: Mermaid flowcharts whose nodes are the step names and whose edges say
which branch, else, event or timeout takes them."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from infra_tools import REPO

from journeys.compiler.mermaid import mermaid
from journeys.language.loader import parse_journey


def test_given_lead_nurturing_then_nodes_are_step_names_and_the_gate_has_next_and_else_edges():
    done = subprocess.run([sys.executable, "-m", "journeys.cli", "graph", "statemachines/lead-nurturing.journey.yaml"],
                          capture_output=True, text=True, cwd=REPO)

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "flowchart TD"
    assert '  s_engaged{"Engaged with emails?"}' in lines and '  s_welcome["Send welcome email"]' in lines
    assert "  s_engaged -->|next| s_offer" in lines and "  s_engaged -->|else| s_nurture_end" in lines
    assert "  start --> s_tag_lead" in lines and "  s_done --> finish" in lines


def test_given_a_split_and_a_wait_for_event_then_edges_carry_branch_names_default_event_and_timeout():
    journey, _ = parse_journey(textwrap.dedent("""\
        journey: demo
        name: "Demo <quotes \\"here\\">"
        entry: {trigger: webhook}
        steps:
          - id: plan
            name: Which plan?
            type: split
            settings:
              branches: [{name: Pro, when: {field: contact.plan, op: equals, value: pro}, next: wait-demo}]
              default: bye
          - id: wait-demo
            name: Wait for the demo
            type: wait
            settings: {for_event: {event: demo_booked, timeout: 3d}, on_event: thanks, on_timeout: bye}
          - {id: thanks, type: add_tag, settings: {tags: [booked]}, next: end}
          - {id: bye, name: 'Say "bye"', type: add_tag, settings: {tags: [lost]}}
          - {id: end, type: exit}
        """))

    text = mermaid(journey)

    assert "  s_plan -->|Pro| s_wait_demo" in text and "  s_plan -->|default| s_bye" in text
    assert "  s_wait_demo -->|event| s_thanks" in text and "  s_wait_demo -->|timeout| s_bye" in text
    assert '  s_wait_demo(["Wait for the demo"])' in text
    assert 's_bye["Say #quot;bye#quot;"]' in text  # quotes cannot break the label


def test_given_the_docs_then_the_rendered_lead_nurturing_example_is_current():
    journey, _ = parse_journey((REPO / "statemachines/lead-nurturing.journey.yaml").read_text())

    assert f"```mermaid\n{mermaid(journey)}```" in (REPO / "docs/GRAPH.md").read_text()


def test_given_a_branch_name_with_a_pipe_then_the_edge_label_stays_one_label():
    journey, _ = parse_journey(textwrap.dedent("""\
        journey: pipes
        entry: {trigger: webhook}
        steps:
          - id: plan
            type: split
            settings:
              branches: [{name: "Pro | Plus", when: {field: contact.plan, op: in, value: [pro, plus]}, next: tag}]
              default: tag
          - {id: tag, type: add_tag, settings: {tags: [seen]}}
        """))

    text = mermaid(journey)

    # A raw | would end Mermaid's -->|label| early.
    assert "  s_plan -->|Pro #124; Plus| s_tag" in text


def test_given_an_exit_journey_of_itself_then_the_graph_draws_it_to_the_end():
    journey, _ = parse_journey(textwrap.dedent("""\
        journey: leave
        entry: {trigger: webhook}
        steps:
          - {id: bye, type: exit_journey}
          - {id: never, type: add_tag, settings: {tags: [x]}}
        """))

    text = mermaid(journey)

    assert "  s_bye --> finish" in text and "s_bye --> s_never" not in text
