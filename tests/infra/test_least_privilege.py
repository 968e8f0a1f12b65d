"""Least privilege: each step function gets a policy of its own (journeys build), with only the actions on
the tables its steps use, and the actions function reads exactly the secrets the Actions and journeys name.
Read from the generated template, and checked against what the real handlers call while journeys run."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import threading

import pytest
from infra_tools import REPO, load_template

from journeys.compiler import build

STEP_FUNCTIONS = {"MessagingFunction": "messaging", "UpdatesFunction": "updates", "ActionsFunction": "actions",
                  "ControlFunction": "control"}


def resources(root=REPO) -> dict:
    return load_template(root / "template.yaml")["Resources"]


def table_actions(policy: dict) -> dict[str, set[str]]:
    """Table logical id -> the DynamoDB actions the policy allows on it."""
    allowed: dict[str, set[str]] = {}
    for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
        for resource in statement["Resource"]:
            if isinstance(resource, dict) and "GetAtt" in resource:
                allowed.setdefault(resource["GetAtt"].split(".")[0], set()).update(
                    a for a in statement["Action"] if a.startswith("dynamodb:"))
    return allowed


def test_given_the_template_then_each_step_function_has_its_own_policy_and_none_the_shared_one():
    res = resources()
    for function in STEP_FUNCTIONS:
        policies = res[function]["Properties"]["Policies"]
        assert {"Ref": build.step_policy_name(function)} in policies, function
        assert {"Ref": "JourneysDataPolicy"} not in policies, function


def test_given_the_step_policies_then_no_batch_writes_and_deletes_only_where_a_step_deletes():
    res = resources()
    for function in STEP_FUNCTIONS:
        allowed = table_actions(res[build.step_policy_name(function)])
        assert all("dynamodb:BatchWriteItem" not in actions for actions in allowed.values()), function
        deleting = {table for table, actions in allowed.items() if "dynamodb:DeleteItem" in actions}
        # a failed attempt's exactly-once claim is deleted so a retry does the work (runtime/idempotency.py)
        assert deleting == {"JourneyTable"}, function
    for function in ("MessagingFunction", "ActionsFunction"):  # sends and calls never write the contact
        assert table_actions(res[build.step_policy_name(function)])["ContactsTable"] == {
            "dynamodb:GetItem", "dynamodb:Query", "dynamodb:DescribeTable"}


def test_given_no_secret_named_then_the_actions_function_reads_no_secret_at_all():
    text = (REPO / "template.yaml").read_text()
    statements = resources()["ActionsStepPolicy"]["Properties"]["PolicyDocument"]["Statement"]

    assert not any(a.startswith(("secretsmanager:", "ssm:")) for s in statements for a in s["Action"])
    assert "secret:journeys/*" not in text and "ActionSecretsPrefix" not in text


@pytest.fixture
def project(tmp_path):
    shutil.copy(REPO / "template.yaml", tmp_path / "template.yaml")
    (tmp_path / "statemachines").mkdir()
    (tmp_path / "layers/journeys/journeys").mkdir(parents=True)
    return tmp_path


def test_given_actions_and_journeys_naming_secrets_when_built_then_the_actions_function_reads_exactly_those(project):
    (project / "statemachines/actions.yaml").write_text(textwrap.dedent("""\
        - {id: crm, type: crm, config: {base_url: "https://crm.example", api_key: {secret: journeys/crm-key}}}
        - {id: api, type: http, config: {base_url: "https://api.example", auth: {type: bearer, secret: "ssm:/journeys/api-token"}}}
        """))
    (project / "statemachines/hook.journey.yaml").write_text(textwrap.dedent("""\
        journey: hook
        entry: {trigger: webhook}
        steps:
          - {id: hook, type: webhook, settings: {url: "https://hooks.example/x", headers: {Authorization: {secret: journeys/hook-token}}}}
        """))

    done = subprocess.run([sys.executable, "-m", "journeys.cli", "build"], capture_output=True, text=True, cwd=project)

    assert done.returncode == 0, done.stderr
    statements = {s["Sid"]: s for s in resources(project)["ActionsStepPolicy"]["Properties"]["PolicyDocument"]["Statement"]}
    assert statements["ActionSecrets"]["Action"] == ["secretsmanager:GetSecretValue"]
    assert [r["Sub"].rsplit(":secret:", 1)[1] for r in statements["ActionSecrets"]["Resource"]] == [
        "journeys/crm-key-??????", "journeys/hook-token-??????"]
    assert [r["Sub"].rsplit(":parameter/", 1)[1] for r in statements["ActionParameters"]["Resource"]] == ["journeys/api-token"]


# ---------------------------------------------------------------------------- what the handlers really call

JOURNEY = """\
journey: every-step
entry: {trigger: webhook}
steps:
  - {id: profile, type: update_profile, settings: {set: {stage: lead}, increment: {visits: 1}}}
  - {id: tag, type: add_tag, settings: {tags: [lead]}}
  - {id: group, type: add_to_group, settings: {groups: [leads]}}
  - {id: note, type: add_note, settings: {text: "entered"}}
  - {id: mail, type: send_email, settings: {subject: "Hi", text: "Hello"}}
  - {id: inbox, type: site_notification, settings: {title: "Hi", body: "Welcome"}}
  - {id: ops, type: send_notification_email, settings: {to: [ops@journeys.example], subject: "New lead", text: "x"}}
  - {id: hook, type: webhook, settings: {url: "{{ event.hook }}"}}
  - {id: other, type: start_journey, settings: {journey: side}}
  - {id: stop, type: exit_journey, settings: {journey: side}}
  - {id: pause, type: wait, settings: {duration: 1h}}
  - {id: check, type: gate, settings: {when: {field: contact.tags, op: contains, value: lead}, else: exit}}
  - {id: bye, type: remove_tag, settings: {tags: [lead]}}
