"""The template and every state machine pass the validators CI runs, offline."""

from __future__ import annotations

import json
import shutil

from infra_tools import ASL_VALIDATOR, REPO, SAM_VENV, TOOLS, require, run_offline


def test_given_the_template_when_cfn_lint_runs_then_it_reports_nothing():
    done = run_offline(require(SAM_VENV / "bin" / "cfn-lint"), "--", "template.yaml")

    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == ""


def test_given_the_template_when_sam_validate_lint_runs_then_it_is_a_valid_sam_template():
    done = run_offline(require(SAM_VENV / "bin" / "sam"), "validate", "--lint", "--template", "template.yaml")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "is a valid SAM Template" in done.stdout + done.stderr


def test_given_the_template_when_the_sam_transform_runs_offline_then_every_journey_has_a_versioned_live_alias(tmp_path):
    out = tmp_path / "transformed.json"
    done = run_offline(require(SAM_VENV / "bin" / "python"), TOOLS / "transform.py", "template.yaml", "--out", out)

    assert done.returncode == 0, done.stdout + done.stderr
    resources = json.loads(out.read_text())["Resources"]
    journeys = sorted(p.name.removesuffix(".journey.yaml") for p in (REPO / "statemachines").glob("*.journey.yaml"))
    machines = [r for k, r in resources.items() if r["Type"] == "AWS::StepFunctions::StateMachine"
                and k != "SegmentEntryStateMachine"]  # not a journey: journeys enter --segment
    aliases = [r for r in resources.values() if r["Type"] == "AWS::StepFunctions::StateMachineAlias"]
    assert len(machines) == len(journeys) and len(aliases) == len(journeys)
    assert all(a["Properties"]["Name"] == "live" for a in aliases)
    assert all(m["Properties"]["TracingConfiguration"] == {"Enabled": True} for m in machines)
    functions = [r for r in resources.values() if r["Type"] == "AWS::Lambda::Function"]
    assert len(functions) == 7 and all(f["Properties"]["TracingConfig"] == {"Mode": "Active"} for f in functions)


def transformed(tmp_path, template="template.yaml") -> dict:
    out = tmp_path / "transformed.json"
    done = run_offline(require(SAM_VENV / "bin" / "python"), TOOLS / "transform.py", template, "--out", out)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(out.read_text())["Resources"]


def test_given_the_sam_transform_then_every_task_invokes_a_published_version_the_role_may_invoke(tmp_path):
    resources = transformed(tmp_path)

    for machine in (r for r in resources.values() if r["Type"] == "AWS::StepFunctions::StateMachine"):
        role = resources[machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]]
        invocable = [s["Resource"]["Fn::Sub"] for p in role["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]
                     if s["Action"] == ["lambda:InvokeFunction"]]
        for placeholder, value in machine["Properties"]["DefinitionSubstitutions"].items():
            version = resources[value["Ref"]]
            function = placeholder.removesuffix("Arn")
            assert version["Type"] == "AWS::Lambda::Version" and version["Properties"]["FunctionName"] == {"Ref": function}
            assert version["DeletionPolicy"] == "Retain"  # running executions keep their code
            # `function:NAME*` also matches the qualified `function:NAME:<version>`
            assert ["arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${functionName}*",
                    {"functionName": {"Ref": function}}] in invocable


def test_given_the_sam_transform_then_the_actions_function_has_the_outbound_allowlist_besides_the_globals(tmp_path):
    resources = transformed(tmp_path)

    variables = resources["ActionsFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["JOURNEYS_OUTBOUND_ALLOWLIST"] == {"Ref": "OutboundAllowlist"}
    assert {"JOURNEY_TABLE", "CONTACTS_TABLE", "POWERTOOLS_SERVICE_NAME"} <= set(variables)  # merged, not replaced
    assert "JOURNEYS_OUTBOUND_ALLOWLIST" not in resources["MessagingFunction"]["Properties"]["Environment"]["Variables"]


def test_given_only_the_layer_changes_when_transformed_then_every_step_function_publishes_a_new_version(tmp_path):
    """sam package gives a changed layer a new S3 key: that alone must publish new versions, or the
    state machines would keep invoking the old layer."""
    project = tmp_path / "project"  # the template and what it references (functions need only exist)
    shutil.copytree(REPO / "statemachines", project / "statemachines")
    for function in ("entry", "messaging", "updates", "actions", "control", "segment", "steps"):
        (project / "functions" / function).mkdir(parents=True)
    text = (REPO / "template.yaml").read_text()
    versions = []
    for key in ("layer-a.zip", "layer-b.zip"):
        (project / "template.yaml").write_text(text.replace("ContentUri: layers/journeys/", f"ContentUri: s3://bucket/{key}"))
        resources = transformed(tmp_path, project / "template.yaml")
        versions.append({k for k, r in resources.items() if r["Type"] == "AWS::Lambda::Version"})

    assert len(versions[0]) == 6 and versions[0].isdisjoint(versions[1])  # 4 step groups + folded steps + segment entry


def test_given_every_compiled_state_machine_when_asl_validator_runs_then_each_is_valid(tmp_path):
    validator = require(ASL_VALIDATOR)
    prepared = run_offline(require(SAM_VENV / "bin" / "python"), TOOLS / "asl_prepare.py", "template.yaml", tmp_path)
    assert prepared.returncode == 0, prepared.stderr
    files = prepared.stdout.split()
    assert len(files) == len(list((REPO / "statemachines").glob("*.asl.json")))
    assert "WARNING" not in prepared.stderr, prepared.stderr  # every placeholder substituted, every file referenced

    args = [a for f in files for a in ("--json-path", f)]
    done = run_offline(validator, *args)

    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("is valid") == len(files)


def test_given_the_template_then_the_guided_deploy_asks_about_the_entry_routes_as_deploy_md_says():
    """SAM CLI's own check (what `sam deploy --guided` prompts for, default N aborts): DEPLOY.md must
    tell the operator to answer y as many times as it is asked."""
    done = run_offline(require(SAM_VENV / "bin" / "python"), TOOLS / "guided_auth_prompts.py", "template.yaml")

    assert done.returncode == 0, done.stderr
    asked = done.stdout.split()
    guide = (REPO / "docs/DEPLOY.md").read_text()
    assert asked == ["EntryFunction"] * 6
    assert "`EntryFunction has no authentication. Is this okay? [y/N]` — asked 6 times" in guide
