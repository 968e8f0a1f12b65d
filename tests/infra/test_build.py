"""`journeys build`: template.yaml, the catalog and every .asl.json are derived from the journey
files, and the committed ones are up to date."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap

import pytest
import yaml
from infra_tools import REPO

from journeys.compiler import build
from journeys.runtime.store import TABLES


class _CfnLoader(yaml.SafeLoader):
    pass


_CfnLoader.add_multi_constructor("!", lambda loader, suffix, node: {suffix: loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else loader.construct_sequence(node)})


def template() -> dict:
    return yaml.load((REPO / "template.yaml").read_text(), Loader=_CfnLoader)


def test_given_the_committed_files_then_template_catalog_and_every_asl_are_up_to_date():
    stale = build.stale(REPO)

    assert stale == [], f"run `journeys build`: stale {[str(p.relative_to(REPO)) for p in stale]}"


def test_given_store_tables_then_the_template_declares_each_with_its_keys_ttl_and_point_in_time_recovery():
    resources = template()["Resources"]
    env = template()["Globals"]["Function"]["Environment"]["Variables"]

    for logical_id, spec in TABLES.items():
        props = resources[logical_id]["Properties"]
        assert props["KeySchema"] == spec["KeySchema"] and props["AttributeDefinitions"] == spec["AttributeDefinitions"]
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert props.get("TimeToLiveSpecification") == ({"AttributeName": spec["ttl"], "Enabled": True} if spec["ttl"] else None)
        assert env[spec["env"]] == {"Ref": logical_id}


def test_given_each_journey_then_a_standard_state_machine_with_live_alias_logging_and_tracing():
    resources = template()["Resources"]
    catalog = json.loads((REPO / "layers/journeys/journeys/runtime/catalog.json").read_text())

    for path in sorted((REPO / "statemachines").glob("*.journey.yaml")):
        jid = path.name.removesuffix(".journey.yaml")
        props = resources[build.logical_prefix(jid) + "StateMachine"]["Properties"]
        assert props["DefinitionUri"] == f"statemachines/{jid}.asl.json"
        assert props["Type"] == "STANDARD" and props["AutoPublishAlias"] == "live"
        assert props["Tracing"] == {"Enabled": True} and props["Logging"]["Destinations"]
        asl = (REPO / props["DefinitionUri"]).read_text()
        assert set(props["DefinitionSubstitutions"]) == set(build.PLACEHOLDER.findall(asl))
        assert jid in catalog


def test_given_no_policy_then_a_wildcard_resource_is_used_only_for_actions_without_resource_level_permissions():
    allowed = {"states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat", "logs:CreateLogDelivery",
               "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery", "logs:ListLogDeliveries",
               "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups"}
    text = (REPO / "template.yaml").read_text()
    statements = []
    for res in template()["Resources"].values():
        props = res.get("Properties", {})
        statements += (props.get("PolicyDocument") or {}).get("Statement", [])
        for policy in props.get("Policies", []) if isinstance(props.get("Policies"), list) else []:
            if isinstance(policy, dict) and "Statement" in policy:
                statements += policy["Statement"]

    wildcard = [s for s in statements if s.get("Resource") == "*"]

    assert wildcard and all(set(s["Action"]) <= allowed for s in wildcard)
    assert "FullAccess" not in text


@pytest.fixture
def project(tmp_path):
    """A copy of the template with the generated blocks emptied, and one journey file."""
    text = (REPO / "template.yaml").read_text()
    for block in build.BLOCKS:
        begin, end = build.marker(">>>", block).search(text), build.marker("<<<", block).search(text)
        text = text[:begin.end()] + "\n" + text[end.start():]
    (tmp_path / "template.yaml").write_text(text)
    (tmp_path / "statemachines").mkdir()
    (tmp_path / "layers/journeys/journeys").mkdir(parents=True)
    shutil.copy(REPO / "statemachines/lead-nurturing.journey.yaml", tmp_path / "statemachines")
    return tmp_path


def journeys_cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "journeys.cli", *args], capture_output=True, text=True, cwd=cwd)


def test_given_a_new_journey_file_when_built_then_its_asl_catalog_entry_and_state_machine_appear(project):
    first = journeys_cli("build", cwd=project)
    assert first.returncode == 0, first.stderr
    (project / "statemachines/welcome-series.journey.yaml").write_text(textwrap.dedent("""\
        journey: welcome-series
        name: Welcome series
        entry: {trigger: event, event: signed_up}
        steps:
          - {id: hello, type: send_email, settings: {subject: Hi, text: Welcome}}
        """))

    assert journeys_cli("build", "--check", cwd=project).returncode == 1
    done = journeys_cli("build", cwd=project)

    assert done.returncode == 0, done.stderr
    assert "wrote statemachines/welcome-series.asl.json" in done.stdout
    text = (project / "template.yaml").read_text()
    assert "WelcomeSeriesStateMachine:" in text and "DefinitionUri: statemachines/welcome-series.asl.json" in text
    assert "Name: !Sub ${AWS::StackName}_welcome-series\n" in text  # the name JOURNEY_STATE_MACHINE_ARN gives functions
    assert json.loads((project / "layers/journeys/journeys/runtime/catalog.json").read_text())["welcome-series"]["event"] == "signed_up"
    assert journeys_cli("build", "--check", cwd=project).returncode == 0
    assert journeys_cli("build", cwd=project).stdout.strip() == "up to date"


def test_given_a_hand_edit_outside_the_generated_blocks_when_built_then_it_is_kept(project):
    text = (project / "template.yaml").read_text().replace("MemorySize: 512", "MemorySize: 1024")
    (project / "template.yaml").write_text(text)

    journeys_cli("build", cwd=project)

    assert "MemorySize: 1024" in (project / "template.yaml").read_text()


def test_given_a_template_without_the_markers_then_build_names_the_missing_block(project):
    (project / "template.yaml").write_text("Resources: {}\n")

    done = journeys_cli("build", cwd=project)

    assert done.returncode == 1 and "# >>> journeys build: globals" in done.stderr and "Traceback" not in done.stderr


def test_given_a_journey_file_named_unlike_its_id_then_build_fails_naming_the_file(project):
    shutil.move(project / "statemachines/lead-nurturing.journey.yaml", project / "statemachines/leads.journey.yaml")

    done = journeys_cli("build", cwd=project)

    assert done.returncode == 1 and "must be named lead-nurturing.journey.yaml" in done.stderr


def test_given_a_policies_file_when_built_then_the_layer_ships_it_and_a_bad_one_names_file_and_key(project):
    policies = project / "statemachines/policies.yaml"
    policies.write_text('quiet_hours: {from: "22:00", to: "07:30"}\nsend_rate: 20/s\n')

    assert journeys_cli("build", cwd=project).returncode == 0
    shipped = json.loads((project / "layers/journeys/journeys/runtime/policies.json").read_text())
    assert shipped == {"quiet_hours": {"from": "22:00", "to": "07:30"}, "send_rate": "20/s"}

    policies.write_text("frequency_cap: {emails: -1, per: 7d}\n")
    done = journeys_cli("build", cwd=project)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "statemachines/policies.yaml: frequency_cap.emails: emails: -1" in done.stderr


def test_given_the_template_then_error_alarms_do_not_count_deferred_sends_and_the_dashboard_shows_policies():
    from journeys.compiler.build import step_errors_alarm

    alarm = step_errors_alarm("MessagingFunction")["Properties"]
    metrics = {m["Id"]: m for m in alarm["Metrics"]}
    assert metrics["deferred"]["MetricStat"]["Metric"]["MetricName"] == "SendsDeferred"
    assert "- FILL(deferred, 0)" in metrics["unexpected"]["Expression"]
    text = (REPO / "template.yaml").read_text()
    assert "Delivery policies (capped sends, sends deferred by quiet hours or the send rate)" in text
