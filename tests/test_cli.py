"""The CLI as a newcomer uses it: run (JSON contract and table), schema, compile --check."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import REPO, SHARED

ADA = str(SHARED / "contacts" / "ada.json")


def journeys(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "journeys.cli", *args], capture_output=True, text=True, cwd=REPO)


def test_given_run_json_then_it_prints_the_trace_contract():
    done = journeys("run", str(SHARED / "lead-nurturing.journey.yaml"), "--contact", ADA, "--start", "2026-01-05T08:00:00Z", "--json")

    assert done.returncode == 0, done.stderr
    trace = json.loads(done.stdout)
    assert {"journey", "status", "steps", "contact", "journey_data", "messages"} <= set(trace)
    assert trace["journey"] == "lead-nurturing" and trace["status"] == "SUCCEEDED"
    assert trace["steps"][0] == {"id": "tag-lead", "type": "add_tag", "outcome": "done", "at": "2026-01-05T08:00:00Z", "name": "Tag as lead"}
    assert trace["messages"][0] == {"step": "welcome", "kind": "email", "to": "ada@analytical.example",
                                    "subject": "Thanks for reaching out, Ada", "at": "2026-01-05T08:00:00Z"}
    assert trace["contact"]["id"] == "c-ada"


def test_given_run_without_json_then_people_get_a_table():
    done = journeys("run", str(SHARED / "lead-nurturing.journey.yaml"), "--contact", ADA, "--start", "2026-01-05T08:00:00Z")

    assert done.returncode == 0, done.stderr
    assert "lead-nurturing" in done.stdout and "SUCCEEDED" in done.stdout
    assert "Send welcome email" in done.stdout and "branch:next" in done.stdout and "messages" in done.stdout
    assert done.stderr == ""


def test_given_a_contact_that_is_not_json_then_a_clear_error(tmp_path):
    bad = tmp_path / "c.json"
    bad.write_text("{nope")
    done = journeys("run", str(SHARED / "lead-nurturing.journey.yaml"), "--contact", str(bad))
    assert done.returncode == 1 and "contact is not valid JSON" in done.stderr and "Traceback" not in done.stderr


def test_given_schema_then_it_is_json_schema_with_every_step_type():
    done = journeys("schema")
    schema = json.loads(done.stdout)
    types = {variant["properties"]["type"]["const"] for variant in schema["properties"]["steps"]["items"]["oneOf"]}
    assert {"send_email", "wait", "split", "gate", "webhook", "action", "crm_action", "start_journey", "exit_journey"} <= types
    assert schema["properties"]["journey"]["pattern"]


def test_given_the_committed_asl_then_compile_check_passes():
    files = [str(p) for p in sorted((REPO / "statemachines").glob("*.journey.yaml"))]
    done = journeys("compile", "--check", *files)
    assert done.returncode == 0, done.stderr


def test_given_the_demo_api_then_the_readme_enrichment_recipe_runs(tmp_path):
    from journeys.local.demo_api import company, serve

    server = serve(port=0, background=True)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        actions = tmp_path / "actions.yaml"
        actions.write_text((SHARED / "actions.yaml").read_text().replace("http://127.0.0.1:8765", base))
        event = tmp_path / "event.json"
        event.write_text(json.dumps({"crm_hook": f"{base}/hooks/crm"}))
        done = journeys("run", str(SHARED / "enrichment.journey.yaml"), "--contact", ADA, "--actions", str(actions),
                        "--event", str(event), "--start", "2026-01-05T08:00:00Z", "--json")
    finally:
        server.shutdown()

    assert done.returncode == 0, done.stderr
    trace = json.loads(done.stdout)
    expected = company("analytical.example")
    assert trace["journey_data"]["company"]["body"] == expected
    assert trace["contact"]["company_size"] == expected["employees"]
    assert [s["outcome"] for s in trace["steps"] if s["id"] == "big"] == [
        "branch:next" if expected["employees"] >= 100 else "branch:else"]


def test_given_several_files_when_validated_then_every_file_is_checked_and_any_error_exits_1(tmp_path):
    # Given two bad journey files around a good one
    head = "journey: {id}\nentry: {{trigger: webhook}}\nsteps:\n"
    bad_type = tmp_path / "a.journey.yaml"
    bad_type.write_text(head.format(id="a") + "  - {id: s, type: [exit]}\n")
    good = tmp_path / "b.journey.yaml"
    good.write_text(head.format(id="b") + "  - {id: s, type: exit}\n")
    bad_op = tmp_path / "c.journey.yaml"
    bad_op.write_text(head.format(id="c") + "  - {id: g, type: gate, settings: {when: {field: contact.x, op: bigger, value: 1}, else: exit}}\n")

    # When they are validated in one run
    done = journeys("validate", str(bad_type), str(good), str(bad_op))

    # Then each file's errors are printed, the good one is ok, and the run exits 1
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stdout == f"{good}: ok (1 steps)\n"
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert [line.split(": step ")[0] for line in errors] == [f"error: {bad_type}", f"error: {bad_op}"]
    assert "type: unknown step type ['exit']" in errors[0] and "settings.when.op: unknown operator 'bigger'" in errors[1]


def test_given_an_unreachable_step_when_run_then_its_warning_is_printed_once(tmp_path):
    # Given a journey with an unreachable step, alone in its folder
    path = tmp_path / "island.journey.yaml"
    path.write_text("journey: island\nentry: {trigger: webhook}\nsteps:\n  - {id: a, type: exit}\n  - {id: b, type: add_tag, settings: {tags: [x]}}\n")

    # When it runs
    done = journeys("run", str(path), "--contact", ADA, "--start", "2026-01-05T08:00:00Z", "--json")

    # Then the warning is on stderr exactly once, and nothing else is
    assert done.returncode == 0, done.stderr
    assert done.stderr == f"warning: {path}: step 'b': unreachable (no step leads to it): left out of the state machine\n"


def test_given_a_contact_file_with_bad_fields_then_each_is_named_and_nothing_runs(tmp_path):
    contact = tmp_path / "bad.json"
    contact.write_text(json.dumps({"id": "c-1", "email": "nope", "tags": "vip", "timezone": "Mars/Base"}))

    done = journeys("run", str(SHARED / "lead-nurturing.journey.yaml"), "--contact", str(contact))

    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith(f"error: {contact}: ")
    assert "email: Value error, not an email address" in done.stderr
    assert "tags: Input should be a valid list" in done.stderr and "unknown timezone 'Mars/Base'" in done.stderr
    assert "Traceback" not in done.stderr


def test_given_subscribed_no_in_a_contact_file_then_it_is_stored_false_and_no_marketing_email_goes(tmp_path):
    contact = tmp_path / "no.json"
    contact.write_text(json.dumps({"id": "c-no", "email": "no@example.com", "subscribed": "no"}))

    done = journeys("run", str(SHARED / "lead-nurturing.journey.yaml"), "--contact", str(contact), "--json")

    trace = json.loads(done.stdout)
    assert trace["contact"]["subscribed"] is False
    assert trace["messages"] == []


def test_given_a_run_limit_that_is_not_a_number_of_seconds_then_one_clear_error(tmp_path):
    by_option = journeys("run", str(SHARED / "lead-nurturing.journey.yaml"), "--contact", ADA, "--timeout", "0")
    by_env = subprocess.run([sys.executable, "-m", "journeys.cli", "run", str(SHARED / "lead-nurturing.journey.yaml"), "--contact", ADA],
                            capture_output=True, text=True, cwd=REPO, env={**__import__("os").environ, "JOURNEYS_RUN_TIMEOUT": "abc"})

    assert (by_option.returncode, by_option.stderr) == (1, "error: --timeout 0.0: expected a number of seconds > 0\n")
    assert (by_env.returncode, by_env.stderr) == (1, "error: JOURNEYS_RUN_TIMEOUT='abc': expected a number of seconds > 0\n")


def test_given_subscribed_yes_in_a_contact_file_then_an_error_names_the_file_and_field(tmp_path):
    contact = tmp_path / "yes.json"
    contact.write_text(json.dumps({"id": "c-yes", "email": "yes@example.com", "subscribed": "yes"}))

    done = journeys("run", str(SHARED / "lead-nurturing.journey.yaml"), "--contact", str(contact), "--json")

    assert done.returncode == 1 and done.stdout == "" and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"error: {contact}: subscribed: ")
    assert "true or false" in done.stderr


def test_given_a_contact_file_over_32_kib_then_an_error_names_the_file_and_the_limit(tmp_path):
    contact = tmp_path / "big.json"
    contact.write_text(json.dumps({"id": "c-big", "email": "big@example.com", "bio": "x" * 40_000}))

    done = journeys("run", str(SHARED / "lead-nurturing.journey.yaml"), "--contact", str(contact), "--json")

    assert done.returncode == 1 and done.stdout == "" and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"error: {contact}: ") and "32,768 bytes" in done.stderr
