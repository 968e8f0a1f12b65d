"""What template.yaml promises an operator: alarms that fire on failures and not on goal exits, a
dashboard whose searches CloudWatch understands, pinned Lambda versions, logs that expire, an
environment that does not grow with the journeys, least privilege for the entry function."""

from __future__ import annotations

import json
import re
import shutil

from infra_tools import REPO, load_template

from journeys.compiler import build

STEP_FUNCTIONS = ("MessagingFunction", "UpdatesFunction", "ActionsFunction", "ControlFunction", "StepsFunction")
ALL_FUNCTIONS = ("EntryFunction", "SegmentFunction") + STEP_FUNCTIONS
STACK = "journeys-dev"
LAMBDA_ENV_LIMIT = 4 * 1024  # bytes, all variables of a function together


def resources() -> dict:
    return load_template()["Resources"]


def substituted(text: str) -> str:
    """A Fn::Sub string with its variables filled as CloudFormation would (dummy values)."""
    values = {"AWS::StackName": STACK, "AWS::Region": "us-east-1", "AWS::AccountId": "123456789012",
              "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"}
    return re.sub(r"\$\{([^}!]+)\}", lambda m: values.get(m.group(1), f"dummy-{m.group(1)}"), text)


# ------------------------------------------------------------------ dashboard


def dashboard_widgets() -> dict[str, dict]:
    body = resources()["Dashboard"]["Properties"]["DashboardBody"]["Sub"]
    return {w["properties"]["title"]: w["properties"] for w in json.loads(substituted(body))["widgets"]}


def test_given_the_dashboard_body_when_json_decoded_then_each_search_is_what_cloudwatch_reads():
    widgets = dashboard_widgets()

    steps = [m[0]["expression"] for m in widgets["Steps by outcome (entered, done, skipped, failed)"]["metrics"]]
    entries = [m[0]["expression"] for m in widgets["Entries by outcome (webhook and events)"]["metrics"]]

    assert steps[0] == ("SEARCH('{Journeys,service,Journey,Step,StepType} service=\"journeys-dev\" "
                        "MetricName=\"StepEntered\"', 'Sum', 300)")
    assert entries[0] == "SEARCH('{Journeys,service,Journey} service=\"journeys-dev\" MetricName=\"JourneyEntered\"', 'Sum', 300)"
    assert not any("\\" in expression for expression in steps + entries)


def test_given_the_dashboard_then_goal_exits_are_shown_beside_the_lambda_errors_they_are_part_of():
    lines = dashboard_widgets()["Lambda errors and throttles"]["metrics"]

    goal_lines = [line for line in lines if line[1] == "GoalExits"]

    assert len(goal_lines) == len(STEP_FUNCTIONS)
    assert all(line[:4] == ["Journeys", "GoalExits", "service", STACK] and line[4] == "FunctionName" for line in goal_lines)


# ------------------------------------------------------------------ alarms