"""
SIDE = """\
journey: side
entry: {trigger: webhook}
steps:
  - {id: hold, type: wait, settings: {for_event: {event: never, timeout: 2d}}}
"""


def test_given_journeys_using_every_step_group_when_run_then_each_function_calls_only_what_its_policy_allows(
        write_journey, ada, monkeypatch):
    from botocore.client import BaseClient

    sys.path.insert(0, str(REPO / "tests" / "actions"))
    from actions_testserver import Reply, TestServer

    from journeys.local.runner import Handlers, run_journey
    from journeys.local.trace import build_trace
    from journeys.runtime.store import TABLES, table_name

    current = threading.local()
    called: dict[str, set[tuple[str, str]]] = {}
    by_name = {table_name(logical_id): logical_id for logical_id in TABLES}
    original_call, original_handler = BaseClient._make_api_call, Handlers.__call__

    def recording_call(self, operation, params):
        function = getattr(current, "function", None)
        if function and self.meta.service_model.service_name == "dynamodb" and params.get("TableName") in by_name:
            called.setdefault(function, set()).add((by_name[params["TableName"]], f"dynamodb:{operation}"))
        return original_call(self, operation, params)

    def in_function(self, name, payload):
        current.function = name
        try:
            return original_handler(self, payload=payload, name=name)
        finally:
            current.function = None

    monkeypatch.setattr(BaseClient, "_make_api_call", recording_call)
    monkeypatch.setattr(Handlers, "__call__", in_function)
    write_journey(SIDE, "side.journey.yaml")
    server = TestServer()
    server.route("/hook", Reply(200, json={"ok": True}))
    try:
        path = write_journey(JOURNEY, "every-step.journey.yaml")
        trace = build_trace(run_journey(path, ada, {"hook": server.url("/hook")}))
    finally:
        server.stop()

    assert trace["status"] == "SUCCEEDED" and all(s["outcome"] == "done" for s in trace["steps"] if s["type"] != "gate"), trace["steps"]
    assert set(called) == set(STEP_FUNCTIONS.values())
    res = resources()
    for function, name in STEP_FUNCTIONS.items():
        allowed = table_actions(res[build.step_policy_name(function)])
        refused = sorted((table, action) for table, action in called[name] if action not in allowed.get(table, set()))
        assert refused == [], f"{function} calls what its policy does not allow: {refused}"