def test_given_a_step_function_then_its_error_alarm_is_lambda_errors_minus_goal_exits_and_deferrals_clamped_at_zero():
    for function in STEP_FUNCTIONS:
        props = resources()[function.removesuffix("Function") + "ErrorsAlarm"]["Properties"]

        queries = {q["Id"]: q for q in props["Metrics"]}

        errors, goals = queries["errors"]["MetricStat"], queries["goals"]["MetricStat"]
        assert errors["Metric"]["MetricName"] == "Errors" and errors["Metric"]["Namespace"] == "AWS/Lambda"
        assert goals["Metric"] == {"Namespace": "Journeys", "MetricName": "GoalExits", "Dimensions": [
            {"Name": "service", "Value": {"Ref": "AWS::StackName"}}, {"Name": "FunctionName", "Value": {"Ref": function}}]}
        assert errors["Metric"]["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": function}}]
        assert [q["Id"] for q in props["Metrics"] if q["ReturnData"]] == ["unexpected"]
        deferred = queries["deferred"]["MetricStat"]["Metric"]
        assert deferred == {**goals["Metric"], "MetricName": "SendsDeferred"}  # quiet hours, send rate: a wait, not a failure
        handled = "FILL(errors, 0) - FILL(goals, 0) - FILL(deferred, 0)"
        assert queries["unexpected"]["Expression"] == f"IF({handled} > 0, {handled}, 0)"
        assert props["Threshold"] == 1 and props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert props["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_given_the_webhook_answers_errors_as_json_then_the_http_api_5xx_metric_is_alarmed():
    props = resources()["HttpApi5xxAlarm"]["Properties"]

    assert (props["Namespace"], props["MetricName"]) == ("AWS/ApiGateway", "5xx")
    assert props["Dimensions"] == [{"Name": "ApiId", "Value": {"Ref": "HttpApi"}}]
    assert props["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_given_every_task_catches_errors_then_failed_steps_of_this_stack_are_alarmed():
    props = resources()["StepFailedAlarm"]["Properties"]

    assert (props["Namespace"], props["MetricName"], props["Statistic"], props["Period"]) == ("Journeys", "StepFailed", "Sum", 300)
    assert props["Dimensions"] == [{"Name": "service", "Value": {"Ref": "AWS::StackName"}}]
    assert props["Threshold"] == 0 and props["ComparisonOperator"] == "GreaterThanThreshold"


def test_given_each_journey_then_its_failed_executions_are_still_alarmed():
    for path in sorted((REPO / "statemachines").glob("*.journey.yaml")):
        machine = build.logical_prefix(path.name.removesuffix(".journey.yaml")) + "StateMachine"
        props = resources()[machine.removesuffix("StateMachine") + "FailedAlarm"]["Properties"]
        assert props["MetricName"] == "ExecutionsFailed" and props["Dimensions"][0]["Value"] == {"Ref": machine}


def test_given_the_metrics_service_dimension_then_it_is_the_stack_name():
    env = load_template()["Globals"]["Function"]["Environment"]["Variables"]

    assert env["POWERTOOLS_SERVICE_NAME"] == {"Ref": "AWS::StackName"}


# ------------------------------------------------------------------ pinned Lambda versions


def test_given_the_step_functions_then_each_publishes_a_live_version_on_any_change_layer_included():
    for function in STEP_FUNCTIONS:
        props = resources()[function]["Properties"]
        assert props["AutoPublishAlias"] == "live" and props["AutoPublishAliasAllProperties"] is True
    assert resources()["CoreLayer"]["Properties"]["PublishLambdaVersion"] is True
    assert "AutoPublishAlias" not in resources()["EntryFunction"]["Properties"]  # the API calls $LATEST


def test_given_each_state_machine_then_its_tasks_invoke_the_published_versions():
    for logical_id, res in resources().items():
        if res["Type"] != "AWS::Serverless::StateMachine":
            continue
        subs = res["Properties"]["DefinitionSubstitutions"]
        assert subs and all(value == {"Ref": name.removesuffix("Arn") + ".Version"} for name, value in subs.items()), logical_id


# ------------------------------------------------------------------ logs, environment, parameters


def test_given_each_function_then_its_log_group_exists_with_the_stack_retention():
    for function in ALL_FUNCTIONS:
        group = resources()[f"{function}Logs"]
        assert group["Type"] == "AWS::Logs::LogGroup"
        assert group["Properties"] == {"LogGroupName": {"Sub": "/aws/lambda/${%s}" % function},
                                       "RetentionInDays": {"Ref": "LogRetentionDays"}}


def resolved_size(variables: dict) -> int:
    """Bytes of the variables once CloudFormation has resolved them: a 39-character stack name (the
    longest DEPLOY.md allows), 128 characters for a reference, 256 for a condition."""
    def value(v) -> str:
        if isinstance(v, dict) and "Sub" in v:
            return substituted(v["Sub"]).replace(STACK, "s" * 39)
        return "x" * (128 if isinstance(v, dict) and "Ref" in v else 256 if isinstance(v, dict) else len(str(v)))
    return sum(len(k) + len(value(v)) for k, v in variables.items())


def test_given_the_function_environment_then_it_fits_lambdas_4_kb_limit():
    env = load_template()["Globals"]["Function"]["Environment"]["Variables"]

    assert "JOURNEY_STATE_MACHINES" not in env
    assert env["JOURNEY_STATE_MACHINE_ARN"]["Sub"] == (
        "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:${AWS::StackName}_{journey}:live")
    for function in ALL_FUNCTIONS:
        own = resources()[function]["Properties"].get("Environment", {}).get("Variables", {})
        assert resolved_size({**env, **own}) < LAMBDA_ENV_LIMIT, function


def test_given_forty_journeys_when_built_then_environment_and_execution_policy_are_those_of_a_single_journey(tmp_path):
    """Lambda's environment (4 KB) and a managed policy (6,144 characters) do not grow with the journeys."""
    def built(journeys: int) -> dict:
        root = tmp_path / str(journeys)
        (root / "statemachines").mkdir(parents=True)
        (root / "layers/journeys/journeys").mkdir(parents=True)
        shutil.copy(REPO / "template.yaml", root / "template.yaml")
        source = (REPO / "statemachines/lead-nurturing.journey.yaml").read_text()
        for n in range(journeys):
            name = f"journey-{n:02d}"
            (root / f"statemachines/{name}.journey.yaml").write_text(source.replace("journey: lead-nurturing", f"journey: {name}"))
        build.build(root)
        template = load_template(root / "template.yaml")
        return {"environment": template["Globals"]["Function"]["Environment"]["Variables"],
                "policy": template["Resources"]["JourneysExecutionPolicy"]}

    assert built(40) == built(1)


def test_given_the_webhook_parameters_then_the_burst_is_its_own_parameter():
    template = load_template()

    throttling = resources()["HttpApi"]["Properties"]["DefaultRouteSettings"]

    assert throttling == {"ThrottlingRateLimit": {"Ref": "WebhookRateLimit"}, "ThrottlingBurstLimit": {"Ref": "WebhookBurstLimit"}}
    assert "twice" not in template["Parameters"]["WebhookRateLimit"]["Description"]
    assert template["Parameters"]["WebhookBurstLimit"]["Default"] == 400


# ------------------------------------------------------------------ IAM


def policy_tables(policy: str) -> set[str]:
    statements = resources()[policy]["Properties"]["PolicyDocument"]["Statement"]
    return {r["GetAtt"].split(".")[0] for statement in statements for r in statement["Resource"] if isinstance(r, dict) and "GetAtt" in r}


def test_given_the_entry_function_then_it_reaches_contacts_and_journey_state_but_not_idempotency_records():
    policies = resources()["EntryFunction"]["Properties"]["Policies"]

    assert {"Ref": "JourneysEntryDataPolicy"} in policies and {"Ref": "JourneysDataPolicy"} not in policies
    assert policy_tables("JourneysEntryDataPolicy") == {"ContactsTable", "JourneyTable"}
    # the steps' exactly-once records live in the journey table (runtime/idempotency.py)
    assert all(policy_tables(f"{name}StepPolicy") == {"ContactsTable", "JourneyTable"}
               for name in ("Messaging", "Updates", "Actions", "Control", "Steps"))


def test_given_the_execution_policy_then_only_this_stacks_journeys_are_started_and_only_through_live():
    statements = {s["Sid"]: s for s in resources()["JourneysExecutionPolicy"]["Properties"]["PolicyDocument"]["Statement"]}

    start, stop = statements["EnterJourneysThroughLive"], statements["ExitJourneys"]

    assert start["Action"] == ["states:StartExecution"]
    # Step Functions authorizes qualified ARNs against the unqualified one, the qualifier as a condition
    assert start["Resource"] == {"Sub": "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:${AWS::StackName}_*"}
    assert start["Condition"] == {"ForAnyValue:StringEquals": {"states:StateMachineQualifier": ["live"]}}
    assert stop["Resource"] == {"Sub": "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:${AWS::StackName}_*:*"}


def test_given_each_state_machine_then_it_is_named_stack_underscore_journey_within_80_characters():
    """`_` never occurs in a stack name: `<stack>_*` in the policy cannot reach another stack's machines."""
    for path in sorted((REPO / "statemachines").glob("*.journey.yaml")):
        journey = path.name.removesuffix(".journey.yaml")
        props = resources()[build.logical_prefix(journey) + "StateMachine"]["Properties"]
        assert props["Name"] == {"Sub": "${AWS::StackName}_" + journey}
        assert len(substituted(props["Name"]["Sub"]).replace(STACK, "s" * 39)) <= 80
